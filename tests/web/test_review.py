"""The review queue and the audit log over HTTP: decide, reopen, export."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from proactief.store import Document, ReviewCase

from .serving import csrf_of

# synthetic national numbers (MAGDA test style: birth month + 60)
ALONE = "85673003360"
FAMILY = "90611512395"
PUPIL = "15691012316"


def _seed(store) -> dict[str, int]:
    """Three open cases of two benefits, created a day apart (oldest first)."""
    evidence = json.dumps(
        [
            "GeefPersoon 02.02 as of 2027-01-04",
            "household income band: below_23000",
        ]
    )
    store.sync_review_cases(
        "garbage-bags",
        "2027",
        "run-1",
        {
            ALONE: {
                "subject": ALONE,
                "subject_ref": "P-alone",
                "reasons": "reference_address,vt_member",
                "evidence": evidence,
            },
            FAMILY: {
                "subject": FAMILY,
                "subject_ref": "P-family",
                "reasons": "member_deceased,vt_member",
                "evidence": evidence,
            },
        },
    )
    store.sync_review_cases(
        "school-tariffs",
        "2026-2027/1",
        "run-2",
        {
            PUPIL: {
                "subject": PUPIL,
                "subject_ref": "P-pupil",
                "reasons": "household_income_unknown",
                "evidence": evidence,
            }
        },
    )
    ids = {}
    start = datetime(2027, 1, 5, 9, tzinfo=UTC)
    with Session(store.engine) as session:
        for offset, subject in enumerate((FAMILY, PUPIL, ALONE)):
            case = session.exec(
                __import__("sqlmodel")
                .select(ReviewCase)
                .where(ReviewCase.subject == subject)
            ).one()
            case.created_at = start + timedelta(days=offset)
            session.add(case)
            ids[subject] = case.id
        session.commit()
    return ids


def _case_links(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/beoordeling/(\d+)"', html)]


def test_the_queue_shows_every_benefit_oldest_first_and_filters(web):
    ids = _seed(web.store)
    with web.signed_in("beoordelaar") as client:
        everything = client.get("/beoordeling")
        bags = client.get("/beoordeling?voordeel=garbage-bags")
        deceased = client.get("/beoordeling?reden=member_deceased")
    assert _case_links(everything.text) == [ids[FAMILY], ids[PUPIL], ids[ALONE]]
    assert _case_links(bags.text) == [ids[FAMILY], ids[ALONE]]
    assert _case_links(deceased.text) == [ids[FAMILY]]
    assert "referentieadres" in everything.text  # reasons in Dutch
    for number in (ALONE, FAMILY, PUPIL):
        assert number not in everything.text  # pseudonymous references only


def test_a_case_shows_reasons_sources_and_bands_never_the_number_unasked(web):
    ids = _seed(web.store)
    with web.signed_in("beoordelaar") as client:
        page = client.get(f"/beoordeling/{ids[PUPIL]}")
        assert "gezinsinkomen onbekend" in page.text
        assert "inkomensschijf van het gezin: onder 23.000 euro" in page.text
        assert "GeefPersoon 02.02, opgevraagd op 2027-01-04" in page.text
        assert PUPIL not in page.text
        shown = client.post(
            f"/beoordeling/{ids[PUPIL]}/nummer", data={"csrf_token": csrf_of(page.text)}
        )
    assert "15.69.10-123.16" in shown.text
    actions = [
        e.action for e in web.store.audit_events(actor="beoordelaar", limit=None)[0]
    ]
    assert "review_number_shown" in actions and "review_viewed" in actions


def test_a_decision_needs_a_motivation_and_the_policys_amount(web):
    ids = _seed(web.store)
    url = f"/beoordeling/{ids[ALONE]}"
    with web.signed_in("beoordelaar") as client:
        token = csrf_of(client.get(url).text)
        bare = client.post(
            f"{url}/beslissing",
            data={
                "csrf_token": token,
                "beslissing": "granted",
                "keuze": "0",
                "motivering": "ok",
            },
        )
        assert bare.status_code == 422 and "motivering van minstens 10" in bare.text
        no_amount = client.post(
            f"{url}/beslissing",
            data={
                "csrf_token": token,
                "beslissing": "granted",
                "motivering": "Referentieadres bij het OCMW, brief via de sociale dienst.",
            },
        )
        assert no_amount.status_code == 422 and "Kies het bedrag" in no_amount.text
        done = client.post(
            f"{url}/beslissing",
            data={
                "csrf_token": token,
                "beslissing": "granted",
                "keuze": "0",
                "motivering": "Referentieadres bij het OCMW, brief via de sociale dienst.",
            },
        )
        assert done.status_code == 303
        again = client.post(
            f"{url}/beslissing",
            data={
                "csrf_token": token,
                "beslissing": "not_granted",
                "motivering": "Nog eens beslissen mag niet.",
            },
        )
        assert again.status_code == 409
    decision = web.store.decisions("garbage-bags", "2027")[ALONE]
    assert (decision.outcome, decision.amount_cents, decision.extra_credit_cents) == (
        "granted",
        4200,
        2100,
    )
    assert decision.rule_version == f"review:{ids[ALONE]}"
    case = web.store.review_case(ids[ALONE])
    assert (case.status, case.resolution, case.decided_by) == (
        "decided",
        "granted",
        "beoordelaar",
    )
    assert case.motivation.startswith("Referentieadres bij het OCMW")


def test_a_school_tariff_is_granted_with_a_category_and_refused_at_standard(web):
    ids = _seed(web.store)
    with web.signed_in("beoordelaar") as client:
        url = f"/beoordeling/{ids[PUPIL]}"
        page = client.get(url)
        assert "laag inkomen A" in page.text
        done = client.post(
            f"{url}/beslissing",
            data={
                "csrf_token": csrf_of(page.text),
                "beslissing": "granted",
                "keuze": "low_income_a",
                "motivering": "Attest van het OCMW over het inkomen van 2025 gezien.",
            },
        )
        assert done.status_code == 303
        url = f"/beoordeling/{ids[FAMILY]}"
        refused = client.post(
            f"{url}/beslissing",
            data={
                "csrf_token": csrf_of(client.get(url).text),
                "beslissing": "not_granted",
                "motivering": "Geen enkel gezinslid heeft recht volgens het dossier.",
            },
        )
        assert refused.status_code == 303
    assert (
        web.store.decisions("school-tariffs", "2026-2027/1")[PUPIL].category
        == "low_income_a"
    )
    assert web.store.decisions("garbage-bags", "2027")[FAMILY].outcome == "not_granted"


def test_a_supervisor_reopens_a_case_unless_its_letter_went_out(web):
    ids = _seed(web.store)
    for subject in (ALONE, FAMILY):
        web.store.decide_review_case(
            ids[subject],
            outcome="granted",
            decided_by="beoordelaar",
            motivation="Toegekend na controle van het dossier.",
            amount_cents=4200,
            extra_credit_cents=2100,
        )
    web.store.record_documents(
        [
            {
                "idempotency_key": "garbage-bags:2027:" + FAMILY,
                "benefit": "garbage-bags",
                "period": "2027",
                "subject": FAMILY,
                "kind": "letter",
                "reference": "GB-2027-X",
                "path": "/tmp/x.pdf",
                "run_id": "run-3",
            }
        ]
    )
    web.store.mark_documents_written(["garbage-bags:2027:" + FAMILY])
    with web.signed_in("supervisor") as client:
        url = f"/beoordeling/{ids[ALONE]}"
        page = client.get(url)
        assert "Dossier heropenen" in page.text
        short = client.post(
            f"{url}/heropenen",
            data={"csrf_token": csrf_of(page.text), "motivering": "kort"},
        )
        assert short.status_code == 422
        done = client.post(
            f"{url}/heropenen",
            data={
                "csrf_token": csrf_of(page.text),
                "motivering": "Verkeerd bedrag: het gezin telt drie leden.",
            },
        )
        assert done.status_code == 303
        sent = client.post(
            f"/beoordeling/{ids[FAMILY]}/heropenen",
            data={
                "csrf_token": csrf_of(page.text),
                "motivering": "Toch nog eens bekijken graag.",
            },
        )
        assert sent.status_code == 409 and "al verstuurd" in sent.text
    assert web.store.review_case(ids[ALONE]).status == "open"
    assert web.store.decisions("garbage-bags", "2027")[ALONE].outcome == "review"
    assert web.store.review_case(ids[FAMILY]).status == "decided"
    assert web.store.count(Document) == 1


def test_the_audit_log_filters_by_officer_and_day_and_exports_csv(web):
    ids = _seed(web.store)
    with web.signed_in("beoordelaar") as client:
        client.get(f"/beoordeling/{ids[ALONE]}")
    with web.signed_in("supervisor") as client:
        today = datetime.now(UTC).date().isoformat()
        page = client.get(f"/audit?medewerker=beoordelaar&van={today}&tot={today}")
        assert page.status_code == 200
        assert "dossier bekeken" in page.text and "P-alone" in page.text
        old = client.get("/audit?medewerker=beoordelaar&van=2020-01-01&tot=2020-01-02")
        assert "P-alone" not in old.text
        export = client.get("/audit.csv?medewerker=beoordelaar")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == [
        "tijdstip",
        "medewerker",
        "actie",
        "voordeel",
        "referentie",
        "uitkomst",
        "detail",
    ]
    assert {r[1] for r in rows[1:]} == {"beoordelaar"}
    assert ["login_succeeded", "review_viewed"] == sorted({r[2] for r in rows[1:]})
    assert ALONE not in export.text
    exported = web.store.audit_events(
        actor="supervisor", action="audit_exported", limit=None
    )[0]
    assert len(exported) == 1


def test_long_lists_are_paged_and_keep_their_filters(web):
    for n in range(130):
        web.store.audit(
            "balie", "desk_check", benefit="uitpas", outcome="granted", detail=f"n{n}"
        )
    with web.signed_in("supervisor") as client:
        first = client.get("/audit?medewerker=balie&actie=desk_check")
        assert "Pagina 1 van 2" in first.text
        link = re.search(r'href="(\?[^"]*pagina=2)"', first.text).group(1)
        assert link.replace("&amp;", "&") == (
            "?medewerker=balie&actie=desk_check&van=&tot=&pagina=2"
        )
        second = client.get("/audit" + link.replace("&amp;", "&"))
    assert "Pagina 2 van 2" in second.text
    assert second.text.count("<tr>") - 1 == 30  # the header row and 30 events
