"""The event path: how long a write takes to reach the strategy view, and how fast the view is
rebuilt from the topics, each against what aiokafka alone does on the same broker.

- Lag: people are registered through the people service's API at a steady rate (a load
  generator of its own process), while a reader polls the strategy projection (its SQLite
  slot) for new people every few milliseconds. A person's lag runs from the event's time (when
  the people service wrote it, in the write's transaction) to when the view first shows them.
  The ceiling: a message's trip through the same broker from an aiokafka producer (acks=all,
  no linger, as the relay sends) to an aiokafka consumer (100 ms fetch wait, as the services
  read), at the same rate.
- Rebuild: a company's history in events is produced straight to the topics (bench.corpus),
  the live view catches up, then `POST /v1/admin/rebuild` replays every topic into the spare
  slot and swaps it in. The ceiling: a group-less aiokafka consumer reading the same topics
  from the beginning, doing nothing with the messages, in the same run. Beside it, the floor
  of any projection that applies each event exactly once: the same reader decoding each
  envelope (`shared.events.decode`) and recording its id in a `processed_event` table of a
  fresh SQLite file (the services' pragmas, one transaction per 5,000 events), past
  SQLAlchemy and with nothing else.
"""

import asyncio
import json
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import make_url

from bench import corpus
from bench.support import (
    ROOT,
    Figure,
    Memory,
    Server,
    percentile,
    serve,
    service_env,
    token,
    wait_until,
)
from shared import events
from shared.consumer import ProcessedEvent
from shared.db import create_db_engine
from shared.projection import slot_url

TOPICS = ["people.events", "communities.events", "collaboration.events", "listening.events"]
DEPARTMENTS = {"rd": "R&D", "after-sales": "SAV", "it": "SI", "hr": "RH", "marketing": "Marketing"}


@dataclass(frozen=True)
class Options:
    rate: float
    seconds: float
    rebuild_events: int


def run(options: Options, folder: Path, bootstrap: str, memory: Memory):  # type: ignore[no-untyped-def]
    env = service_env(folder, bootstrap)
    figures: list[Figure] = []
    raw: dict = {}
    with ExitStack() as stack:
        people = serve("people", "people.main:create_app", env, folder)
        stack.callback(people.stop)
        strategy = serve("strategy", "strategy.main:create_app", env, folder)
        stack.callback(strategy.stop)
        people.wait_ready()
        strategy.wait_ready()
        time.sleep(1)
        memory.at_rest["strategy"] = strategy.rss_mib()
        auth = {"Authorization": f"Bearer {token('cco', 'system')}"}
        for department_id, name in DEPARTMENTS.items():
            httpx.post(
                f"{people.url}/v1/departments",
                json={"id": department_id, "name": name},
                headers=auth,
            ).raise_for_status()
        view = _view_file(folder)
        # The consumer group has formed once the view knows the departments.
        wait_until(
            lambda: _count(view, "department_view") == len(DEPARTMENTS),
            90,
            what="the strategy view's departments",
        )

        transport = asyncio.run(_transport(bootstrap, options.rate, min(options.seconds, 15)))
        lag_figures, raw["lag"] = _lag(options, folder, people, strategy, view, transport)
        figures += lag_figures
        memory.after_load["strategy (after the lag run)"] = strategy.rss_mib()
        people.stop()

        rebuild_figures, raw["rebuild"] = _rebuild(options, bootstrap, strategy, folder, auth)
        figures += rebuild_figures
        memory.after_load["strategy"] = strategy.rss_mib()
    return figures, raw


# Write-to-view lag


def _view_file(folder: Path) -> Path:
    """The projection's serving slot, a SQLite file beside the strategy service's database."""
    service_db = folder / "strategy.db"
    slot = "a"
    try:
        with sqlite3.connect(f"file:{service_db}?mode=ro", uri=True) as connection:
            row = connection.execute("SELECT slot FROM projection_slot").fetchone()
            slot = row[0] if row else "a"
    except sqlite3.Error:
        pass
    return Path(make_url(slot_url(f"sqlite:///{service_db}", slot)).database or "")


def _count(view: Path, table: str) -> int:
    try:
        with sqlite3.connect(f"file:{view}?mode=ro", uri=True) as connection:
            return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    except sqlite3.Error:
        return 0


