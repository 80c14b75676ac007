"""What an operator sees of a run in the Prefect UI: the run's report artifact lists
the review cases it opened (by pseudonymous reference and reason), the documents it
produced, its registry consultations and failures and the time per step, and
nothing personal."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import date
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from sqlmodel import Session, select

from flows.garbage_bags import garbage_bags_flow
from proactief.magda.client import ANSWERED_RESULT_CODES
from proactief.magda.simulator import running_simulator
from proactief.run_report import PERSONAL_REASON_WORDS, operational_reasons
from proactief.store import Consultation, Document, ReviewCase, Run, Store

from .conftest import YEAR

JANUARY = date(2027, 1, 4)
STEPS = (
    "cohort",
    "registry look-ups",
    "quality checks",
    "decisions",
    "recipients' addresses",
    "letters",
    "decisions file",
    "total",
)
STATUS_NAMES = ("BIM_BVT", "LIVING_WAGES_PCSA_HELP", "GENT_PARKING_ADULT")


@pytest.fixture(scope="module")
def faulty_run(city, tmp_path_factory):
    """A garbage-bag run against a registry that fails 20 % of requests (99996),
    so that the report has failures and registry review cases to show."""
    work = tmp_path_factory.mktemp("artifacts")
    database = f"sqlite:///{work / 'store.db'}"
    with running_simulator(city, latency_ms=1, fail_rate=0.2, seed=5) as url:
        summary = asyncio.run(
            garbage_bags_flow(
                city=str(city),
                registry=url,
                out=str(work / "out"),
                year=YEAR,
                as_of=JANUARY,
                database=database,
            )
        )
    store = Store(database)
    flow_run_id = _run_row(store, summary.run_id).flow_run_id

    async def read():
        async with get_client() as client:
            return await client.read_artifacts()

    artifacts = [a for a in asyncio.run(read()) if a.flow_run_id == UUID(flow_run_id)]
    return {"summary": summary, "store": store, "artifacts": artifacts}


def _report(faulty_run) -> str:
    [report] = [
        a for a in faulty_run["artifacts"] if a.key == f"garbage-bags-{YEAR}-report"
    ]
    assert report.type == "markdown"
    return report.data


def _rows(markdown: str, section: str) -> list[list[str]]:
    """The table rows under a '## section' heading, header and rule left out."""
    part = markdown.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in part.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def test_the_report_lists_every_review_case_the_run_opened_by_reference(faulty_run):
    store, summary = faulty_run["store"], faulty_run["summary"]
    markdown = _report(faulty_run)
    stored = _cases(store, summary.run_id)
    # the report leaves out the reasons that name a status or an income
    cases = {(c.subject_ref, operational_reasons(c.reasons)) for c in stored}
    assert len(cases) >= 10  # a 20 % fault rate defeats some retries
    assert any("registry_failed" in reasons for _, reasons in cases)
    assert any("vt_member" in c.reasons for c in stored)  # so there is one to hide
    heading = f"Review cases opened or changed by this run: {len(cases)}"
    assert heading in markdown
    rows = _rows(markdown, heading)
    assert {(ref, reasons) for ref, benefit, reasons in rows} == cases
    shown = {word for *_, reasons in rows for word in re.split(r"[_,]", reasons)}
    assert not shown & PERSONAL_REASON_WORDS
    assert all(benefit == "garbage-bags" for _, benefit, _ in rows)
    assert all(re.fullmatch(r"P-[0-9a-f]+", ref) for ref, _, _ in rows)


def _run_row(store: Store, run_id: str) -> Run:
    with Session(store.engine) as session:
        return session.get(Run, run_id)


def _cases(store: Store, run_id: str) -> list[ReviewCase]:
    with Session(store.engine) as session:
        return list(
            session.exec(
                select(ReviewCase).where(
                    ReviewCase.run_id == run_id, ReviewCase.status == "open"
                )
            )
        )


def test_the_report_counts_the_documents_and_names_the_print_file(faulty_run):
    store, summary = faulty_run["store"], faulty_run["summary"]
    markdown = _report(faulty_run)
    written = store.count(Document, run_id=summary.run_id, status="written")
    assert written == summary.letters_written > 100
    assert _rows(markdown, "Documents recorded by this run") == [
        ["voucher_letter", "written", str(written)]
    ]
    assert f"- print files: `{summary.print_file}`" in markdown
    assert f"- decisions: `{summary.decisions_file}`" in markdown


def test_the_report_counts_registry_requests_and_failures_as_the_store_does(
    faulty_run,
):
    store, summary = faulty_run["store"], faulty_run["summary"]
    markdown = _report(faulty_run)
    total = store.count(Consultation, run_id=summary.run_id)
    faults = store.count(Consultation, run_id=summary.run_id, result_code="99996")
    # on a loaded machine a request may also time out or lose its connection:
    # the report counts every request the registry did not answer
    failed = total - sum(
        store.count(Consultation, run_id=summary.run_id, result_code=code)
        for code in ANSWERED_RESULT_CODES
    )
    assert faults > 0 and total == summary.registry_requests
    assert f"{total} requests, {failed} of them not answered." in markdown
    rows = _rows(markdown, "Registry consultations")
    by_result = {(service, code): int(n) for service, code, n, *_ in rows}
    assert sum(by_result.values()) == total
    assert sum(n for (_, code), n in by_result.items() if code == "99996") == faults
    assert {code for _, code in by_result} <= ANSWERED_RESULT_CODES | {
        "99996",
        "timeout",
        "connection-error",
    }
    services = {service for service, _ in by_result}
    assert {"GeefPersoon", "GeefSociaalStatuut"} <= {s.split("-")[0] for s in services}
    retries = sum(int(row[3]) for row in rows)
    assert retries == store.count(Consultation, run_id=summary.run_id, attempt=2) + (
        store.count(Consultation, run_id=summary.run_id, attempt=3)
        + store.count(Consultation, run_id=summary.run_id, attempt=4)
    )


def test_the_report_gives_the_time_of_every_step(faulty_run):
    rows = _rows(_report(faulty_run), "Time per step")
    assert [step for step, _ in rows] == list(STEPS)
    seconds = {step: float(value) for step, value in rows}
    assert all(value >= 0 for value in seconds.values())
    parts = sum(v for k, v in seconds.items() if k != "total")
    assert seconds["total"] == pytest.approx(parts, abs=0.1 * len(STEPS))


def test_the_run_keeps_its_counts_and_the_artifacts_hold_nothing_personal(
    city, faulty_run
):
    store, summary = faulty_run["store"], faulty_run["summary"]
    keys = {a.key for a in faulty_run["artifacts"]}
    assert {f"garbage-bags-{YEAR}", f"garbage-bags-{YEAR}-report"} <= keys
    run = _run_row(store, summary.run_id)
    assert run.status == "completed"
    assert json.loads(run.counts)["letters_written"] == summary.letters_written

    text = json.dumps([a.data for a in faulty_run["artifacts"]]) + " ".join(
        a.description or "" for a in faulty_run["artifacts"]
    )
    people = [json.loads(line) for line in (city / "population.jsonl").open()]
    leaks = [
        value
        for person in people
        for value in (person["insz"], person["last_name"])
        if value in text
    ]
    leaks += [
        income["taxable_income"]
        for person in people
        for income in person["incomes"]
        if income["taxable_income"] in text
    ]
    leaks += [name for name in STATUS_NAMES if name in text]
    assert leaks == []
