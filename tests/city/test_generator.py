"""The synthetic city's households, people, rates and rare cases."""

from __future__ import annotations

import filecmp
from collections import Counter, defaultdict
from datetime import date

import pytest

from proactief.city import generate_city, read_social_service, write_city
from proactief.city.addresses import AddressBook
from proactief.city.folder import CITY_FILES
from proactief.city.generator import TARIFF_CASE_PEOPLE
from proactief.insz import check_digits

from .conftest import YEAR

REFERENCE_DATE = date(YEAR, 1, 1).isoformat()
POSITIONS = {"01", "02", "03", "06", "12", "13", "22"}


def _households(people: list[dict]) -> dict[str, list[dict]]:
    households: dict[str, list[dict]] = defaultdict(list)
    for person in people:
        households[person["household"]].append(person)
    return households


def _active(status: dict, day: str = REFERENCE_DATE) -> bool:
    return status["from"] <= day and (status["to"] is None or status["to"] >= day)


def _is_adult_on_reference_date(person: dict) -> bool:
    alive = person["death_date"] is None or person["death_date"] >= REFERENCE_DATE
    # a birth date may lack month and day: the year alone decides near the limit
    return alive and int(person["birth_date"][:4]) <= YEAR - 19


# ------------------------------------------------------------------ determinism


def test_same_seed_gives_byte_identical_files(tmp_path):
    for name in ("first", "second"):
        write_city(generate_city(1_500, 42, year=YEAR), tmp_path / name)
    for file in CITY_FILES:
        assert filecmp.cmp(tmp_path / "first" / file, tmp_path / "second" / file, False)


def test_another_seed_gives_another_city(tmp_path):
    write_city(generate_city(1_500, 42, year=YEAR), tmp_path / "first")
    write_city(generate_city(1_500, 43, year=YEAR), tmp_path / "second")
    first = (tmp_path / "first" / "population.jsonl").read_bytes()
    second = (tmp_path / "second" / "population.jsonl").read_bytes()
    assert first != second


@pytest.mark.parametrize("size", [1, 2, 7, 299, 899])
def test_city_has_exactly_the_inhabitants_asked_for(size):
    city = generate_city(size, 3, year=YEAR)
    assert sum(1 for _ in city.people()) == size


@pytest.mark.parametrize("size", [900, 2_000])
def test_a_city_of_900_or_more_adds_the_tariff_case_people_to_those_asked_for(size):
    city = generate_city(size, 3, year=YEAR)
    assert sum(1 for _ in city.people()) == size + TARIFF_CASE_PEOPLE


def test_city_needs_at_least_one_inhabitant():
    with pytest.raises(ValueError, match="at least one inhabitant"):
        generate_city(0, 1)


# ------------------------------------------------------------------- households


def test_every_household_has_one_reference_person_except_the_inconsistent_ones(
    large_people,
):
    households = _households(large_people)
    heads = Counter(
        sum(member["position"] == "01" for member in members)
        for members in households.values()
    )
    assert set(heads) == {0, 1, 2}
    # the inconsistent households are deliberate and rare
    assert heads[0] + heads[2] <= 0.005 * len(households)


def test_positions_come_from_the_documented_set(large_people):
    assert {person["position"] for person in large_people} == POSITIONS


def test_household_shapes_include_singles_couples_and_large_families(large_people):
    households = _households(large_people)
    sizes = Counter(min(len(members), 5) for members in households.values())
    assert 0.35 < sizes[1] / len(households) < 0.5
    assert sizes[2] > sizes[3] > 0
    assert sizes[5] > 0.03 * len(households)
    average = len(large_people) / len(households)
    assert 1.9 < average < 2.4


def test_a_co_parented_child_has_a_legal_parent_in_another_household(small_people):
    by_insz = {person["insz"]: person for person in small_people}
    co_parented = [
        person
        for person in small_people
        if len(person["parents"]) == 2
        and any(
            by_insz[parent]["household"] != person["household"]
            for parent in person["parents"]
        )
    ]
    assert len(co_parented) >= 3


def test_every_parent_listed_is_a_person_of_the_city(large_people):
    numbers = {person["insz"] for person in large_people}
    parents = [parent for person in large_people for parent in person["parents"]]
    assert parents
    assert set(parents) <= numbers


