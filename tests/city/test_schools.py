"""Schools, pupils, the school tariff's cases and the files schools send."""

from __future__ import annotations

import csv
import filecmp
import hashlib
import json
import re
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proactief.city import (
    TARIFF_CASES,
    SchoolYear,
    generate_city,
    read_schools,
    tariff_cases,
    write_city,
    write_school_files,
)
from proactief.city.cli import app
from proactief.city.enrolment import DAYCARE_GROUPS, ENTRY_CLASS, PRIMARY_CLASSES
from proactief.city.schools import BILLING_HEADER, ITEMS, PUPILS_HEADER
from proactief.errors import CityDataError

from .conftest import SMALL, YEAR

SCHOOL_YEAR = SchoolYear.of_city(YEAR)
FIRST_DAY = SCHOOL_YEAR.first_day.isoformat()
INCOME_YEAR = YEAR - 3
BOM = b"\xef\xbb\xbf"


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=";"))


def _by_insz(people: list[dict]) -> dict[str, dict]:
    return {person["insz"]: person for person in people}


def _households(people: list[dict]) -> dict[str, list[dict]]:
    households: dict[str, list[dict]] = defaultdict(list)
    for person in people:
        households[person["household"]].append(person)
    return households


def _income(person: dict, year: int = INCOME_YEAR) -> str | None:
    for income in person["incomes"]:
        if income["income_year"] == year:
            return income["taxable_income"]
    return None


# -------------------------------------------------- the people drawn before schools

# Recorded with the generator as it was before schools and tariff cases (commit
# 1ea1a58): for each city, the number of people it drew, a digest of those people
# without `school`, the number of lines and digest of `residents.csv`, and the digest
# of `social_service.csv`. Other tests rely on particular people of these cities:
# the tariff's households come after them, and nobody of before may change.
BEFORE_SCHOOLS = {
    (2_000, 11, 2027, False): (
        "a017b1a1cd84f7825393a4d55e683b70e5bbdd67efeb2aea10ac35d01435abaa",
        1982,
        "73d1ca9fa0ab3404f49c45550134852565eb65a007db0f122f589d65947ce55f",
        "ec7d914e6a3a3cd13a0d2f585e0495037de721fd07348be0405e3e8277090d5f",
    ),
    (20_000, 5, 2027, False): (
        "e87beca11550534392bd7aec198f6a18f93dc92342a2ee995e1a96fa36f4a117",
        19794,
        "66c9c6026b5e93fa53a24beecfca749bd76fd8042aeafc09ff1c45ec0c2aa3c2",
        "3970bf2cb6daf9972110ddbbbb7a8c448140e9c2e3589cb1aed797676c0b01fc",
    ),
    (3_000, 3, 2027, False): (
        "61773527c52c66d1506748dd260f68cf8a565f195c7dc7e020bea10d4e7d457d",
        2970,
        "a01bdb11836cc62899a69cedb71bea0de2b855b6ebcb56edf03bd6eb37f03794",
        "8a800d241cc70d7f9fdc9220d93e1c81ced00d7e05ce399631b24d46459d1743",
    ),
    (1_500, 42, 2027, False): (
        "890329acb17027b5cfb17e3e9c45c1637663ab9e1c0558f100b03731862c8a84",
        1486,
        "1795f461228f14a0148f87d6f2d14028fe8dfce0e0819fba2c72be7fdf07bcc5",
        "19607fe3ef09847a6333e95531372d896948c6c84e63015eb6684da234c643a3",
    ),
    (1_200, 7, 2027, True): (
        "34ea0f6b951ae95b088e00a18325d314f14e5d1fd195e571bc687a215f096146",
        1189,
        "b787c77bdfe6d4b21a9bff72f5032b8236c18c5a8a48a544ee8b0d3e87134ebe",
        "3ed78c6c1953cd702efce8bf480cefa9ccf5899d91c6379190d95d20473a2b18",
    ),
    (900, 1, 2026, False): (
        "f9668d8e64cb254953b3f4980ef8a0df3ba0507262730312eaf8ee3c99449d63",
        891,
        "71e2407dc8f597641b4fe3bb7a0bd09ac54431045a92a8c18078c15ce092ea4e",
        "0102f3d4ccdbddd03517a32bf54acf20e169b40dd5ff122fe3967903cf5a8b56",
    ),
    (400, 9, 2027, False): (
        "884c43f8b3fb5d8fd7e94983122095711c30e92cb26c1ffbec120b24c2362ca6",
        393,
        "5845a4535983dae2ff33a6c143261a4476fb9bb0c36e0c1e0a03cb376419cd2c",
        "6ccb696ca84de7d32f2a59d4c8302e1d0e06d527b61649946c22886c9cfaa295",
    ),
}


