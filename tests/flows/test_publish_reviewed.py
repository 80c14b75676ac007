"""publish-reviewed end to end: the benefits' flows open review cases on the test
city, a reviewer decides some of them in the store, and a real Prefect flow sends
the letters and invoices of those decisions, once, over the simulator; the PDFs are
read back."""

from __future__ import annotations

import asyncio
import csv
import json
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from flows.garbage_bags import garbage_bags_flow
from flows.publish_reviewed import publish_reviewed_flow
from flows.school_tariffs import school_tariffs_flow
from proactief.city.schools import write_school_files
from proactief.errors import ReviewCaseStateError
from proactief.store import Consultation, Document, ReviewCase, Store

from .conftest import YEAR

JANUARY = date(2027, 1, 4)
SCHOOL_YEAR = "2026-2027"
CHECK_1 = date(2026, 9, 1)
PERIOD_1 = f"{SCHOOL_YEAR}/1"
PUBLISH_DAY = date(2027, 1, 11)
REVIEWER = "reviewer-test"

# POLICY.md section 2 and rules/parameters/school_tariffs.yaml, written out here so
# that the flow's pricing is checked against the policy, not against itself.
SHARES = {
    "social": {"care_hours": "1", "meals": "0.80", "activity": "0"},
    "low_income_a": {"care_hours": "0.50", "meals": "0.25", "activity": "0"},
    "low_income_b": {"care_hours": "0.50", "meals": "0", "activity": "0"},
    "standard": {"care_hours": "0", "meals": "0", "activity": "0"},
}
FAMILY_CARE_SHARE = Decimal("0.25")  # off what remains of care, not with social
LABELS = {
    "social": "Sociaal tarief",
    "low_income_a": "Kortingstarief A",
    "low_income_b": "Kortingstarief B",
    "standard": "Standaardtarief",
}


# ---------------------------------------------------------------- the test city


def _population(city: Path) -> dict[str, dict]:
    with (city / "population.jsonl").open(encoding="utf-8") as handle:
        return {p["insz"]: p for p in map(json.loads, handle)}


def _alive_on(person: dict, day: date) -> bool:
    year, month, day_of_month = (int(p) for p in person["birth_date"].split("-"))
    born = date(year, month or 1, day_of_month or 1)
    died = person["death_date"] and date.fromisoformat(person["death_date"])
    return born <= day and (not died or died >= day)


def _household(people: dict, insz: str, day: date) -> list[dict]:
    household = people[insz]["household"]
    return [
        p for p in people.values() if p["household"] == household and _alive_on(p, day)
    ]


def _garbage_amount_cents(people: dict, insz: str) -> tuple[int, int]:
    """POLICY.md section 1: by the number of other members, plus half as credit."""
    others = len(_household(people, insz, date(YEAR, 1, 1))) - 1
    euro = {0: 42, 1: 63, 2: 84, 3: 105, 4: 105}.get(others, 126)
    return euro * 100, euro * 50


def _age_at_most(person: dict, years: int, day: date) -> bool:
    # an unknown month or day counts as the latest possible birthday
    year, month, day_of_month = (int(p) for p in person["birth_date"].split("-"))
    month = month or 12
    day_of_month = day_of_month or (31 if month == 12 else 28)
    age = day.year - year - ((day.month, day.day) < (month, day_of_month))
    return age <= years


def _family_discount(people: dict, pupil: str) -> bool:
    """Two or more children of 12 or younger in the pupil's household."""
    young = [
        p for p in _household(people, pupil, CHECK_1) if _age_at_most(p, 12, CHECK_1)
    ]
    return len(young) >= 2


def _billing(folder: Path) -> dict[tuple[str, str], list[dict]]:
    lines = defaultdict(list)
    for path in folder.glob("billing-*.csv"):
        school = path.name.removeprefix("billing-").removesuffix("-check1.csv")
        with path.open(encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle, delimiter=";"):
                lines[(school, row["pupil_insz"])].append(row)
    return lines


def _expected_total(lines: list[dict], category: str, family: bool) -> Decimal:
    total = Decimal("0.00")
    for line in lines:
        share = Decimal(SHARES[category][line["item"]])
        if family and category != "social" and line["item"] == "care_hours":
            share = 1 - (1 - share) * (1 - FAMILY_CARE_SHARE)
        price = Decimal(line["quantity"]) * Decimal(line["unit_price"]) * (1 - share)
        total += price.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return total


