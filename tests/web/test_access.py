"""Who may open what: sign-in, roles, CSRF, lockout and sessions, over HTTP."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest
from sqlmodel import Session, select

from proactief.store import Account, AuditEvent
from proactief.web.accounts import Accounts, LoginPolicy, SessionPolicy

from .serving import PASSWORD, csrf_of, login

PUBLIC = {"/aanmelden", "/static"}


def _routes(app):
    """Every (method, path) the app answers, path parameters filled in."""
    from fastapi.routing import APIRoute

    def walk(routes):
        for route in routes:
            nested = getattr(route, "original_router", None)
            if nested is not None:  # a router included with include_router
                yield from walk(nested.routes)
            else:
                yield route

    found = []
    for route in walk(app.routes):
        if not isinstance(route, APIRoute) or route.path in PUBLIC:
            continue
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        for method in route.methods - {"HEAD"}:
            found.append((method, path))
    return sorted(found)


def test_every_route_but_the_login_needs_a_signed_in_user(web):
    from proactief.web.app import create_app

    routes = _routes(create_app(web.settings, web.database))
    assert ("GET", "/balie") in routes and (
        "POST",
        "/beoordeling/1/beslissing",
    ) in routes
    assert len(routes) >= 10
    with web.client() as client:
        for method, path in routes:
            response = client.request(method, path)
            if method == "GET":
                assert response.status_code == 303, (method, path)
                assert response.headers["location"].startswith("/aanmelden?volgende=")
            else:
                assert response.status_code == 401, (method, path)


@pytest.mark.parametrize(
    ("username", "allowed", "refused"),
    [
        (
            "balie",
            ["/balie"],
            ["/beoordeling", "/beoordeling/1", "/audit", "/audit.csv"],
        ),
        ("beoordelaar", ["/beoordeling"], ["/balie", "/audit", "/audit.csv"]),
        ("supervisor", ["/beoordeling", "/audit", "/audit.csv"], ["/balie"]),
        ("beheer", ["/balie", "/beoordeling", "/audit"], []),
    ],
)
def test_each_role_opens_its_own_pages_only(web, username, allowed, refused):
    with web.signed_in(username) as client:
        for path in allowed:
            assert client.get(path).status_code == 200, path
        for path in refused:
            response = client.get(path)
            assert response.status_code == 403, path
            assert "Geen toegang" in response.text


def test_a_reviewer_may_not_reopen_a_case(web):
    with web.signed_in("beoordelaar") as client:
        token = csrf_of(client.get("/beoordeling").text)
        response = client.post(
            "/beoordeling/1/heropenen",
            data={"csrf_token": token, "motivering": "dit is een lange motivering"},
        )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("username", "path", "form"),
    [
        ("balie", "/balie", {"rijksregisternummer": "85073003328"}),
        ("balie", "/balie/gezin", {"aanbod": "x"}),
        ("beoordelaar", "/beoordeling/1/beslissing", {"beslissing": "granted"}),
        ("beoordelaar", "/beoordeling/1/nummer", {}),
        ("supervisor", "/beoordeling/1/heropenen", {"motivering": "x" * 20}),
        ("balie", "/afmelden", {}),
    ],
)
def test_a_form_without_the_sessions_csrf_token_is_refused(web, username, path, form):
    with web.signed_in(username) as client:
        before = web.store.count(AuditEvent)
        for token in (None, "", "forged-token"):
            data = dict(form)
            if token is not None:
                data["csrf_token"] = token
            response = client.post(path, data=data)
            assert response.status_code == 403, (path, token)
            assert "Formulier geweigerd" in response.text
        # nothing was done: no check, decision or logout recorded
        assert web.store.count(AuditEvent) == before
        assert client.get("/").status_code in (200, 303)  # still signed in


def test_the_login_form_needs_its_token_too(web):
    with web.client() as client:
        client.get("/aanmelden")
        response = client.post(
            "/aanmelden",
            data={"username": "balie", "password": PASSWORD, "csrf_token": "forged"},
        )
        assert response.status_code == 403
        assert "proactief_sessie" not in response.cookies


def _locked_message(response):
    return "vergrendeld na 5 foute wachtwoorden" in response.text


def test_five_wrong_passwords_lock_the_account_until_an_admin_unlocks_it(web, tmp_path):
    accounts = Accounts(web.store)
    accounts.create("slot", "desk", PASSWORD)
    with web.client() as client:
        for attempt in range(1, 5):
            response = login(client, "slot", "fout wachtwoord nr " + str(attempt))
            assert response.status_code == 401
            assert "Gebruikersnaam of wachtwoord klopt niet" in response.text
        response = login(client, "slot", "fout wachtwoord nr 5")
        assert response.status_code == 401 and _locked_message(response)
        # now even the right password is refused
        response = login(client, "slot", PASSWORD)
        assert response.status_code == 401 and _locked_message(response)
        assert "proactief_sessie" not in response.cookies

        actions = [
            e.action for e in web.store.audit_events(actor="slot", limit=None)[0]
        ]
        assert actions.count("login_failed") == 4
        assert actions.count("account_locked") == 1
        assert actions.count("login_refused_locked") == 1

        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "proactief",
                "accounts",
                "unlock",
                "slot",
                "--database",
                web.database,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert login(client, "slot", PASSWORD).status_code == 303


def test_four_wrong_passwords_then_the_right_one_reset_the_count(web):
    accounts = Accounts(web.store)
    accounts.create("teller", "desk", PASSWORD)
    with web.client() as client:
        for _ in range(4):
            assert login(client, "teller", "niet het wachtwoord").status_code == 401
        assert login(client, "teller", PASSWORD).status_code == 303
    with web.client() as client:
        for _ in range(4):
            assert login(client, "teller", "niet het wachtwoord").status_code == 401
        assert login(client, "teller", PASSWORD).status_code == 303


def test_a_lock_ends_by_itself_after_its_time(web):
    accounts = Accounts(web.store, LoginPolicy(max_failures=5, lock_minutes=0.02))
    accounts.create("even", "desk", PASSWORD)
    for _ in range(5):
        accounts.authenticate("even", "niet het wachtwoord")
    assert accounts.authenticate("even", PASSWORD)[0] == "locked"
    time.sleep(1.5)
    assert accounts.authenticate("even", PASSWORD)[0] == "ok"


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(web):
    with web.client() as client:
        unknown = login(client, "bestaat.niet", PASSWORD)
        wrong = login(client, "balie", "niet het wachtwoord")
    assert unknown.status_code == wrong.status_code == 401
    assert "Gebruikersnaam of wachtwoord klopt niet" in unknown.text
    assert "Gebruikersnaam of wachtwoord klopt niet" in wrong.text


def test_passwords_are_stored_as_argon2_hashes_only(web):
    with Session(web.store.engine) as session:
        account = session.exec(select(Account).where(Account.username == "balie")).one()
    assert account.password_hash.startswith("$argon2id$")
    assert PASSWORD not in account.password_hash


def test_sessions_end_after_a_while_without_activity(web):
    accounts = Accounts(web.store, sessions=SessionPolicy(idle_minutes=0.01))
    token = accounts.start_session(accounts.get("balie"))
    assert accounts.resume(token).username == "balie"
    time.sleep(1.0)
    assert accounts.resume(token) is None


def test_a_session_cookie_is_useless_once_logged_out(web):
    with web.signed_in("balie") as client:
        cookie = client.cookies.get("proactief_sessie")
        token = csrf_of(client.get("/balie").text)
        client.post("/afmelden", data={"csrf_token": token})
    with web.client() as other:
        other.cookies.set("proactief_sessie", cookie)
        assert other.get("/balie").status_code == 303


def test_login_goes_back_to_the_page_asked_for_but_never_off_site(web):
    with web.client() as client:
        form = client.get("/aanmelden?volgende=%2Fbalie")
        response = client.post(
            "/aanmelden",
            data={
                "username": "balie",
                "password": PASSWORD,
                "csrf_token": csrf_of(form.text),
                "volgende": "//elders.example/balie",
            },
        )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_pages_carry_protective_headers(web):
    with web.client() as client:
        response = client.get("/aanmelden")
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_a_refused_page_is_logged_without_the_numbers_in_its_address(web):
    with web.signed_in("balie") as client:
        assert client.get("/beoordeling/54711265633").status_code in (403, 404)
        assert client.get("/audit?medewerker=85073003328").status_code == 403
    details = [
        e.detail for e in web.store.audit_events(action="access_refused", limit=None)[0]
    ]
    assert details and all(
        "54711265633" not in d and "85073003328" not in d for d in details
    )


def test_odd_addresses_and_filters_give_pages_not_errors(web):
    with web.signed_in("supervisor") as client:
        for path in (
            "/beoordeling/abc",
            "/beoordeling/9223372036854775808",
            "/beoordeling/99999999999999999999999",
        ):
            assert client.get(path).status_code == 404, path
        token = csrf_of(client.get("/beoordeling").text)
        huge = client.post(
            "/beoordeling/99999999999999999999999/beslissing",
            data={"csrf_token": token, "beslissing": "granted", "motivering": "x" * 20},
        )
        assert huge.status_code == 404
        for query in (
            "van=0001-01-01",
            "tot=9999-12-31",
            "van=2026-13-45",
            "van=gisteren",
        ):
            page = client.get(f"/audit?{query}")
            assert page.status_code == 200, query
            assert "Een datum is niet geldig" in page.text
            export = client.get(f"/audit.csv?{query}")
            assert "text/html" in export.headers["content-type"], query
        assert client.get("/audit?pagina=99999").status_code == 200


def test_head_is_answered_like_get_without_a_body(web):
    with web.client() as client:
        login_page = client.head("/aanmelden")
        page = client.head("/balie")
    assert login_page.status_code == 200 and login_page.content == b""
    assert page.status_code == 303  # signed out: to the sign-in, as for GET
