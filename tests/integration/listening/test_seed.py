"""The demo seed: a week of bilingual mentions with a spike and its alert, an FAQ, escalations."""

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from listening.models import Alert, FaqAsk, FaqEntry, Mention
from listening.seed import seed_demo
from tests.integration.listening.conftest import NOW

pytestmark = pytest.mark.integration


async def test_the_demo_is_seeded_once_and_tells_its_story(api):
    database = api.app.state.database

    with database.transaction() as session:
        assert seed_demo(session, settings=api.settings) is True
    before = api.snapshot()
    with database.transaction() as session:
        assert seed_demo(session, settings=api.settings) is True

    assert api.snapshot() == before
    with database.sessions() as session:
        mentions = list(session.scalars(select(Mention)))
        alerts = list(session.scalars(select(Alert)))
        entries = list(session.scalars(select(FaqEntry)))
        asks = list(session.scalars(select(FaqAsk)))
    assert 250 <= len(mentions) <= 500
    assert Counter(m.lang for m in mentions).keys() == {"fr", "en"}
    assert min(m.published_at for m in mentions) >= NOW - timedelta(days=7)
    assert max(m.published_at for m in mentions) <= NOW
    assert {m.department_id for m in mentions} >= {
        "after-sales",
        "communication",
        "hr",
        "rd",
        "marketing",
    }
    assert Counter(m.sentiment_label for m in mentions).keys() == {
        "negative",
        "neutral",
        "positive",
    }
    [alert] = alerts
    assert alert.department_id == "after-sales" and alert.status == "open"
    assert {"frigo", "fridge"} & set(alert.explanation["top_terms"])
    assert len(entries) >= 20 and {e.lang for e in entries} == {"fr", "en"}
    escalated = [ask for ask in asks if ask.escalated]
    assert len(escalated) >= 3
    assert len(api.events("listening.faq.unanswered.v1")) == len(escalated)
    assert len(api.events("listening.mention.ingested.v1")) == len(mentions)
