"""Checks how RSS and Atom documents become mentions' items, and how broken ones are described."""

import pytest

from listening.feeds import FeedError, parse

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>T</title><language>fr-FR</language>
<item><title>Frigo en panne</title><link>https://x.example/1</link><guid>g1</guid>
<description>&lt;p&gt;Le &lt;b&gt;SAV&lt;/b&gt; &amp;amp; moi&lt;/p&gt;</description>
<pubDate>Tue, 10 Jun 2025 04:00:00 +0200</pubDate><author>bob@example.com (Bob)</author></item>
<item><title>Sans lien</title><description>Rien</description></item>
<item><title>   </title><description>&lt;img src="x"/&gt;</description></item>
</channel></rss>"""


def test_an_rss_item_becomes_plain_text_with_its_metadata() -> None:
    feed = parse(RSS, "application/rss+xml")

    first, second = feed.items
    assert first.text == "Frigo en panne. Le SAV & moi"
    assert (first.external_id, first.url, first.lang) == ("g1", "https://x.example/1", "fr")
    assert first.author == "bob@example.com (Bob)"
    assert first.published_at is not None and first.published_at.isoformat() == (
        "2025-06-10T02:00:00+00:00"
    )
    assert feed.warning is None


def test_an_item_without_id_or_link_gets_a_stable_fingerprint() -> None:
    second = parse(RSS).items[1]

    assert second.external_id.startswith("sha1:")
    assert second.external_id == parse(RSS).items[1].external_id
    assert second.url is None and second.published_at is None


def test_items_without_words_are_left_out() -> None:
    assert len(parse(RSS).items) == 2


def test_atom_content_is_preferred_to_its_summary() -> None:
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
    <entry><title>Oven</title><id>urn:1</id><updated>2025-06-10T10:00:00Z</updated>
    <summary>short</summary><content type="html">&lt;p&gt;The whole review&lt;/p&gt;</content>
    <link href="ftp://not-web.example/1"/></entry></feed>"""

    [item] = parse(atom).items

    assert item.text == "Oven. The whole review"
    assert item.url is None  # only web links are kept
    assert item.lang is None


def test_a_broken_document_is_read_leniently_and_says_so() -> None:
    feed = parse(RSS[: RSS.index(b"<item><title>Sans")] + b"<item><title>cut & ")

    assert feed.items[0].external_id == "g1"
    assert feed.warning and "not well-formed" in feed.warning and "line" in feed.warning


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (b"<html><body>Hello</body></html>", "not an RSS or Atom feed"),
        (b"{json: 1}", "not well-formed"),
        (b"", "not an RSS or Atom feed"),
    ],
)
def test_what_is_not_a_feed_is_refused(document: bytes, reason: str) -> None:
    with pytest.raises(FeedError, match=reason):
        parse(document)


def test_a_document_naming_a_url_is_not_fetched() -> None:
    with pytest.raises(FeedError):
        parse(b"https://example.com/feed.xml")