def _euro(amount: Decimal) -> str:
    whole, cents = f"{amount:.2f}".split(".")
    return f"€ {int(whole):,}".replace(",", ".") + f",{cents}"


def _pdf_text(path: str | Path) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    return text.replace("\xa0", " ")


# ------------------------------------------------------------------- the runs


def _publish(registry: str, work: Path, database: str, **options):
    return asyncio.run(
        publish_reviewed_flow(
            registry=registry,
            out=str(work / "reviewed"),
            database=database,
            as_of=PUBLISH_DAY,
            **options,
        )
    )


def _garbage_run(city, registry, work: Path, database: str):
    return asyncio.run(
        garbage_bags_flow(
            city=str(city),
            registry=registry,
            out=str(work / "garbage-bags"),
            year=YEAR,
            as_of=JANUARY,
            database=database,
        )
    )


def _decide(store: Store, case: ReviewCase, outcome: str, **fields) -> None:
    store.decide_review_case(
        case.id,
        outcome=outcome,
        decided_by=REVIEWER,
        motivation="Checked with the social service.",
        **fields,
    )


def _pick(cases, predicate, taken: set[str]) -> ReviewCase:
    for subject in sorted(cases):
        if subject not in taken and predicate(cases[subject]):
            taken.add(subject)
            return cases[subject]
    raise AssertionError("the test city holds no such review case")


@pytest.fixture(scope="module")
def reviewed(city, registry, tmp_path_factory, new_database):
    """Both benefits' flows, a reviewer's decisions, then publish-reviewed three
    times (a case reopened and granted between the first and the second run)."""
    work = tmp_path_factory.mktemp("publish-reviewed")
    database = new_database()
    store = Store(database)
    people = _population(city)
    _garbage_run(city, registry, work, database)
    files = work / "files1"
    paths = write_school_files(city, SCHOOL_YEAR, 1, files)
    asyncio.run(
        school_tariffs_flow(
            city=str(city),
            registry=registry,
            out=str(work / "school-tariffs"),
            check=1,
            school_year=SCHOOL_YEAR,
            pupils=sorted(str(p) for p in paths if p.name.startswith("pupils-")),
            billing=sorted(str(p) for p in paths if p.name.startswith("billing-")),
            as_of=CHECK_1 + timedelta(days=4),
            database=database,
        )
    )

    # garbage bags: who the reviewer decides
    cases = store.open_review_cases("garbage-bags", str(YEAR))
    taken: set[str] = set()

    def living_at_home(case):
        person = people[case.subject]
        return (
            person["death_date"] is None
            and person["address"] is not None
            and not person["address"]["reference_address"]
        )

    def amount(case):
        cents, credit = _garbage_amount_cents(people, case.subject)
        return {"amount_cents": cents, "extra_credit_cents": credit}

    gb = {
        "reference_address": _pick(
            cases, lambda c: "reference_address" in c.reasons.split(","), taken
        ),
        "deceased": _pick(
            cases, lambda c: people[c.subject]["death_date"] is not None, taken
        ),
        "no_address": _pick(
            cases, lambda c: people[c.subject]["address"] is None, taken
        ),
    }
    for name in ("sent_by_regular_flow", "granted", "refused", "reopened", "later"):
        gb[name] = _pick(cases, living_at_home, taken)

    # a grant the yearly flow's next run sends itself, before publish-reviewed
    _decide(
        store,
        gb["sent_by_regular_flow"],
        "granted",
        **amount(gb["sent_by_regular_flow"]),
    )
    regular = _garbage_run(city, registry, work, database)

    for name in ("reference_address", "deceased", "no_address", "granted"):
        _decide(store, gb[name], "granted", **amount(gb[name]))
    _decide(store, gb["refused"], "not_granted")
    _decide(store, gb["later"], "not_granted")
    # granted with the wrong amount, reopened before anything was sent, corrected
    _decide(store, gb["reopened"], "granted", amount_cents=100, extra_credit_cents=50)
    store.reopen_review_case(gb["reopened"].id, "wrong household size")
    _decide(store, gb["reopened"], "granted", **amount(gb["reopened"]))

    # school tariffs: pupils whose invoices were held
    pupil_cases = store.open_review_cases("school-tariffs", PERIOD_1)
    held = defaultdict(list)
    for row in store.held_invoices("school-tariffs", PERIOD_1):
        held[row.subject].append(row)
    taken = set()

    def income_unknown(discount: bool, invoices: int = 1):
        return lambda c: (
            c.reasons == "household_income_unknown"
            and len(held[c.subject]) >= invoices
            and all(r.family_discount is discount for r in held[c.subject])
        )

    st = {
        "reference_address": _pick(
            pupil_cases,
            lambda c: "reference_address" in c.reasons.split(",") and held[c.subject],
            taken,
        ),
        "two_invoices": _pick(pupil_cases, income_unknown(False, invoices=2), taken),
        "family": _pick(pupil_cases, income_unknown(True), taken),
        "social": _pick(pupil_cases, income_unknown(True), taken),
        "reopened": _pick(pupil_cases, income_unknown(False), taken),
        "standard": _pick(
            pupil_cases,
            lambda c: (
                "household_income_not_below_limits" in c.reasons and held[c.subject]
            ),
            taken,
        ),
        "refused_without_tariff": _pick(
            pupil_cases, lambda c: bool(held[c.subject]), taken
        ),
    }
    _decide(store, st["reference_address"], "granted", category="low_income_a")
    _decide(store, st["two_invoices"], "granted", category="low_income_a")
    _decide(store, st["family"], "granted", category="low_income_a")
    _decide(store, st["social"], "granted", category="social")
    _decide(store, st["reopened"], "granted", category="low_income_b")
    store.reopen_review_case(st["reopened"].id, "income found after all")
    _decide(store, st["reopened"], "granted", category="low_income_a")
    _decide(store, st["standard"], "not_granted", category="standard")
    _decide(store, st["refused_without_tariff"], "not_granted")

    first = _publish(registry, work, database)
    documents_after_first = {
        d.idempotency_key: d for d in _documents(store) if d.status == "written"
    }
    store.reopen_review_case(gb["later"].id, "a budget guidance was found")
    _decide(store, gb["later"], "granted", **amount(gb["later"]))
    second = _publish(registry, work, database)
    return {
        "work": work,
        "database": database,
        "store": store,
        "people": people,
        "billing": _billing(files),
        "gb": gb,
        "st": st,
        "regular": regular,
        "first": first,
        "documents_after_first": documents_after_first,
        "second": second,
    }


