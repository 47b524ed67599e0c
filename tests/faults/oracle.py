"""The oracle: what the strategy view holds, compared with what the people service committed.

The ground truth is the people service's own database: its `person` rows and its outbox, which
keeps every event it ever wrote, in write order. The view is the strategy service's serving
slot: `person_view` counts the events it applied to each person and chains their ids in the
order applied (`strategy.handlers.history_digest`), and `processed_event` names every event it
applied. Against the truth:

- a lost event is one the outbox holds and the view never applied, or a write answered 2xx
  that the people service does not hold;
- a duplicate is an application beyond the number of distinct events applied;
- an order violation is a person whose events were all applied once each, but whose digest
  differs from the chain of the outbox's order (or whose writes were committed out of order);
- a state mismatch is a person whose view differs from the truth though its history matches,
  or whose row disagrees with its own last event (a half-written change).

The load's answers are judged too: a 503 says nothing was changed, so a 503 write found in the
truth is counted, as is any answer that is neither a success nor a clean refusal.
"""

import json
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool

from people.models import Person
from shared.consumer import ProcessedEvent
from shared.db import database_url
from shared.outbox import OutboxMessage
from shared.projection import slot_url
from strategy.handlers import history_digest
from strategy.models import PersonView, ProjectionSlot
from tests.faults.harness import Workload, Write

PERSON_STATE = {"people.person.registered.v1", "people.person.updated.v1"}
_SEQ = re.compile(r"^seq-(\d+)$")


@dataclass(frozen=True)
class SourceEvent:
    event_id: uuid.UUID
    type: str
    seq: int | None
    published: bool


@dataclass
class Truth:
    """What the people service committed: each person's events in write order, and its rows."""

    events: dict[uuid.UUID, list[SourceEvent]]
    people: dict[uuid.UUID, tuple[str, str | None, str]]  # id -> (email, title, department)
    unpublished: int

    def person_of(self, email: str) -> uuid.UUID | None:
        for person_id, (row_email, _, _) in self.people.items():
            if row_email == email:
                return person_id
        return None


@dataclass
class View:
    people: dict[uuid.UUID, tuple[str, int, str]]  # id -> (department, applied, digest)
    processed: set[uuid.UUID]


def _engine(url: str):  # type: ignore[no-untyped-def]
    return create_engine(database_url(url), poolclass=NullPool)


def read_truth(people_url: str) -> Truth:
    engine = _engine(people_url)
    try:
        with engine.connect() as connection:
            outbox = connection.execute(
                select(
                    OutboxMessage.event_id,
                    OutboxMessage.event_type,
                    OutboxMessage.value,
                    OutboxMessage.published_at,
                ).order_by(OutboxMessage.id)
            ).all()
            rows = connection.execute(
                select(Person.id, Person.email, Person.title, Person.department_id)
            ).all()
    finally:
        engine.dispose()
    events: dict[uuid.UUID, list[SourceEvent]] = defaultdict(list)
    unpublished = 0
    for event_id, event_type, value, published_at in outbox:
        unpublished += published_at is None
        if event_type not in PERSON_STATE:
            continue
        data = json.loads(value)["data"]
        match = _SEQ.match(data.get("title") or "")
        events[uuid.UUID(data["id"])].append(
            SourceEvent(
                event_id=uuid.UUID(str(event_id)),
                type=event_type,
                seq=int(match[1]) if match else None,
                published=published_at is not None,
            )
        )
    people = {uuid.UUID(str(id_)): (email, title, dept) for id_, email, title, dept in rows}
    return Truth(dict(events), people, unpublished)


def read_view(strategy_url: str) -> View:
    control = _engine(strategy_url)
    try:
        with control.connect() as connection:
            slot = connection.execute(select(ProjectionSlot.slot)).scalar() or "a"
    finally:
        control.dispose()
    engine = _engine(slot_url(strategy_url, slot))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    PersonView.id,
                    PersonView.department_id,
                    PersonView.applied_events,
                    PersonView.applied_digest,
                )
            ).all()
            processed = connection.execute(select(ProcessedEvent.event_id)).scalars().all()
    finally:
        engine.dispose()
    return View(
        {uuid.UUID(str(id_)): (dept, applied, digest) for id_, dept, applied, digest in rows},
        {uuid.UUID(str(event_id)) for event_id in processed},
    )


def chain(events: list[SourceEvent]) -> str:
    digest = ""
    for event in events:
        digest = history_digest(digest, event.event_id)
    return digest


