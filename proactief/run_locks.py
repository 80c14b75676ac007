"""One run at a time per benefit: locks that die with the process holding them.

Two runs of the same benefit at once (a scheduled run and a rerun started by hand
from the UI, say) would both find the same letters unsent and print them twice.
A run therefore holds its benefit's lock from its start to its end, and a second
run is refused with `RunInProgress` until the first one ends.

The lock belongs to the operating system or to the database server, not to a row
in the store, so a run that is killed or whose machine goes down lets go of it at
once: a rerun can start straight away, without waiting for a time-out.

- On PostgreSQL it is a session-level advisory lock, on a connection of its own in
  autocommit, so that no transaction stays open while the run goes on. Every
  machine that shares the database shares its locks.
- On a SQLite file it is an exclusive `flock` on a small file in the folder
  `<database>.run-locks/`, one per benefit. It holds for the processes of one
  machine, which are the only ones that can share a SQLite file.
- An in-memory SQLite database belongs to one process: there is nothing to lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import weakref
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from proactief.errors import RunInProgress

__all__ = ["RunLock", "take_run_lock"]


class RunLock:
    """A benefit's run lock, held until `release` (or until the process ends)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def release(self) -> None:
        """Let go of the lock; a second call does nothing."""


class _FileLock(RunLock):
    def __init__(self, name: str, path: Path) -> None:
        super().__init__(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _held(name) from None
        # closing the only descriptor lets go of the flock; a lock forgotten
        # without `release` is let go of when it is collected
        self._close = weakref.finalize(self, os.close, fd)

    def release(self) -> None:
        self._close()  # runs once


class _AdvisoryLock(RunLock):
    def __init__(self, name: str, engine: Engine) -> None:
        super().__init__(name)
        self._key = _advisory_key(name)
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            ).scalar()
        except BaseException:
            connection.close()
            raise
        if not taken:
            connection.close()
            raise _held(name)
        self._connection: Connection | None = connection
        # a lock forgotten without `release`: its session is closed when it is
        # collected, and the server lets go of the session's locks
        self._drop = weakref.finalize(self, connection.invalidate)

    def release(self) -> None:
        if self._connection is None:
            return
        connection, self._connection = self._connection, None
        self._drop.detach()
        try:
            connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": self._key}
            )
        except SQLAlchemyError:
            # not handed out again by the pool while it may still hold the lock
            connection.invalidate()
        finally:
            connection.close()


def take_run_lock(engine: Engine, name: str) -> RunLock:
    """Take the run lock `name` (a benefit) in `engine`'s database, or raise
    `RunInProgress` at once when another run holds it."""
    if engine.dialect.name == "postgresql":
        return _AdvisoryLock(name, engine)
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return RunLock(name)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return _FileLock(name, Path(f"{database}.run-locks") / f"{safe}.lock")


def _advisory_key(name: str) -> int:
    """A stable signed 64-bit key for `name`, as PostgreSQL's advisory locks take."""
    digest = hashlib.sha256(f"proactief run {name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _held(name: str) -> RunInProgress:
    return RunInProgress(
        f"another run of {name} is still going: two at once could send the same"
        " letters or invoices twice. Wait until it ends (see the runs in the"
        " Prefect UI), or stop it, then start this one again."
    )