def test_foster_children_have_no_legal_parent(small_people):
    foster = [
        person
        for person in small_people
        if person["position"] == "12"
        and not person["parents"]
        and int(person["birth_date"][:4]) > YEAR - 18
    ]
    assert len(foster) >= 1


# ----------------------------------------------------------------------- rates


def test_about_one_household_in_five_has_vt_or_guidance(large_city, large_people):
    guided = {
        insz
        for insz, record in read_social_service(large_city).items()
        if record.budget_guidance or record.budget_management or record.debt_mediation
    }
    households = _households(large_people)
    helped = sum(
        any(
            member["insz"] in guided
            or any(s["name"] == "BIM_BVT" and _active(s) for s in member["statuses"])
            for member in members
        )
        for members in households.values()
    )
    assert 0.16 <= helped / len(households) <= 0.24


def test_about_three_percent_of_adults_have_integration_income(large_people):
    adults = [person for person in large_people if _is_adult_on_reference_date(person)]
    with_income = [
        person
        for person in adults
        if any(s["name"] == "LIVING_WAGES_PCSA_HELP" for s in person["statuses"])
    ]
    assert 0.022 <= len(with_income) / len(adults) <= 0.038


def test_taxable_incomes_spread_like_a_city(large_people):
    amounts = [
        float(income["taxable_income"])
        for person in large_people
        for income in person["incomes"]
    ]
    between = sum(15_000 <= amount <= 60_000 for amount in amounts) / len(amounts)
    assert 0.5 < between < 0.8
    assert sum(amount < 1_000 for amount in amounts) > 0.01 * len(amounts)
    assert sum(amount > 100_000 for amount in amounts) > 0.005 * len(amounts)


def test_incomes_cover_years_minus_three_and_minus_two_assessed_after(large_people):
    for person in large_people:
        for income in person["incomes"]:
            assert income["income_year"] in (YEAR - 3, YEAR - 2)
            amount = income["taxable_income"]
            assert isinstance(amount, str)
            assert amount.split(".")[1].isdigit() and len(amount.split(".")[1]) == 2
            assert income["assessed_on"] > f"{income['income_year']}-12-31"


def test_minors_have_no_income(large_people):
    for person in large_people:
        if int(person["birth_date"][:4]) >= YEAR - 17:
            assert person["incomes"] == []


def test_languages_are_mostly_dutch_with_some_french_and_english(large_people):
    languages = Counter(person["language"] for person in large_people)
    assert set(languages) == {"nl", "fr", "en"}
    assert languages["nl"] / len(large_people) > 0.85


def test_names_carry_diacritics_apostrophes_and_particles(large_people):
    names = [
        person["first_name"] + " " + person["last_name"] for person in large_people
    ]
    characters = set("".join(names))
    assert {"ë", "'", "Ç", "ş", "é"} <= characters
    assert any(person["last_name"].startswith("Van den ") for person in large_people)
    assert sum(any(ord(c) > 127 for c in name) for name in names) > 0.05 * len(names)


def test_addresses_use_ghent_streets_and_postcodes(large_people):
    streets = AddressBook().streets
    addresses = [person["address"] for person in large_people if person["address"]]
    for address in addresses:
        assert address["street"] in streets[address["postcode"]]
        assert address["municipality"] == "Gent"
        assert address["number"]
    assert 0.1 < sum(a["box"] is not None for a in addresses) / len(addresses) < 0.4
    assert len({address["postcode"] for address in addresses}) >= 8


# ------------------------------------------------------------------- rare cases


def _reference_address(people):
    return [p for p in people if p["address"] and p["address"]["reference_address"]]


def _no_address(people):
    return [p for p in people if p["address"] is None]


def _died_before_reference_date(people):
    return [p for p in people if p["death_date"] and p["death_date"] < REFERENCE_DATE]


def _died_since_reference_date(people):
    return [
        p
        for p in people
        if p["death_date"] and REFERENCE_DATE <= p["death_date"] <= f"{YEAR}-03-31"
    ]


def _born_since_reference_date(people):
    return [p for p in people if p["birth_date"] > REFERENCE_DATE]


def _born_2000_or_later(people):
    return [p for p in people if p["birth_date"] >= "2000"]


def _unknown_birth_date(people):
    return [p for p in people if p["birth_date"].endswith("-00")]


def _late_registration(people):
    return [
        p
        for p in people
        for s in p["statuses"]
        if s["from"] < REFERENCE_DATE
        and f"{YEAR}-02-01" <= s["registered_on"] <= f"{YEAR}-05-31"
    ]