def _documents(store: Store) -> list[Document]:
    return [
        *store.documents("garbage-bags", str(YEAR)).values(),
        *store.documents("school-tariffs", PERIOD_1).values(),
    ]


def _documents_of(store: Store, case: ReviewCase) -> list[Document]:
    return [
        d
        for d in store.documents(case.benefit, case.period).values()
        if d.subject == case.subject
    ]


# -------------------------------------------------------------- garbage bags


def test_exactly_the_households_a_reviewer_granted_get_a_letter_with_their_amount(
    reviewed,
):
    store, gb, people = reviewed["store"], reviewed["gb"], reviewed["people"]
    first = reviewed["first"]
    # granted and deliverable: the reference address one (the reviewer saw it),
    # the plain grant, the corrected one; the one the yearly flow sent is not again
    assert first.letters_written == 3
    for name in ("reference_address", "granted", "reopened"):
        (document,) = _documents_of(store, gb[name])
        assert document.status == "written"
        assert document.run_id == first.run_id
        assert Path(document.path).parent == reviewed["work"] / "reviewed" / "letters"
        cents, credit = _garbage_amount_cents(people, gb[name].subject)
        text = _pdf_text(document.path)
        assert _euro(Decimal(cents) / 100) in text
        assert _euro(Decimal(credit) / 100) in text
        assert gb[name].subject not in text
    assert _documents_of(store, gb["refused"]) == []
    print_files = list(
        (reviewed["work"] / "reviewed" / "letters" / "print").glob("*.pdf")
    )
    assert len(print_files) == 2  # one per run that wrote letters


def test_a_letter_the_yearly_flow_already_wrote_is_not_written_again(reviewed):
    store, case = reviewed["store"], reviewed["gb"]["sent_by_regular_flow"]
    assert reviewed["regular"].letters_written == 1
    (document,) = _documents_of(store, case)
    assert document.run_id == reviewed["regular"].run_id
    assert Path(document.path).parent == reviewed["work"] / "garbage-bags" / "letters"
    assert reviewed["first"].by_benefit["garbage_bags_letters_already_sent"] == 1


