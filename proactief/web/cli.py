"""The `proactief web` and `proactief accounts ...` commands."""

from __future__ import annotations

import signal
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from proactief.config import Settings
from proactief.errors import AccountError

accounts_app = typer.Typer(
    help="Accounts of the web app: desk, reviewer, supervisor, admin.",
    no_args_is_help=True,
)

Database = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="Store URL (default: PROACTIEF_DATABASE_URL or var/proactief.db).",
    ),
]


def _accounts(database: str | None):
    from proactief.store import Store
    from proactief.web.accounts import Accounts

    return Accounts(Store(database or Settings.from_env().database_url))


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@accounts_app.command("add")
def add_account(
    username: Annotated[str, typer.Argument(help="Sign-in name, e.g. an.peeters.")],
    role: Annotated[
        str, typer.Option("--role", help="desk, reviewer, supervisor or admin.")
    ],
    name: Annotated[
        str, typer.Option("--name", help="Name shown in the pages and the log.")
    ] = "",
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from standard input."),
    ] = False,
    database: Database = None,
) -> None:
    """Create an account (the password is asked for, or read from stdin)."""
    accounts = _accounts(database)
    try:
        accounts.create(username, role, _read_password(password_stdin), name)
    except AccountError as exc:
        _fail(str(exc))
    typer.echo(f"account {username.strip().lower()} created with role {role}")


@accounts_app.command("list")
def list_accounts(database: Database = None) -> None:
    """List the accounts, their roles and whether they are locked."""
    from datetime import UTC, datetime

    for account in _accounts(database).all():
        locked = account.locked_until
        if locked is not None and locked.tzinfo is None:
            locked = locked.replace(tzinfo=UTC)
        state = "active" if account.active else "disabled"
        if locked is not None and locked > datetime.now(UTC):
            state += f", locked until {locked.isoformat(timespec='minutes')}"
        typer.echo(
            f"{account.username}\t{account.role}\t{state}\t{account.display_name}"
        )


def _change(username: str, database: str | None, change, done: str) -> None:
    try:
        change(_accounts(database), username)
    except AccountError as exc:
        _fail(str(exc))
    typer.echo(f"account {username} {done}")


@accounts_app.command("unlock")
def unlock_account(username: str, database: Database = None) -> None:
    """Lift the lock that wrong passwords put on an account."""
    _change(username, database, lambda a, u: a.unlock(u), "unlocked")


@accounts_app.command("disable")
def disable_account(username: str, database: Database = None) -> None:
    """Disable an account and end its sessions."""
    _change(username, database, lambda a, u: a.set_active(u, False), "disabled")


@accounts_app.command("enable")
def enable_account(username: str, database: Database = None) -> None:
    """Enable a disabled account again."""
    _change(username, database, lambda a, u: a.set_active(u, True), "enabled")


@accounts_app.command("password")
def set_password(
    username: str,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from standard input."),
    ] = False,
    database: Database = None,
) -> None:
    """Set a new password (and end the account's sessions)."""
    try:
        _accounts(database).set_password(username, _read_password(password_stdin))
    except AccountError as exc:
        _fail(str(exc))
    typer.echo(f"password of {username} changed")


api_clients_app = typer.Typer(
    help="API keys of the systems that call the API (the LEZ permit system).",
    no_args_is_help=True,
)


def _keys(database: str | None):
    from proactief.store import Store
    from proactief.web.apikeys import ApiKeys

    return ApiKeys(Store(database or Settings.from_env().database_url))


@api_clients_app.command("add")
def add_api_client(
    name: Annotated[str, typer.Argument(help="Client system, e.g. lez-permits.")],
    database: Database = None,
) -> None:
    """Make an API key for a client system; the key is shown this once."""
    try:
        key = _keys(database).create(name)
    except AccountError as exc:
        _fail(str(exc))
    typer.echo(
        f"API key of {name.strip().lower()} (keep it safe, it is not shown again):"
    )
    typer.echo(key)


@api_clients_app.command("list")
def list_api_clients(database: Database = None) -> None:
    """List the API keys: client, key prefix, made, revoked."""
    for client in _keys(database).all():
        revoked = (
            f"revoked {client.revoked_at.isoformat(timespec='minutes')}"
            if client.revoked_at
            else "live"
        )
        made = client.created_at.isoformat(timespec="minutes")
        typer.echo(f"{client.name}\t{client.prefix}...\tmade {made}\t{revoked}")


@api_clients_app.command("revoke")
def revoke_api_client(
    name_or_prefix: Annotated[
        str, typer.Argument(help="A client's name (all its keys) or a key prefix.")
    ],
    database: Database = None,
) -> None:
    """Revoke API keys: refused from the next call on."""
    count = _keys(database).revoke(name_or_prefix)
    if not count:
        _fail(f"no live key of {name_or_prefix!r}")
    typer.echo(f"{count} key(s) revoked")


def _exit_on_term(_signum, _frame) -> None:
    raise SystemExit(0)


def web(
    city: Annotated[
        Path,
        typer.Option(
            "--city", help="City folder (its social_service.csv feeds the desk)."
        ),
    ] = Path("var/demo-city"),
    registry: Annotated[
        str | None,
        typer.Option("--registry", help="Registry gateway URL (or --with-simulator)."),
    ] = None,
    with_simulator: Annotated[
        bool,
        typer.Option(
            "--with-simulator",
            help="Start the built-in registry simulator on the city as well.",
        ),
    ] = False,
    latency_ms: Annotated[
        float,
        typer.Option("--latency-ms", help="Simulator latency (with --with-simulator)."),
    ] = 100.0,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    database: Database = None,
) -> None:
    """Serve the desk and reviewer web app."""
    import logging

    import uvicorn

    from proactief.web.app import create_app
    from proactief.web.settings import WebSettings

    if (
        not (city / "population.jsonl").is_file()
        and not (city / "residents.csv").is_file()
    ):
        _fail(
            f"{city} is not a city folder (no population.jsonl or residents.csv);"
            " make one with `proactief city generate` or pass --city"
        )
    if (registry is None) == (not with_simulator):
        _fail("give either --registry URL or --with-simulator")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per look-up
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    # On SIGTERM uvicorn stops and raises the signal again once done: let that
    # end this process the Python way, so that the simulator is stopped too.
    signal.signal(signal.SIGTERM, _exit_on_term)
    with ExitStack() as stack:
        if with_simulator:
            from proactief.magda.simulator import running_simulator

            registry = stack.enter_context(
                running_simulator(city, latency_ms=latency_ms)
            )
            typer.echo(f"registry simulator on {registry} ({latency_ms:g} ms latency)")
        settings = WebSettings.from_env(registry, city)
        app = create_app(settings, database)
        typer.echo(f"Proactief web app on http://{host}:{port}/ (Ctrl-C stops it)")
        # access_log off: request lines carry query strings, and the pages are
        # audited in the store instead.
        uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")
