"""Which failures mean "a backing service is briefly away" (answered 503 with Retry-After) rather
than a bug (500). Domain-free: the database layer and the error catalogue's handlers share it."""

from __future__ import annotations

import sqlite3

import asyncpg

DATABASE_RETRY_AFTER_S = 2
STORE_RETRY_AFTER_S = 10
CHANNELS_RETRY_AFTER_S = 5

# Lost or refused connections. A cancelled statement (57014, a timeout) is a slow query, not an outage.
_PG_LOST = (
    asyncpg.PostgresConnectionError,  # 08*: the connection does not exist or failed
    asyncpg.exceptions.AdminShutdownError,  # 57P01: pg_terminate_backend, a fast shutdown
    asyncpg.exceptions.CrashShutdownError,  # 57P02
    asyncpg.exceptions.CannotConnectNowError,  # 57P03: starting up or shutting down
    asyncpg.exceptions.TooManyConnectionsError,  # 53300: also CONNECTION LIMIT 0
)


def database_unreachable(exc: BaseException) -> bool:
    """The database connection was lost or cannot be made now; retrying later may succeed."""
    if isinstance(exc, (*_PG_LOST, ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, asyncpg.exceptions.ObjectNotInPrerequisiteStateError):
        return "accepting connections" in str(exc)  # ALLOW_CONNECTIONS false
    if isinstance(exc, asyncpg.InterfaceError):
        return "connection is closed" in str(exc) or "connection was closed" in str(exc)
    return isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError | PermissionError)


def database_busy(exc: BaseException) -> bool:
    """SQLite's one writer stayed busy longer than the wait allows."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    message = str(exc)
    return "database is locked" in message or "database is busy" in message
