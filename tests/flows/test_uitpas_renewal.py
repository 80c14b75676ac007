"""The uitpas-renewal flow end to end: desk grants of 2026 in the store, the simulator
over HTTP (behind a small proxy that fails one person's requests), a real Prefect
flow, the decisions of 2027 read back."""

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
from typer.testing import CliRunner

from flows.uitpas_renewal import uitpas_renewal_flow
from proactief.config import Settings
from proactief.errors import CohortError
from proactief.insz import pseudonym
from proactief.publishing import document_reference
from proactief.store import Decision, ReviewCase, Store
from rules import uitpas

from .failing_proxy import failing_for
from .oracle import read_decisions
from .print_files import printed_references, set_back_to_recorded

AS_OF = date(2026, 12, 1)
VERSION = uitpas.rule_version()


def _load_desk_oracle():
    # The desk check's oracle (tests/uitpas/oracle.py) reads the policy off the
    # city; loaded by path, as the two test folders are separate packages.
    path = Path(__file__).parents[1] / "uitpas" / "oracle.py"
    spec = importlib.util.spec_from_file_location("uitpas_desk_oracle", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


oracle = _load_desk_oracle()


def _run(city, registry, work: Path, database: str, **kwargs):
    return asyncio.run(
        uitpas_renewal_flow(
            city=str(city),
            registry=registry,
            out=str(work / "out"),
            year=kwargs.pop("year", 2026),
            as_of=kwargs.pop("as_of", AS_OF),
            database=database,
            **kwargs,
        )
    )


def _seed(database: str, period: str, decisions: dict[str, str]) -> None:
    """Decisions as the desk (the web app) writes them, in a desk pseudo-run."""
    store = Store(database)
    run_id = store.start_run("uitpas", period, date(int(period), 3, 15))
    key = Settings.from_env().pseudonym_key
    store.save_decisions(
        [
            {
                "benefit": "uitpas",
                "period": period,
                "subject": subject,
                "subject_ref": pseudonym(subject, key),
                "outcome": outcome,
                "reasons": "vt" if outcome == "granted" else "no_qualifying_situation",
                "rule_version": VERSION,
                "run_id": run_id,
            }
            for subject, outcome in decisions.items()
        ]
    )
    store.finish_run(run_id, "completed", {})
    store.release_run_locks(run_id)


@pytest.fixture(scope="module")
def people(city):
    return oracle.read_population(city)


@pytest.fixture(scope="module")
def cast(city, people) -> dict[str, str]:
    """One person per situation, each from a household of their own."""
    measures = oracle.read_measures(city, AS_OF)
    expected = {
        insz: oracle.expected_answer(insz, people, measures, AS_OF) for insz in people
    }
    used: set[str] = set()

    def pick(want) -> str:
        for insz in sorted(people, reverse=True):
            household = people[insz]["household"]
            if household not in used and want(people[insz], expected[insz]):
                used.add(household)
                return insz
        pytest.fail("the generated city holds nobody in this situation")

    def at_home(person: dict) -> bool:
        address = person["address"]
        return address is not None and not address["reference_address"]

    return {
        "own_vt": pick(lambda p, e: at_home(p) and e.reasons == ("vt",)),
        "member_vt": pick(
            lambda p, e: at_home(p) and e.reasons == ("vt_household_member",)
        ),
        "social_service": pick(
            lambda p, e: at_home(p) and e.reasons == ("budget_guidance",)
        ),
        "no_longer": pick(
            lambda p, e: at_home(p) and e.reasons == ("no_qualifying_situation",)
        ),
        "died": pick(lambda p, e: e.reasons == ("person_deceased",)),
        "registry_fails": pick(lambda p, e: at_home(p) and e.reasons == ("vt",)),
        "extended_before": pick(lambda p, e: at_home(p) and e.outcome == "granted"),
    }


EXPECTED_2027 = {
    "own_vt": ("granted", "renewed"),
    "member_vt": ("granted", "renewed"),
    "social_service": ("granted", "renewed"),
    # ending a tariff is never automatic: a reviewer decides
    "no_longer": ("review", "renewal_not_qualifying,no_qualifying_situation"),
    "died": ("review", "person_deceased"),
    "registry_fails": ("review", "registry_failed"),
    "extended_before": ("granted", "vt"),  # the desk's grant of 2027 stands
}


@pytest.fixture(scope="module")
def renewal(city, registry, cast, people, tmp_path_factory, new_database):
    """The store as the desk left it in 2026, the renewal, and the same run again."""
    work = tmp_path_factory.mktemp("uitpas-renewal")
    database = new_database()
    to_check = sorted(set(cast.values()) - {cast["extended_before"]})
    # the run's first look-up tests that the registry answers at all
    assert cast["registry_fails"] != to_check[0]
    bystander = next(insz for insz in sorted(people) if insz not in cast.values())
    _seed(
        database,
        "2026",
        {**dict.fromkeys(cast.values(), "granted"), bystander: "not_granted"},
    )
    _seed(database, "2027", {cast["extended_before"]: "granted"})
    with failing_for(registry, cast["registry_fails"]) as proxy:
        first = _run(city, proxy, work, database)
        files = (work / "out" / "decisions.csv").read_text(encoding="utf-8")
        rows = Store(database).count(Decision)
        cases = Store(database).count(ReviewCase)
        again = _run(city, proxy, work, database)
    return {
        "work": work,
        "database": database,
        "first": first,
        "again": again,
        "file_after_first": files,
        "rows_after_first": rows,
        "cases_after_first": cases,
    }


def test_the_2027_decisions_are_exactly_those_the_renewal_must_make(cast, renewal):
    actual = read_decisions(renewal["work"] / "out" / "decisions.csv")
    assert set(actual) == set(cast.values())
    for role, insz in cast.items():
        row = actual[insz]
        want = EXPECTED_2027[role]
        assert (row["outcome"], row["reasons"]) == want, role
        assert (row["benefit"], row["period"], row["category"], row["amount"]) == (
            "uitpas",
            "2027",
            "",
            "",
        )
        assert row["rule_version"] == VERSION


def test_the_summary_counts_extended_ended_and_review(renewal):
    first = renewal["first"]
    assert (first.granted, first.already_extended, first.checked) == (7, 1, 6)
    assert (first.extended, first.no_longer_qualifying, first.review) == (3, 1, 3)
    assert first.review_opened == 3
    assert first.registry_failures >= 4  # the failing person's retries


def test_review_cases_wait_for_those_not_extended(cast, renewal):
    cases = Store(renewal["database"]).open_review_cases("uitpas", "2027")
    assert {s: c.reasons for s, c in cases.items()} == {
        cast["died"]: "person_deceased",
        cast["registry_fails"]: "registry_failed",
        cast["no_longer"]: "renewal_not_qualifying,no_qualifying_situation",
    }


def test_the_grants_of_2026_are_left_as_they_were(cast, renewal):
    decisions = Store(renewal["database"]).decisions("uitpas", "2026")
    assert {d.outcome for s, d in decisions.items() if s in cast.values()} == {
        "granted"
    }


def test_everyone_extended_gets_one_letter_saying_until_when(cast, people, renewal):
    from pypdf import PdfReader

    first = renewal["first"]
    assert (first.letters_written, first.letters_held) == (3, 0)
    letters = sorted((renewal["work"] / "out" / "letters").glob("UP-2027-*.pdf"))
    assert len(letters) == 3
    key = Settings.from_env().pseudonym_key
    expected_names = {
        f"UP-2027-{pseudonym(cast[role], key).removeprefix('P-')}.pdf": cast[role]
        for role in ("own_vt", "member_vt", "social_service")
    }
    assert {path.name for path in letters} == set(expected_names)
    for path in letters:
        text = " ".join(page.extract_text() for page in PdfReader(path).pages)
        person = people[expected_names[path.name]]
        assert "tot en met 31 december 2027" in " ".join(text.split())
        assert person["last_name"] in text
        assert person["insz"] not in text
        assert "BIM_BVT" not in text and "verhoogde tegemoetkoming" not in text
    documents = Store(renewal["database"]).documents("uitpas", "2027")
    assert {d.subject for d in documents.values()} == set(expected_names.values())
    assert {d.status for d in documents.values()} == {"written"}


def test_a_rerun_changes_nothing(renewal):
    again = renewal["again"]
    assert (again.already_extended, again.checked) == (4, 3)
    assert (again.extended, again.no_longer_qualifying, again.review) == (0, 1, 3)
    assert again.review_opened == 0
    assert (again.letters_written, again.letters_already_sent) == (0, 3)
    work = renewal["work"]
    assert (work / "out" / "decisions.csv").read_text(encoding="utf-8") == renewal[
        "file_after_first"
    ]
    store = Store(renewal["database"])
    assert store.count(Decision) == renewal["rows_after_first"]
    assert store.count(ReviewCase) == renewal["cases_after_first"]


def test_the_artifact_carries_counts_and_no_personal_data(city, people, renewal):
    from prefect.client.orchestration import get_client

    async def artifacts():
        async with get_client() as client:
            return await client.read_artifacts()

    found = [a for a in asyncio.run(artifacts()) if a.key == "uitpas-renewal-2027"]
    assert found
    data = found[0].data
    table = json.loads(data) if isinstance(data, str) else data
    measures = {row["measure"] for row in table}
    assert {"extended", "no_longer_qualifying", "review"} <= measures
    text = json.dumps([a.data for a in found]) + " ".join(
        a.description or "" for a in found
    )
    for person in people.values():
        assert person["insz"] not in text
        assert person["last_name"] not in text
    assert "BIM_BVT" not in text and "LIVING_WAGES" not in text


def test_a_look_up_date_outside_the_renewal_window_is_refused(
    city, registry, tmp_path, database_url
):
    with pytest.raises(CohortError, match="from 2026-11-01 until 2026-12-31"):
        _run(city, registry, tmp_path, database_url, as_of=date(2026, 6, 1))


def test_nothing_to_renew_writes_an_empty_decisions_file(
    city, registry, tmp_path, database_url
):
    summary = _run(city, registry, tmp_path, database_url)
    assert (summary.granted, summary.checked, summary.registry_requests) == (0, 0, 0)
    lines = (tmp_path / "out" / "decisions.csv").read_text().splitlines()
    assert lines == [
        "benefit;period;subject;outcome;category;amount;reasons;rule_version"
    ]


def test_the_command_line_renews_and_prints_counts_only(
    city, registry, cast, people, tmp_path, database_url
):
    from proactief.cli import app

    database = database_url
    _seed(database, "2026", {cast["own_vt"]: "granted", cast["no_longer"]: "granted"})
    result = CliRunner().invoke(
        app,
        [
            "run",
            "uitpas-renewal",
            "--city",
            str(city),
            "--registry",
            registry,
            "--out",
            str(tmp_path / "out"),
            "--year",
            "2026",
            "--as-of",
            "2026-12-01",
            "--database",
            database,
        ],
    )
    assert result.exit_code == 0, result.output[-3000:]
    assert "extended in this run:         1" in result.output
    assert "no longer qualifying (review): 1" in result.output
    assert "letters written:              1" in result.output
    for person in people.values():
        assert person["insz"] not in result.output
        assert f" {person['last_name']} " not in f" {result.output} "


# -- a rerun after a run stopped while its letters were being printed ------------

LETTER_REFERENCE = re.compile(r"UP-2027-[0-9a-f]{12}")
# four people whom the renewal extends, so four letters; two to a print file
LETTER_ROLES = ("own_vt", "member_vt", "social_service", "registry_fails")


def _printed_references(letters_dir: Path) -> Counter:
    return printed_references(letters_dir, LETTER_REFERENCE)


@pytest.fixture
def published_in_two_batches(city, registry, cast, tmp_path, database_url, monkeypatch):
    """A renewal of four grants whose letters went out in two print files."""
    monkeypatch.setenv("PROACTIEF_RENDER_BATCH", "2")
    _seed(database_url, "2026", {cast[role]: "granted" for role in LETTER_ROLES})
    first = _run(city, registry, tmp_path, database_url)
    letters_dir = tmp_path / "out" / "letters"
    key = Settings.from_env().pseudonym_key
    references = {
        document_reference("UP", "2027", pseudonym(cast[role], key))
        for role in LETTER_ROLES
    }
    assert (first.letters_written, first.letters_already_sent) == (4, 0)
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
    city, registry, published_in_two_batches
):
    run = published_in_two_batches
    last = run["print_files"][-1]
    stopped = set_back_to_recorded(run["database"], last)
    assert len(stopped) == 2

    again = _run(city, registry, run["work"], run["database"])

    assert (again.letters_written, again.letters_already_sent) == (0, 4)
    assert (again.letters_held, again.print_file) == (0, None)
    assert sorted((run["letters_dir"] / "print").glob("*.pdf")) == run["print_files"]
    assert _printed_references(run["letters_dir"]) == Counter(run["references"])
    documents = Store(run["database"]).documents("uitpas", "2027").values()
    assert {d.status for d in documents} == {"written"}
    assert {d.reference for d in documents if d.print_file == str(last)} == stopped


def test_a_rerun_prints_once_the_letters_a_stopped_run_recorded_but_did_not_print(
    city, registry, published_in_two_batches
):
    run = published_in_two_batches
    last = run["print_files"][-1]
    stopped = set_back_to_recorded(run["database"], last)
    last.unlink()  # the run was stopped before this print file was written

    again = _run(city, registry, run["work"], run["database"])

    assert (again.letters_written, again.letters_already_sent) == (2, 2)
    assert again.print_file == str(run["letters_dir"] / "print")
    new_file = run["letters_dir"] / "print" / f"run-{again.run_id[:12]}-001.pdf"
    assert sorted((run["letters_dir"] / "print").glob("*.pdf")) == sorted(
        [run["print_files"][0], new_file]
    )
    # each letter went out exactly once; those of the stopped batch in the new file
    assert _printed_references(run["letters_dir"]) == Counter(run["references"])
    documents = Store(run["database"]).documents("uitpas", "2027").values()
    assert {d.status for d in documents} == {"written"}
    assert {d.reference for d in documents if d.print_file == str(new_file)} == stopped