def _digests(folder: Path, drawn: int, resident_lines: int) -> tuple[str, str, str]:
    people = hashlib.sha256()
    with (folder / "population.jsonl").open(encoding="utf-8") as handle:
        for _, line in zip(range(drawn), handle, strict=False):
            person = json.loads(line)
            del person["school"]
            text = json.dumps(person, ensure_ascii=False, sort_keys=True)
            people.update((text + "\n").encode())
    with (folder / "residents.csv").open("rb") as handle:
        residents = b"".join(line for _, line in zip(range(resident_lines), handle))
    service = (folder / "social_service.csv").read_bytes()
    return (
        people.hexdigest(),
        hashlib.sha256(residents).hexdigest(),
        hashlib.sha256(service).hexdigest(),
    )


def _assert_unchanged(folder: Path, key: tuple) -> None:
    people, lines, residents, service = BEFORE_SCHOOLS[key]
    assert _digests(folder, key[0], lines) == (people, residents, service)


@pytest.mark.parametrize(
    "key", [key for key in BEFORE_SCHOOLS if key[:2] not in {(2_000, 11), (20_000, 5)}]
)
def test_people_drawn_before_the_schools_are_unchanged(key, tmp_path):
    size, seed, year, real_style = key
    city = generate_city(size, seed, year=year, real_style_numbers=real_style)
    write_city(city, tmp_path)
    _assert_unchanged(tmp_path, key)


def test_people_of_the_shared_cities_are_unchanged(small_city, large_city):
    _assert_unchanged(small_city, (2_000, 11, 2027, False))
    _assert_unchanged(large_city, (20_000, 5, 2027, False))


def test_tariff_households_come_after_the_others_with_new_ids(small_people):
    drawn, added = small_people[:SMALL], small_people[SMALL:]
    assert added
    last_drawn = max(person["household"] for person in drawn)
    assert all(person["household"] > last_drawn for person in added)
    numbers = [person["insz"] for person in small_people]
    assert len(set(numbers)) == len(numbers)


# ------------------------------------------------------------------ schools.csv


def test_schools_csv_has_its_header_ids_and_kinds(small_city, small_people):
    rows = _read_csv(small_city / "schools.csv")
    assert rows[0] == ["school_id", "school_name", "kind"]
    schools = rows[1:]
    assert len(schools) == max(3, round(len(small_people) / 600))
    assert {kind for _, _, kind in schools} == {
        "school",
        "daycare",
        "after_school_care",
    }
    prefixes = {"school": "BS", "daycare": "KDV", "after_school_care": "BKO"}
    for school_id, name, kind in schools:
        assert re.fullmatch(rf"GENT-{prefixes[kind]}-\d{{3}}", school_id)
        assert name.strip() and ";" not in name
    assert len({row[0] for row in schools}) == len(schools)
    assert len({row[1] for row in schools}) == len(schools)


def test_a_large_city_has_about_one_school_per_600_inhabitants(
    large_city, large_people
):
    schools = read_schools(large_city)
    assert len(schools) == round(len(large_people) / 600)
    kinds = [school.kind for school in schools]
    assert (
        kinds.count("school")
        > kinds.count("daycare")
        > kinds.count("after_school_care")
    )
    assert any("'" in school.name for school in schools)


def test_read_schools_refuses_an_unknown_kind(small_city, tmp_path):
    text = (small_city / "schools.csv").read_text(encoding="utf-8")
    (tmp_path / "schools.csv").write_text(
        text.replace(";daycare", ";creche"), encoding="utf-8"
    )
    with pytest.raises(CityDataError, match="line 3: kind 'creche'"):
        read_schools(tmp_path)


def test_read_schools_refuses_an_id_listed_twice(small_city, tmp_path):
    lines = (small_city / "schools.csv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "schools.csv").write_text(
        "\n".join([*lines, lines[1]]), encoding="utf-8"
    )
    with pytest.raises(CityDataError, match="listed twice"):
        read_schools(tmp_path)