class _Watcher(threading.Thread):
    """Polls the view for people it did not show before, noting when each first appears."""

    def __init__(self, view: Path, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.view = view
        self.interval = interval
        self.seen: dict[str, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        connection = sqlite3.connect(f"file:{self.view}?mode=ro", uri=True)
        last = connection.execute("SELECT coalesce(max(rowid), 0) FROM person_view").fetchone()[0]
        try:
            while not self.done.is_set():
                rows = connection.execute(
                    "SELECT rowid, id FROM person_view WHERE rowid > ? ORDER BY rowid", (last,)
                ).fetchall()
                now = time.time()
                for rowid, person_id in rows:
                    self.seen.setdefault(uuid.UUID(person_id).hex, now)
                    last = rowid
                time.sleep(self.interval)
        finally:
            connection.close()


def _lag(
    options: Options,
    folder: Path,
    people: Server,
    strategy: Server,
    view: Path,
    transport: dict,
) -> tuple[list[Figure], dict]:
    watcher = _Watcher(view)
    watcher.start()
    cpu_before = {s.name: s.cpu_seconds() for s in (people, strategy)}
    writer = subprocess.run(
        [sys.executable, "-m", "bench.writer", people.url, "--rate", str(options.rate)]
        + ["--seconds", str(options.seconds)],
        input=token("cco", "system") + "\n",
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    load = json.loads(writer.stdout)
    created = {uuid.UUID(person).hex for *_, status, person in load["requests"] if status == 201}
    failed = sum(1 for *_, status, _ in load["requests"] if status != 201)
    try:
        wait_until(lambda: created <= watcher.seen.keys(), 120, 0.05, "every write in the view")
    finally:
        watcher.done.set()
        watcher.join()
    cpu = {s.name: round(s.cpu_seconds() - cpu_before[s.name], 2) for s in (people, strategy)}

    written_at = _event_times(folder / "people.db")
    applied_at = _applied_times(view)
    visible, applied = [], []
    for person, (event_id, at) in written_at.items():
        if person in created:
            visible.append((watcher.seen[person] - at) * 1000)
            if event_id in applied_at:
                applied.append((applied_at[event_id] - at) * 1000)
    answers = [(end - start) * 1000 for start, end, status, _ in load["requests"] if status == 201]
    achieved = len(load["requests"]) / load["seconds"]
    # The lag counts at the rate asked only: a people service that cannot keep up writes slower.
    steady = achieved >= 0.95 * options.rate

    p50, p99 = percentile(visible, 50), percentile(visible, 99)
    figures = [
        Figure(
            "event path",
            f"write → strategy view lag p50, at {options.rate:.0f} writes/s",
            round(p50, 1),
            "ms",
            round(transport["p50_ms"], 1),
            "aiokafka produce → consume, same rate",
        ),
        Figure(
            "event path",
            f"write → strategy view lag p99, at {options.rate:.0f} writes/s",
            round(p99, 1),
            "ms",
            round(transport["p99_ms"], 1),
            "aiokafka produce → consume, same rate",
            "< 500 ms",
            p99 < 500 and steady,
            note=f"{len(visible)} writes in {load['seconds']:.0f} s ({achieved:.0f}/s"
            + ("" if steady else f", short of the {options.rate:.0f} asked")
            + "); "
            f"at most 16 in flight, the latest left {load['latest_start_seconds']:.2f} s late"
            + (f"; {failed} failed" if failed else ""),
        ),
        Figure(
            "event path",
            "POST /v1/people p99 while the view follows",
            round(percentile(answers, 99), 1),
            "ms",
            None,
            None,
            note=f"p50 {percentile(answers, 50):.1f} ms",
        ),
    ]
    raw = {
        "rate": options.rate,
        "seconds": round(load["seconds"], 2),
        "writes": len(load["requests"]),
        "failed": failed,
        "writer_started_late_by_at_most_s": round(load["latest_start_seconds"], 3),
        "load_generator_cpu_seconds": round(load["cpu_seconds"], 2),
        "server_cpu_seconds": cpu,
        "visible_lag_ms": _summary(visible),
        "applied_lag_ms": _summary(applied),
        "answer_ms": _summary(answers),
        "transport": transport,
    }
    return figures, raw


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "count": len(values),
        **{f"p{p}": round(percentile(values, p), 2) for p in (50, 90, 99)},
        "max": round(max(values), 2) if values else float("nan"),
    }


def _parse_utc(value: str) -> float:
    """SQLite keeps the services' UTC datetimes without their zone."""
    return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()


def _event_times(people_db: Path) -> dict[str, tuple[str, float]]:
    """person id -> (event id, time the people service wrote its registration event)."""
    with sqlite3.connect(f"file:{people_db}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            "SELECT key, event_id, created_at FROM outbox WHERE event_type = ?",
            ("people.person.registered.v1",),
        ).fetchall()
    return {uuid.UUID(key).hex: (uuid.UUID(e).hex, _parse_utc(at)) for key, e, at in rows}


def _applied_times(view: Path) -> dict[str, float]:
    """event id -> when the strategy consumer applied it (stamped in its transaction)."""
    with sqlite3.connect(f"file:{view}?mode=ro", uri=True) as connection:
        rows = connection.execute("SELECT event_id, processed_at FROM processed_event").fetchall()
    return {uuid.UUID(e).hex: _parse_utc(at) for e, at in rows}


async def _transport(bootstrap: str, rate: float, seconds: float) -> dict:
    """aiokafka alone: a message's trip from a producer to a reader through the broker."""
    topic = f"bench.transport.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 4, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=100
    )
    await producer.start()
    await consumer.start()
    trips: list[float] = []
    try:
        partitions = [TopicPartition(topic, p) for p in range(4)]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        count = int(rate * seconds)

        async def read() -> None:
            while len(trips) < count:
                batch = await consumer.getmany(timeout_ms=500, max_records=500)
                now = time.time()
                for messages in batch.values():
                    trips.extend((now - float(m.value)) * 1000 for m in messages)

        reader = asyncio.create_task(read())
        begin = time.monotonic()
        pending = []
        for n in range(count):
            delay = begin + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            pending.append(
                await producer.send(topic, str(time.time()).encode(), key=str(n).encode())
            )
        await asyncio.gather(*pending)
        await asyncio.wait_for(reader, 30)
    finally:
        await producer.stop()
        await consumer.stop()
    return {
        "messages": len(trips),
        "p50_ms": percentile(trips, 50),
        "p99_ms": percentile(trips, 99),
        "max_ms": max(trips),
    }


# Rebuild


def _rebuild(
    options: Options, bootstrap: str, strategy: Server, folder: Path, auth: dict[str, str]
) -> tuple[list[Figure], dict]:
    started = time.monotonic()
    messages = corpus.build(options.rebuild_events)
    built = time.monotonic() - started
    with sqlite3.connect(f"file:{folder / 'people.db'}?mode=ro", uri=True) as connection:
        earlier = connection.execute("SELECT count(*) FROM outbox").fetchone()[0]
    total = earlier + len(messages)
    produced = asyncio.run(_produce(bootstrap, messages))
    del messages

    # The live view reads the new events as they arrive; the rebuild waits for it to finish.
    # Every event has a handler, so the view has read them all once it has applied `total`.
    wait_until(
        lambda: _count(_view_file(folder), "processed_event") >= total,
        1200,
        0.5,
        "the live view's catch-up",
    )
    live_seconds = time.monotonic() - produced["started"]
    # Where the topics end: the positions the live view stored (Tansu may report an end below
    # the true one after a burst of batches, so its end offsets are not used).
    ends = _positions(_view_file(folder))

    raw_before = asyncio.run(_raw_consume(bootstrap, ends))
    cpu_before = strategy.cpu_seconds()
    answer = httpx.post(f"{strategy.url}/v1/admin/rebuild", headers=auth, timeout=30)
    answer.raise_for_status()
    began = time.monotonic()
    job = answer.json()["id"]

    def finished() -> dict | None:
        state = httpx.get(f"{strategy.url}/v1/admin/rebuild/{job}", headers=auth, timeout=30)
        body = state.json()
        return body if body["status"] in ("done", "failed") else None

    outcome = wait_until(finished, 1200, 0.2, "the rebuild")
    swapped = time.monotonic() - began
    if outcome["status"] != "done":
        raise RuntimeError(f"the rebuild failed: {outcome}")
    # Done means swapped in; the live consumer then reads on from the new slot's positions,
    # so the replay is complete once the new slot holds every event.
    wait_until(
        lambda: _count(_view_file(folder), "processed_event") >= total,
        600,
        0.1,
        "the rebuilt view's last events",
    )
    rebuild_seconds = time.monotonic() - began
    rebuild_cpu = strategy.cpu_seconds() - cpu_before
    raw_after = asyncio.run(_raw_consume(bootstrap, ends))
    floor = asyncio.run(_raw_consume(bootstrap, ends, _Recorder(folder / "floor.db")))

    raw_rate = (raw_before["per_second"] + raw_after["per_second"]) / 2
    rate = total / rebuild_seconds
    figures = [
        Figure(
            "event path",
            f"rebuild: events replayed per second ({total:,} events)",
            round(rate),
            "events/s",
            round(raw_rate),
            "raw aiokafka consume, same topics",
            "≥ 0.25 of raw",
            rate / raw_rate >= 0.25,
            note=f"{rebuild_seconds:.1f} s (swapped in at {swapped:.1f} s), "
            f"{rebuild_cpu:.1f} s of CPU",
        ),
        Figure(
            "event path",
            "replay floor: envelopes decoded and their ids recorded, nothing else",
            floor["per_second"],
            "events/s",
            round(raw_rate),
            "raw aiokafka consume, same topics",
            note="what any projection applying each event exactly once does at least; "
            f"{floor['seconds']:.1f} s",
        ),
        Figure(
            "event path",
            "live view: events applied per second while catching up",
            round(total / live_seconds),
            "events/s",
            round(raw_rate),
            "raw aiokafka consume, same topics",
            note=f"{live_seconds:.1f} s from the first event produced to the view caught up",
        ),
    ]
    raw = {
        "events": total,
        "corpus_built_seconds": round(built, 2),
        "produce": {k: v for k, v in produced.items() if k != "started"},
        "live_catch_up_seconds": round(live_seconds, 2),
        "rebuild_swapped_in_seconds": round(swapped, 2),
        "rebuild_seconds": round(rebuild_seconds, 2),
        "rebuild_cpu_seconds": round(rebuild_cpu, 2),
        "raw_consume_before": raw_before,
        "raw_consume_after": raw_after,
        "floor": floor,
    }
    return figures, raw


async def _produce(bootstrap: str, messages: list[tuple[str, bytes, bytes]]) -> dict:
    """Every message, batched by the client (acks=all, as the relays publish)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=20,
        max_batch_size=1_048_576,
        max_request_size=8_388_608,
    )
    await producer.start()
    started = time.monotonic()
    try:
        pending = []
        for topic, key, value in messages:
            pending.append(await producer.send(topic, value, key=key))
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    seconds = time.monotonic() - started
    return {
        "messages": len(messages),
        "seconds": round(seconds, 2),
        "per_second": round(len(messages) / seconds),
        "started": started,
    }


def _positions(view: Path) -> dict[tuple[str, int], int]:
    """The next offset the view will read per partition, stored with what it applied."""
    try:
        with sqlite3.connect(f"file:{view}?mode=ro", uri=True) as connection:
            rows = connection.execute(
                "SELECT topic, partition, next_offset FROM consumer_position"
            ).fetchall()
    except sqlite3.Error:
        return {}
    return {(topic, partition): offset for topic, partition, offset in rows}


class _Recorder:
    """The floor's work: each envelope decoded, its id recorded, 5,000 events a transaction."""

    def __init__(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        # The services' engine, for their pragmas; its driver connection, past SQLAlchemy.
        self.engine = create_db_engine(f"sqlite:///{path}")
        ProcessedEvent.__table__.create(self.engine)  # type: ignore[attr-defined]
        self.connection = self.engine.raw_connection()
        self.pending: list[tuple[str, str, str]] = []

    def __call__(self, records: list[ConsumerRecord]) -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        for record in records:
            envelope = events.decode(record.value)
            self.pending.append((envelope.id.hex, envelope.type, now))
        if len(self.pending) >= 5_000:
            self.flush()

    def flush(self) -> None:
        cursor = self.connection.cursor()
        cursor.execute("BEGIN")
        cursor.executemany(
            "INSERT INTO processed_event (event_id, event_type, processed_at) VALUES (?, ?, ?)",
            self.pending,
        )
        cursor.execute("COMMIT")
        self.pending.clear()

    def close(self) -> None:
        self.flush()
        self.connection.close()
        self.engine.dispose()


async def _raw_consume(
    bootstrap: str, ends: dict[tuple[str, int], int], recorder: _Recorder | None = None
) -> dict:
    """Reads every partition from the beginning to `ends`, as the rebuild's reader is set up
    (no group, 500 records a fetch, 100 ms fetch wait), and does nothing with the messages
    (or hands them to `recorder`)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=100,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for topic, p in ends]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        remaining = {tp for tp in partitions if ends[(tp.topic, tp.partition)] > 0}
        count, started = 0, time.monotonic()
        while remaining:
            batch = await consumer.getmany(timeout_ms=500, max_records=500)
            for tp, records in batch.items():
                count += len(records)
                if recorder is not None:
                    recorder(records)
                if records[-1].offset + 1 >= ends[(tp.topic, tp.partition)]:
                    remaining.discard(tp)
        if recorder is not None:
            recorder.close()
        seconds = time.monotonic() - started
    finally:
        await consumer.stop()
    return {"messages": count, "seconds": round(seconds, 2), "per_second": round(count / seconds)}
