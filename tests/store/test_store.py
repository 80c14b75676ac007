"""The store's operations on SQLite and on PostgreSQL: the same answers from both,
writers at the same moment included.

The PostgreSQL server of these tests keeps Brussels time, as a city's would: a
moment written and read back must not move, whatever the server's clock says.
"""

from __future__ import annotations

import json
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from proactief.errors import ReviewCaseStateError
from proactief.store import (
    Decision,
    Document,
    LezRegistration,
    ReviewCase,
    Run,
    Store,
    create_store_engine,
    lez_registrations_due,
    renew_lez_registration,
)

BRUSSELS = ZoneInfo("Europe/Brussels")
# synthetic national numbers (MAGDA test style: birth month + 60)
AN = "85673003360"
BERT = "90611512395"


def _decision(subject: str, outcome: str, **fields) -> dict:
    return {
        "benefit": "garbage-bags",
        "period": "2027",
        "subject": subject,
        "subject_ref": f"P-{subject[-4:]}",
        "outcome": outcome,
        "amount_cents": 4500 if outcome == "granted" else None,
        "reasons": fields.pop("reasons", "bvt" if outcome == "granted" else ""),
        "evidence": json.dumps(["GeefPersoon 02.02 as of 2027-01-04"]),
        "rule_version": fields.pop("rule_version", "garbage-bags/r1/p1"),
        "run_id": "run-1",
        **fields,
    }


def _case(subject: str, reasons: str) -> dict:
    return {"subject": subject, "subject_ref": f"P-{subject[-4:]}", "reasons": reasons}


def _before_first_insert_into(store: Store, table: str, write: Callable[[], None]):
    """Let another writer `write` (and commit) just before the store's first
    INSERT into `table`: the race two processes run into, made certain."""
    done = []

    def other_writer_first(conn, cursor, statement, parameters, context, many):
        if not done and statement.startswith(f"INSERT INTO {table} "):
            done.append(True)
            write()

    event.listen(store.engine, "before_cursor_execute", other_writer_first)
    return done


def _other_writer(url: str, model, row: dict) -> Callable[[], None]:
    def write() -> None:
        engine = create_store_engine(url)
        with engine.begin() as connection:
            connection.execute(insert(model), [row])
        engine.dispose()

    return write


def _at_once(count: int, work: Callable[[int], object]) -> list:
    """Run `work(0..count-1)` in threads released together; their results (an
    exception in any of them is raised here)."""
    start = threading.Barrier(count)

    def run(n: int) -> object:
        start.wait()
        return work(n)

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(run, n) for n in range(count)]
        return [future.result(timeout=120) for future in futures]


def test_a_run_keeps_its_look_up_date_counts_and_moments(database_url):
    store = Store(database_url)
    run_id = store.start_run("garbage-bags", "2027", date(2027, 1, 4), "flow-1")
    store.finish_run(run_id, "completed", {"granted": 3, "review": 1})
    with Session(store.engine) as session:
        run = session.get(Run, run_id)
    assert (run.as_of, run.status, run.flow_run_id) == (
        date(2027, 1, 4),
        "completed",
        "flow-1",
    )
    assert json.loads(run.counts) == {"granted": 3, "review": 1}
    assert run.started_at.utcoffset() == timedelta(0)
    assert run.started_at <= run.finished_at


def test_moments_read_back_unchanged_and_days_are_cut_in_brussels(database_url):
    store = Store(database_url)
    # the night the clocks go forward: 23:30 UTC is 01:30 on the 29th in Brussels
    late = datetime(2027, 3, 28, 23, 30, tzinfo=UTC)
    store.audit("an.balie", "desk_check", at=late, detail="yes")
    store.audit("an.balie", "desk_check", at=late - timedelta(hours=2), detail="no")
    monday = datetime(2027, 3, 29, tzinfo=BRUSSELS)
    events, total = store.audit_events(
        actor="an.balie", since=monday, until=monday + timedelta(days=1)
    )
    assert total == 1
    assert (events[0].detail, events[0].at) == ("yes", late)
    everything, _ = store.audit_events(actor="an.balie")
    assert [e.detail for e in everything] == ["yes", "no"]  # newest first


def test_a_run_replaces_a_review_but_never_a_grant_or_a_reviewers_word(database_url):
    store = Store(database_url)
    store.save_decisions(
        [
            _decision(AN, "granted"),
            _decision(BERT, "review", reasons="status_unknown"),
            _decision("92681512345", "not_granted", rule_version="review:7"),
        ]
    )
    store.save_decisions(
        [
            _decision(AN, "not_granted"),
            _decision(BERT, "granted"),
            _decision("92681512345", "granted"),
        ]
    )
    decisions = store.decisions("garbage-bags", "2027")
    assert {s: d.outcome for s, d in decisions.items()} == {
        AN: "granted",
        BERT: "granted",
        "92681512345": "not_granted",
    }
    assert decisions[BERT].amount_cents == 4500
    assert set(store.final_decisions("garbage-bags", "2027")) == {
        AN,
        BERT,
        "92681512345",
    }