# --------------------------------------------------------------------- pupils


def _pupils(people: list[dict]) -> list[dict]:
    return [person for person in people if person["school"] is not None]


def test_every_pupils_school_exists_and_takes_children_of_that_age(
    large_city, large_people
):
    kinds = {school.id: school.kind for school in read_schools(large_city)}
    classes = {
        "school": {ENTRY_CLASS, *PRIMARY_CLASSES},
        "daycare": set(DAYCARE_GROUPS),
    }
    for pupil in _pupils(large_people):
        kind = kinds[pupil["school"]["school_id"]]
        assert pupil["school"]["class"] in classes[kind]
        age_in_september = SCHOOL_YEAR.start - int(pupil["birth_date"][:4])
        if kind == "school":
            assert 2 <= age_in_september <= 12
        else:
            assert age_in_september <= 2


def test_classes_follow_the_birth_year_with_a_few_pupils_a_year_behind(
    large_people,
):
    behind = 0
    pupils = [p for p in _pupils(large_people) if p["school"]["class"][0] in "KL"]
    for pupil in pupils:
        grade = ([ENTRY_CLASS, *PRIMARY_CLASSES]).index(pupil["school"]["class"])
        expected = SCHOOL_YEAR.start - int(pupil["birth_date"][:4]) - 2
        assert grade in (expected, expected - 1)
        behind += grade == expected - 1
    assert 0 < behind < 0.03 * len(pupils)


def test_most_children_are_pupils_and_adults_never(large_people):
    on = SCHOOL_YEAR.first_day
    school_age = [
        p
        for p in large_people
        if 4 <= SCHOOL_YEAR.start - int(p["birth_date"][:4]) <= 10
        and (p["death_date"] is None or p["death_date"] > FIRST_DAY)
    ]
    enrolled = sum(p["school"] is not None for p in school_age)
    assert 0.9 < enrolled / len(school_age) < 1
    toddlers = [p for p in large_people if p["birth_date"][:4] == str(on.year - 1)]
    in_daycare = sum(p["school"] is not None for p in toddlers)
    assert 0.3 < in_daycare / len(toddlers) < 0.7
    assert all(
        int(p["birth_date"][:4]) >= SCHOOL_YEAR.start - 13
        for p in _pupils(large_people)
    )


def test_since_is_a_september_or_a_later_day_of_the_school_year(
    large_city, large_people
):
    kinds = {school.id: school.kind for school in read_schools(large_city)}
    later = 0
    for pupil in _pupils(large_people):
        since = pupil["school"]["since"]
        assert since > pupil["birth_date"]
        assert since <= SCHOOL_YEAR.last_day.isoformat()
        if kinds[pupil["school"]["school_id"]] == "school" and since < FIRST_DAY:
            assert since[4:] == "-09-01"
        later += since > FIRST_DAY
    # toddlers starting on an entry day, and children who moved to the city
    assert later > 100


def _at_school(person: dict) -> bool:
    return person["school"] is not None and person["school"]["class"][0] in "KL"


def test_siblings_mostly_go_to_the_same_school(large_people):
    schools_per_family = [
        {p["school"]["school_id"] for p in members if _at_school(p)}
        for members in _households(large_people).values()
        if sum(_at_school(p) for p in members) >= 2
    ]
    together = sum(len(schools) == 1 for schools in schools_per_family)
    assert together / len(schools_per_family) > 0.75


# ----------------------------------------------------------------- tariff cases


@pytest.fixture(scope="module")
def cases(small_city) -> dict[str, list[str]]:
    return tariff_cases(small_city)


def _added(cases: dict, name: str, people: list[dict]) -> list[dict]:
    """The case's pupils among the households added for the tariff."""
    added = {person["insz"]: person for person in people[SMALL:]}
    return [added[insz] for insz in cases[name] if insz in added]


def test_tariff_cases_names_every_case(cases):
    assert list(cases) == list(TARIFF_CASES)


@pytest.mark.parametrize("name", TARIFF_CASES)
def test_a_city_of_two_thousand_has_each_tariff_case(
    name, cases, small_city, small_people
):
    assert _added(cases, name, small_people), name
    kinds = {school.id: school.kind for school in read_schools(small_city)}
    for pupil in _added(cases, name, small_people):
        assert kinds[pupil["school"]["school_id"]] == "school"
        assert pupil["school"]["since"] <= FIRST_DAY


