"""The LEZ API over HTTP: both answers for each case, keys, errors, OpenAPI.

The permit system's questions go to the running web app, which asks the real
registry simulator; the people come from the generated city, picked for today.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from proactief.insz import pseudonym
from proactief.magda.simulator import running_simulator
from proactief.store import AuditEvent, LezRegistration
from proactief.web.apikeys import ApiKeys

from .serving import serving

ENDPOINT = "/api/lez/checks"


def _people(city: Path) -> list[dict]:
    return [json.loads(line) for line in (city / "population.jsonl").open()]


@pytest.fixture(scope="module")
def cast(web_city):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from lez.cast import lez_cast

    return lez_cast(_people(web_city), date.today())


@pytest.fixture
def api(web):
    key = ApiKeys(web.store).create("lez-permits")
    with httpx.Client(
        base_url=web.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as client:
        yield client


def _ask(client, insz, plate="1-ABC-123", applicant=None):
    body = {"insz": insz, "plate": plate}
    if applicant is not None:
        body["applicant_insz"] = applicant
    response = client.post(ENDPOINT, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _within_five_years(answer: dict) -> None:
    until = date.fromisoformat(answer["valid_until"])
    assert date.today() < until <= date.today() + timedelta(days=5 * 366)


def test_card_and_vt_register_free_and_get_the_social_tariff(api, web, cast):
    holder = cast["card_and_vt"]
    answer = _ask(api, holder["insz"])
    free, tariff = answer["free_registration"], answer["social_tariff"]
    assert (free["outcome"], free["plate"]) == ("granted", "1ABC123")
    _within_five_years(free)
    assert tariff["outcome"] == "granted"
    assert date.fromisoformat(tariff["valid_until"]) <= date(date.today().year, 12, 31)
    registrations = web.store.count(LezRegistration, card_holder=holder["insz"])
    assert registrations == 1
    ref = pseudonym(holder["insz"], web.settings.core.pseudonym_key)
    events, _ = web.store.audit_events(action="lez_check", limit=None)
    assert [(e.actor, e.subject_ref, e.outcome) for e in events] == [
        ("api:lez-permits", ref, "granted/granted")
    ]


def test_vt_only_gets_the_social_tariff_but_no_free_registration(api, cast):
    answer = _ask(api, cast["vt_only"]["insz"])
    assert answer["free_registration"]["outcome"] == "not_granted"
    assert answer["free_registration"]["reasons"] == ["no_parking_card"]
    assert answer["free_registration"]["valid_until"] is None
    assert answer["social_tariff"]["outcome"] == "granted"


def test_a_card_only_gets_neither(api, cast):
    answer = _ask(api, cast["card_only"]["insz"])
    assert answer["free_registration"]["outcome"] == "not_granted"
    assert "no_vt" in answer["free_registration"]["reasons"]
    assert answer["social_tariff"]["outcome"] == "not_granted"
    assert answer["social_tariff"]["reasons"] == ["no_vt"]


def test_a_relative_at_the_same_address_may_apply(api, cast):
    holder, relative = cast["card_and_vt"], cast["relative_same_address"]
    answer = _ask(api, holder["insz"], "2-XYZ-987", applicant=relative["insz"])
    assert answer["free_registration"]["outcome"] == "granted"


def test_a_relative_at_another_address_is_refused(api, cast):
    holder, other = cast["card_and_vt"], cast["relative_elsewhere"]
    answer = _ask(api, holder["insz"], applicant=other["insz"])
    assert answer["free_registration"]["outcome"] == "not_granted"
    assert answer["free_registration"]["reasons"] == ["applicant_not_at_same_address"]


def test_one_free_registration_per_parking_card(api, web, cast):
    holder = cast["card_and_vt"]["insz"]
    assert _ask(api, holder, "1-AAA-111")["free_registration"]["outcome"] == "granted"
    second = _ask(api, holder, "1-BBB-222")["free_registration"]
    assert (second["outcome"], second["reasons"]) == (
        "not_granted",
        ["card_already_used_for_other_vehicle"],
    )
    # the registered vehicle itself is confirmed again
    again = _ask(api, holder, "1 aaa 111")["free_registration"]
    assert (again["outcome"], again["plate"]) == ("granted", "1AAA111")
    assert web.store.count(LezRegistration) == 1


def test_a_registry_time_out_gives_a_manual_check_never_a_refusal(
    web_city, cast, database_url
):
    with (
        running_simulator(web_city, timeout_rate=1.0, timeout_hold_s=5) as slow,
        serving(
            web_city, slow, database_url, registry_timeout_s=0.5, registry_retries=1
        ) as app,
    ):
        key = ApiKeys(app.store).create("lez-permits")
        with httpx.Client(
            base_url=app.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ) as client:
            answer = _ask(client, cast["card_and_vt"]["insz"])
        assert answer["free_registration"]["outcome"] == "manual_check"
        assert answer["social_tariff"]["outcome"] == "manual_check"
        assert "registry_failed" in answer["free_registration"]["reasons"]
        cases = app.store.open_review_cases(
            "lez-free-registration", str(date.today().year)
        )
        assert set(cases) == {cast["card_and_vt"]["insz"]}
        assert app.store.count(LezRegistration) == 0


def test_calls_without_a_live_key_are_refused(web, cast):
    keys = ApiKeys(web.store)
    key = keys.create("lez-permits")
    body = {"insz": cast["card_and_vt"]["insz"], "plate": "1-ABC-123"}
    with httpx.Client(base_url=web.url, timeout=30) as client:
        assert client.post(ENDPOINT, json=body).status_code == 401
        wrong = client.post(
            ENDPOINT, json=body, headers={"Authorization": "Bearer pk_not-a-key"}
        )
        assert wrong.status_code == 401 and wrong.json()["error"] == "unauthorised"
        good = {"Authorization": f"Bearer {key}"}
        assert client.post(ENDPOINT, json=body, headers=good).status_code == 200
        assert keys.revoke("lez-permits") == 1
        assert client.post(ENDPOINT, json=body, headers=good).status_code == 401
    stored = keys.all()[0]
    assert key not in stored.key_hash and stored.prefix == key[:10]
    assert web.store.count(AuditEvent, action="lez_check") == 1


def test_bad_input_is_refused_without_repeating_it(api, cast):
    number = cast["card_and_vt"]["insz"]
    wrong = number[:9] + f"{(int(number[9:]) + 1) % 100:02d}"
    refused = api.post(ENDPOINT, json={"insz": wrong, "plate": "1-ABC-123"})
    assert refused.status_code == 422
    assert refused.json()["field"] == "insz"
    assert wrong not in refused.text
    plate = api.post(ENDPOINT, json={"insz": number, "plate": "!!!"})
    assert (plate.status_code, plate.json()["field"]) == (422, "plate")
    missing = api.post(ENDPOINT, json={"insz": number})
    assert missing.status_code == 422 and number not in missing.text
    junk = api.post(
        ENDPOINT, content=b"not json", headers={"Content-Type": "text/plain"}
    )
    assert junk.status_code == 422


def test_the_openapi_description_is_served(web):
    with httpx.Client(base_url=web.url, timeout=30) as client:
        spec = client.get("/api/openapi.json").json()
    operation = spec["paths"]["/lez/checks"]["post"]
    assert set(operation["responses"]) >= {"200", "401", "422"}
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_schema(
    web, tmp_path
):
    key = ApiKeys(web.store).create("schemathesis")
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{web.url}/api/openapi.json",
        "--url",
        f"{web.url}/api",
        "--header",
        f"Authorization: Bearer {key}",
        "--checks",
        (
            "not_a_server_error,status_code_conformance,content_type_conformance,"
            "response_schema_conformance,response_headers_conformance"
        ),
        "--max-examples",
        "60",
        "--seed",
        "20261204",
        "--workers",
        "1",
        "--no-color",
    ]
    env = dict(os.environ, HOME=str(tmp_path), SCHEMATHESIS_HOOKS="")
    done = subprocess.run(
        command,
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "No issues found" in done.stdout or "passed" in done.stdout.lower()


def test_twenty_plates_at_once_for_one_card_register_exactly_one(web, cast):
    from concurrent.futures import ThreadPoolExecutor

    key = ApiKeys(web.store).create("lez-permits")
    holder = cast["card_and_vt"]["insz"]

    def ask(n: int) -> httpx.Response:
        with httpx.Client(
            base_url=web.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ) as client:
            return client.post(
                ENDPOINT, json={"insz": holder, "plate": f"9-CON-{n:03d}"}
            )

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(ask, range(20)))
    assert [a.status_code for a in answers] == [200] * 20
    granted = [
        a.json()["free_registration"]["plate"]
        for a in answers
        if a.json()["free_registration"]["outcome"] == "granted"
    ]
    assert len(granted) == 1
    registrations = [
        r
        for r in _registrations(web)
        if r.card_holder == holder and r.status == "active"
    ]
    assert [r.plate for r in registrations] == granted
    decision = web.store.decisions("lez-free-registration", str(date.today().year))
    assert decision[holder].outcome == "granted"  # not overwritten by a loser


def _registrations(web):
    from sqlmodel import Session, select

    with Session(web.store.engine) as session:
        return list(session.exec(select(LezRegistration)))


def test_a_registered_vehicle_stays_granted_while_the_registry_is_down(
    web_city, cast, database_url
):
    database = database_url
    holder = cast["card_and_vt"]["insz"]
    with (
        running_simulator(web_city, latency_ms=1) as healthy,
        serving(web_city, healthy, database) as app,
    ):
        key = ApiKeys(app.store).create("lez-permits")
        with httpx.Client(
            base_url=app.url, headers={"Authorization": f"Bearer {key}"}
        ) as c:
            first = _ask(c, holder, "1-REG-001")["free_registration"]
    assert first["outcome"] == "granted"
    with (
        running_simulator(web_city, latency_ms=1, fail_rate=1.0) as failing,
        serving(web_city, failing, database, registry_retries=0) as app,
        httpx.Client(base_url=app.url, headers={"Authorization": f"Bearer {key}"}) as c,
    ):
        same = _ask(c, holder, "1 reg 001")["free_registration"]
        other = _ask(c, holder, "1-REG-002")["free_registration"]
    assert (same["outcome"], same["valid_until"]) == ("granted", first["valid_until"])
    assert other["outcome"] == "manual_check"  # never a refusal


def test_refused_calls_are_in_the_audit_log_and_the_key_is_asked_first(web, cast):
    key = ApiKeys(web.store).create("lez-permits")
    with httpx.Client(base_url=web.url, timeout=30) as client:
        no_key = client.post(
            ENDPOINT, content=b"{insz:", headers={"Content-Type": "application/json"}
        )
        assert no_key.status_code == 401  # the key before the body
        broken = client.post(
            ENDPOINT,
            content=b"{insz:",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {key}",
            },
        )
        assert broken.status_code == 422
        assert broken.json() == {
            "error": "invalid_request",
            "message": "The request body is not valid JSON.",
            "field": None,
        }
        odd = client.post(
            ENDPOINT,
            json={"insz": cast["card_and_vt"]["insz"], "plate": "ß1"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert (odd.status_code, odd.json()["field"]) == (422, "plate")
    actions = sorted(
        (e.actor, e.outcome or "")
        for e in web.store.audit_events(limit=None)[0]
        if e.action in ("api_refused", "lez_check")
    )
    assert actions == [
        ("api:(no valid key)", ""),
        ("api:lez-permits", "invalid_plate"),
        ("api:lez-permits", "invalid_request"),
    ]
