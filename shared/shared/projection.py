"""A projection that is rebuilt from the beginning of its topics while the old one keeps serving.

The projection lives in one of two slots (SQLite files beside the service's database, or
PostgreSQL schemas `view_a`/`view_b` of it); the service's own database records which slot
serves. A rebuild empties the other slot, replays every topic into it with the same handlers,
and swaps it in once caught up; the live consumers then read on from the positions stored in
the new slot, so nothing between the catch-up and the swap is missed.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import make_url, text
from sqlmodel import Session, SQLModel, select

from shared.consumer import EventConsumer
from shared.db import Database, database_url
from shared.metrics import Metrics
from shared.worker import BackgroundWorker, Stopped

log = logging.getLogger(__name__)

SLOTS = ("a", "b")


def slot_url(service_url: str, slot: str) -> str:
    """Where a slot lives: a SQLite file beside the service's, or a schema of its PostgreSQL."""
    url = database_url(service_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "data/projection.db")
        return url.set(
            database=str(path.with_name(f"{path.stem}-view-{slot}{path.suffix}"))
        ).render_as_string(hide_password=False)
    options = f"-csearch_path={schema(slot)}"
    return url.update_query_dict({"options": options}).render_as_string(hide_password=False)


def schema(slot: str) -> str:
    return f"view_{slot}"


class ProjectionDatabase:
    """The serving slot of a projection, used like a `Database` by its consumer and its queries.

    `pointer` is the service's own table (in its own database) with a `slot` column, one row.
    """

    def __init__(
        self, control: Database, service_url: str, migrations: str, pointer: type[SQLModel]
    ) -> None:
        self.control = control
        self.service_url = service_url
        self.migrations = migrations
        self.pointer = pointer
        self.slots: dict[str, Database] = {}
        self.active_slot = SLOTS[0]

    @property
    def active(self) -> Database:
        return self.slots[self.active_slot]

    @property
    def is_sqlite(self) -> bool:
        return self.control.is_sqlite

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Session]:
        with self.active.transaction(write=write) as session:
            yield session

    def sessions(self) -> Session:
        return self.active.sessions()

    def open(self) -> None:
        """Prepares both slots (migrations included) and reads which one serves."""
        for slot in SLOTS:
            self.slots[slot] = self._prepare(slot)
        self.active_slot = self.read_pointer()

    def read_pointer(self) -> str:
        with self.control.sessions() as session:
            row = session.exec(select(self.pointer)).first()
            return row.slot if row is not None else SLOTS[0]  # type: ignore[attr-defined]

    def spare_slot(self) -> str:
        return SLOTS[1] if self.active_slot == SLOTS[0] else SLOTS[0]

    def empty(self, slot: str) -> Database:
        """Drops everything in a slot that does not serve, and migrates it afresh."""
        if slot == self.active_slot:
            raise ValueError("the serving slot cannot be emptied")
        self.slots[slot].dispose()
        if self.is_sqlite:
            path = Path(make_url(slot_url(self.service_url, slot)).database or "")
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    Path(f"{path}{suffix}").unlink()
        else:
            with self.control.engine.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema(slot)} CASCADE"))
        self.slots[slot] = self._prepare(slot)
        return self.slots[slot]

    def swap(self, slot: str) -> None:
        """Makes `slot` the serving one, for every replica (they read the pointer)."""
        with self.control.transaction() as session:
            row = session.exec(select(self.pointer)).first()
            if row is None:
                row = self.pointer(id=1, slot=slot, swapped_at=datetime.now(UTC))  # type: ignore[call-arg]
            row.slot, row.swapped_at = slot, datetime.now(UTC)  # type: ignore[attr-defined]
            session.add(row)
        self.active_slot = slot

    def follow_pointer(self) -> bool:
        """Serves from the slot the pointer names; True when another replica swapped it."""
        slot = self.read_pointer()
        if slot == self.active_slot:
            return False
        self.active_slot = slot
        return True

    def dispose(self) -> None:
        for database in self.slots.values():
            database.dispose()

    def _prepare(self, slot: str) -> Database:
        if not self.is_sqlite:
            with self.control.engine.begin() as connection:
                connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema(slot)}"))
        database = Database(slot_url(self.service_url, slot))
        database.migrate(self.migrations)
        return database


class ProjectionRebuild(BackgroundWorker):
    """Replays every topic into the spare slot with the live consumer's handlers, then swaps.

    `report(status, progress, error)` is called as it goes: "running", then "done" or "failed".
    """

    def __init__(
        self,
        projection: ProjectionDatabase,
        live: EventConsumer,
        report: Callable[[str, float, str | None], None],
    ) -> None:
        super().__init__()
        self.projection = projection
        self.live = live
        self.report = report

    async def run(self) -> None:
        slot = self.projection.spare_slot()
        try:
            target = await asyncio.to_thread(self.projection.empty, slot)
            reader = EventConsumer(
                database=target,
                settings=self.live.settings,
                metrics=Metrics(f"{self.live.settings.service_name}-rebuild"),
                group_id=None,
                handlers=self.live.handlers,
                topics=self.live.topics,
            )
            task = asyncio.create_task(reader.run(), name="projection-rebuild-reader")
            try:
                while not (reader.connected and await reader.caught_up()):
                    if task.done():
                        task.result()
                        raise RuntimeError("the replay stopped before it caught up")
                    await asyncio.to_thread(self.report, "running", await _progress(reader), None)
                    await self.pause(0.5)
                    if self.stopping:
                        raise Stopped
                await asyncio.to_thread(self.projection.swap, slot)
                self.live.reposition()
            finally:
                reader.stop()
                await task
            await asyncio.to_thread(self.report, "done", 1.0, None)
            log.info("projection rebuilt and swapped in", extra={"slot": slot})
        except Stopped:
            await asyncio.to_thread(self.report, "failed", 0.0, "stopped before it finished")
        except Exception as error:
            log.exception("projection rebuild failed")
            await asyncio.to_thread(self.report, "failed", 0.0, repr(error))


async def _progress(reader: EventConsumer) -> float:
    partitions = await reader.lag()
    end = sum(p.end for p in partitions)
    return min(sum(p.position for p in partitions) / end, 1.0) if end else 0.0
