"""Which database errors no retry can fix: a value Postgres (or the driver, before
sending it) refuses, a constraint the same statement will break again. Connection
loss, deadlocks, serialization failures, timeouts, a missing table or right and a
unique key a concurrent twin took first are worth another attempt."""

from __future__ import annotations

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
    retry may succeed. Looks through the error's causes: a wrapper keeps its cause."""
    seen: BaseException | None = error
    for _ in range(5):  # a short chain; a cycle of causes must not loop forever
        if seen is None:
            return None
        if isinstance(seen, DBAPIError):
            return _permanent(seen)
        if isinstance(seen, UnicodeError):  # e.g. a lone surrogate the driver cannot encode
            return f"a value cannot be encoded: {seen}"
        seen = seen.__cause__
    return None


def _permanent(error: DBAPIError) -> str | None:
    if error.connection_invalidated:
        return None
    sqlstate = failures.sqlstate(error)
    if sqlstate:
        permanent = sqlstate[:2] in PERMANENT_CLASSES and sqlstate not in RACES
    else:  # the driver refused before sending (psycopg: NUL in a text value)
        permanent = isinstance(error, DataError | ProgrammingError | IntegrityError)
    if not permanent:
        return None
    first = str(error.orig).splitlines()[0] if error.orig is not None else type(error).__name__
    return f"{first} (SQLSTATE {sqlstate})" if sqlstate else first