@dataclass
class Verdict:
    fault: str
    database: str
    iterations: int
    acknowledged: int = 0
    refused: int = 0  # 503: the service said nothing was changed
    unreachable: int = 0  # 502/504 from the gateway: the service was gone; either outcome
    other_answers: int = 0  # neither: a 500, an unexpected 4xx, no answer at all
    refused_but_written: int = 0
    events: int = 0
    unpublished: int = 0
    lost: int = 0
    duplicates: int = 0
    reordered: int = 0
    mismatched: int = 0
    details: list[str] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        return self.unpublished == 0 and not (
            self.lost or self.duplicates or self.reordered or self.mismatched
        )

    def row(self) -> list[str]:
        return [
            self.fault,
            self.database,
            str(self.iterations),
            str(self.acknowledged),
            str(self.refused),
            str(self.unreachable),
            str(self.other_answers),
            str(self.events),
            str(self.lost),
            str(self.duplicates),
            str(self.reordered),
            str(self.mismatched),
        ]

    def describe(self) -> str:
        table = markdown_table([self.row()])
        shown = "\n".join(self.details[:20])
        more = f"\n... and {len(self.details) - 20} more" if len(self.details) > 20 else ""
        return f"{table}\n{shown}{more}"


HEADER = [
    "fault",
    "database",
    "iterations",
    "writes acknowledged",
    "refused (503)",
    "unreachable (502/504)",
    "other answers",
    "events",
    "lost",
    "duplicates applied",
    "order violations",
    "state mismatches",
]


def markdown_table(rows: list[list[str]]) -> str:
    widths = [max(len(cells[i]) for cells in [HEADER, *rows]) for i in range(len(HEADER))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "| " + " | ".join("-" * w for w in widths) + " |"
    return "\n".join([line(HEADER), rule, *(line(cells) for cells in rows)])


def judge(
    fault: str, database: str, iterations: int, workload: Workload, truth: Truth, view: View
) -> Verdict:
    verdict = Verdict(fault, database, iterations)
    _judge_answers(verdict, workload, truth)
    for person_id, events in truth.events.items():
        _judge_person(verdict, person_id, events, truth, view)
    for person_id in view.people.keys() - truth.events.keys():
        verdict.mismatched += 1
        verdict.details.append(f"{person_id}: in the view, never written")
    for person_id in truth.people.keys() - truth.events.keys():
        verdict.mismatched += 1
        verdict.details.append(f"{person_id}: a row without its events (half-written)")
    verdict.unpublished = truth.unpublished
    return verdict


def _written(truth: Truth, workload: Workload, write: Write) -> bool:
    person_id = truth.person_of(workload.email(write.actor))
    if person_id is None:
        return False
    return any(event.seq == write.seq for event in truth.events.get(person_id, []))


def _judge_answers(verdict: Verdict, workload: Workload, truth: Truth) -> None:
    for write in workload.writes:
        if write.acknowledged:
            verdict.acknowledged += 1
            if not _written(truth, workload, write):
                verdict.lost += 1
                verdict.details.append(f"{write}: answered {write.status}, not in the database")
        elif write.status == 409 and write.kind == "register":
            pass  # the retry of a registration an earlier attempt committed: no change
        elif write.status == 503 and write.problem is not None:
            verdict.refused += 1
            if _written(truth, workload, write):
                verdict.refused_but_written += 1
                verdict.other_answers += 1
                verdict.details.append(f"{write}: answered 503, yet written")
        elif write.status in (502, 504) and write.problem is not None:
            verdict.unreachable += 1
        else:
            verdict.other_answers += 1
            verdict.details.append(f"{write}: not a clean answer")


def _judge_person(
    verdict: Verdict,
    person_id: uuid.UUID,
    events: list[SourceEvent],
    truth: Truth,
    view: View,
) -> None:
    verdict.events += len(events)
    seqs = [event.seq for event in events]
    if seqs != sorted(seqs) or len(set(seqs)) != len(seqs):
        verdict.reordered += 1
        verdict.details.append(f"{person_id}: committed out of write order: {seqs}")
    row = truth.people.get(person_id)
    if row is None or row[1] != f"seq-{seqs[-1]}":
        verdict.mismatched += 1
        verdict.details.append(f"{person_id}: its row disagrees with its last event: {row}")
    applied = sum(event.event_id in view.processed for event in events)
    lost = len(events) - applied
    department, times, digest = view.people.get(person_id, ("", 0, ""))
    duplicates = max(times - applied, 0)
    verdict.lost += lost
    verdict.duplicates += duplicates
    if lost or duplicates:
        verdict.details.append(
            f"{person_id}: {len(events)} events, {applied} applied, {times} applications"
        )
    elif digest != chain(events):
        verdict.reordered += 1
        verdict.details.append(f"{person_id}: applied in another order than written")
    elif row is not None and department != row[2]:
        verdict.mismatched += 1
        verdict.details.append(f"{person_id}: the view says {department}, the truth {row[2]}")
