"""Sources, and feeds polled from a local web server: good, malformed, unreachable, too large."""

import asyncio
from datetime import timedelta

import pytest

from listening import jobs
from tests.integration.listening.conftest import NOW
from tests.support.broker import free_port

pytestmark = pytest.mark.integration

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
  <title>Forum Hestia</title><link>https://forum.example/</link><language>fr-FR</language>
  <item>
    <title>Mon lave-linge Hestia fuit</title>
    <link>https://forum.example/t/1</link><guid>forum-1</guid>
    <author>marie@example.com (Marie)</author>
    <description>&lt;p&gt;Le &lt;b&gt;SAV&lt;/b&gt; ne répond pas, nul.&lt;/p&gt;</description>
    <pubDate>Mon, 02 Mar 2026 10:30:00 +0100</pubDate>
  </item>
  <item>
    <title>Merci Hestia</title>
    <link>https://forum.example/t/2</link><guid>forum-2</guid>
    <description>Livraison rapide, four génial !</description>
    <pubDate>Mon, 02 Mar 2026 11:00:00 +0000</pubDate>
  </item>
</channel></rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Hestia reviews</title><id>urn:reviews</id><updated>2026-03-02T09:00:00Z</updated>
  <entry>
    <title>Great oven</title><id>urn:review:1</id><updated>2026-03-02T09:00:00Z</updated>
    <author><name>Ann</name></author><link href="https://reviews.example/1"/>
    <content type="html">&lt;p&gt;I love it, bakes perfectly.&lt;/p&gt;</content>
  </entry>
