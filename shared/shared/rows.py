"""The rows a batch of events reads and writes: read in bulk first, written in bulk at the end.

Applying events one by one through ORM objects costs a query per row read, a flush per event
and the construction of a model per row. A consumer instead reads, in one query per table,
the rows its handlers say they will need (`Handler.reads`); the handlers change them as plain
dicts through `Rows`; and the changes are written when the session commits (or at `write()`),
with one `executemany` per table and statement. Its statements are built once per table and
run on the session's connection, past the ORM: a table changed through `Rows` is changed only
through it (an ORM object added to the session is not flushed before `Rows` reads).

A handler gets the batch's `Rows` with `rows(session)`. Outside a consumer (a test applying one
event) it is created on first use and works the same, reading row by row.
"""

import functools
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import (
    Delete,
    Insert,
    Select,
    Table,
    Update,
    bindparam,
    delete,
    event,
    insert,
    select,
    tuple_,
    update,
)
from sqlmodel import Session, SQLModel

Key = tuple[type[SQLModel], Any]
"""(table model, primary key): the key alone for one column, a tuple in column order for more."""
Row = dict[str, Any]

# Keys per query: well under SQLite's and PostgreSQL's limits on bound parameters.
_CHUNK = 500


class Rows:
    """A batch's rows by primary key, as dicts of their columns. Every change of the batch goes
    through it: a row added here is visible to `get`, not to a query until it is written."""

    def __init__(self, session: Session) -> None:
        self.session = session
        # Per key read or written in this batch: the row as it is now, and as it is stored
        # (None: there is none).
        self._rows: dict[Key, Row | None] = {}
        self._stored: dict[Key, Row | None] = {}

    def load(self, keys: Iterable[Key]) -> None:
        """Reads the rows of `keys` not read yet, one query per table (and 500 keys)."""
        wanted: dict[type[SQLModel], list[Any]] = defaultdict(list)
        for key in keys:
            if key not in self._rows:
                self._rows[key] = self._stored[key] = None
                wanted[key[0]].append(key[1])
        for model, ids in wanted.items():
            for start in range(0, len(ids), _CHUNK):
                self._read(model, ids[start : start + _CHUNK])

    def get(self, model: type[SQLModel], key: Any) -> Row | None:
        if (model, key) not in self._rows:
            self.load([(model, key)])
        return self._rows[(model, key)]

    def add(self, model: type[SQLModel], **values: Any) -> Row:
        """A new row (with the model's defaults) the caller knows is not stored: one keyed by an
        event, which is applied once."""
        row = _defaults(model) | values
        key = (model, _key(model, row))
        self._stored.setdefault(key, None)
        self._rows[key] = row
        return row

    def put(self, model: type[SQLModel], **values: Any) -> Row:
        """Inserts the row, or sets these columns on the stored one."""
        row = self.get(model, _key(model, values))
        if row is None:
            return self.add(model, **values)
        row.update(values)
        return row

    def delete(self, model: type[SQLModel], key: Any) -> None:
        self.get(model, key)
        self._rows[(model, key)] = None

    def write(self) -> None:
        """Writes what changed since it was read (deletes, inserts, then updates, each an
        `executemany` per table) and forgets the rows."""
        deletes: dict[type[SQLModel], list[Row]] = defaultdict(list)
        inserts: dict[type[SQLModel], list[Row]] = defaultdict(list)
        updates: dict[tuple[type[SQLModel], tuple[str, ...]], list[Row]] = defaultdict(list)
        for key, row in self._rows.items():
            stored = self._stored[key]
            if row == stored:
                continue
            model = key[0]
            if row is None:
                deletes[model].append(_primary_key(model, stored))  # type: ignore[arg-type]
            elif stored is None:
                inserts[model].append(row)
            else:
                changed = tuple(sorted(c for c in row if row[c] != stored.get(c)))
                updates[(model, changed)].append(row)
        connection = self.session.connection()
        for model, keys in deletes.items():
            connection.execute(_delete(model), [_bound(k) for k in keys])
        for model, new in inserts.items():
            connection.execute(_insert(model), new)
        for (model, changed), rows_ in updates.items():
            connection.execute(
                _update(model, changed),
                [_bound(_primary_key(model, r)) | {f"v_{c}": r[c] for c in changed} for r in rows_],
            )
        self.forget()  # read again if asked: from the database, now that it holds them

    def forget(self) -> None:
        """Drops what was read, and what was changed and not written (after a rollback)."""
        self._rows.clear()
        self._stored.clear()

    def _read(self, model: type[SQLModel], ids: list[Any]) -> None:
        keys = {"keys": ids}
        if len(_key_columns(model)) > 1:
            keys["leading"] = list({key[0] for key in ids})
        found = self.session.connection().execute(_select(model), keys).mappings()
        for row in map(dict, found):
            key = (model, _key(model, row))
            self._rows[key], self._stored[key] = row, dict(row)