@pytest.mark.parametrize(
    "amount", ["22999.99", "23000.00", "32999.99", "33000.00"], ids=str
)
def test_household_incomes_sit_exactly_on_the_limits_split_over_two_parents(
    amount, cases, small_people
):
    people = _by_insz(small_people)
    (pupil,) = _added(cases, f"household_income_{amount}", small_people)
    parents = [people[insz] for insz in pupil["parents"]]
    assert len(parents) == 2
    assert all(parent["household"] == pupil["household"] for parent in parents)
    incomes = [_income(parent) for parent in parents]
    assert all(re.fullmatch(r"\d+\.\d\d", income) for income in incomes)
    assert all(Decimal(income) > 0 for income in incomes)
    assert sum(Decimal(income) for income in incomes) == Decimal(amount)
    others = [
        member
        for member in _households(small_people)[pupil["household"]]
        if member["insz"] not in pupil["parents"] and _income(member) is not None
    ]
    assert others == []


def _status(person: dict, name: str = "LIVING_WAGES_PCSA_HELP") -> dict:
    (status,) = [s for s in person["statuses"] if s["name"] == name]
    return status


def test_the_social_pupils_parent_has_integration_income_all_year(cases, small_people):
    people = _by_insz(small_people)
    (pupil,) = [
        p
        for p in _added(cases, "social_parent_in_household", small_people)
        if p["insz"] not in cases["worsens_at_check_3"]
        and p["insz"] not in cases["no_assessment_with_status"]
    ]
    (parent,) = [people[insz] for insz in pupil["parents"]]
    status = _status(parent)
    assert status["registered_on"] < FIRST_DAY and status["to"] is None
    assert parent["household"] == pupil["household"]


def test_the_assessments_of_n_minus_2_are_missing_with_and_without_a_status(
    cases, small_people
):
    people = _by_insz(small_people)
    (with_status,) = _added(cases, "no_assessment_with_status", small_people)
    (without,) = _added(cases, "no_assessment_without_status", small_people)
    for pupil in (with_status, without):
        (parent,) = [people[insz] for insz in pupil["parents"]]
        assert _income(parent) is None
        assert _income(parent, INCOME_YEAR + 1) is not None
    (parent,) = [people[insz] for insz in with_status["parents"]]
    assert _status(parent)["to"] is None
    (parent,) = [people[insz] for insz in without["parents"]]
    assert parent["statuses"] == []


def test_the_co_parent_with_integration_income_lives_elsewhere(cases, small_people):
    people = _by_insz(small_people)
    (pupil,) = _added(cases, "co_parent_integration_income_elsewhere", small_people)
    home, away = sorted(
        (people[insz] for insz in pupil["parents"]),
        key=lambda parent: parent["household"] != pupil["household"],
    )
    assert home["household"] == pupil["household"]
    assert away["household"] != pupil["household"]
    assert _status(away)["from"] < FIRST_DAY
    assert not [s for s in home["statuses"] if s["name"] == "LIVING_WAGES_PCSA_HELP"]


def test_the_foster_child_has_no_legal_parent(cases, small_people):
    (pupil,) = _added(cases, "foster_child_without_parent", small_people)
    assert pupil["position"] == "12"
    assert pupil["parents"] == []
    assert int(pupil["birth_date"][:4]) >= YEAR - 12


def test_the_step_parents_income_moves_the_household_from_a_to_b(cases, small_people):
    people = _by_insz(small_people)
    (pupil,) = _added(cases, "step_parent_income", small_people)
    (parent,) = [people[insz] for insz in pupil["parents"]]
    (partner,) = [
        m
        for m in _households(small_people)[pupil["household"]]
        if m["insz"] != parent["insz"] and m["insz"] != pupil["insz"]
    ]
    assert {parent["position"], partner["position"]} in ({"01", "02"}, {"01", "22"})
    assert Decimal(_income(parent)) < Decimal("23000.00")
    total = Decimal(_income(parent)) + Decimal(_income(partner))
    assert Decimal("23000.00") < total < Decimal("33000.00")


def test_the_improving_pupils_parent_gets_integration_income_in_december(
    cases, small_people
):
    people = _by_insz(small_people)
    (pupil,) = _added(cases, "improves_at_check_3", small_people)
    (parent,) = [people[insz] for insz in pupil["parents"]]
    status = _status(parent)
    assert status["from"] == f"{SCHOOL_YEAR.start}-12-15"
    assert status["registered_on"] < f"{SCHOOL_YEAR.start + 1}-01-01"
    assert Decimal(_income(parent)) >= Decimal("33000.00")


