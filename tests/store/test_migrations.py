"""The store's migrations, on SQLite and PostgreSQL: the newest revision is the
models' schema, databases from before migrations are adopted, and several
processes starting on a new database at once upgrade it once."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    bindparam,
    inspect,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from proactief import migrations
from proactief.errors import StoreSchemaError
from proactief.store import (
    Decision,
    ReviewCase,
    Store,
    create_store_engine,
    dispose_engine,
)

BEFORE_MIGRATIONS = Path(__file__).with_name("store_before_migrations.sql")
NEWEST = migrations.newest_revision()


@contextmanager
def _engine(url: str) -> Iterator[Engine]:
    """An engine of its own (not the store's cached one), closed afterwards."""
    engine = create_store_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def _differences(url: str, metadata: MetaData) -> list:
    with _engine(url) as engine, engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), metadata)


def _revision(url: str) -> str | None:
    with _engine(url) as engine, engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _migrate_to(url: str, revision: str) -> None:
    with _engine(url) as engine, engine.begin() as connection:
        command.upgrade(migrations._config(connection), revision)


def _execute(url: str, *statements: str) -> None:
    with _engine(url) as engine, engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


MOMENT = bindparam("moment", type_=DateTime(timezone=True))
OLD_CASE = text(
    "INSERT INTO review_case (benefit, period, subject, subject_ref, reasons,"
    " evidence, status, run_id, created_at) VALUES (:benefit, '2027', :subject,"
    " 'P-1', 'status_unknown', '[]', 'open', 'r1', :moment)"
).bindparams(MOMENT)
OLD_DECISION = text(
    "INSERT INTO decision (benefit, period, subject, subject_ref, outcome,"
    " amount_cents, reasons, evidence, rule_version, run_id, decided_at) VALUES"
    " ('garbage-bags', '2027', '85073003328', 'P-1', 'granted', 4500, 'bvt', '[]',"
    " 'garbage-bags/r1/p1', 'r1', :moment)"
).bindparams(MOMENT)
JANUARY_MORNING = datetime(2027, 1, 4, 8, 30, tzinfo=UTC)


def _open_case(url: str, benefit: str, subject: str) -> None:
    with _engine(url) as engine, engine.begin() as connection:
        connection.execute(
            OLD_CASE,
            {"benefit": benefit, "subject": subject, "moment": JANUARY_MORNING},
        )


def _twins_and_a_grant(url: str) -> None:
    """Two open cases of one subject (the race the second revision closes), one
    of another, and a grant, as an older version could leave them."""
    _open_case(url, "uitpas", "85073003328")
    _open_case(url, "uitpas", "85073003328")
    _open_case(url, "uitpas", "90010100190")
    with _engine(url) as engine, engine.begin() as connection:
        connection.execute(OLD_DECISION, {"moment": JANUARY_MORNING})


def test_the_newest_revision_is_exactly_the_models_schema(database_url):
    Store(database_url)  # a new database is migrated on first use
    assert _revision(database_url) == NEWEST
    # a model changed without a migration shows up here: write the revision
    assert _differences(database_url, SQLModel.metadata) == []


def test_the_comparison_sees_a_model_change_that_has_no_migration(database_url):
    Store(database_url)
    changed = MetaData()
    for table in SQLModel.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["decision"].append_column(Column("appeal_count", Integer()))
    differences = _differences(database_url, changed)
    assert [(d[0], d[2], d[3].name) for d in differences] == [
        ("add_column", "decision", "appeal_count")
    ]


def test_the_second_revision_closes_twin_cases_and_keeps_every_row(database_url):
    _migrate_to(database_url, migrations.FIRST_REVISION)
    _twins_and_a_grant(database_url)

    store = Store(database_url)  # upgrades to the newest revision

    assert _revision(database_url) == NEWEST
    cases = sorted(store.review_queue(status="open")[0], key=lambda c: c.id)
    assert [(c.id, c.subject) for c in cases] == [
        (1, "85073003328"),
        (3, "90010100190"),
    ]
    twin = store.review_case(2)
    assert (twin.status, twin.resolution) == ("closed", "duplicate of case 1")
    assert twin.closed_at.tzinfo is not None
    grant = store.decisions("garbage-bags", "2027")["85073003328"]
    assert (grant.outcome, grant.amount_cents) == ("granted", 4500)
    assert grant.decided_at == JANUARY_MORNING
    # from now on the database itself refuses a second open case
    with pytest.raises(IntegrityError):
        _open_case(database_url, "uitpas", "90010100190")
    _open_case(database_url, "garbage-bags", "90010100190")  # another benefit


def test_a_store_file_from_before_migrations_is_adopted_with_its_data(tmp_path):
    """An operator's var/proactief.db, made by create_all before migrations."""
    path = tmp_path / "proactief.db"
    url = f"sqlite:///{path}"
    import sqlite3

    with sqlite3.connect(path) as connection:
        connection.executescript(BEFORE_MIGRATIONS.read_text(encoding="utf-8"))
    _twins_and_a_grant(url)
    assert _revision(url) is None

    store = Store(url)

    assert _revision(url) == NEWEST
    assert store.count(ReviewCase, status="open") == 2
    assert store.count(Decision, outcome="granted") == 1
    assert _differences(url, SQLModel.metadata) == []


def test_tables_from_before_migrations_are_recognised(database_url):
    _migrate_to(database_url, migrations.FIRST_REVISION)
    _execute(database_url, "DROP TABLE alembic_version")
    _twins_and_a_grant(database_url)
    with _engine(database_url) as engine:
        state = migrations.current_state(engine)
        assert (state.revision, state.from_before_migrations) == (None, True)
        done = migrations.upgrade(engine)

    assert (done.before, done.after, done.adopted) == (
        migrations.FIRST_REVISION,
        NEWEST,
        True,
    )
    assert Store(database_url).count(Decision) == 1


def test_old_tables_with_parts_missing_are_refused_and_left_alone(database_url):
    _migrate_to(database_url, migrations.FIRST_REVISION)
    _execute(database_url, "DROP TABLE alembic_version", "DROP TABLE held_invoice")
    with pytest.raises(StoreSchemaError, match="missing table held_invoice"):
        Store(database_url)
    with _engine(database_url) as engine:
        tables = set(inspect(engine).get_table_names())
    assert "alembic_version" not in tables and "decision" in tables


def test_a_revision_this_version_does_not_know_is_refused(database_url):
    Store(database_url)
    _execute(database_url, "UPDATE alembic_version SET version_num = '9999'")
    dispose_engine(database_url)  # as if the process started anew
    with pytest.raises(StoreSchemaError, match="revision '9999'.* does not know"):
        Store(database_url)


STARTER = """
import sys, time
from pathlib import Path
from proactief.store import Store
url, folder = sys.argv[1], Path(sys.argv[2])
(folder / f"ready-{sys.argv[3]}").touch()
while not (folder / "go").exists():
    time.sleep(0.01)
Store(url)
"""


def test_processes_starting_at_once_on_a_new_database_upgrade_it_once(
    database_url, tmp_path
):
    starters = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, database_url, str(tmp_path), str(n)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    # all four have imported the store and wait for the word
    while len(list(tmp_path.glob("ready-*"))) < 4:
        assert all(p.poll() is None for p in starters), "a starter died early"
        time.sleep(0.05)
    (tmp_path / "go").touch()
    errors = [p.communicate(timeout=120)[1] for p in starters]
    assert [p.returncode for p in starters] == [0, 0, 0, 0], errors
    with _engine(database_url) as engine, engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version"))
        assert versions.scalars().all() == [NEWEST]
