"""The UiTPAS desk check over HTTP, against the real simulator."""

from __future__ import annotations

import re
import time
from datetime import date

from proactief.insz import pseudonym
from proactief.magda.simulator import running_simulator
from proactief.store import AuditEvent, Consultation, Decision, ReviewCase

from .serving import City, csrf_of, serving

ANSWER = re.compile(r'<h2 id="antwoord"[^>]*>\s*(.*?)\s*</h2>', re.DOTALL)
STATUS_NAMES = ("BIM_BVT", "LIVING_WAGES_PCSA_HELP", "GENT_PARKING")


def _check(client, number: str):
    token = csrf_of(client.get("/balie").text)
    return client.post(
        "/balie", data={"rijksregisternummer": number, "csrf_token": token}
    )


def _answer(response) -> str:
    match = ANSWER.search(response.text)
    assert match, response.text[:2000]
    return " ".join(match.group(1).split())


def _dotted(insz: str) -> str:
    return f"{insz[:2]}.{insz[2:4]}.{insz[4:6]}-{insz[6:9]}.{insz[9:]}"


def _nothing_personal(page: str, person: dict) -> None:
    """The desk page shows no address, income or status name."""
    address = person["address"]
    assert address["street"] not in page
    for status in STATUS_NAMES:
        assert status not in page
    for income in person["incomes"]:
        assert income["taxable_income"] not in page
        assert income["taxable_income"].replace(".", ",") not in page


def test_a_citizen_with_vt_gets_yes_until_the_end_of_the_year(web, web_city):
    today = date.today()
    city = City(web_city, today)
    person = city.granted_on_own_status()
    with web.signed_in("balie") as client:
        response = _check(client, _dotted(person["insz"]))
    assert response.status_code == 200
    assert _answer(response) == f"Ja: kansentarief tot en met 31 december {today.year}"
    _nothing_personal(response.text, person)
    # the household at the same address is offered the same answer
    others = [m for m in city.household_of(person) if m["death_date"] is None]
    for member in others:
        assert member["first_name"] in response.text
    assert response.text.count('name="gezinslid"') == len(others)

    ref = pseudonym(person["insz"], web.settings.core.pseudonym_key)
    events, _ = web.store.audit_events(action="desk_check", limit=None)
    assert [(e.actor, e.subject_ref, e.outcome) for e in events] == [
        ("balie", ref, "granted")
    ]
    assert person["insz"] not in events[0].detail
    decision = web.store.decisions("uitpas", str(today.year))[person["insz"]]
    assert decision.outcome == "granted"
    assert web.store.count(Consultation) >= 3  # every registry call recorded


def test_the_household_members_get_the_same_answer_on_one_click(web, web_city):
    today = date.today()
    city = City(web_city, today)
    person = city.granted_on_own_status()
    others = [m for m in city.household_of(person) if m["death_date"] is None]
    with web.signed_in("balie") as client:
        response = _check(client, person["insz"])
        offer = re.search(r'name="aanbod" value="([^"]+)"', response.text).group(1)
        token = csrf_of(response.text)
        done = client.post(
            "/balie/gezin",
            data={
                "csrf_token": token,
                "aanbod": offer,
                "gezinslid": [str(i) for i in range(len(others))],
            },
        )
        assert done.status_code == 200
        assert f"Geregistreerd voor {len(others)}" in done.text
        # the offer is used up
        again = client.post(
            "/balie/gezin",
            data={"csrf_token": token, "aanbod": offer, "gezinslid": "0"},
        )
        assert again.status_code == 409
    granted = web.store.decisions("uitpas", str(today.year))
    assert {m["insz"] for m in others} | {person["insz"]} == {
        s for s, d in granted.items() if d.outcome == "granted"
    }


def test_a_citizen_without_any_ground_gets_no_with_a_hint(web, web_city):
    person = City(web_city, date.today()).not_granted()
    with web.signed_in("balie") as client:
        response = _check(client, person["insz"])
    assert _answer(response) == "Nee: geen kansentarief"
    assert "attest van het ziekenfonds" in response.text  # the hint on a late status
    assert 'name="gezinslid"' not in response.text
    _nothing_personal(response.text, person)


def test_a_number_with_wrong_check_digits_never_reaches_the_registry(web, web_city):
    person = City(web_city, date.today()).not_granted()
    wrong = person["insz"][:9] + f"{(int(person['insz'][9:]) + 1) % 100:02d}"
    with web.signed_in("balie") as client:
        response = _check(client, wrong)
        short = _check(client, "12.34.56")
    assert response.status_code == 422
    assert "de controlecijfers passen niet" in response.text
    assert short.status_code == 422 and "11 cijfers" in short.text
    assert web.store.count(Consultation) == 0
    events, _ = web.store.audit_events(action="desk_check", limit=None)
    assert [e.outcome for e in events] == ["invalid_number", "invalid_number"]
    assert all(e.subject_ref is None for e in events)


def test_a_failing_registry_gives_check_by_hand_and_a_review_case(
    web_city, database_url
):
    person = City(web_city, date.today()).granted_on_own_status()
    with (
        running_simulator(web_city, latency_ms=1, fail_rate=1.0) as failing,
        serving(web_city, failing, database_url) as app,
        app.signed_in("balie") as client,
    ):
        response = _check(client, person["insz"])
    assert response.status_code == 200
    assert _answer(response) == "Controleer met de hand"
    assert "Het register gaf geen antwoord" in response.text
    cases = app.store.open_review_cases("uitpas", str(date.today().year))
    assert set(cases) == {person["insz"]}
    assert cases[person["insz"]].reasons == "registry_failed"
    decision = app.store.decisions("uitpas", str(date.today().year))[person["insz"]]
    assert decision.outcome == "review"  # never a refusal


