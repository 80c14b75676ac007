"""National numbers issued to the people of a synthetic city."""

from __future__ import annotations

import random

import pytest

from proactief.city.numbers import NumberIssuer
from proactief.insz import check_digits, is_test_number, validate


def test_test_numbers_raise_the_birth_month_by_sixty():
    number = NumberIssuer(random.Random(1)).issue("1985-07-30", "F")
    assert number[:6] == "856730"
    assert int(number[6:9]) % 2 == 0
    assert is_test_number(number)


def test_an_unknown_month_becomes_sixty_and_an_unknown_day_stays_zero():
    number = NumberIssuer(random.Random(1)).issue("1950-00-00", "M")
    assert number[:6] == "506000"
    assert int(number[6:9]) % 2 == 1
    assert validate(number, allow_test_numbers=True) == number


def test_people_born_from_2000_get_the_2000_check_digits():
    number = NumberIssuer(random.Random(1)).issue("2003-02-14", "M")
    assert number[9:] == check_digits(number[:9], born_2000_or_later=True)
    assert number[9:] != check_digits(number[:9], born_2000_or_later=False)


def test_real_style_numbers_keep_the_month():
    number = NumberIssuer(random.Random(1), real_style=True).issue("1985-07-30", "M")
    assert number[:6] == "850730"
    assert validate(number) == number


@pytest.mark.parametrize("sex", ["F", "M"])
def test_everyone_born_on_one_day_gets_a_number_of_their_own(sex):
    issuer = NumberIssuer(random.Random(3))
    numbers = {issuer.issue("1990-01-01", sex) for _ in range(499)}
    assert len(numbers) == 499
    with pytest.raises(RuntimeError, match="every serial number"):
        issuer.issue("1990-01-01", sex)
