"""The lez-renewal flow end to end: registrations and day-pass tariffs in the store,
the simulator over HTTP (behind a small proxy that fails one person's requests), a
real Prefect flow, the store and the letters read back, and the same run again."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from flows.lez_renewal import lez_renewal_flow
from proactief.config import Settings
from proactief.insz import pseudonym
from proactief.lez import LezPart
from proactief.publishing import document_reference
from proactief.store import Decision, Document, LezRegistration, ReviewCase, Store
from rules import lez
from rules.outcomes import Outcome
from tasks.lez import DueRegistration, day_pass_decision, registration_verdict

from .failing_proxy import failing_for
from .oracle import read_decisions
from .print_files import printed_references, set_back_to_recorded

AS_OF = date(2027, 12, 6)  # a renewal of December: day-pass tariffs included
HORIZON = date(2028, 2, 6)
VERSION = lez.rule_version()
KEY = Settings.from_env().pseudonym_key


def _load_cast():
    # The LEZ cast (tests/lez/cast.py) picks people off the city; loaded by path,
    # as the two test folders are separate packages.
    path = Path(__file__).parents[1] / "lez" / "cast.py"
    spec = importlib.util.spec_from_file_location("lez_cast_for_flows", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.lez_cast


lez_cast = _load_cast()


def _run(registry: str, work: Path, database: str, **kwargs):
    return asyncio.run(
        lez_renewal_flow(
            registry=registry,
            out=str(work / "out"),
            as_of=kwargs.pop("as_of", AS_OF),
            database=database,
            **kwargs,
        )
    )


def _register(database: str, holder: str, plate: str, until: date, **fields) -> int:
    """A registration as the LEZ API writes it."""
    row = LezRegistration(
        card_holder=holder,
        card_holder_ref=pseudonym(holder, KEY),
        plate=plate,
        applicant_ref=pseudonym(holder, KEY),
        client="lez-permits",
        valid_until=until,
        **fields,
    )
    with Session(Store(database).engine) as session:
        session.add(row)
        session.commit()
        return row.id


def _grant_day_passes(database: str, period: str, decisions: dict[str, str]) -> None:
    """Day-pass decisions as the LEZ API writes them."""
    store = Store(database)
    store.save_decisions(
        [
            {
                "benefit": "lez-day-pass",
                "period": period,
                "subject": subject,
                "subject_ref": pseudonym(subject, KEY),
                "outcome": outcome,
                "reasons": "vt" if outcome == "granted" else "no_vt",
                "rule_version": VERSION,
                "run_id": f"api:{period}-03-15",
            }
            for subject, outcome in decisions.items()
        ]
    )


def _registrations(database: str) -> dict[int, tuple]:
    with Session(Store(database).engine) as session:
        rows = session.exec(select(LezRegistration)).all()
    return {
        r.id: (r.status, r.valid_until, r.end_reason, r.checked_at.isoformat())
        for r in rows
    }


@pytest.fixture(scope="module")
def people(city) -> list[dict]:
    with (city / "population.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope="module")
def cast(people) -> dict[str, str]:
    return {role: person["insz"] for role, person in lez_cast(people, AS_OF).items()}


@pytest.fixture(scope="module")
def renewal(registry, cast, tmp_path_factory, new_database):
    """The store as the LEZ API left it, the renewal, and the same run again."""
    work = tmp_path_factory.mktemp("lez-renewal")
    database = new_database()
    ids = {
        # due: they end on or before 6 February 2028
        "extended": _register(
            database, cast["card_and_vt"], "1ABC123", date(2028, 1, 31)
        ),
        "ending": _register(database, cast["card_only"], "2DEF456", date(2028, 1, 15)),
        "failing": _register(database, cast["second_card_and_vt"], "3GHI789", HORIZON),
        # not due, or no longer active
        "later": _register(database, cast["vt_only"], "4JKL012", date(2030, 5, 1)),
        "ended_by_reviewer": _register(
            database, cast["neither"], "5MNO345", date(2028, 1, 20), status="ending"
        ),
    }
    _grant_day_passes(
        database,
        "2027",
        {
            cast["vt_only"]: "granted",
            cast["neither"]: "granted",
            cast["card_and_vt"]: "granted",
            cast["second_card_and_vt"]: "granted",
            cast["relative_same_address"]: "granted",
            cast["relative_elsewhere"]: "not_granted",
        },
    )
    _grant_day_passes(database, "2028", {cast["relative_same_address"]: "granted"})
    with failing_for(registry, cast["second_card_and_vt"]) as proxy:
        first = _run(proxy, work, database)
        after_first = {
            "registrations": _registrations(database),
            "file": (work / "out" / "decisions.csv").read_text(encoding="utf-8"),
            "counts": {
                model: Store(database).count(model)
                for model in (Decision, ReviewCase, Document)
            },
        }
        again = _run(proxy, work, database)
    return {
        "work": work,
        "database": database,
        "ids": ids,
        "first": first,
        "again": again,
        "after_first": after_first,
    }


def test_registrations_are_extended_ending_or_left_for_review(cast, renewal):
    rows = _registrations(renewal["database"])
    ids = renewal["ids"]
    status = {role: rows[ids[role]][:3] for role in ids}
    assert status == {
        # five years from the look-up date: the card and the allowance run on
        "extended": ("active", date(2032, 12, 6), None),
        # ending is never automatic: it ends on its date unless a reviewer says
        "ending": ("ending", date(2028, 1, 15), "renewal_not_qualifying,no_vt"),
        # the registry kept failing: nothing ends, a reviewer looks
        "failing": ("active", HORIZON, None),
        "later": ("active", date(2030, 5, 1), None),
        "ended_by_reviewer": ("ending", date(2028, 1, 20), None),
    }


def test_the_2028_day_pass_decisions_are_exactly_those_the_renewal_must_make(
    cast, renewal
):
    actual = read_decisions(renewal["work"] / "out" / "decisions.csv")
    expected = {
        cast["vt_only"]: ("granted", "renewed", VERSION),
        cast["card_and_vt"]: ("granted", "renewed", VERSION),
        cast["neither"]: ("review", "renewal_not_qualifying,no_vt", VERSION),
        cast["second_card_and_vt"]: ("review", "registry_failed", VERSION),
        # granted for 2028 before this run: left as it was
        cast["relative_same_address"]: ("granted", "vt", VERSION),
    }
    assert {
        s: (row["outcome"], row["reasons"], row["rule_version"])
        for s, row in actual.items()
    } == expected
    assert {(row["benefit"], row["period"]) for row in actual.values()} == {
        ("lez-day-pass", "2028")
    }


def test_review_cases_wait_for_every_ending_and_every_failure(cast, renewal):
    store = Store(renewal["database"])
    cases = {
        (benefit, period): {
            s: c.reasons for s, c in store.open_review_cases(benefit, period).items()
        }
        for benefit, period in (
            ("lez-free-registration", "2028-01-15"),
            ("lez-free-registration", "2028-02-06"),
            ("lez-day-pass", "2028"),
        )
    }
    assert cases == {
        ("lez-free-registration", "2028-01-15"): {
            cast["card_only"]: "renewal_not_qualifying,no_vt"
        },
        ("lez-free-registration", "2028-02-06"): {
            cast["second_card_and_vt"]: "registry_failed"
        },
        ("lez-day-pass", "2028"): {
            cast["neither"]: "renewal_not_qualifying,no_vt",
            cast["second_card_and_vt"]: "registry_failed",
        },
    }
    assert store.count(ReviewCase) == 4


def test_the_summary_counts_what_was_extended_and_what_ends(renewal):
    first = renewal["first"]
    assert first.counts() | {"registry_requests": 0, "registry_requests_failed": 0} == {
        "registrations_due": 3,
        "registrations_extended": 1,
        "registrations_ending": 1,
        "registrations_review": 1,
        "day_passes_granted": 5,
        "day_passes_settled_before": 1,
        "day_passes_checked": 4,
        "day_passes_extended": 2,
        "day_passes_ending": 1,
        "day_passes_review": 1,
        "review_cases_opened": 4,
        "review_cases_closed": 0,
        "registry_requests": 0,
        "registry_requests_failed": 0,
        "letters_written": 2,
        "letters_held_for_review": 0,
        "letters_already_sent": 0,
    }
    # every attempt about the failing person, three services and their retries
    assert first.registry_failures >= 4 * 3


def _text(path: Path) -> str:
    from pypdf import PdfReader

    return " ".join(
        " ".join(page.extract_text() for page in PdfReader(path).pages).split()
    )


def test_each_ending_gets_one_dutch_letter_saying_when_unless_they_react(
    cast, people, renewal
):
    letters_dir = renewal["work"] / "out" / "letters"
    by_name = {p["insz"]: p for p in people}
    registration = f"LZ-2028-01-15-{pseudonym(cast['card_only'], KEY)[2:]}.pdf"
    day_pass = f"LD-2028-{pseudonym(cast['neither'], KEY)[2:]}.pdf"
    assert sorted(p.name for p in letters_dir.glob("*.pdf")) == sorted(
        [registration, day_pass]
    )

    text = _text(letters_dir / registration)
    assert "gratis registratie in de lage-emissiezone loopt af op 15 januari 2028" in (
        text
    )
    assert "2DEF456" in text and "tenzij u vóór die datum reageert" in text
    assert by_name[cast["card_only"]]["last_name"] in text

    text = _text(letters_dir / day_pass)
    assert "sociaal tarief voor dagpassen loopt af op 31 december 2027" in text
    assert "parkeerkaart" not in text
    assert by_name[cast["neither"]]["last_name"] in text

    for path in (letters_dir / registration, letters_dir / day_pass):
        text = _text(path)
        assert not any(insz in text for insz in cast.values())
        for name in ("BIM_BVT", "GENT_PARKING", "verhoogde tegemoetkoming", "no_vt"):
            assert name not in text
    documents = {
        **Store(renewal["database"]).documents("lez-free-registration", "2028-01-15"),
        **Store(renewal["database"]).documents("lez-day-pass", "2028"),
    }
    assert {(d.subject, d.status, d.kind) for d in documents.values()} == {
        (cast["card_only"], "written", "lez_ending_letter"),
        (cast["neither"], "written", "lez_ending_letter"),
    }
    assert (letters_dir / "print").is_dir()


def test_a_rerun_extends_nothing_twice_and_writes_no_letter_twice(renewal):
    again = renewal["again"]
    assert (again.registrations_due, again.registrations_review) == (1, 1)
    assert (again.registrations_extended, again.registrations_ending) == (0, 0)
    assert (again.day_passes_settled_before, again.day_passes_checked) == (3, 2)
    assert (again.day_passes_extended, again.day_passes_ending) == (0, 1)
    assert (again.review_opened, again.review_closed) == (0, 0)
    assert (again.letters_written, again.letters_already_sent) == (0, 2)
    before = renewal["after_first"]
    assert _registrations(renewal["database"]) == before["registrations"]
    work = renewal["work"]
    assert (work / "out" / "decisions.csv").read_text(encoding="utf-8") == before[
        "file"
    ]
    store = Store(renewal["database"])
    assert {m: store.count(m) for m in before["counts"]} == before["counts"]


def test_the_artifact_carries_counts_and_no_personal_data(cast, people, renewal):
    from prefect.client.orchestration import get_client

    async def artifacts():
        async with get_client() as client:
            return await client.read_artifacts()

    found = [a for a in asyncio.run(artifacts()) if a.key == "lez-renewal-2027-12-06"]
    assert found
    data = found[0].data
    table = json.loads(data) if isinstance(data, str) else data
    measures = {row["measure"] for row in table}
    assert {"registrations_extended", "registrations_ending", "letters_written"} <= (
        measures
    )
    text = json.dumps([a.data for a in found]) + " ".join(
        a.description or "" for a in found
    )
    for person in people:
        assert person["insz"] not in text
    for insz in cast.values():
        person = next(p for p in people if p["insz"] == insz)
        assert person["last_name"] not in text
    for plate in ("1ABC123", "2DEF456", "3GHI789"):
        assert plate not in text
    assert "BIM_BVT" not in text and "GENT_PARKING" not in text


def test_before_november_the_day_pass_tariffs_are_not_yet_due(
    registry, cast, tmp_path, database_url
):
    database = database_url
    _register(database, cast["card_and_vt"], "1ABC123", date(2027, 7, 31))
    _grant_day_passes(database, "2027", {cast["vt_only"]: "granted"})
    summary = _run(registry, tmp_path, database, as_of=date(2027, 6, 7))
    assert summary.day_pass_year is None
    assert (summary.registrations_due, summary.registrations_extended) == (1, 1)
    assert (summary.day_passes_granted, summary.day_passes_checked) == (0, 0)
    assert summary.decisions_file is None
    (row,) = _registrations(database).values()
    assert row[:2] == ("active", date(2032, 6, 7))


def test_nothing_due_makes_no_registry_request(registry, tmp_path, database_url):
    summary = _run(registry, tmp_path, database_url, as_of=date(2027, 6, 7))
    assert (summary.registrations_due, summary.registry_requests) == (0, 0)
    assert summary.letters_written == 0


def test_the_command_line_renews_and_prints_counts_only(
    registry, cast, people, tmp_path, database_url
):
    from proactief.cli import app

    database = database_url
    _register(database, cast["card_and_vt"], "1ABC123", date(2028, 1, 31))
    _register(database, cast["card_only"], "2DEF456", date(2028, 1, 15))
    result = CliRunner().invoke(
        app,
        [
            "run",
            "lez-renewal",
            "--registry",
            registry,
            "--out",
            str(tmp_path / "out"),
            "--as-of",
            "2027-12-06",
            "--database",
            database,
        ],
    )
    assert result.exit_code == 0, result.output[-3000:]
    assert "registrations extended:       1" in result.output
    assert "registrations ending (review): 1" in result.output
    assert "letters written:              1" in result.output
    for person in people:
        assert person["insz"] not in result.output
    for insz in cast.values():
        person = next(p for p in people if p["insz"] == insz)
        assert f" {person['last_name']} " not in f" {result.output} "
    assert "2DEF456" not in result.output


def test_a_bad_registry_url_or_date_is_refused_before_the_run(tmp_path):
    from proactief.cli import app

    runner = CliRunner()
    no_scheme = runner.invoke(
        app,
        ["run", "lez-renewal", "--registry", "127.0.0.1:8700", "--out", str(tmp_path)],
    )
    assert no_scheme.exit_code == 2 and "needs a scheme" in no_scheme.output
    bad_date = runner.invoke(
        app,
        [
            "run",
            "lez-renewal",
            "--registry",
            "http://127.0.0.1:8700",
            "--out",
            str(tmp_path),
            "--as-of",
            "6/12/2027",
        ],
    )
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.output


# -- a rerun after a run stopped while its letters were being printed ------------

LETTER_REFERENCE = re.compile(r"L[ZD]-2028-(?:01-15-)?[0-9a-f]{12}")


def _printed_references(letters_dir: Path) -> Counter:
    return printed_references(letters_dir, LETTER_REFERENCE)


def _ending_documents(database: str) -> list[Document]:
    store = Store(database)
    return [
        *store.documents("lez-free-registration", "2028-01-15").values(),
        *store.documents("lez-day-pass", "2028").values(),
    ]


@pytest.fixture
def published_in_two_batches(registry, cast, tmp_path, database_url, monkeypatch):
    """A renewal with two endings (a registration, a day-pass tariff) whose letters
    went out in two print files, one letter each."""
    monkeypatch.setenv("PROACTIEF_RENDER_BATCH", "1")
    _register(database_url, cast["card_only"], "2DEF456", date(2028, 1, 15))
    _grant_day_passes(database_url, "2027", {cast["neither"]: "granted"})
    first = _run(registry, tmp_path, database_url)
    letters_dir = tmp_path / "out" / "letters"
    references = {
        document_reference("LZ", "2028-01-15", pseudonym(cast["card_only"], KEY)),
        document_reference("LD", "2028", pseudonym(cast["neither"], KEY)),
    }
    assert (first.letters_written, first.letters_already_sent) == (2, 0)
    assert first.print_file == str(letters_dir / "print")
    print_files = sorted((letters_dir / "print").glob("*.pdf"))
    assert [p.name for p in print_files] == [
        f"run-{first.run_id[:12]}-001.pdf",
        f"run-{first.run_id[:12]}-002.pdf",
    ]
    assert _printed_references(letters_dir) == Counter(references)
    return {
        "database": database_url,
        "work": tmp_path,
        "letters_dir": letters_dir,
        "print_files": print_files,
        "references": references,
    }


def test_a_rerun_only_marks_written_the_letters_a_stopped_run_had_printed(
    registry, published_in_two_batches
):
    run = published_in_two_batches
    last = run["print_files"][-1]
    stopped = set_back_to_recorded(run["database"], last)
    assert len(stopped) == 1

    again = _run(registry, run["work"], run["database"])

    assert (again.letters_written, again.letters_already_sent) == (0, 2)
    assert (again.letters_held, again.print_file) == (0, None)
    assert sorted((run["letters_dir"] / "print").glob("*.pdf")) == run["print_files"]
    assert _printed_references(run["letters_dir"]) == Counter(run["references"])
    documents = _ending_documents(run["database"])
    assert {d.status for d in documents} == {"written"}
    assert {d.reference for d in documents if d.print_file == str(last)} == stopped


def test_a_rerun_prints_once_the_letters_a_stopped_run_recorded_but_did_not_print(
    registry, published_in_two_batches
):
    run = published_in_two_batches
    last = run["print_files"][-1]
    stopped = set_back_to_recorded(run["database"], last)
    last.unlink()  # the run was stopped before this print file was written

    again = _run(registry, run["work"], run["database"])

    assert (again.letters_written, again.letters_already_sent) == (1, 1)
    assert again.print_file == str(run["letters_dir"] / "print")
    new_file = run["letters_dir"] / "print" / f"run-{again.run_id[:12]}-001.pdf"
    assert sorted((run["letters_dir"] / "print").glob("*.pdf")) == sorted(
        [run["print_files"][0], new_file]
    )
    # each letter went out exactly once; that of the stopped batch in the new file
    assert _printed_references(run["letters_dir"]) == Counter(run["references"])
    documents = _ending_documents(run["database"])
    assert {d.status for d in documents} == {"written"}
    assert {d.reference for d in documents if d.print_file == str(new_file)} == stopped


# -- what a check means for a registration or a tariff ---------------------------

DUE = DueRegistration(1, "00000000000", "P-000000000000", "1ABC123", date(2028, 1, 31))


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        (
            LezPart(Outcome.GRANTED, date(2032, 12, 6), ("parking_card_and_vt",)),
            ("extended", date(2032, 12, 6), ()),
        ),
        # the card ends within the window, after the registration: it runs until
        # the card ends, and the citizen is told
        (
            LezPart(Outcome.GRANTED, date(2028, 2, 3), ("parking_card_and_vt",)),
            ("ending", date(2028, 2, 3), ("renewal_status_ends",)),
        ),
        # the allowance ends before the registration: nothing is cut short
        (
            LezPart(Outcome.GRANTED, date(2027, 12, 20), ("parking_card_and_vt",)),
            ("ending", date(2028, 1, 31), ("renewal_status_ends",)),
        ),
        (
            LezPart(Outcome.NOT_GRANTED, None, ("no_parking_card",)),
            (
                "ending",
                date(2028, 1, 31),
                ("renewal_not_qualifying", "no_parking_card"),
            ),
        ),
        (
            LezPart(Outcome.REVIEW, None, ("person_deceased",)),
            ("review", date(2028, 1, 31), ("person_deceased",)),
        ),
    ],
)
def test_what_a_check_means_for_a_registration(part, expected):
    verdict = registration_verdict(DUE, part, HORIZON)
    assert (verdict.kind, verdict.valid_until, verdict.reasons) == expected


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        (
            LezPart(Outcome.GRANTED, date(2028, 12, 31), ("vt",)),
            ("granted", ("renewed",)),
        ),
        (
            LezPart(Outcome.GRANTED, date(2028, 3, 31), ("vt",)),
            ("granted", ("renewed",)),
        ),
        # the allowance ends this year: no tariff for next year without a human
        (
            LezPart(Outcome.GRANTED, date(2027, 12, 31), ("vt",)),
            ("review", ("renewal_status_ends",)),
        ),
        (
            LezPart(Outcome.NOT_GRANTED, None, ("no_vt",)),
            ("review", ("renewal_not_qualifying", "no_vt")),
        ),
        (
            LezPart(Outcome.REVIEW, None, ("registry_failed",)),
            ("review", ("registry_failed",)),
        ),
    ],
)
def test_what_a_check_means_for_a_day_pass_tariff(part, expected):
    decision = day_pass_decision(part, 2027)
    assert (decision.outcome.value, decision.reasons) == expected