def test_an_officer_over_the_rate_is_slowed_down_and_reported(
    web_city, web_registry, database_url
):
    person = City(web_city, date.today()).not_granted()
    with (
        serving(
            web_city,
            web_registry,
            database_url,
            desk_rate_limit=3,
            desk_slowdown_seconds=1.0,
        ) as app,
        app.signed_in("balie") as client,
    ):
        for _ in range(3):
            assert "te veel" not in _check(client, person["insz"]).text.lower()
        started = time.perf_counter()
        response = _check(client, person["insz"])
        waited = time.perf_counter() - started
        assert "meer controles dan toegelaten" in response.text
        assert waited >= 1.0
        with app.signed_in("supervisor") as supervisor:
            audit = supervisor.get("/audit")
    assert "Meldingen: te veel opzoekingen" in audit.text
    events, _ = app.store.audit_events(action="desk_rate_exceeded", limit=None)
    assert [e.actor for e in events] == ["balie"]
    assert app.store.count(AuditEvent, action="desk_check") == 4


def test_a_grant_earlier_this_year_stands(web, web_city):
    """Valid until 31 December: a later look-up that finds nothing keeps it."""
    today = date.today()
    person = City(web_city, today).not_granted()
    web.store.save_decisions(
        [
            {
                "benefit": "uitpas",
                "period": str(today.year),
                "subject": person["insz"],
                "subject_ref": "P-test",
                "outcome": "granted",
                "reasons": "vt",
                "rule_version": "uitpas/r1/ptest",
                "run_id": "desk:earlier",
            }
        ]
    )
    with web.signed_in("balie") as client:
        response = _check(client, person["insz"])
    assert _answer(response).startswith("Ja: kansentarief tot en met 31 december")
    assert web.store.count(ReviewCase) == 0
    assert web.store.count(Decision, outcome="granted") == 1


def test_digits_of_other_scripts_are_a_wrong_number_not_an_error(web):
    with web.signed_in("balie") as client:
        for typed in ("54711265²33", "²²²²²²²²²²²", "٨٥٠٧٣٠٠٣٣٢٨"):
            response = _check(client, typed)
            assert response.status_code == 422, typed
            assert 'id="nummer-fout"' in response.text
        assert client.get("/balie").status_code == 200  # the connection lives on


def test_a_household_grant_settles_the_members_open_case_and_stands(web, web_city):
    today = date.today()
    city = City(web_city, today)
    person = city.granted_on_own_status()
    member = next(m for m in city.household_of(person) if m["death_date"] is None)
    period = str(today.year)
    # the member was checked before while the registry failed: a case is open
    web.store.sync_review_cases(
        "uitpas",
        period,
        "desk:earlier",
        {
            member["insz"]: {
                "subject": member["insz"],
                "subject_ref": "P-member",
                "reasons": "registry_failed",
            }
        },
    )
    case = web.store.open_review_cases("uitpas", period)[member["insz"]]
    with web.signed_in("balie") as client:
        response = _check(client, person["insz"])
        offer = re.search(r'name="aanbod" value="([^"]+)"', response.text).group(1)
        index = re.search(
            r'id="gezinslid-(\d+)"[^>]*>\s*<label[^>]*>'
            + re.escape(member["first_name"]),
            response.text,
        ).group(1)
        token = csrf_of(response.text)
        nothing = client.post(
            "/balie/gezin", data={"csrf_token": token, "aanbod": offer}
        )
        assert nothing.status_code == 422
        assert "Vink minstens één gezinslid aan" in nothing.text
        done = client.post(
            "/balie/gezin",
            data={"csrf_token": token, "aanbod": offer, "gezinslid": index},
        )
        assert done.status_code == 200
    assert web.store.review_case(case.id).status == "closed"
    assert web.store.decisions("uitpas", period)[member["insz"]].outcome == "granted"
    # a reviewer can no longer decide the settled case
    with web.signed_in("beoordelaar") as reviewer:
        page = reviewer.get(f"/beoordeling/{case.id}")
        refused = reviewer.post(
            f"/beoordeling/{case.id}/beslissing",
            data={
                "csrf_token": csrf_of(page.text),
                "beslissing": "not_granted",
                "motivering": "Geen attest ontvangen van het ziekenfonds.",
            },
        )
    assert refused.status_code == 409
    assert web.store.decisions("uitpas", period)[member["insz"]].outcome == "granted"


def test_a_grant_at_the_desk_replaces_an_older_refusal_by_a_reviewer(web, web_city):
    today = date.today()
    person = City(web_city, today).granted_on_own_status()
    period = str(today.year)
    web.store.sync_review_cases(
        "uitpas",
        period,
        "desk:earlier",
        {
            person["insz"]: {
                "subject": person["insz"],
                "subject_ref": "P-x",
                "reasons": "registry_failed",
            }
        },
    )
    case = web.store.open_review_cases("uitpas", period)[person["insz"]]
    web.store.decide_review_case(
        case.id,
        outcome="not_granted",
        decided_by="beoordelaar",
        motivation="Geen attest.",
    )
    with web.signed_in("balie") as client:
        response = _check(client, person["insz"])
    assert _answer(response).startswith("Ja")
    assert web.store.decisions("uitpas", period)[person["insz"]].outcome == "granted"
