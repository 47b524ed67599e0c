"""The demo the listening service starts with: Hestia, a French appliance maker, heard outside.

A week of French and English mentions ending now, with a delivery-and-repair failure going
viral in the last hour (and the alert it raises), the customers' FAQ, and a few questions the
FAQ could not answer, escalated to the departments that own them.
"""

import csv
import random
from datetime import datetime, timedelta
from importlib import resources

from sqlmodel import Session, select

from listening import service
from listening.models import (
    AskCreate,
    FaqEntryCreate,
    RoutingRuleUpdate,
    Source,
    SourceCreate,
)
from listening.settings import Settings

SEEDER = "demo-seed"

PRODUCTS = {
    "fr": ["lave-linge", "four", "frigo", "aspirateur", "lave-vaisselle", "sèche-linge"],
    "en": ["washing machine", "oven", "fridge", "vacuum", "dishwasher", "dryer"],
}

# Sources of the demo: name, kind, keywords, and the channel their mentions come from.
SOURCES = [
    ("X @HestiaFR", "webhook", ["hestia"], "x"),
    ("Facebook Hestia France", "webhook", [], "facebook"),
    ("Instagram @hestia.home", "webhook", [], "instagram"),
    ("LinkedIn Hestia", "webhook", [], "linkedin"),
    ("Avis clients vérifiés", "manual", [], "reviews"),
    ("Forum Hestia Community", "webhook", [], "forum"),
]

_HANDLES = (
    "@marie_l @jdupont @ClaireB @tom_r @sofia.m @kevin_photo @Lucie64 @nico_dev @amelie.g"
    " @PaulineV @samir_h @emma.w @jack_uk @oliviaM @benji @la_cuisine_de_zoe @MrBricolage"
    " @anna_k @h_martin @lea_b"
)
AUTHORS = _HANDLES.split()

# Customers' questions: the FAQ answers the first three; nothing in it answers the others well.
QUESTIONS = [
    ("Combien de temps dure la garantie de mon lave-linge ?", "fr"),
    ("How do I get my money back after returning an oven?", "en"),
    ("Comment détartrer ma machine à café ?", "fr"),
    ("Quel est le bilan carbone de vos usines ?", "fr"),
    ("Do you sponsor any local football clubs?", "en"),
    ("Is there a loyalty discount if I buy three appliances at once?", "en"),
    ("Can I visit your factory with my school class?", "en"),
]


def seed_demo(session: Session, *, settings: Settings) -> bool:
    """Seeds once, into an empty service; needs nothing from other services."""
    if session.scalar(select(Source.id).limit(1)) is not None:
        return True
    now = settings.now()
    for department_id, keywords in _routing_rules().items():
        service.set_routing_rule(
            session,
            department_id=department_id,
            data=RoutingRuleUpdate(keywords=keywords),
            actor=SEEDER,
            now=now - timedelta(days=8),
        )
    sources = {
        channel: service.create_source(
            session,
            data=SourceCreate(name=name, kind=kind, keywords=keywords),
            actor=SEEDER,
            now=now - timedelta(days=8),
        )
        for name, kind, keywords, channel in SOURCES
    }
    for row in _faq_rows():
        service.create_faq_entry(session, data=row, actor=SEEDER, now=now - timedelta(days=8))
    session.flush()
    _mentions(session, sources, settings, now)
    index = service.FaqIndex()
    for question, lang in QUESTIONS:
        service.ask_faq(
            session,
            data=AskCreate(question=question, lang=lang),
            index=index,
            settings=settings,
            now=now - timedelta(hours=5),
        )
    return True


def _mentions(
    session: Session, sources: dict[str, Source], settings: Settings, now: datetime
) -> None:
    """About 50 mentions a day for a week, then the spike of the last hour, oldest first."""
    chance = random.Random(20_261_127)
    posts = _posts()
    everyday = []
    for day in range(7, -1, -1):
        midnight = (now - timedelta(days=day)).replace(hour=0, minute=0, second=0, microsecond=0)
        for _ in range(chance.randint(40, 60)):
            # Posts come mostly in the day and the evening (Paris is an hour or two ahead of UTC).
            at = midnight + timedelta(hours=chance.triangular(5, 23, 17))
            if now - timedelta(days=7) <= at < now - timedelta(hours=2):
                everyday.append((at, chance.choice(posts["everyday"])))
    spike = [
        (now - timedelta(minutes=chance.uniform(1, 58)), chance.choice(posts["spike"]))
        for _ in range(26)
    ] + [
        (now - timedelta(minutes=chance.uniform(60, 150)), chance.choice(posts["spike"]))
        for _ in range(5)
    ]
    items = []
    for number, (at, (lang, channel, template)) in enumerate(sorted(everyday + spike)):
        items.append(
            {
                "source_id": sources[channel].id,
                "external_id": f"demo-{number}",
                "channel": channel,
                "author": chance.choice(AUTHORS),
                "text": template.format(p=chance.choice(PRODUCTS[lang])),
                "lang": lang,
                "published_at": at,
            }
        )
    service.ingest_mentions(session, items=items, actor=SEEDER, settings=settings, now=now)


def _data(name: str) -> list[str]:
    text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _routing_rules() -> dict[str, list[str]]:
    rules = (line.split("\t") for line in _data("demo_routing_rules.tsv"))
    return {department: keywords.split(", ") for department, keywords in rules}


def _posts() -> dict[str, list[tuple[str, str, str]]]:
    posts: dict[str, list[tuple[str, str, str]]] = {"everyday": [], "spike": []}
    for row in csv.DictReader(_data("demo_mentions.tsv"), delimiter="\t"):
        posts[row["kind"]].append((row["lang"], row["channel"], row["text"]))
    return posts


def _faq_rows() -> list[FaqEntryCreate]:
    return [
        FaqEntryCreate(
            question=row["question"],
            answer=row["answer"],
            lang=row["lang"],
            department_id=row["department_id"],
            tags=[tag for tag in row["tags"].split("|") if tag],
        )
        for row in csv.DictReader(_data("faq_demo.csv"))
    ]
