"""Database engine, the request's session that commits once, and migrations run at start-up."""

import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Annotated, Any

import anyio
from alembic import command, context
from alembic.config import Config
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine, MetaData, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import SessionTransaction, registry, sessionmaker
from sqlmodel import Session, SQLModel

# Any fixed number: serialises concurrent migrations of replicas sharing one PostgreSQL database.
_MIGRATION_LOCK_KEY = 7_410_001
# Connections a process keeps open (and at most MAX_OVERFLOW more for a moment). One Python
# process does not run more than a few queries at once, and replicas multiply this: PostgreSQL
# allows 100 connections by default, shared by every replica of every service.
POOL_SIZE = 10
MAX_OVERFLOW = 5
# Requests holding a session at once: fewer than the pool, so the relay and the consumer always
# find a connection, and fewer than the worker threads, so a request holding a connection always
# finds a thread to commit it (otherwise a burst deadlocks the process).
REQUEST_CONCURRENCY = POOL_SIZE - 4
# How long a SQLite write waits for the file's lock: a burst of writers queues, while a file
# locked for longer fails the request with a 503 before the gateway gives up on it (15 s, 504).
SQLITE_LOCK_WAIT_MS = 10_000
# Readiness asks for the write lock and waits at most this long for it.
SQLITE_READY_WAIT_MS = 1_000


class SharedBase(SQLModel, registry=registry()):
    """Tables every service has (outbox, processed events), kept apart from its own tables."""


def database_url(raw: str) -> URL:
    """The URL to connect with: PostgreSQL through psycopg 3, SQLite as given."""
    url = make_url(raw)
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def create_db_engine(raw_url: str) -> Engine:
    url = database_url(raw_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(
            url, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW, pool_pre_ping=True
        )
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        connect_args={"check_same_thread": False, "timeout": SQLITE_LOCK_WAIT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # SQLAlchemy, not the driver, begins transactions (so SAVEPOINT works as documented).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets readers go on while the relay or a request writes.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_LOCK_WAIT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection):  # type: ignore[no-untyped-def]
        # A transaction that writes takes the write lock up front: upgrading a read snapshot
        # later fails at once (SQLITE_BUSY) when another connection wrote in between.
        writes = connection.get_execution_options().get("writes", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


class Database:
    """A service's engine and its sessions: `transaction()` to write, `sessions()` to read."""

    def __init__(self, url: str) -> None:
        self.engine = create_db_engine(url)
        self.sessions = sessionmaker(self.engine, class_=Session, expire_on_commit=False)
        self._writer = sessionmaker(
            self.engine.execution_options(writes=True), class_=Session, expire_on_commit=False
        )
        # SQLite takes one writer at a time; its own wait polls, sleeping up to 100 ms between
        # tries, so a process's writers queue here instead and each starts when the last ends.
        # A lock any thread may release: a request's session ends in another worker thread.
        self._write_lock = threading.Lock()
        if self.is_sqlite:
            event.listen(self._writer, "after_transaction_create", self._take_turn)
            event.listen(self._writer, "after_transaction_end", self._end_turn)

    def on_commit(self, callback: Callable[[Session], None]) -> None:
        """Calls `callback(session)` after each write transaction commits."""
        event.listen(self._writer, "after_commit", callback)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Session]:
        """A session that commits once when the block ends, or rolls back on error.

        On SQLite a writing transaction takes the write lock up front; a reading one does not.
        """
        with (self._writer if write else self.sessions)() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def _take_turn(self, session: Session, transaction: SessionTransaction) -> None:
        # When the session first uses the database (not when it opens: a request may read its
        # body first); a root transaction, not a savepoint.
        if transaction.parent is not None:
            return
        if not self._write_lock.acquire(timeout=SQLITE_LOCK_WAIT_MS / 1000):
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("locked"))
        session.info["write_turn"] = True

    def _end_turn(self, session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None and session.info.pop("write_turn", False):
            self._write_lock.release()

    def ping(self) -> None:
        """Fails unless the database takes writes: on SQLite, unless the file's write lock can
        be had (another process may hold it, as a stuck backup would)."""
        if not self.is_sqlite:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_READY_WAIT_MS}")
            try:
                cursor.execute("BEGIN IMMEDIATE")
                cursor.execute("ROLLBACK")
            finally:
                cursor.execute(f"PRAGMA busy_timeout={SQLITE_LOCK_WAIT_MS}")
        finally:
            raw.close()

    def migrate(self, script_location: str) -> None:
        """Apply the service's Alembic migrations (`package:folder`) up to head."""
        config = Config()
        config.set_main_option("script_location", script_location)
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()


def run_migrations_env(
    metadata: MetaData | list[MetaData], shared_tables: set[str] | None = None
) -> None:
    """The body of a service's Alembic `env.py`: migrate its tables and the shared ones
    (all of them, or only `shared_tables`)."""
    from shared import consumer, outbox  # noqa: F401  (their tables join SharedBase.metadata)

    config = context.config
    target = [*(metadata if isinstance(metadata, list) else [metadata]), SharedBase.metadata]
    shared = set(SharedBase.metadata.tables)

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return shared_tables is None or table not in shared or table in shared_tables

    options = {"target_metadata": target, "render_as_batch": True, "include_object": include}
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    # Command line (`alembic revision --autogenerate`): connect with DATABASE_URL.
    url = config.get_main_option("sqlalchemy.url") or "sqlite:///data/alembic.db"
    engine = create_db_engine(url)
    with engine.begin() as connection:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()


@asynccontextmanager
async def ended_in_a_worker_thread(
    transaction: AbstractContextManager[Session],
) -> AsyncIterator[Session]:
    """A request's transaction, opened in the event loop (a session touches the database only
    when first used, in the endpoint's worker thread) and ended, committed or rolled back, in
    one worker thread: a sync dependency would cost a thread hop to open and another to end."""
    session = transaction.__enter__()
    try:
        yield session
    except BaseException as error:
        with anyio.CancelScope(shield=True):  # a cancelled request still gives its turn back
            await run_in_threadpool(transaction.__exit__, type(error), error, error.__traceback__)
        raise
    with anyio.CancelScope(shield=True):
        await run_in_threadpool(transaction.__exit__, None, None, None)


async def _request_session(request: Request) -> AsyncIterator[Session]:
    write = request.method not in ("GET", "HEAD", "OPTIONS")
    async with ended_in_a_worker_thread(request.app.state.database.transaction(write)) as session:
        yield session


# scope="function": the commit happens before the response is sent, so a 2xx means committed.
SessionDep = Annotated[
    Session,
    Depends(_request_session, scope="function", max_concurrency=REQUEST_CONCURRENCY),
]
