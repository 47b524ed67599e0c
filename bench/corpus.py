"""A company's history told in events, with the producers' own payload models, for the rebuild.

Departments and people with skills; communities with managers and members (people and outside
handles); questions, their answers (some accepted, some escalated), practices and their
adoptions; mentions with their sentiment, FAQ asks and alerts. The events are written by the
tests' `History`, one method a fact, so each is keyed by its aggregate as the outbox relays key
it and each aggregate's events stay in order; this only draws the facts, at random but from a
fixed seed, in proportions that roughly follow a company of 5,000 people over 90 days, scaled to
the count asked.
"""

import random
import uuid
from datetime import UTC, datetime, timedelta

from tests.support.history import History, Message, Person

__all__ = ["Corpus", "Message", "build"]

DEPARTMENTS = [
    "rd",
    "after-sales",
    "it",
    "hr",
    "marketing",
    "sales",
    "finance",
    "legal",
    "logistics",
    "quality",
    "communication",
    "purchasing",
]
SKILLS = ["python", "sql", "repairs", "negotiation", "kafka", "recruiting", "seo", "support"]
LABELS = (("negative", -0.6), ("neutral", 0.0), ("positive", 0.5))
Community = tuple[uuid.UUID, str, str]
"""(id, owner department, kind)"""


class Corpus:
    def __init__(self, events: int, seed: int = 7) -> None:
        self.target = events
        self.random = random.Random(seed)
        self.now = datetime.now(UTC)
        self.history = History(new_id=self._id)

    def _at(self, days: float = 90) -> datetime:
        return self.now - timedelta(seconds=self.random.uniform(0, days * 86_400))

    def _id(self) -> uuid.UUID:
        return uuid.UUID(int=self.random.getrandbits(128), version=4)

    def _tags(self) -> list[str]:
        return self.random.sample(SKILLS, 2)

    def build(self) -> list[Message]:
        scale = self.target / 200_000
        staff = self._people(max(int(5_000 * scale), 20))
        owned = self._communities(staff, max(int(200 * scale), 4))
        self._questions(staff, owned, int(20_000 * scale))
        self._practices(staff, int(500 * scale))
        for n in range(int(8_000 * scale)):
            self.history.faq_ask(n % 5 != 0, self.random.choice(DEPARTMENTS), self._at())
        for department_id in self.random.sample(DEPARTMENTS, 6):
            self.history.alert(department_id, self._at(30))
        self._mentions(owned)
        return self.history.messages

    def _people(self, count: int) -> list[Person]:
        for department_id in DEPARTMENTS:
            self.history.department(department_id, department_id.title())
        staff = []
        for n in range(count):
            department_id = DEPARTMENTS[n % len(DEPARTMENTS)]
            person = self.history.person(
                f"Person{n}", department_id, n % 12, title="Engineer", languages=["fr", "en"]
            )
            staff.append(person)
            for skill in self._tags():
                self.history.skill(person, skill, self.random.randint(1, 5))
        return staff

    def _communities(self, staff: list[Person], count: int) -> list[Community]:
        owned = []
        for n in range(count):
            owner = DEPARTMENTS[n % len(DEPARTMENTS)]
            kind = "external" if n % 5 == 0 else "internal"
            purpose = "support" if kind == "external" else "practice"
            community_id = self.history.community(
                f"Community {n}", kind, owner, purpose, topics=self._tags()
            )
            owned.append((community_id, owner, kind))
            for manager in self.random.sample(staff, 2):
                self.history.manager(community_id, manager, self._at(), kind=kind)
            for m in range(40):
                person = self.random.choice(staff) if kind == "internal" or m % 2 else None
                handle = None if person else f"@customer{m}"
                self.history.member(community_id, self._at(), person, handle, kind=kind)
        return owned

    def _questions(self, staff: list[Person], owned: list[Community], count: int) -> None:
        for n in range(count):
            asker = self.random.choice(staff)
            community_id = self.random.choice(owned)[0] if n % 3 else None
            asked_at = self._at()
            question_id = self.history.question(asker, self._tags(), asked_at, community_id)
            if n % 20 == 0:
                self.history.escalated(question_id, asked_at + timedelta(hours=24))
                continue
            for a in range(self.random.choice((1, 2, 2, 3))):
                posted_at = asked_at + timedelta(minutes=self.random.uniform(5, 3_000))
                author = self.random.choice(staff)
                accepted = a == 0 and n % 2 == 1
                self.history.answer(question_id, author, posted_at, accepted, first=a == 0)

    def _practices(self, staff: list[Person], count: int) -> None:
        for _ in range(count):
            author = self.random.choice(staff)
            practice_id = self.history.practice(author, self._tags(), self._at())
            for adopter in self.random.sample(staff, 3):
                self.history.adoption(practice_id, adopter, self._at())

    def _mentions(self, owned: list[Community]) -> None:
        """Mentions, of external communities mostly, from 20 sources, until the corpus has its
        size; about one in a hundred relabelled."""
        external = [c for c in owned if c[2] == "external"] or owned
        sources = [self._id() for _ in range(20)]
        while len(self.history.messages) < self.target:
            community_id, owner, _ = self.random.choice(external)
            label, score = self.random.choice(LABELS)
            mention_id = self.history.mention(
                community_id,
                owner,
                score + self.random.uniform(-0.2, 0.2),
                label,
                self._at(),
                source_id=self.random.choice(sources),
                lang=self.random.choice(("fr", "en")),
            )
            if self.random.random() < 0.01:
                self.history.relabel(mention_id, label, "neutral", owner, community_id)


def build(events: int) -> list[Message]:
    """At least `events` messages: (topic, key, value)."""
    return Corpus(events).build()