def _registered_weeks_later(people):
    return [
        p
        for p in people
        for s in p["statuses"]
        if (date.fromisoformat(s["registered_on"]) - date.fromisoformat(s["from"])).days
        >= 14
    ]


def _missing_assessment(people):
    return [
        p
        for p in people
        if _is_adult_on_reference_date(p)
        and p["birth_date"][:4] < str(YEAR - 25)
        and not any(i["income_year"] == YEAR - 2 for i in p["incomes"])
    ]


def _no_reference_person(people):
    return [
        members
        for members in _households(people).values()
        if not any(m["position"] == "01" for m in members)
    ]


def _two_reference_persons(people):
    return [
        members
        for members in _households(people).values()
        if sum(m["position"] == "01" for m in members) == 2
    ]


def _ending_status(people):
    return [p for p in people for s in p["statuses"] if s["to"] is not None]


def _vt_starting_after_reference_date(people):
    return [
        p
        for p in people
        for s in p["statuses"]
        if s["name"] == "BIM_BVT" and s["from"] > REFERENCE_DATE
    ]


def _vt_ended_in_december(people):
    return [
        p
        for p in people
        for s in p["statuses"]
        if s["name"] == "BIM_BVT"
        and s["to"]
        and f"{YEAR - 1}-12-01" <= s["to"] < REFERENCE_DATE
    ]


def _vt_ending_this_year(people):
    return [
        p
        for p in people
        for s in p["statuses"]
        if s["name"] == "BIM_BVT" and s["to"] and s["to"][:4] == str(YEAR)
    ]


def _pupil_without_address(people):
    return [p for p in _no_address(people) if p["birth_date"][:4] > str(YEAR - 18)]


RARE_CASES = {
    "reference address": _reference_address,
    "no address": _no_address,
    "pupil without address": _pupil_without_address,
    "died before 1 January": _died_before_reference_date,
    "died January-March": _died_since_reference_date,
    "born January-March": _born_since_reference_date,
    "born 2000 or later": _born_2000_or_later,
    "unknown birth date": _unknown_birth_date,
    "status registered in February-May": _late_registration,
    "status registered weeks after its start": _registered_weeks_later,
    "missing tax assessment": _missing_assessment,
    "household without reference person": _no_reference_person,
    "household with two reference persons": _two_reference_persons,
    "status that ends": _ending_status,
    "VT starting after 1 January": _vt_starting_after_reference_date,
    "VT ended in December": _vt_ended_in_december,
    "VT ending in the year": _vt_ending_this_year,
}


@pytest.mark.parametrize("case", RARE_CASES)
def test_a_city_of_two_thousand_has_each_rare_case(case, small_people):
    minimum = 1 if case in {"pupil without address"} else 3
    assert len(RARE_CASES[case](small_people)) >= minimum


def test_unknown_birth_dates_show_in_the_national_number(small_people):
    people = _unknown_birth_date(small_people)
    assert any(p["birth_date"][5:7] == "00" for p in people)
    assert any(p["birth_date"][5:7] != "00" for p in people)
    for person in people:
        month, day = person["birth_date"][5:7], person["birth_date"][8:10]
        assert person["insz"][2:4] == f"{int(month) + 60:02d}"
        assert person["insz"][4:6] == day == "00"


def test_people_born_from_2000_have_the_2000_check_digits(small_people):
    for person in _born_2000_or_later(small_people):
        digits = check_digits(person["insz"][:9], born_2000_or_later=True)
        assert person["insz"][9:] == digits


def test_statuses_reach_the_registry_on_or_after_their_start(large_people):
    for person in large_people:
        for status in person["statuses"]:
            assert status["registered_on"] >= status["from"]
            assert status["to"] is None or status["to"] >= status["from"]


def test_nobody_has_a_status_after_their_death(large_people):
    for person in large_people:
        if person["death_date"]:
            for status in person["statuses"]:
                assert status["from"] <= person["death_date"]
                assert status["to"] is not None
                assert status["to"] <= person["death_date"]


def test_status_names_are_magda_names(large_people):
    names = {s["name"] for person in large_people for s in person["statuses"]}
    assert names == {
        "BIM_BVT",
        "LIVING_WAGES_PCSA_HELP",
        "GENT_PARKING_ADULT",
        "GENT_PARKING_CHILD",
    }