def test_the_worsening_pupils_parent_loses_integration_income_on_31_december(
    cases, small_people
):
    people = _by_insz(small_people)
    (pupil,) = _added(cases, "worsens_at_check_3", small_people)
    (parent,) = [people[insz] for insz in pupil["parents"]]
    status = _status(parent)
    assert status["registered_on"] <= FIRST_DAY
    assert status["to"] == f"{SCHOOL_YEAR.start}-12-31"


def test_the_large_low_income_family_has_three_pupils_of_12_or_younger(
    cases, small_people
):
    pupils = _added(cases, "family_discount_low_income", small_people)
    assert len(pupils) == 3
    assert len({pupil["household"] for pupil in pupils}) == 1
    people = _by_insz(small_people)
    total = sum(Decimal(_income(people[insz])) for insz in pupils[0]["parents"])
    assert total < Decimal("23000.00")


def test_a_city_under_900_has_the_case_names_without_added_households(tmp_path):
    write_city(generate_city(300, 4, year=YEAR), tmp_path)
    cases = tariff_cases(tmp_path)
    assert list(cases) == list(TARIFF_CASES)
    assert cases["household_income_22999.99"] == []


# ---------------------------------------------------------------- school files


@pytest.fixture(scope="module")
def school_files(small_city, tmp_path_factory) -> dict[int, Path]:
    folders = {}
    for check in (1, 2, 3):
        folder = tmp_path_factory.mktemp(f"check{check}")
        write_school_files(small_city, "2026-2027", check, folder)
        folders[check] = folder
    return folders


def _expected_list(people: list[dict], school_id: str, on: date) -> set[str]:
    day = on.isoformat()
    return {
        p["insz"]
        for p in people
        if p["school"]
        and p["school"]["school_id"] == school_id
        and p["school"]["since"] <= day
        and (p["death_date"] is None or p["death_date"] > day)
    }


def test_school_files_are_two_per_school_with_a_bom_for_some(school_files, small_city):
    schools = read_schools(small_city)
    names = sorted(path.name for path in school_files[1].iterdir())
    assert names == sorted(
        [f"pupils-{s.id}.csv" for s in schools]
        + [f"billing-{s.id}-check1.csv" for s in schools]
    )
    boms = [
        (school_files[1] / f"pupils-{s.id}.csv").read_bytes().startswith(BOM)
        for s in schools
    ]
    assert any(boms) and not all(boms)
    for path in school_files[1].iterdir():
        data = path.read_bytes()
        assert b"\r" not in data
        data.decode("utf-8")


def test_pupil_lists_hold_the_pupils_enrolled_on_the_reference_date(
    school_files, small_city, small_people
):
    schools = read_schools(small_city)
    for check, folder in school_files.items():
        day = SCHOOL_YEAR.check_date(check)
        served = set()
        for school in schools:
            rows = _read_csv(folder / f"pupils-{school.id}.csv")
            assert rows[0] == list(PUPILS_HEADER)
            listed = set()
            for row in rows[1:]:
                assert len(row) == len(PUPILS_HEADER)
                school_id, name, insz, last_name, first_name, class_name, since = row
                assert (school_id, name) == (school.id, school.name)
                assert re.fullmatch(r"\d{11}", insz)
                assert last_name and first_name
                assert class_name in {ENTRY_CLASS, *PRIMARY_CLASSES, *DAYCARE_GROUPS}
                assert since <= day.isoformat()
                listed.add(insz)
            assert len(listed) == len(rows) - 1
            if school.kind == "after_school_care":
                assert listed and listed <= served
            else:
                assert listed == _expected_list(small_people, school.id, day)
                served |= listed if school.kind == "school" else set()


def test_newcomers_join_the_lists_of_later_checks(school_files, small_city):
    (school,) = [s for s in read_schools(small_city) if s.kind == "school"]
    counts = {
        check: len(_read_csv(folder / f"pupils-{school.id}.csv"))
        for check, folder in school_files.items()
    }
    # toddlers start on the entry days after the autumn holiday and after Christmas
    assert counts[1] <= counts[2] < counts[3]


