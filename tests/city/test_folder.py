"""The city folder's files: their format, and the readers other parts use."""

from __future__ import annotations

import re
import types
from datetime import date

import pytest

from proactief.city import (
    Resident,
    SocialServiceRecord,
    load_population,
    read_residents,
    read_social_service,
)
from proactief.city.folder import PERSON_KEYS, SCHOOL_KEYS
from proactief.errors import CityDataError
from proactief.insz import is_test_number, validate

from .conftest import YEAR

ADDRESS_KEYS = [
    "street",
    "number",
    "box",
    "postcode",
    "municipality",
    "since",
    "reference_address",
]


# ---------------------------------------------------------------------- format


def test_files_are_utf8_without_byte_order_mark(small_city):
    for path in small_city.iterdir():
        data = path.read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")
        data.decode("utf-8")
        assert b"\r\n" not in data


def test_each_person_has_the_contract_keys_in_order(small_people):
    for person in small_people:
        assert list(person) == [*PERSON_KEYS, "school"]
        if person["school"] is not None:
            assert list(person["school"]) == list(SCHOOL_KEYS)
            assert re.fullmatch(r"GENT-(BS|KDV)-\d{3}", person["school"]["school_id"])
            date.fromisoformat(person["school"]["since"])
        if person["address"] is not None:
            assert list(person["address"]) == ADDRESS_KEYS
        for status in person["statuses"]:
            assert list(status) == ["name", "from", "to", "registered_on"]
        for income in person["incomes"]:
            assert list(income) == ["income_year", "taxable_income", "assessed_on"]


def test_national_numbers_are_unique_valid_test_numbers(large_people):
    numbers = [person["insz"] for person in large_people]
    assert len(set(numbers)) == len(numbers)
    for number in numbers:
        assert isinstance(number, str) and len(number) == 11
        assert validate(number, allow_test_numbers=True) == number
        assert is_test_number(number)


def test_national_numbers_with_a_leading_zero_stay_strings(large_city):
    text = (large_city / "population.jsonl").read_text(encoding="utf-8")
    assert re.search(r'"insz": "0\d{10}"', text)
    assert not re.search(r'"insz": \d', text)


def test_residents_csv_has_its_header_and_three_fields(small_city):
    lines = (small_city / "residents.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "insz;household;position"
    for line in lines[1:]:
        insz, household, position = line.split(";")
        assert re.fullmatch(r"\d{11}", insz)
        assert re.fullmatch(r"H\d{7}", household)
        assert re.fullmatch(r"\d{2}", position)


def test_social_service_csv_has_its_header_and_flags(small_city, small_people):
    lines = (small_city / "social_service.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "insz;budget_guidance;budget_management;debt_mediation;since"
    numbers = {person["insz"] for person in small_people}
    assert len(lines) > 10
    for line in lines[1:]:
        insz, *flags, since = line.split(";")
        assert insz in numbers
        assert all(flag in ("0", "1") for flag in flags)
        date.fromisoformat(since)


def test_residents_are_the_people_registered_on_the_reference_date(
    large_city, large_people
):
    reference = date(YEAR, 1, 1).isoformat()
    expected = {
        person["insz"]: (person["household"], person["position"])
        for person in large_people
        if person["birth_date"] < reference
        and (person["death_date"] is None or person["death_date"] >= reference)
        and (person["address"] is None or person["address"]["since"] < reference)
    }
    residents = read_residents(large_city)
    assert {r.insz: (r.household, r.position) for r in residents} == expected
    assert len(residents) == len(expected)
    # only the deceased, the newborn and the newly arrived are left out
    assert 0.98 * len(large_people) < len(residents) < len(large_people)


# --------------------------------------------------------------------- readers


def test_load_population_streams_dicts(small_city, small_people):
    people = load_population(small_city)
    assert isinstance(people, types.GeneratorType)
    assert list(people) == small_people


def test_read_residents_gives_dataclasses(small_city):
    residents = read_residents(small_city)
    assert residents and all(isinstance(r, Resident) for r in residents)


def test_read_social_service_keys_records_by_national_number(small_city):
    records = read_social_service(small_city)
    assert records
    for insz, record in records.items():
        assert len(insz) == 11
        assert isinstance(record, SocialServiceRecord)
        assert isinstance(record.since, date)
        assert isinstance(record.budget_guidance, bool)


def test_a_missing_city_folder_says_how_to_make_one(tmp_path):
    with pytest.raises(CityDataError, match="proactief city generate"):
        list(load_population(tmp_path / "nowhere"))
    with pytest.raises(CityDataError, match="residents.csv"):
        read_residents(tmp_path)


def _copy_city(source, target, name, text):
    target.mkdir()
    for path in source.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    (target / name).write_text(text, encoding="utf-8")
    return target


def test_a_broken_population_line_is_named_without_its_number(small_city, tmp_path):
    lines = (small_city / "population.jsonl").read_text(encoding="utf-8").splitlines()
    insz = lines[2][10:21]
    lines[2] = lines[2][:-5]
    city = _copy_city(
        small_city, tmp_path / "city", "population.jsonl", "\n".join(lines)
    )
    with pytest.raises(CityDataError, match="line 3: not valid JSON") as caught:
        list(load_population(city))
    assert insz not in str(caught.value)


def test_a_short_national_number_in_residents_is_named_by_line(small_city, tmp_path):
    lines = (small_city / "residents.csv").read_text(encoding="utf-8").splitlines()
    insz = lines[5].split(";")[0]
    lines[5] = lines[5][1:]
    city = _copy_city(small_city, tmp_path / "city", "residents.csv", "\n".join(lines))
    with pytest.raises(CityDataError, match="line 6: insz must be 11 digits") as caught:
        read_residents(city)
    assert insz[1:] not in str(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda fields: fields[:1] + ["yes"] + fields[2:], "budget_guidance is 'yes'"),
        (lambda fields: fields[:4] + ["01/02/2025"], "not an ISO date"),
        (lambda fields: fields[:3], "expected 5 fields"),
    ],
)
def test_a_bad_social_service_line_is_named_by_line(
    small_city, tmp_path, change, message
):
    lines = (small_city / "social_service.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = ";".join(change(lines[1].split(";")))
    city = _copy_city(
        small_city, tmp_path / "city", "social_service.csv", "\n".join(lines)
    )
    with pytest.raises(CityDataError, match=f"line 2: .*{re.escape(message)}"):
        read_social_service(city)


def test_a_wrong_header_is_refused(small_city, tmp_path):
    text = (small_city / "residents.csv").read_text(encoding="utf-8")
    city = _copy_city(
        small_city, tmp_path / "city", "residents.csv", text.replace("insz;", "nn;", 1)
    )
    with pytest.raises(CityDataError, match="line 1: expected the header"):
        read_residents(city)


def test_a_person_twice_in_the_social_service_file_is_refused(small_city, tmp_path):
    lines = (small_city / "social_service.csv").read_text(encoding="utf-8").splitlines()
    city = _copy_city(
        small_city,
        tmp_path / "city",
        "social_service.csv",
        "\n".join([*lines, lines[1]]),
    )
    with pytest.raises(CityDataError, match="one line per person"):
        read_social_service(city)


def test_readers_accept_a_byte_order_mark(small_city, tmp_path):
    text = (small_city / "residents.csv").read_text(encoding="utf-8")
    city = _copy_city(small_city, tmp_path / "city", "residents.csv", "\ufeff" + text)
    assert len(read_residents(city)) == len(read_residents(small_city))