def test_a_refused_household_gets_no_letter_until_it_is_reopened_and_granted(
    reviewed,
):
    store, case = reviewed["store"], reviewed["gb"]["later"]
    first, second = reviewed["first"], reviewed["second"]
    assert first.by_benefit["garbage_bags_refused_no_letter"] == 2
    assert second.by_benefit["garbage_bags_refused_no_letter"] == 1
    assert second.letters_written == 1
    (document,) = _documents_of(store, case)
    assert document.run_id == second.run_id
    # a grant whose letter went out cannot be reopened any more
    with pytest.raises(ReviewCaseStateError, match="already sent"):
        store.reopen_review_case(case.id)


def test_a_case_reopened_and_decided_again_gets_one_letter_at_the_last_amount(
    reviewed,
):
    store, case = reviewed["store"], reviewed["gb"]["reopened"]
    (document,) = _documents_of(store, case)
    text = _pdf_text(document.path)
    cents, _ = _garbage_amount_cents(reviewed["people"], case.subject)
    assert _euro(Decimal(cents) / 100) in text
    assert "€ 1,00" not in text


def test_an_undeliverable_recipient_gets_a_new_review_case_instead_of_a_letter(
    reviewed,
):
    store, gb = reviewed["store"], reviewed["gb"]
    first, second = reviewed["first"], reviewed["second"]
    cases = store.open_review_cases("garbage-bags", str(YEAR))
    assert cases[gb["deceased"].subject].reasons == "recipient_deceased_before_sending"
    assert cases[gb["no_address"].subject].reasons == "address_missing_before_sending"
    for name in ("deceased", "no_address"):
        assert _documents_of(store, gb[name]) == []
    assert first.by_benefit["garbage_bags_undeliverable"] == 2
    assert first.by_benefit["garbage_bags_review_cases_opened"] == 2
    # still undeliverable the next day: counted, but no second case
    assert second.by_benefit["garbage_bags_undeliverable"] == 2
    assert second.by_benefit["garbage_bags_review_cases_opened"] == 0


# ------------------------------------------------------------- school tariffs


def _invoices(store: Store, case: ReviewCase) -> dict[str, Document]:
    return {
        d.idempotency_key.split(":")[2]: d
        for d in _documents_of(store, case)
        if d.kind == "invoice"
    }


def test_a_held_invoice_goes_out_at_the_reviewers_tariff_with_the_policys_total(
    reviewed,
):
    store, case = reviewed["store"], reviewed["st"]["two_invoices"]
    invoices = _invoices(store, case)
    assert len(invoices) == 2
    totals = {}
    for school, document in invoices.items():
        assert document.status == "written"
        assert document.run_id == reviewed["first"].run_id
        lines = reviewed["billing"][(school, case.subject)]
        assert not _family_discount(reviewed["people"], case.subject)
        total = _expected_total(lines, "low_income_a", family=False)
        text = _pdf_text(document.path)
        assert _euro(total) in text
        assert "Kortingstarief A" in text and "gezinskorting" not in text
        assert case.subject not in text
        totals[school] = total
    # the test city's first such pupil: half off 32 care hours at 1.19 in the
    # after-school care; half off 39 care hours at 1.10 plus an activity at 22.75
    # at school
    assert totals == {
        "GENT-BKO-001": Decimal("19.04"),
        "GENT-BS-001": Decimal("44.20"),
    }


@pytest.mark.parametrize(
    ("name", "category", "label"),
    [
        ("family", "low_income_a", "Kortingstarief A met gezinskorting"),
        ("social", "social", "Sociaal tarief"),
        ("reopened", "low_income_a", "Kortingstarief A"),
        ("reference_address", "low_income_a", "Kortingstarief A"),
        ("standard", "standard", "Standaardtarief"),
    ],
)
def test_reviewed_invoices_apply_the_family_discount_as_the_policy_says(
    reviewed, name, category, label
):
    store, case = reviewed["store"], reviewed["st"][name]
    people = reviewed["people"]
    invoices = _invoices(store, case)
    assert invoices
    family = _family_discount(people, case.subject)
    assert family is (name in ("family", "social"))
    for school, document in invoices.items():
        text = _pdf_text(document.path)
        lines = reviewed["billing"][(school, case.subject)]
        assert _euro(_expected_total(lines, category, family)) in text
        assert label in text
        if category == "social":
            assert "gezinskorting" not in text  # it does not combine with social


def test_a_pupil_refused_without_a_tariff_gets_no_invoice(reviewed):
    store, case = reviewed["store"], reviewed["st"]["refused_without_tariff"]
    assert _invoices(store, case) == {}
    assert reviewed["first"].by_benefit["school_tariffs_decided_without_tariff"] == 1