def test_billing_lines_bill_listed_pupils_in_decimal_strings(school_files, small_city):
    for check, folder in school_files.items():
        for school in read_schools(small_city):
            pupils = {
                row[2] for row in _read_csv(folder / f"pupils-{school.id}.csv")[1:]
            }
            rows = _read_csv(folder / f"billing-{school.id}-check{check}.csv")
            assert rows[0] == list(BILLING_HEADER)
            assert len(rows) > 1
            for insz, item, quantity, unit_price in rows[1:]:
                assert insz in pupils
                assert item in ITEMS
                assert re.fullmatch(r"\d+(\.5)?", quantity) and Decimal(quantity) > 0
                if item != "care_hours":
                    assert "." not in quantity
                assert re.fullmatch(r"\d+\.\d\d", unit_price)
                assert Decimal("0.5") < Decimal(unit_price) < Decimal("30.00")


def test_billing_lines_have_every_item_and_half_hours(school_files):
    rows = [
        row
        for path in school_files[1].glob("billing-*.csv")
        for row in _read_csv(path)[1:]
    ]
    assert {row[1] for row in rows} == set(ITEMS)
    assert any(row[2].endswith(".5") for row in rows if row[1] == "care_hours")
    assert len({row[3] for row in rows}) >= 6


def test_tariff_pupils_are_on_their_schools_list_at_the_first_three_checks(
    school_files, cases, small_people
):
    people = _by_insz(small_people)
    added = {person["insz"] for person in small_people[SMALL:]}
    pupils = {insz for name in TARIFF_CASES for insz in cases[name] if insz in added}
    assert len(pupils) == 15
    for folder in school_files.values():
        for insz in pupils:
            path = folder / f"pupils-{people[insz]['school']['school_id']}.csv"
            assert insz in {row[2] for row in _read_csv(path)[1:]}


def test_school_files_are_the_same_for_the_same_check_and_differ_by_check(
    school_files, small_city, tmp_path
):
    write_school_files(small_city, SCHOOL_YEAR, 1, tmp_path)
    for path in school_files[1].iterdir():
        assert filecmp.cmp(path, tmp_path / path.name, shallow=False)
    (school,) = [s for s in read_schools(small_city) if s.kind == "school"]
    first = (school_files[1] / f"billing-{school.id}-check1.csv").read_bytes()
    second = (school_files[2] / f"billing-{school.id}-check2.csv").read_bytes()
    assert first != second


def test_a_school_without_pupils_on_the_reference_date_sends_nothing(tmp_path):
    write_city(generate_city(60, 2, year=YEAR), tmp_path / "city")
    written = write_school_files(tmp_path / "city", SCHOOL_YEAR, 1, tmp_path / "out")
    listed = {
        path.name.removeprefix("pupils-").removesuffix(".csv")
        for path in written
        if path.name.startswith("pupils-")
    }
    schools = {school.id for school in read_schools(tmp_path / "city")}
    assert listed < schools
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == sorted(
        path.name for path in written
    )
    for path in written:
        assert len(_read_csv(path)) > 1


def test_school_files_refuse_another_school_year_and_check(small_city, tmp_path):
    with pytest.raises(ValueError, match="enrolled for school year '2026-2027'"):
        write_school_files(small_city, "2027-2028", 1, tmp_path)
    with pytest.raises(ValueError, match="checks 1 to 6"):
        write_school_files(small_city, "2026-2027", 7, tmp_path)
    with pytest.raises(ValueError, match="for example '2026-2027'"):
        write_school_files(small_city, "2026/27", 1, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_school_files_command_writes_the_files_and_no_national_number(
    small_city, tmp_path
):
    result = CliRunner().invoke(
        app,
        ["school-files", "--city", str(small_city), "--school-year", "2026-2027"]
        + ["--check", "4", "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert "check 4 (2027-03-01)" in result.output
    assert not re.search(r"\d{11}", result.output)
    assert len(list(tmp_path.glob("billing-*-check4.csv"))) == len(
        read_schools(small_city)
    )


def test_school_files_command_names_the_citys_school_year(small_city, tmp_path):
    result = CliRunner().invoke(
        app,
        ["school-files", "--city", str(small_city), "--school-year", "2024-2025"]
        + ["--check", "1", "--out", str(tmp_path)],
    )
    assert result.exit_code == 1
    assert "2026-2027" in result.output
