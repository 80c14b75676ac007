"""The store's schema migrations: alembic revisions the store applies by itself.

`proactief.store.make_engine` calls `upgrade` before a process first uses a
database, so a new version of Proactief brings its database along when it starts;
`proactief db upgrade` does the same by hand and `proactief db current` says where
a database stands. The revisions are in `versions/`; `env.py` runs them on the
connection handed to it. No alembic.ini is needed.

Several processes may start at once (the web app, a scheduled flow, the workers of
a run): the upgrade runs in one transaction under a lock (a PostgreSQL advisory
lock, SQLite's write lock taken with BEGIN IMMEDIATE), so whoever comes second finds
the work done and changes nothing.

A database made before migrations existed (by `create_all`: the tables are there,
`alembic_version` is not) is recorded at the first revision, which creates exactly
those tables, and upgraded from there.

A schema change is a new module in `versions/` (the next number as `revision`, the
one before as `down_revision`). tests/store/test_migrations.py fails, showing the
difference, as long as the models and the newest revision disagree.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine

from proactief.errors import StoreSchemaError

log = logging.getLogger(__name__)

FIRST_REVISION = "0001"
# The advisory lock every Proactief process takes around an upgrade: "PROACTIF"
# in ASCII, the same number in every process and every version.
_POSTGRES_LOCK_KEY = int.from_bytes(b"PROACTIF", "big")
# Alembic keeps the migration being run in module-level state: one at a time in a
# process (threads of a flow may open their store at the same moment).
_one_at_a_time = threading.RLock()


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands.

    `revision` is the revision recorded in it (None: none recorded); `newest` is
    this version's newest revision; `from_before_migrations` says that it holds
    the store's tables without a recorded revision; `known` is False for a
    revision this version does not have (a newer version migrated the database).
    """

    revision: str | None
    newest: str
    from_before_migrations: bool
    known: bool

    @property
    def up_to_date(self) -> bool:
        return self.revision == self.newest


@dataclass(frozen=True)
class Upgrade:
    """What `upgrade` did: from which revision to which, and whether it first
    recorded tables from before migrations at the first revision."""

    before: str | None
    after: str
    adopted: bool

    @property
    def changed(self) -> bool:
        return self.adopted or self.before != self.after


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def newest_revision() -> str:
    """The newest revision of this version of Proactief."""
    return _scripts().get_current_head()


def _revisions() -> set[str]:
    return {script.revision for script in _scripts().walk_revisions()}


def _store_tables(connection: Connection) -> set[str]:
    present = set(inspect(connection).get_table_names())
    if not present:  # a new database: no need to know the first revision's
        return present
    return present & set(_first_revision_columns())


def _state(connection: Connection) -> SchemaState:
    revision = MigrationContext.configure(connection).get_current_revision()
    return SchemaState(
        revision=revision,
        newest=newest_revision(),
        from_before_migrations=revision is None and bool(_store_tables(connection)),
        known=revision is None or revision in _revisions(),
    )


def current_state(engine: Engine) -> SchemaState:
    """Where the database of `engine` stands; changes nothing."""
    with _one_at_a_time, engine.connect() as connection:
        return _state(connection)


def upgrade(engine: Engine) -> Upgrade:
    """Bring the database of `engine` to the newest revision.

    Does nothing (and takes no lock) when it is there already. Raises
    StoreSchemaError, changing nothing, for a database this version cannot
    upgrade: a revision it does not know, or tables from before migrations that
    lack some of the first revision's tables or columns.
    """
    with _one_at_a_time:
        state = current_state(engine)
        if state.up_to_date:
            return Upgrade(state.revision, state.newest, adopted=False)
        with engine.begin() as connection:
            _lock(connection)
            # again, under the lock: another process may have done it meanwhile
            state = _state(connection)
            if not state.known:
                raise StoreSchemaError(
                    f"the database is at revision {state.revision!r}, which this"
                    " version of Proactief does not know (a newer version upgraded"
                    " it): run that version, or restore a backup"
                )
            if state.from_before_migrations:
                _check_tables_from_before_migrations(connection)
                command.stamp(_config(connection), FIRST_REVISION)
            if not state.up_to_date:
                command.upgrade(_config(connection), "head")
    done = Upgrade(
        before=FIRST_REVISION if state.from_before_migrations else state.revision,
        after=state.newest,
        adopted=state.from_before_migrations,
    )
    if done.changed:
        log.info(
            "store schema upgraded from %s to revision %s%s",
            f"revision {done.before}" if done.before else "an empty database",
            done.after,
            " (tables from before migrations recorded first)" if done.adopted else "",
        )
    return done


def _lock(connection: Connection) -> None:
    """Let one process at a time upgrade, until the transaction ends."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_LOCK_KEY}
        )
    elif dialect == "sqlite":
        # the write lock at once, before the version is read: a second process
        # waits here (busy_timeout) instead of failing halfway
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@cache
def _first_revision_columns() -> dict[str, frozenset[str]]:
    """The tables and columns the first revision creates, read from a scratch
    in-memory database migrated to it."""
    scratch = create_engine("sqlite://")
    try:
        with _one_at_a_time, scratch.begin() as connection:
            command.upgrade(_config(connection), FIRST_REVISION)
            inspector = inspect(connection)
            return {
                table: frozenset(c["name"] for c in inspector.get_columns(table))
                for table in inspector.get_table_names()
                if table != "alembic_version"
            }
    finally:
        scratch.dispose()


def _check_tables_from_before_migrations(connection: Connection) -> None:
    inspector = inspect(connection)
    present = set(inspector.get_table_names())
    missing = []
    for table, columns in sorted(_first_revision_columns().items()):
        if table not in present:
            missing.append(f"table {table}")
            continue
        have = {c["name"] for c in inspector.get_columns(table)}
        missing += [f"column {table}.{name}" for name in sorted(columns - have)]
    if missing:
        raise StoreSchemaError(
            "the database holds tables of Proactief from before migrations, but not"
            f" all of the first revision's: missing {', '.join(missing)}. Nothing was"
            " changed; add them as proactief/migrations/versions/0001_store_schema.py"
            " defines them, or start from an empty database"
        )
