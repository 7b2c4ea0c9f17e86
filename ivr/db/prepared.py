"""Core statements compiled once per dialect and run straight on the pooled DBAPI connection.

Every webhook reads and stores its call with two small statements (a SELECT, then an UPDATE or,
for a new call, an INSERT). Through a SQLAlchemy Connection each cost five times the SQL itself
(execution context, parameter processing, result objects; bench/webhooks.py), so the call store
compiles its statements once with the engine's own dialect, keeps SQLAlchemy's type processing
(JSON, aware datetimes) and runs them on the cursor.
Anything else in Hausruf talks to the database through SQLAlchemy as usual.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

from ivr.db.engine import begin_sqlite


class Prepared:
    """One statement for one dialect and one set of parameter names."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, keys: Iterable[str] | None = None):
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) if keys is not None else None)
        self.sql = compiled.string
        self.dialect = dialect
        self._order = list(compiled.positiontup) if compiled.positional else None
        embedded = compiled.params  # every bind by name; required ones without a value yet
        names = self._order if self._order is not None else list(embedded)
        # Values SQLAlchemy put in the statement itself (the 1 of "version + 1").
        self._literals = {name: value for name, value in embedded.items()
                          if name in names and not compiled.binds[name].required}
        processors = {name: _bind_processor(bind.type, dialect) for name, bind in compiled.binds.items()}
        self._processed = [(name, processors[name]) for name in names if processors.get(name)]
        self._names = names
        columns = compiled.returning or getattr(statement, "selected_columns", ())
        self._results = [_result_processor(column.type, dialect) for column in columns]

    def parameters(self, values: Mapping[str, Any]) -> Any:
        """The DBAPI parameters for values: SQLAlchemy's literals added, types processed, in dialect order."""
        merged = {**self._literals, **values}
        for name, process in self._processed:
            merged[name] = process(merged[name])
        if self._order is not None:
            return tuple(merged[name] for name in self._order)
        return {name: merged[name] for name in self._names}

    def run(self, dbapi_connection, values: Mapping[str, Any]):
        """Execute; returns the cursor (rowcount, fetchone). Driver errors become SQLAlchemy's."""
        parameters = self.parameters(values)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(self.sql, parameters)
        except self.dialect.loaded_dbapi.Error as error:
            cursor.close()
            raise DBAPIError.instance(self.sql, parameters, error, self.dialect.loaded_dbapi.Error,
                                      hide_parameters=True, dialect=self.dialect) from error
        return cursor

    def first(self, dbapi_connection, values: Mapping[str, Any]) -> tuple | None:
        """The first row, with SQLAlchemy's result types applied (None when there is none)."""
        cursor = self.run(dbapi_connection, values)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            return None
        return tuple(process(value) if process else value for process, value in zip(self._results, row))


class PreparedSet:
    """The prepared forms of a statement for one dialect, one per set of parameter names used."""

    def __init__(self, statement: ClauseElement, dialect: Dialect):
        self.statement = statement
        self.dialect = dialect
        self._by_keys: dict[frozenset, Prepared] = {}

    def __call__(self, keys: Iterable[str]) -> Prepared:
        key = frozenset(keys)
        prepared = self._by_keys.get(key)
        if prepared is None:
            prepared = self._by_keys[key] = Prepared(self.statement, self.dialect, sorted(key))
        return prepared


def begin_writing(dbapi_connection, dialect: Dialect) -> None:
    """Begin a write transaction on a raw connection the way ivr.db.engine begins them for SQLAlchemy."""
    if dialect.name == "sqlite":  # pysqlite runs with isolation_level=None: we say where it begins
        begin_sqlite(dbapi_connection, read_only=False)
    # PostgreSQL drivers begin implicitly with the first statement (outside autocommit mode).


def _bind_processor(type_, dialect: Dialect):
    return type_.dialect_impl(dialect).bind_processor(dialect)


def _result_processor(type_, dialect: Dialect):
    return type_.dialect_impl(dialect).result_processor(dialect, None)