def test_invoice_counts_of_the_first_run(reviewed):
    store, first = reviewed["store"], reviewed["first"]
    expected = sum(
        len(store.held_invoices("school-tariffs", PERIOD_1, [case.subject]))
        for name, case in reviewed["st"].items()
        if name != "refused_without_tariff"
    )
    assert first.invoices_written == expected
    assert reviewed["second"].invoices_written == 0
    assert reviewed["second"].by_benefit["school_tariffs_invoices_already_sent"] == (
        expected
    )


# ------------------------------------------------------------------ reruns


# a second flow run takes a minute; the command line on PostgreSQL is tested
# by the renewals' commands: SQLite only
@pytest.mark.parametrize("database_backend", ["sqlite"], indirect=True)
def test_a_second_run_writes_nothing_and_the_command_line_says_so(reviewed, registry):
    import os
    import subprocess
    import sys

    work, store = reviewed["work"], reviewed["store"]
    files = {p: p.stat().st_mtime_ns for p in (work / "reviewed").rglob("*.pdf")}
    documents = store.count(Document)
    env = {**os.environ, "PREFECT_HOME": str(work / "prefect")}
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "proactief",
            "run",
            "publish-reviewed",
            "--registry",
            registry,
            "--out",
            str(work / "reviewed"),
            "--as-of",
            PUBLISH_DAY.isoformat(),
            "--database",
            reviewed["database"],
        ],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "letters written:              0" in output
    assert "invoices written:             0" in output
    assert store.count(Document) == documents
    assert {
        p: p.stat().st_mtime_ns for p in (work / "reviewed").rglob("*.pdf")
    } == files
    people = reviewed["people"]
    leaks = [p["insz"] for p in people.values() if p["insz"] in output]
    leaks += [
        p["last_name"] for p in people.values() if f" {p['last_name']} " in output
    ]
    assert leaks == []


def test_the_summary_artifact_carries_counts_and_no_personal_data(reviewed):
    from prefect.client.orchestration import get_client

    async def artifacts():
        async with get_client() as client:
            return await client.read_artifacts()

    found = [a for a in asyncio.run(artifacts()) if a.key == "publish-reviewed"]
    assert found
    text = json.dumps([a.data for a in found]) + " ".join(
        a.description or "" for a in found
    )
    for measure in ("letters_written", "invoices_written", "already_sent"):
        assert measure in text
    for person in reviewed["people"].values():
        assert person["insz"] not in text
        assert person["last_name"] not in text
    consulted = reviewed["store"].count(Consultation, run_id=reviewed["first"].run_id)
    assert consulted == reviewed["first"].registry_requests > 0


def test_the_command_refuses_an_unknown_benefit_before_prefect_starts(tmp_path):
    from typer.testing import CliRunner

    from proactief.cli import app

    result = CliRunner().invoke(
        app,
        [
            "run",
            "publish-reviewed",
            "--registry",
            "http://127.0.0.1:9",
            "--out",
            str(tmp_path),
            "--benefit",
            "uitpas",
        ],
    )
    assert result.exit_code == 2
    assert "garbage-bags" in result.output and "uitpas" in result.output


def test_only_a_reviewers_grant_lets_a_letter_go_to_a_reference_address():
    from proactief.errors import RegistryUnavailable
    from proactief.facts import Address, Person
    from tasks.registry import undeliverable

    address = Address("Voorbeeldstraat", "1", None, "9000", "Gent")
    reference = Address("Voorbeeldstraat", "1", None, "9000", "Gent", None, True)
    person = Person("85073003328", "An", "Peeters", "1985-07-30", address=reference)
    # the yearly flow holds it back; a reviewer who granted saw the address
    assert undeliverable(person) == "reference_address_before_sending"
    assert undeliverable(person, reference_address_ok=True) is None
    homeless = Person("85073003328", "An", "Peeters", "1985-07-30")
    assert undeliverable(homeless) == "address_missing_before_sending"
    # an invoice without an address is handed out at school
    assert undeliverable(homeless, address_required=False) is None
    dead = Person(
        "85073003328", "An", "Peeters", "1985-07-30", date(2027, 1, 2), address
    )
    assert undeliverable(dead, reference_address_ok=True) == (
        "recipient_deceased_before_sending"
    )
    failing = RegistryUnavailable("still 99996", code="99996")
    assert undeliverable(failing) == "registry_failed_before_sending"
