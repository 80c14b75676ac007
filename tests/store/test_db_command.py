"""`proactief db current` and `proactief db upgrade`, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from proactief.cli import app
from proactief.migrations import FIRST_REVISION, newest_revision

NEWEST = newest_revision()
BEFORE_MIGRATIONS = Path(__file__).with_name("store_before_migrations.sql")


def _db(*args: str, url: str | None = None):
    env = {"PROACTIEF_DATABASE_URL": url} if url else {}
    return CliRunner().invoke(app, ["db", *args], env=env)


def test_a_new_database_is_created_then_found_up_to_date(database_url):
    empty = _db("current", "--database", database_url)
    assert empty.exit_code == 1
    assert "the first start (or `proactief db upgrade`) creates" in empty.output

    created = _db("upgrade", "--database", database_url)
    assert created.exit_code == 0, created.output
    assert created.output.endswith(f"created at revision {NEWEST} (the newest)\n")

    # the URL may come from the environment, as for every other command
    current = _db("current", url=database_url)
    assert (current.exit_code, current.output.split(": ", 1)[1]) == (
        0,
        f"revision {NEWEST} (the newest)\n",
    )
    again = _db("upgrade", url=database_url)
    assert again.output.endswith(f"already at the newest revision {NEWEST}\n")


def test_a_store_file_from_before_migrations_is_named_and_adopted(tmp_path):
    path = tmp_path / "proactief.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(BEFORE_MIGRATIONS.read_text(encoding="utf-8"))
    url = f"sqlite:///{path}"

    current = _db("current", "--database", url)
    assert current.exit_code == 1
    assert "tables from before migrations, no revision recorded" in current.output

    upgraded = _db("upgrade", "--database", url)
    assert upgraded.exit_code == 0, upgraded.output
    assert upgraded.output == (
        f"sqlite:///{path}: tables from before migrations recorded at revision"
        f" {FIRST_REVISION}, then upgraded to {NEWEST} (the newest)\n"
    )


def test_current_does_not_create_a_missing_store_file(tmp_path):
    path = tmp_path / "var" / "proactief.db"
    result = _db("current", "--database", f"sqlite:///{path}")
    assert result.exit_code == 1
    assert "no database file yet" in result.output
    assert not path.parent.exists()


def test_an_unreachable_server_is_one_line_without_the_password(tmp_path):
    url = f"postgresql://proactief:s3cret-word@/store?host={tmp_path / 'nowhere'}"
    for command in ("current", "upgrade"):
        result = _db(command, "--database", url)
        assert result.exit_code == 2
        assert result.output.startswith(
            "error: cannot reach the database postgresql+psycopg://proactief:***@/store"
        )
        assert "s3cret-word" not in result.output
        assert len(result.output.strip().splitlines()) == 1
