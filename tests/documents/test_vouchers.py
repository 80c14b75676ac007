"""Voucher codes: derived once per household and year, typable, self-checking."""

from __future__ import annotations

import re

import pytest

from proactief.documents.vouchers import (
    ALPHABET,
    is_valid_voucher_code,
    make_voucher_code,
    normalize_voucher_code,
)

SECRET = b"synthetic-test-secret-0123456789"
KEY = "garbage_bags:2026:H0000123"


def test_a_rerun_gives_the_same_code_for_the_same_household_and_year():
    assert make_voucher_code(KEY, SECRET) == make_voucher_code(KEY, SECRET)


def test_another_household_year_or_secret_gives_another_code():
    code = make_voucher_code(KEY, SECRET)
    assert make_voucher_code("garbage_bags:2026:H0000124", SECRET) != code
    assert make_voucher_code("garbage_bags:2027:H0000123", SECRET) != code
    assert make_voucher_code(KEY, b"another-synthetic-secret-987654") != code


def test_codes_are_three_groups_of_four_without_look_alike_symbols():
    codes = {
        make_voucher_code(f"garbage_bags:2026:H{n:07d}", SECRET) for n in range(2000)
    }
    assert len(codes) == 2000
    for code in codes:
        assert re.fullmatch(
            r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}", code
        )
        assert is_valid_voucher_code(code)


def test_every_symbol_of_the_alphabet_is_used():
    symbols = {
        symbol
        for n in range(300)
        for symbol in make_voucher_code(f"k{n}", SECRET).replace("-", "")
    }
    assert symbols == set(ALPHABET)


def test_check_symbol_catches_every_single_typing_mistake():
    compact = make_voucher_code(KEY, SECRET).replace("-", "")
    for position, original in enumerate(compact):
        for symbol in ALPHABET.replace(original, ""):
            typed = compact[:position] + symbol + compact[position + 1 :]
            assert not is_valid_voucher_code(typed)


def test_check_symbol_catches_swapped_neighbours():
    for n in range(50):
        compact = make_voucher_code(f"k{n}", SECRET).replace("-", "")
        for position in range(len(compact) - 1):
            a, b = compact[position], compact[position + 1]
            if a != b:
                typed = compact[:position] + b + a + compact[position + 2 :]
                assert not is_valid_voucher_code(typed)


def test_typed_code_is_read_without_case_dashes_or_spaces():
    code = make_voucher_code(KEY, SECRET)
    typed = code.lower().replace("-", " ")
    assert is_valid_voucher_code(typed)
    assert normalize_voucher_code(typed) == code


@pytest.mark.parametrize(
    "typed", ["", "ABCD-EFGH", "ABCD-EFGH-JKLMN", "0BCD-EFGH-JKLM", "IBCD-EFGH-JKLM"]
)
def test_malformed_code_is_not_valid(typed):
    assert not is_valid_voucher_code(typed)
    with pytest.raises(ValueError):
        normalize_voucher_code(typed)


def test_short_secret_is_refused():
    with pytest.raises(ValueError, match="16 bytes"):
        make_voucher_code(KEY, b"short")


def test_empty_key_is_refused():
    with pytest.raises(ValueError, match="idempotency key"):
        make_voucher_code("", SECRET)