def test_a_grant_stored_by_another_writer_meanwhile_stands(database_url):
    store = Store(database_url)
    race = _before_first_insert_into(
        store,
        "decision",
        _other_writer(database_url, Decision, _decision(AN, "granted")),
    )
    store.save_decisions([_decision(AN, "not_granted"), _decision(BERT, "granted")])
    assert race, "the other writer did not run"
    decisions = store.decisions("garbage-bags", "2027")
    assert {s: d.outcome for s, d in decisions.items()} == {
        AN: "granted",
        BERT: "granted",
    }
    assert store.count(Decision) == 2


def test_a_case_opened_by_another_writer_meanwhile_is_updated_not_doubled(
    database_url,
):
    store = Store(database_url)
    theirs = {
        "benefit": "uitpas",
        "period": "2027",
        "run_id": "desk",
        "status": "open",
        "created_at": datetime(2027, 1, 4, 9, tzinfo=UTC),
        **_case(AN, "registry_failed"),
    }
    race = _before_first_insert_into(
        store, "review_case", _other_writer(database_url, ReviewCase, theirs)
    )
    opened, closed = store.sync_review_cases(
        "uitpas", "2027", "run-2", {AN: _case(AN, "status_unknown")}
    )
    assert race, "the other writer did not run"
    assert (opened, closed) == (0, 0)  # the other writer had opened it
    cases = store.open_review_cases("uitpas", "2027")
    assert {s: (c.reasons, c.run_id) for s, c in cases.items()} == {
        AN: ("status_unknown", "run-2")
    }
    assert store.count(ReviewCase) == 1


def test_desk_checks_of_one_citizen_at_once_open_one_case(database_url):
    store = Store(database_url)
    row = _decision(AN, "review", reasons="registry_failed") | {"benefit": "uitpas"}
    _at_once(8, lambda n: store.record_on_the_spot(row, settled_by=f"desk {n}"))
    assert store.count(ReviewCase, status="open") == 1
    assert store.decisions("uitpas", "2027")[AN].outcome == "review"


def test_grants_at_the_desk_at_once_store_one_grant_and_settle_the_case(
    database_url,
):
    store = Store(database_url)
    store.sync_review_cases("uitpas", "2027", "run-1", {AN: _case(AN, "vt_member")})
    grant = _decision(AN, "granted") | {"benefit": "uitpas"}
    _at_once(6, lambda n: store.record_grants([grant], settled_by=f"desk {n}"))
    assert store.count(Decision, outcome="granted") == 1
    assert store.open_review_cases("uitpas", "2027") == {}


def test_a_case_is_not_reopened_while_another_of_its_subject_is_open(database_url):
    store = Store(database_url)
    store.sync_review_cases("uitpas", "2027", "run-1", {AN: _case(AN, "vt_member")})
    first = store.open_review_cases("uitpas", "2027")[AN]
    store.decide_review_case(
        first.id, outcome="not_granted", decided_by="bert", motivation="geen grond"
    )
    store.sync_review_cases("uitpas", "2027", "run-2", {AN: _case(AN, "vt_member")})
    second = store.open_review_cases("uitpas", "2027")[AN]
    with pytest.raises(ReviewCaseStateError, match=f"case {second.id} of the same"):
        store.reopen_review_case(first.id, "nieuw bewijs")
    assert store.review_case(first.id).status == "decided"
    store.decide_review_case(
        second.id, outcome="handled", decided_by="bert", motivation="dubbel"
    )
    reopened = store.reopen_review_case(first.id, "nieuw bewijs")
    assert (reopened.status, reopened.closed_at) == ("open", None)
    assert store.decisions("uitpas", "2027")[AN].outcome == "review"


def test_a_document_is_recorded_once_and_marked_written(database_url):
    store = Store(database_url)
    letter = {
        "idempotency_key": f"garbage-bags:2027:{AN}",
        "benefit": "garbage-bags",
        "period": "2027",
        "subject": AN,
        "kind": "letter",
        "reference": "GB-2027-0001",
        "path": "/out/GB-2027-0001.pdf",
        "run_id": "run-1",
    }
    store.record_documents([letter])
    with pytest.raises(IntegrityError) as refused:
        store.record_documents([letter])
    # the whole report, as a log would show it: the constraint, never the values
    report = "".join(traceback.format_exception(refused.value))
    assert "idempotency_key" in report
    assert AN not in report
    store.mark_documents_written([letter["idempotency_key"]])
    (document,) = store.documents("garbage-bags", "2027").values()
    assert document.status == "written"
    assert document.recorded_at <= document.written_at
    assert store.count(Document) == 1