def rows(session: Session) -> Rows:
    """The `Rows` of the batch `session` applies; written when the session commits."""
    batch = session.info.get(Rows)
    if batch is None:
        batch = session.info[Rows] = Rows(session)
        event.listen(session, "before_commit", lambda _session: batch.write())
    return batch


@functools.cache
def _table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


@functools.cache
def _key_columns(model: type[SQLModel]) -> tuple[str, ...]:
    return tuple(column.name for column in _table(model).primary_key.columns)


@functools.cache
def _key_of(model: type[SQLModel]) -> Callable[[Row], Any]:
    """A row's key: the value of its one key column, or the tuple of its key columns' values."""
    return operator.itemgetter(*_key_columns(model))


def _key(model: type[SQLModel], row: Row) -> Any:
    return _key_of(model)(row)


def _primary_key(model: type[SQLModel], row: Row) -> Row:
    return {name: row[name] for name in _key_columns(model)}


# Each statement is built once per table: building one costs more than running it.


@functools.cache
def _select(model: type[SQLModel]) -> Select:
    """The rows of a list of keys, bound as `keys` (and, for a key of several columns, their
    first columns' values as `leading`)."""
    table = _table(model)
    columns = list(table.primary_key.columns)
    if len(columns) == 1:
        return select(table).where(columns[0].in_(bindparam("keys", expanding=True)))
    # SQLite scans the whole table for `(a, b) IN (VALUES ...)`, and PostgreSQL plans a branch
    # per key: the first column's IN list lets both search the primary key's index.
    return select(table).where(
        columns[0].in_(bindparam("leading", expanding=True)),
        tuple_(*columns).in_(bindparam("keys", expanding=True)),
    )


@functools.cache
def _insert(model: type[SQLModel]) -> Insert:
    return insert(_table(model))


@functools.cache
def _delete(model: type[SQLModel]) -> Delete:
    table = _table(model)
    return delete(table).where(*_match(table))


@functools.cache
def _update(model: type[SQLModel], changed: tuple[str, ...]) -> Update:
    """Sets the `changed` columns (bound as `v_<column>`) of the row keyed `k_<column>`."""
    table = _table(model)
    return update(table).where(*_match(table)).values({c: bindparam(f"v_{c}") for c in changed})


def _match(table: Table) -> list[Any]:
    return [column == bindparam(f"k_{column.name}") for column in table.primary_key.columns]


def _bound(key: Row) -> Row:
    return {f"k_{name}": value for name, value in key.items()}


def _defaults(model: type[SQLModel]) -> Row:
    fixed, factories = _default_values(model)
    row = dict(fixed)
    for name, factory in factories:
        row[name] = factory()
    return row


@functools.cache
def _default_values(model: type[SQLModel]) -> tuple[Row, list[tuple[str, Any]]]:
    """A model's fixed defaults, and its default factories (called for each new row)."""
    fixed: Row = {}
    factories = []
    for name, field in model.model_fields.items():
        if field.default_factory is not None:
            factories.append((name, field.default_factory))
        elif not field.is_required():
            fixed[name] = field.default
    return fixed, factories
