"""Fixtures every test folder shares: the store's database, on SQLite and PostgreSQL.

A test (or a module's fixture) that asks for `database_url` (or `new_database`)
runs once on SQLite and once on PostgreSQL, each time on a fresh, empty database.
A folder or module that defines its own `database_backend` fixture returning
"sqlite" runs on SQLite only (the web tests, the long fault test).

PostgreSQL is a throw-away server this session starts in a temporary folder, as the
`postgres` system user when the tests run as root (initdb refuses root), listening
on a unix socket in that folder only, and stops at the end. Without its binaries
the PostgreSQL variants fail, saying so; PROACTIEF_TEST_POSTGRES=off skips them.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

BACKENDS = ("sqlite", "postgresql")
SWITCH = "PROACTIEF_TEST_POSTGRES"
# A Belgian server's clock: the store must not depend on the server's time zone.
SERVER_SETTINGS = {
    "listen_addresses": "''",
    "port": "5432",
    "max_connections": "200",
    "shared_buffers": "64MB",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "timezone": "'Europe/Brussels'",
}


class PostgresUnavailable(RuntimeError):
    """The throw-away PostgreSQL server could not be set up."""


def _postgres_bindir() -> Path:
    """The folder of initdb and pg_ctl: on the PATH, or Debian's newest."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl", path=str(Path(found).parent)):
        return Path(found).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: (
            int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0
        ),
    )
    if not versions:
        raise PostgresUnavailable(
            "PostgreSQL's server programs (initdb, pg_ctl) were not found on the PATH"
            " or in /usr/lib/postgresql/*/bin: install Debian's postgresql package"
            " (scripts/install-system-packages does), or set"
            f" {SWITCH}=off to skip the PostgreSQL variants of the tests"
        )
    return versions[-1].parent


class PostgresServer:
    """A PostgreSQL server of the test session, in a folder of its own."""

    def __init__(self) -> None:
        self.bindir = _postgres_bindir()
        self.as_user: list[str] = []
        owner = None
        if os.geteuid() == 0:
            import pwd

            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable(
                    "the tests run as root and initdb refuses root, but there is no"
                    " `postgres` system user to run the server as (Debian's"
                    f" postgresql package makes one); or set {SWITCH}=off"
                ) from None
            self.as_user = ["runuser", "-u", "postgres", "--"]
        # not in pytest's folder: the server's user must reach it, and a unix
        # socket's path may not be longer than about 100 characters
        self.folder = Path(tempfile.mkdtemp(prefix="proactief-pg-"))
        if len(str(self.folder)) > 80:
            self.folder.rmdir()
            self.folder = Path(tempfile.mkdtemp(prefix="proactief-pg-", dir="/tmp"))
        if owner is not None:
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self._names = itertools.count(1)
        self._admin = None
        self._running = False

    def _run(self, *command: str) -> None:
        done = subprocess.run(
            [*self.as_user, str(self.bindir / command[0]), *command[1:]],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            log = (
                self.log.read_text(errors="replace")[-2000:]
                if self.log.exists()
                else ""
            )
            raise PostgresUnavailable(
                f"{command[0]} failed (exit code {done.returncode}):"
                f" {done.stderr.strip()[-2000:]}\n{log}"
            )

    def start(self) -> None:
        self._run(
            "initdb",
            "--pgdata",
            str(self.data),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        settings = dict(SERVER_SETTINGS, unix_socket_directories=f"'{self.folder}'")
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
        self._run(
            "pg_ctl", "--pgdata", str(self.data), "--log", str(self.log), "-w", "start"
        )
        self._running = True
        import psycopg

        self._admin = psycopg.connect(
            host=str(self.folder), user="postgres", dbname="postgres", autocommit=True
        )

    def create_database(self) -> str:
        """A new, empty database; its URL (the plain postgresql:// form)."""
        name = f"proactief_test_{next(self._names)}"
        # FILE_COPY: with fsync off, four times faster than the default WAL_LOG
        self._admin.execute(f"CREATE DATABASE {name} STRATEGY FILE_COPY")
        return f"postgresql://postgres@/{name}?host={self.folder}"

    def drop_database(self, url: str) -> None:
        from proactief.store import dispose_engine

        dispose_engine(url)
        name = url.split("/")[3].split("?")[0]
        self._admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self._running:
            self._running = False
            try:
                self._run(
                    "pg_ctl", "--pgdata", str(self.data), "-m", "immediate", "stop"
                )
            finally:
                shutil.rmtree(self.folder, ignore_errors=True)
        else:
            shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server, started on first use, stopped at the end
    (also when tests fail, and at exit should the session be cut short)."""
    server, problem = None, None
    try:
        server = PostgresServer()
        atexit.register(server.stop)
        server.start()
    except PostgresUnavailable as exc:
        problem = f"the test PostgreSQL server did not start: {exc}"
    if problem is not None:
        if server is not None:
            server.stop()
        pytest.fail(problem, pytrace=False)
    try:
        yield server
    finally:
        server.stop()
        atexit.unregister(server.stop)


@pytest.fixture(scope="module", params=BACKENDS)
def database_backend(request) -> str:
    """The database the tests of a module run on, one module pass per backend."""
    if request.param == "postgresql" and os.environ.get(SWITCH, "").lower() == "off":
        pytest.skip(f"{SWITCH}=off: the PostgreSQL variants are not run")
    return request.param


@pytest.fixture(scope="module")
def new_database(
    database_backend, request, tmp_path_factory
) -> Iterator[Callable[[], str]]:
    """Makes a fresh, empty store database of the module's backend and returns its
    URL; for fixtures that outlive one test (a flow run a module's tests share).
    What it made is dropped when the module is done."""
    if database_backend == "sqlite":
        yield lambda: f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    made: list[str] = []

    def make() -> str:
        made.append(server.create_database())
        return made[-1]

    yield make
    for url in made:
        server.drop_database(url)


@pytest.fixture
def database_url(database_backend, request, tmp_path) -> Iterator[str]:
    """A fresh, empty store database for one test: `sqlite:///<tmp_path>/store.db`
    or a new database on the session's PostgreSQL server (dropped afterwards)."""
    if database_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        from proactief.store import dispose_engine

        dispose_engine(f"sqlite:///{tmp_path / 'store.db'}")
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create_database()
    try:
        yield url
    finally:
        server.drop_database(url)
