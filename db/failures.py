"""What a database error says about the database: unreachable, too slow, or neither
(then it is about the statement). The API maps the first two to 503/504."""

from __future__ import annotations

import psycopg
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

# The server ended the session: admin shutdown, crash shutdown.
_ENDED_SQLSTATES = {"57P01", "57P02"}
# Besides those and connection exceptions (08…): starting up, too many connections.
_UNREACHABLE_SQLSTATES = _ENDED_SQLSTATES | {"57P03", "53300"}
_TIMEOUT_SQLSTATES = {"57014", "55P03"}  # query_canceled, lock_not_available


def sqlstate(error: DBAPIError) -> str:
    return str(getattr(error.orig, "sqlstate", None) or "")


def server_ended_session(driver_error: BaseException) -> bool:
    """A driver error saying the server terminated the session."""
    return str(getattr(driver_error, "sqlstate", None) or "") in _ENDED_SQLSTATES


def connection_lost(error: DBAPIError) -> bool:
    """The connection died under the statement (it may have run or not); see
    db/engine.py for the errors that count."""
    return bool(error.connection_invalidated)


def unreachable(error: DBAPIError) -> bool:
    """Postgres cannot serve now: refused, dropped, shutting down, full."""
    state = sqlstate(error)
    if connection_lost(error) or _unreachable_state(state):
        return True
    return isinstance(error, (OperationalError, InterfaceError)) and not state


def _unreachable_state(state: str) -> bool:
    return state.startswith("08") or state in _UNREACHABLE_SQLSTATES


def driver_unreachable(driver_error: BaseException) -> bool:
    """The same as `unreachable`, for an error of the driver itself (db/call_pool.py)."""
    state = str(getattr(driver_error, "sqlstate", None) or "")
    if state.startswith("08") or state in _UNREACHABLE_SQLSTATES:
        return True
    return (
        isinstance(driver_error, (psycopg.OperationalError, psycopg.InterfaceError)) and not state
    )


def timed_out(error: DBAPIError) -> bool:
    """The server canceled the statement for running (or waiting for a lock) longer
    than its timeout."""
    return sqlstate(error) in _TIMEOUT_SQLSTATES