def test_held_invoices_keep_their_flags_and_lines_and_follow_a_rerun(database_url):
    store = Store(database_url)

    def held(subject: str, discount: bool, quantity: str) -> dict:
        return {
            "idempotency_key": f"school-tariffs:2026-2027/1:GENT-BS-001:{subject}",
            "benefit": "school-tariffs",
            "period": "2026-2027/1",
            "subject": subject,
            "subject_ref": f"P-{subject[-4:]}",
            "school_year": "2026-2027",
            "check": 1,
            "school_id": "GENT-BS-001",
            "school_name": "Basisschool De Linde",
            "pupil_class": "3B",
            "family_discount": discount,
            "lines": json.dumps(
                [{"item": "meals", "quantity": quantity, "unit_price": "3.50"}]
            ),
            "run_id": "run-1",
        }

    store.hold_invoices([held(BERT, False, "10"), held(AN, True, "12")])
    store.hold_invoices([held(AN, True, "14")])  # a corrected file
    invoices = store.held_invoices("school-tariffs", "2026-2027/1")
    assert [(i.subject, i.family_discount) for i in invoices] == [
        (AN, True),
        (BERT, False),
    ]
    assert json.loads(invoices[0].lines)[0]["quantity"] == "14"
    assert store.held_invoices("school-tariffs", "2026-2027/1", [AN])[0].check == 1


def test_an_account_is_locked_after_five_wrong_passwords(database_url):
    from proactief.web.accounts import Accounts, LoginResult

    accounts = Accounts(Store(database_url))
    accounts.create("an.balie", "desk", "een lang wachtwoord", "An Balie")
    results = [accounts.authenticate("an.balie", "fout")[0] for _ in range(5)]
    assert results == [LoginResult.WRONG] * 4 + [LoginResult.JUST_LOCKED]
    assert accounts.authenticate("an.balie", "een lang wachtwoord")[0] == "locked"
    accounts.unlock("an.balie")
    result, account = accounts.authenticate("an.balie", "een lang wachtwoord")
    assert (result, account.active, account.locked_until) == ("ok", True, None)
    token = accounts.start_session(account)
    assert accounts.resume(token).username == "an.balie"


def test_an_api_key_opens_the_api_until_it_is_revoked(database_url):
    from proactief.web.apikeys import ApiKeys

    keys = ApiKeys(Store(database_url))
    key = keys.create("lez-permits")
    assert keys.client_of(key) == "lez-permits"
    assert keys.revoke("lez-permits") == 1
    assert keys.client_of(key) is None
    (client,) = keys.all()
    assert client.revoked_at.utcoffset() == timedelta(0)


def test_twenty_plates_at_once_register_one_per_card(database_url):
    store = Store(database_url)
    until = date(2028, 12, 31)

    def register(n: int) -> LezRegistration | None:
        return store.register_lez_vehicle(
            card_holder=AN,
            card_holder_ref="P-3360",
            plate=f"1ABC{n:03d}",
            applicant_ref="P-3360",
            client="lez-permits",
            valid_until=until,
        )

    registered = [r for r in _at_once(20, register) if r is not None]
    assert len(registered) == 1
    assert store.count(LezRegistration) == 1
    # the same plate again is confirmed, with the later end date
    plate = registered[0].plate
    again = store.register_lez_vehicle(
        card_holder=AN,
        card_holder_ref="P-3360",
        plate=plate,
        applicant_ref="P-3360",
        client="lez-permits",
        valid_until=until + timedelta(days=365),
    )
    assert (again.id, again.valid_until) == (registered[0].id, date(2029, 12, 31))
    # another card is not held up by the first
    other = store.register_lez_vehicle(
        card_holder=BERT,
        card_holder_ref="P-2395",
        plate="2XYZ999",
        applicant_ref="P-2395",
        client="lez-permits",
        valid_until=until,
    )
    assert other is not None
    due = lez_registrations_due(store, date(2029, 1, 31))
    assert [r.plate for r in due] == ["2XYZ999"]
    assert renew_lez_registration(
        store, due[0].id, valid_until=date(2029, 12, 31), ending_reasons="card_ended"
    )
    assert not renew_lez_registration(store, due[0].id, valid_until=date(2030, 1, 1))
    with Session(store.engine) as session:
        ending = session.exec(
            select(LezRegistration).where(LezRegistration.status == "ending")
        ).one()
    assert (ending.plate, ending.valid_until) == ("2XYZ999", date(2029, 12, 31))