</feed>
"""


async def test_a_source_is_created_listed_and_announced(api):
    body = {
        "name": "Forum Hestia",
        "kind": "rss",
        "url": "https://forum.example/feed.xml",
        "community_id": "01a21d21-3038-7611-bc61-d2f6751b2f41",
        "keywords": ["Hestia", "SAV", "hestia"],
    }

    response = await api.client.post("/v1/sources", json=body, headers=api.as_("community_manager"))

    assert response.status_code == 201, response.text
    source = response.json()
    assert source["keywords"] == ["hestia", "sav"]
    assert source["created_by"] == "00000000-0000-0000-0000-0000000000c1"
    assert source["last_polled_at"] is None and source["last_error"] is None
    [event] = api.events("listening.source.created.v1")
    assert event["subject"] == source["id"]
    assert event["data"]["community_id"] == body["community_id"]
    assert event["data"]["kind"] == "rss"
    listed = await api.client.get("/v1/sources?kind=rss", headers=api.as_("employee"))
    assert [s["id"] for s in listed.json()["items"]] == [source["id"]]
    one = await api.client.get(f"/v1/sources/{source['id']}", headers=api.as_("employee"))
    assert one.json() == source


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Feed", "kind": "rss"}, "body"),  # a feed needs its url
        ({"name": "Feed", "kind": "rss", "url": "ftp://x.example/f"}, "url"),
        ({"name": "Feed", "kind": "rss", "url": "not a url"}, "url"),
        ({"name": "Feed", "kind": "carrier pigeon"}, "kind"),
        ({"name": "", "kind": "manual"}, "name"),
        ({"name": "Feed", "kind": "manual", "community_id": "c1"}, "community_id"),
        ({"name": "Feed", "kind": "manual", "keywords": ["ok", "   "]}, "keywords.1"),
        ({"name": "Feed", "kind": "manual", "keywords": "hestia"}, "keywords"),
        ({"name": "Feed", "kind": "manual", "last_error": None}, "last_error"),
        ({"name": "Feed", "kind": "manual", "created_by": "me"}, "created_by"),
    ],
)
async def test_bad_sources_are_refused_and_change_nothing(api, body, field):
    before = api.snapshot()

    response = await api.client.post("/v1/sources", json=body, headers=api.cco)

    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]
    assert api.snapshot() == before


async def test_a_second_source_of_the_same_name_is_409(api):
    await api.source("Forum")
    before = api.snapshot()

    response = await api.client.post(
        "/v1/sources", json={"name": "Forum", "kind": "manual"}, headers=api.cco
    )

    assert response.status_code == 409
    assert api.snapshot() == before


async def test_who_may_add_sources(api):
    body = {"name": "Forum", "kind": "manual"}

    employee = await api.client.post("/v1/sources", json=body, headers=api.as_("employee"))
    system = await api.client.post("/v1/sources", json=body, headers=api.system)
    anonymous = await api.client.post("/v1/sources", json=body)

    assert (employee.status_code, system.status_code, anonymous.status_code) == (403, 403, 401)


async def test_polling_a_feed_ingests_its_items_once(api, feed_server):
    url = feed_server.put(
        "/forum.rss", RSS.encode(), headers={"Content-Type": "application/rss+xml"}
    )
    source = await api.source("Forum", "rss", url=url)

    first = await api.client.post(f"/v1/sources/{source['id']}/poll", headers=api.cco)
    again = await api.client.post(f"/v1/sources/{source['id']}/poll", headers=api.cco)

    assert first.status_code == 200, first.text
    assert first.json() | {"polled_at": None} == {
        "source_id": source["id"],
        "polled_at": None,
        "items": 2,
        "created": 2,
        "duplicates": 0,
        "skipped": 0,
        "error": None,
    }
    assert (again.json()["created"], again.json()["duplicates"]) == (0, 2)
    listed = await api.client.get(f"/v1/mentions?source_id={source['id']}", headers=api.cco)
    leak, thanks = listed.json()["items"]
    assert leak["text"] == "Mon lave-linge Hestia fuit. Le SAV ne répond pas, nul."
    assert leak["external_id"] == "forum-1"
    assert leak["author"] == "marie@example.com (Marie)"
    assert leak["url"] == "https://forum.example/t/1"
    assert leak["published_at"] == "2026-03-02T09:30:00Z"
    assert (leak["lang"], leak["channel"]) == ("fr", "rss")
    assert leak["sentiment"]["label"] == "negative"
    assert thanks["sentiment"]["label"] == "positive"
    polled = (await api.client.get(f"/v1/sources/{source['id']}", headers=api.cco)).json()
    assert polled["last_polled_at"] == "2026-03-02T12:00:00Z"
    assert (polled["last_error"], polled["last_new_mentions"]) == (None, 0)
    assert len(api.events("listening.mention.ingested.v1")) == 2


async def test_an_unchanged_feed_is_not_downloaded_again(api, feed_server):
    url = feed_server.put("/forum.rss", RSS.encode(), headers={"ETag": '"v1"'})
    source = await api.source("Forum", "rss", url=url)

    await api.client.post(f"/v1/sources/{source['id']}/poll", headers=api.cco)
    again = await api.client.post(f"/v1/sources/{source['id']}/poll", headers=api.cco)

    assert feed_server.requests[-1]["If-None-Match"] == '"v1"'
    assert again.json()["items"] == 0 and again.json()["error"] is None


async def test_an_atom_feed_is_read_too(api, feed_server):
    url = feed_server.put(
        "/reviews.atom", ATOM.encode(), headers={"Content-Type": "application/atom+xml"}
    )
    source = await api.source("Reviews", "rss", url=url)

    report = await api.client.post(f"/v1/sources/{source['id']}/poll", headers=api.cco)

    assert report.json()["created"] == 1
    [review] = (await api.client.get("/v1/mentions", headers=api.cco)).json()["items"]
    assert review["text"] == "Great oven. I love it, bakes perfectly."
    assert (review["author"], review["lang"], review["external_id"]) == (
        "Ann",
        "en",
        "urn:review:1",
    )
    assert review["sentiment"]["label"] == "positive"


async def test_a_source_with_keywords_keeps_only_the_items_naming_them(api, feed_server):
    url = feed_server.put("/forum.rss", RSS.encode())
    source = await api.source("Forum", "rss", url=url, keywords=["lave-linge"])

    report = (await api.client.post(f"/v1/sources/{source['id']}/poll", headers=api.cco)).json()

    assert (report["created"], report["skipped"]) == (1, 1)


@pytest.mark.parametrize(
    ("page", "declare_length", "status", "error"),
    [
        (RSS[:-60], True, 200, "not well-formed"),
        ("<html><body>Maintenance</body></html>", True, 200, "not an RSS or Atom feed"),
        ("{}", True, 503, "HTTP 503"),
        (RSS.replace("</channel>", "<!--" + "x" * 70_000 + "--></channel>"), True, 200, "larger"),
        (RSS.replace("</channel>", "<!--" + "x" * 70_000 + "--></channel>"), False, 200, "larger"),
    ],
    ids=["malformed", "not-a-feed", "server-error", "too-large", "too-large-undeclared"],
)
async def test_a_failing_feed_is_reported_on_its_source(
    api, feed_server, page, declare_length, status, error
):
    url = feed_server.put("/feed", page.encode(), status=status, declare_length=declare_length)
    source = await api.source("Forum", "rss", url=url)

    response = await api.client.post(f"/v1/sources/{source['id']}/poll", headers=api.cco)

    assert response.status_code == 200, response.text
    assert error in response.json()["error"]
    polled = (await api.client.get(f"/v1/sources/{source['id']}", headers=api.cco)).json()
    assert error in polled["last_error"]
    assert polled["last_polled_at"] == "2026-03-02T12:00:00Z"


async def test_a_malformed_feed_is_read_as_far_as_it_goes(api, feed_server):
    # The first item is whole; the document breaks inside the second.
    url = feed_server.put("/feed", RSS[: RSS.index("Livraison rapide")].encode())
    source = await api.source("Forum", "rss", url=url)

    report = (await api.client.post(f"/v1/sources/{source['id']}/poll", headers=api.cco)).json()

    assert "not well-formed" in report["error"]
    assert report["created"] >= 1


async def test_an_unreachable_feed_is_reported(api):
    source = await api.source("Forum", "rss", url=f"http://127.0.0.1:{free_port()}/feed")

    down = (await api.client.post(f"/v1/sources/{source['id']}/poll", headers=api.cco)).json()

    assert "cannot be reached" in down["error"]
    assert api.snapshot()["Mention"] == 0


async def test_a_feed_on_the_platforms_own_network_is_not_fetched(api, feed_server):
    api.settings.feed_private_networks = False  # the default: the tests' feeds are on 127.0.0.1
    url = feed_server.put("/feed", RSS.encode())
    source = await api.source("Forum", "rss", url=url)

    report = (await api.client.post(f"/v1/sources/{source['id']}/poll", headers=api.cco)).json()

    assert "is on a private network (127.0.0.1)" in report["error"]
    assert feed_server.requests == []
    assert api.snapshot()["Mention"] == 0


async def test_a_feed_that_recovers_clears_its_error(api, feed_server):
    url = feed_server.put("/feed", b"down", status=502)
    source = await api.source("Forum", "rss", url=url)
    await api.client.post(f"/v1/sources/{source['id']}/poll", headers=api.cco)
    feed_server.put("/feed", RSS.encode())

    report = (await api.client.post(f"/v1/sources/{source['id']}/poll", headers=api.cco)).json()

    assert (report["error"], report["created"]) == (None, 2)
    polled = (await api.client.get(f"/v1/sources/{source['id']}", headers=api.cco)).json()
    assert polled["last_error"] is None


async def test_the_periodic_job_polls_feeds_that_are_due_and_survives_bad_ones(api, feed_server):
    good = await api.source("Good", "rss", url=feed_server.put("/good", RSS.encode()))
    broken = await api.source("Broken", "rss", url=feed_server.put("/broken", b"<rss"))
    await api.source("Hook", "webhook")
    database, settings = api.app.state.database, api.settings

    await asyncio.to_thread(jobs.poll_due_feeds, database, settings)
    polled_paths = [request["path"] for request in feed_server.requests]
    api.at(NOW + timedelta(minutes=10))
    await asyncio.to_thread(jobs.poll_due_feeds, database, settings)  # nothing due yet

    assert sorted(polled_paths) == ["/broken", "/good"]
    assert len(feed_server.requests) == 2
    good_now = (await api.client.get(f"/v1/sources/{good['id']}", headers=api.cco)).json()
    broken_now = (await api.client.get(f"/v1/sources/{broken['id']}", headers=api.cco)).json()
    assert good_now["last_new_mentions"] == 2 and good_now["last_error"] is None
    assert broken_now["last_error"]
    api.at(NOW + timedelta(hours=1))
    await asyncio.to_thread(jobs.poll_due_feeds, database, settings)
    assert len(feed_server.requests) == 4


async def test_only_feeds_are_polled(api):
    hook = await api.source("Hook", "webhook")

    webhook = await api.client.post(f"/v1/sources/{hook['id']}/poll", headers=api.cco)
    unknown = await api.client.post(
        "/v1/sources/01a21d21-3038-7611-bc61-d2f6751b2f41/poll", headers=api.cco
    )
    employee = await api.client.post(f"/v1/sources/{hook['id']}/poll", headers=api.as_("employee"))

    assert (webhook.status_code, unknown.status_code, employee.status_code) == (409, 404, 403)
