"""The web app under test: served by uvicorn on a free 127.0.0.1 port, in a thread.

Each `serving(...)` block runs one app over real HTTP against the real registry
simulator, on a store of its own, and stops it afterwards. `City` picks citizens
of each kind from the generated city's own files, as of a day, so that the tests
stay right whatever day they run on.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import uvicorn

from proactief.store import Store
from proactief.web.accounts import Accounts
from proactief.web.app import create_app
from proactief.web.settings import WebSettings

PASSWORD = "een lang genoeg wachtwoord"
USERS = {
    "balie": "desk",
    "beoordelaar": "reviewer",
    "supervisor": "supervisor",
    "beheer": "admin",
}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningApp:
    url: str
    store: Store
    database: str
    settings: WebSettings

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)

    @contextmanager
    def signed_in(
        self, username: str, password: str = PASSWORD
    ) -> Iterator[httpx.Client]:
        """A client with a session of `username`."""
        with self.client() as client:
            response = login(client, username, password)
            assert response.status_code == 303, response.text[:300]
            yield client


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page holds no form with a CSRF token"
    return match.group(1)


def login(client: httpx.Client, username: str, password: str) -> httpx.Response:
    form = client.get("/aanmelden")
    return client.post(
        "/aanmelden",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_of(form.text),
            "volgende": "/",
        },
    )


@contextmanager
def serving(
    city: Path, registry: str, database: str, **settings
) -> Iterator[RunningApp]:
    web_settings = WebSettings.from_env(registry, city, **settings)
    app = create_app(web_settings, database)
    accounts = Accounts(Store(database))
    for username, role in USERS.items():
        if accounts.get(username) is None:
            accounts.create(username, role, PASSWORD, username.title())
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", access_log=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the web app did not start")
        time.sleep(0.02)
    try:
        yield RunningApp(
            f"http://127.0.0.1:{port}", Store(database), database, web_settings
        )
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _active(status: dict, day: date) -> bool:
    start = date.fromisoformat(status["from"])
    end = date.fromisoformat(status["to"]) if status["to"] else None
    registered = date.fromisoformat(status["registered_on"])
    return start <= day and registered <= day and (end is None or end >= day)


class City:
    """The generated city's people, to pick a citizen of each kind for a day."""

    QUALIFYING = frozenset({"BIM_BVT", "LIVING_WAGES_PCSA_HELP"})
    POSTCODES = frozenset(
        {
            "9000",
            "9030",
            "9031",
            "9032",
            "9040",
            "9041",
            "9042",
            "9050",
            "9051",
            "9052",
        }
    )

    def __init__(self, folder: Path, day: date) -> None:
        self.folder = folder
        self.day = day
        self.people = [
            json.loads(line)
            for line in (folder / "population.jsonl").open(encoding="utf-8")
        ]
        guided = set()
        for line in (folder / "social_service.csv").read_text("utf-8").splitlines()[1:]:
            insz, guidance, management, mediation, since = line.split(";")
            started = not since or date.fromisoformat(since) <= day
            if started and "1" in (guidance, management, mediation):
                guided.add(insz)
        self.guided = guided
        self.households: dict[str, list[dict]] = {}
        for person in self.people:
            self.households.setdefault(person["household"], []).append(person)

    def _qualifies(self, person: dict) -> bool:
        return person["insz"] in self.guided or any(
            s["name"] in self.QUALIFYING and _active(s, self.day)
            for s in person["statuses"]
        )

    def _plain(self, person: dict) -> bool:
        """Alive, registered at a main residence in the city, and not touched by
        anything that could make a status uncertain."""
        address = person["address"]
        return (
            person["death_date"] is None
            and address is not None
            and not address["reference_address"]
            and address["postcode"] in self.POSTCODES
        )

    def _members(self, person: dict) -> list[dict]:
        return self.households[person["household"]]

    def granted_on_own_status(self) -> dict:
        return next(
            p
            for p in self.people
            if self._plain(p)
            and p["insz"] not in self.guided
            and any(
                s["name"] == "BIM_BVT" and _active(s, self.day) for s in p["statuses"]
            )
            and len(self._members(p)) > 1
            and all(m["death_date"] is None for m in self._members(p))
        )

    def not_granted(self) -> dict:
        return next(
            p
            for p in self.people
            if self._plain(p)
            and all(
                not self._qualifies(m) and not m["statuses"] and m["death_date"] is None
                for m in self._members(p)
            )
        )

    def household_of(self, person: dict) -> list[dict]:
        return [m for m in self._members(person) if m["insz"] != person["insz"]]
