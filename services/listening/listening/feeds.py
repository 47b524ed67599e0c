"""Fetches an RSS or Atom feed over HTTP, with timeouts and a size limit, and reads its items."""

from __future__ import annotations

import calendar
import hashlib
import io
import ipaddress
import re
import socket
import xml.sax
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser

import feedparser
import httpx

USER_AGENT = "Agora-listening/1.0 (+https://agora.example)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)
MAX_TEXT = 10_000
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}\b")


class FeedError(Exception):
    """The feed could not be fetched or read; the message says why, for the source's report."""


@dataclass(frozen=True)
class FeedItem:
    external_id: str
    text: str
    author: str | None
    url: str | None
    published_at: datetime | None
    lang: str | None


@dataclass(frozen=True)
class Feed:
    items: list[FeedItem]
    # A defect the feed was read despite (not well-formed XML read leniently).
    warning: str | None = None
    etag: str | None = None
    modified: str | None = None
    not_modified: bool = False


@dataclass
class _Fetched:
    content: bytes
    content_type: str | None
    etag: str | None
    modified: str | None
    not_modified: bool = False


def fetch(
    url: str,
    *,
    timeout: float,
    max_bytes: int,
    private_networks: bool = False,
    etag: str | None = None,
    modified: str | None = None,
) -> Feed:
    """Fetches and reads the feed at `url`; raises `FeedError` for anything that goes wrong.

    A host whose address is not on the internet (loopback, private, link-local as a cloud's
    metadata service) is refused, on the first request and on every redirect, unless
    `private_networks`: a curator's URL must not reach the platform's own network."""
    with client_for(timeout=timeout, private_networks=private_networks) as client:
        fetched = _download(client, url, timeout, max_bytes, etag, modified)
    if fetched.not_modified:
        return Feed([], etag=etag, modified=modified, not_modified=True)
    feed = parse(fetched.content, fetched.content_type)
    return Feed(feed.items, feed.warning, fetched.etag, fetched.modified)


def client_for(
    *, timeout: float, private_networks: bool, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    hooks = {"request": [] if private_networks else [_refuse_private_hosts]}
    return httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        max_redirects=5,
        event_hooks=hooks,
        transport=transport,
    )


def _refuse_private_hosts(request: httpx.Request) -> None:
    host = request.url.host
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FeedError(f"the feed's host {host} cannot be resolved") from error
    for *_, address in found:
        ip = ipaddress.ip_address(str(address[0]).split("%")[0])
        if not ip.is_global:
            raise FeedError(
                f"the feed's host {host} is on a private network ({ip}): "
                "only feeds on the internet are fetched"
            )


def _download(
    client: httpx.Client,
    url: str,
    timeout: float,
    max_bytes: int,
    etag: str | None,
    modified: str | None,
) -> _Fetched:
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    try:
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return _Fetched(b"", None, etag, modified, not_modified=True)
            if response.status_code >= 400:
                raise FeedError(f"the feed answered HTTP {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FeedError(f"the feed is larger than {max_bytes} bytes")
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise FeedError(f"the feed is larger than {max_bytes} bytes")
            return _Fetched(
                bytes(body),
                response.headers.get("content-type"),
                response.headers.get("etag"),
                response.headers.get("last-modified"),
            )
    except httpx.TimeoutException as error:
        raise FeedError(f"the feed did not answer within {timeout:g} s") from error
    except httpx.TooManyRedirects as error:
        raise FeedError("the feed redirects too many times") from error
    except httpx.HTTPError as error:
        raise FeedError(f"the feed cannot be reached: {error or type(error).__name__}") from error


def parse(content: bytes, content_type: str | None = None) -> Feed:
    """Reads the items of an RSS or Atom document; raises `FeedError` if it is neither."""
    headers = {"content-type": content_type} if content_type else {}
    # A stream, never a string: feedparser would take a string for a URL and fetch it itself.
    parsed = feedparser.parse(io.BytesIO(content), response_headers=headers)
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    not_well_formed = isinstance(problem, xml.sax.SAXException)
    if not parsed.get("version") and not parsed.entries:
        if not_well_formed:
            raise FeedError(f"the feed is not well-formed XML: {_describe(problem)}")
        raise FeedError("the document is not an RSS or Atom feed")
    language = _language(parsed.feed.get("language"))
    items = [item for entry in parsed.entries if (item := _item(entry, language)) is not None]
    warning = None
    if not_well_formed:
        warning = f"the feed is not well-formed XML ({_describe(problem)}); read leniently"
    return Feed(items, warning)


def _item(entry: feedparser.FeedParserDict, language: str | None) -> FeedItem | None:
    title = _plain(entry.get("title") or "")
    body = ""
    if entry.get("content"):
        body = _plain(entry.content[0].get("value") or "")
    elif entry.get("summary"):
        body = _plain(entry.summary)
    text = ". ".join(part for part in (title.rstrip(". "), body) if part)[:MAX_TEXT].strip()
    if not any(character.isalnum() for character in text):
        return None
    link = entry.get("link")
    url = link if isinstance(link, str) and link.startswith(("http://", "https://")) else None
    published = entry.get("published_parsed") or entry.get("updated_parsed")
    external_id = entry.get("id") or url or _fingerprint(text, published)
    return FeedItem(
        external_id=str(external_id)[:300],
        text=text,
        author=(_plain(entry.get("author") or "")[:200] or None),
        url=url if url and len(url) <= 2_000 else None,
        published_at=datetime.fromtimestamp(calendar.timegm(published), UTC) if published else None,
        lang=_language(entry.get("language")) or language,
    )


def _language(value: object) -> str | None:
    match = _LANGUAGE.match(value) if isinstance(value, str) else None
    return match.group(0).lower() if match else None


def _fingerprint(text: str, published: object) -> str:
    return "sha1:" + hashlib.sha1(f"{text}|{published}".encode()).hexdigest()


def _describe(problem: object) -> str:
    if isinstance(problem, xml.sax.SAXParseException):
        where = f"line {problem.getLineNumber()}, column {problem.getColumnNumber()}"
        return f"{where}: {problem.getMessage()}"
    return str(problem)


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _plain(html: str) -> str:
    """Feed texts are HTML fragments; mentions keep their words only."""
    if "<" not in html and "&" not in html:
        return " ".join(html.split())
    reader = _TextOnly()
    reader.feed(html)
    reader.close()
    return " ".join(" ".join(reader.parts).split())
