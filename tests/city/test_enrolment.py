"""School years, the city's establishments and how they are drawn."""

from __future__ import annotations

import random
from datetime import date

import pytest

from proactief.city.enrolment import (
    KINDS,
    SchoolYear,
    draw_schools,
    school_count,
)


def test_a_city_year_lies_in_the_school_year_that_started_the_year_before():
    school_year = SchoolYear.of_city(2027)
    assert str(school_year) == "2026-2027"
    assert school_year.first_day == date(2026, 9, 1)
    assert school_year.last_day == date(2027, 6, 30)
    assert school_year.income_year == 2024
    assert school_year.contains(date(2027, 1, 1))


def test_the_six_checks_fall_on_their_reference_dates():
    school_year = SchoolYear.parse("2026-2027")
    assert [school_year.check_date(check) for check in range(1, 7)] == [
        date(2026, 9, 1),
        date(2026, 11, 1),
        date(2027, 1, 1),
        date(2027, 3, 1),
        date(2027, 5, 1),
        date(2027, 6, 1),
    ]
    with pytest.raises(ValueError, match="checks 1 to 6"):
        school_year.check_date(0)


@pytest.mark.parametrize("text", ["2026", "2026-2028", "26-27", "2026/2027", ""])
def test_a_school_year_must_be_written_as_two_following_years(text):
    with pytest.raises(ValueError, match="for example '2026-2027'"):
        SchoolYear.parse(text)


@pytest.mark.parametrize("start", [2024, 2026, 2031])
def test_entry_days_lie_in_the_school_year_on_school_days(start):
    school_year = SchoolYear(start)
    days = school_year.entry_days()
    assert days[0] == school_year.first_day
    assert list(days) == sorted(set(days))
    assert all(school_year.contains(day) for day in days)
    assert all(day.weekday() < 5 for day in days[1:])


@pytest.mark.parametrize(
    ("inhabitants", "count"), [(1, 3), (2_036, 3), (3_000, 5), (20_036, 33)]
)
def test_about_one_establishment_per_600_inhabitants(inhabitants, count):
    assert school_count(inhabitants) == count


def test_every_kind_is_drawn_with_unique_names_even_in_a_big_city():
    schools = draw_schools(random.Random(1), 260_000)
    assert {school.kind for school in schools} == set(KINDS)
    assert len({school.name for school in schools}) == len(schools)
    assert len({school.id for school in schools}) == len(schools)
    assert all(";" not in school.name for school in schools)
    small = draw_schools(random.Random(1), 100)
    assert [school.kind for school in small] == list(KINDS)
