"""Which database errors no retry can fix: a value Postgres (or the driver, before
sending it) refuses, a constraint the same statement will break again. Connection
loss, deadlocks, serialization failures, timeouts, a missing table or right and a
unique key a concurrent twin took first are worth another attempt."""

from __future__ import annotations

import psycopg
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError

from db import failures

# SQLSTATE classes: 22 data exception (invalid byte sequence, out of range, bad
# text for a type), 23 integrity constraint violation. Not 42 (undefined table or
# column, insufficient privilege): a worker ahead of its migration or a database role
# being fixed recovers with a deploy, so those retry (and alert at the Nth attempt)
# rather than reject every order in flight.
PERMANENT_CLASSES = ("22", "23")
# A unique key a concurrent writer took first: the retry finds its row.
RACES = frozenset({"23505"})


def refused_value(error: BaseException) -> str | None:
    """Why the database refused for good (the driver's first line), or None when a
    retry may succeed. Looks through the error's causes: a wrapper keeps its cause.
    SQLAlchemy's errors and psycopg's own (statements sent straight through psycopg:
    db/call_pool.py) are told apart alike."""
    seen: BaseException | None = error
    for _ in range(5):  # a short chain; a cycle of causes must not loop forever
        if seen is None:
            return None
        if isinstance(seen, DBAPIError):
            return _permanent(seen)
        if isinstance(seen, psycopg.Error):
            return _driver_permanent(seen)
        if isinstance(seen, UnicodeError):  # e.g. a lone surrogate the driver cannot encode
            return f"a value cannot be encoded: {seen}"
        seen = seen.__cause__
    return None


def _permanent(error: DBAPIError) -> str | None:
    if error.connection_invalidated:
        return None
    refused = isinstance(error, DataError | ProgrammingError | IntegrityError)
    return _refusal(failures.sqlstate(error), refused, error.orig, type(error).__name__)


def _driver_permanent(error: psycopg.Error) -> str | None:
    if failures.driver_unreachable(error):
        return None
    refused = isinstance(
        error, psycopg.DataError | psycopg.ProgrammingError | psycopg.IntegrityError
    )
    return _refusal(error.sqlstate or "", refused, error, type(error).__name__)


def _refusal(
    sqlstate: str, refused_class: bool, driver_error: BaseException | None, name: str
) -> str | None:
    """`refused_class`: the driver's error class says the value or statement is
    wrong; what counts when the driver refused before sending (psycopg: NUL in a
    text value) and no SQLSTATE says more."""
    if sqlstate:
        permanent = sqlstate[:2] in PERMANENT_CLASSES and sqlstate not in RACES
    else:
        permanent = refused_class
    if not permanent:
        return None
    first = str(driver_error).splitlines()[0] if driver_error is not None else name
    return f"{first} (SQLSTATE {sqlstate})" if sqlstate else first
