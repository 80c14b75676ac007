"""The `proactief db upgrade` and `proactief db current` commands.

The store upgrades its database by itself when a process first opens it; these
commands let an operator do it at a moment of their choosing (before starting the
web app and the scheduler after an update) and see where a database stands.
"""

from __future__ import annotations

from typing import Annotated

import typer

db_app = typer.Typer(
    help="The store's database: its schema revision and upgrades.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

Database = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="Store URL, sqlite:///path or postgresql://user@host/name"
        " (default: PROACTIEF_DATABASE_URL or var/proactief.db).",
    ),
]

# exit codes of `db current`, for scripts
UP_TO_DATE, UPGRADE_DUE, FAILED = 0, 1, 2


def _url(database: str | None) -> str:
    from proactief.config import Settings

    return database or Settings.from_env().database_url


def _shown(url: str) -> str:
    """The URL without its password, to print."""
    from sqlalchemy.engine import make_url

    from proactief.store import database_url

    return make_url(database_url(url)).render_as_string(hide_password=True)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(FAILED)


def _unreachable(url: str, exc: Exception) -> None:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    _fail(f"cannot reach the database {_shown(url)}: {reason}")


@db_app.command("upgrade")
def upgrade_database(database: Database = None) -> None:
    """Bring the database to the newest schema revision (or create it)."""
    from sqlalchemy.exc import OperationalError

    from proactief import migrations
    from proactief.errors import StoreSchemaError
    from proactief.store import create_store_engine

    url = _url(database)
    engine = create_store_engine(url)
    try:
        done = migrations.upgrade(engine)
    except StoreSchemaError as exc:
        _fail(f"{_shown(url)}: {exc}")
    except OperationalError as exc:
        _unreachable(url, exc)
    finally:
        engine.dispose()
    where = _shown(url)
    if not done.changed:
        typer.echo(f"{where}: already at the newest revision {done.after}")
    elif done.adopted:
        typer.echo(
            f"{where}: tables from before migrations recorded at revision"
            f" {migrations.FIRST_REVISION}, then upgraded to {done.after}"
            " (the newest)"
        )
    elif done.before is None:
        typer.echo(f"{where}: created at revision {done.after} (the newest)")
    else:
        typer.echo(
            f"{where}: upgraded from revision {done.before} to {done.after}"
            " (the newest)"
        )


@db_app.command("current")
def current_revision(database: Database = None) -> None:
    """Say which schema revision the database is at; change nothing.

    Exit code 0 when it is the newest, 1 when an upgrade is due, 2 on an error.
    """
    from pathlib import Path

    from sqlalchemy.exc import OperationalError

    from proactief import migrations
    from proactief.store import create_store_engine, database_url

    url = _url(database)
    where = _shown(url)
    newest = migrations.newest_revision()
    if database_url(url).startswith("sqlite:///"):
        path = Path(database_url(url).removeprefix("sqlite:///"))
        if not path.exists():
            typer.echo(
                f"{where}: no database file yet; the first start (or"
                f" `proactief db upgrade`) creates it at revision {newest}"
            )
            raise typer.Exit(UPGRADE_DUE)
    engine = create_store_engine(url)
    try:
        state = migrations.current_state(engine)
    except OperationalError as exc:
        _unreachable(url, exc)
    finally:
        engine.dispose()
    if not state.known:
        _fail(
            f"{where}: revision {state.revision!r} is not one this version of"
            f" Proactief knows (its newest is {newest}): a newer version upgraded it"
        )
    if state.up_to_date:
        typer.echo(f"{where}: revision {state.revision} (the newest)")
        return
    if state.from_before_migrations:
        typer.echo(
            f"{where}: tables from before migrations, no revision recorded;"
            f" `proactief db upgrade` records them at revision"
            f" {migrations.FIRST_REVISION} and upgrades them to {newest}"
        )
    elif state.revision is None:
        typer.echo(
            f"{where}: empty; the first start (or `proactief db upgrade`) creates"
            f" the tables at revision {newest}"
        )
    else:
        typer.echo(
            f"{where}: revision {state.revision}; the newest is {newest}: run"
            " `proactief db upgrade` (or start Proactief, which upgrades it)"
        )
    raise typer.Exit(UPGRADE_DUE)
