"""A school's billing lines: amounts as Decimal, a decimal comma accepted, wrong lines
sent back with a reason and the good ones kept."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from proactief.errors import PupilFileError
from proactief.pupils import read_billing_lines

from .synthetic import BILLING_HEADER, assert_private, magda_number, write_file

ZOE = magda_number(date(2016, 3, 14), 12)
EMRE = magda_number(date(2015, 11, 2), 31)


def _read(path, *, allow_test_numbers=True):
    return read_billing_lines(path, allow_test_numbers=allow_test_numbers)


def _rejections(billing) -> list[tuple[int, str]]:
    return [(row.line, row.reason) for row in billing.rejected]


def test_billing_lines_are_read_by_pupil_as_decimals(tmp_path):
    lines = [
        BILLING_HEADER,
        f"{ZOE};care_hours;7,5;1,10",
        f"{ZOE};meals;12;3.20",
        f"{EMRE};Activity;1;.5",
        f"{ZOE};meals;0;3,20",
    ]
    billing = _read(write_file(tmp_path, "facturen.csv", lines, bom=True))
    assert billing.rejected == []
    assert list(billing.lines) == [ZOE, EMRE]
    care, meals, no_meals = billing.lines[ZOE]
    assert (care.item, care.quantity, care.unit_price, care.line) == (
        "care_hours",
        Decimal("7.5"),
        Decimal("1.10"),
        2,
    )
    assert (meals.quantity, meals.unit_price) == (Decimal(12), Decimal("3.20"))
    assert no_meals.quantity == 0
    assert billing.lines[EMRE][0].item == "activity"
    assert billing.lines[EMRE][0].unit_price == Decimal("0.5")
    assert isinstance(care.quantity, Decimal) and isinstance(care.unit_price, Decimal)


@pytest.mark.parametrize(
    ("quantity", "unit_price", "reasons"),
    [
        ("", "3,40", ["quantity_missing"]),
        ("8,25", "", ["unit_price_missing"]),
        ("1.234,50", "3,40", ["quantity_invalid"]),
        ("8,25", "€ 3,40", ["unit_price_invalid"]),
        ("NaN", "1e3", ["quantity_invalid", "unit_price_invalid"]),
        ("8 uur", "Infinity", ["quantity_invalid", "unit_price_invalid"]),
        ("-1,25", "3,40", ["quantity_negative"]),
        ("3", "-0,01", ["unit_price_negative"]),
    ],
)
def test_amounts_that_are_not_plain_numbers_or_negative_are_rejected(
    tmp_path, quantity, unit_price, reasons
):
    lines = [
        BILLING_HEADER,
        f"{ZOE};meals;{quantity};{unit_price}",
        f"{EMRE};meals;1;2",
    ]
    billing = _read(write_file(tmp_path, "facturen.csv", lines))
    assert _rejections(billing) == [(2, reason) for reason in reasons]
    for row in billing.rejected:
        column = row.reason.rsplit("_", 1)[0]
        assert row.message.startswith(f"Regel 2, kolom {column}: ")
        amounts = [value for value in (quantity, unit_price) if len(value) > 1]
        assert_private(row.message, ZOE, *amounts)
    assert list(billing.lines) == [EMRE]


def test_unknown_or_missing_items_are_rejected(tmp_path):
    lines = [
        BILLING_HEADER,
        f"{ZOE};maaltijden;1;2",
        f"{ZOE};;1;2",
        f"{ZOE};MEALS;1;2",
    ]
    billing = _read(write_file(tmp_path, "facturen.csv", lines))
    assert _rejections(billing) == [(2, "item_unknown"), (3, "item_missing")]
    assert "care_hours" in billing.rejected[0].message
    assert [line.line for line in billing.lines[ZOE]] == [4]


def test_national_numbers_are_checked_as_in_pupil_lists(tmp_path):
    lines = [
        BILLING_HEADER,
        f"{ZOE[:-1]}{(int(ZOE[-1]) + 1) % 10};meals;1;2",
        ";meals;1;2",
        f"{EMRE};meals;1;2",
    ]
    path = write_file(tmp_path, "facturen.csv", lines)
    assert _rejections(_read(path)) == [(2, "insz_invalid"), (3, "insz_missing")]
    strict = _read(path, allow_test_numbers=False)
    assert _rejections(strict) == [
        (2, "insz_invalid"),
        (3, "insz_missing"),
        (4, "insz_test_number"),
    ]
    assert strict.lines == {}


def test_a_comma_separated_billing_file_is_refused(tmp_path):
    lines = ["pupil_insz,item,quantity,unit_price", f'{ZOE},meals,"7,5",3.20']
    with pytest.raises(PupilFileError) as caught:
        _read(write_file(tmp_path, "facturen.csv", lines))
    assert caught.value.reason == "wrong_separator"
    assert "Bestand facturen.csv, regel 1" in str(caught.value)


def test_a_billing_file_without_unit_price_is_refused(tmp_path):
    lines = ["pupil_insz;item;quantity", f"{ZOE};meals;7,5"]
    with pytest.raises(PupilFileError, match="de kolom unit_price ontbreekt"):
        _read(write_file(tmp_path, "facturen.csv", lines))


def test_a_latin1_billing_file_is_refused(tmp_path):
    lines = [BILLING_HEADER, f"{ZOE};meals;1;2", f"{EMRE};maaltijd à 3 €;1;2"]
    with pytest.raises(PupilFileError) as caught:
        _read(write_file(tmp_path, "facturen.csv", lines, encoding="cp1252"))
    assert (caught.value.reason, caught.value.line, caught.value.column) == (
        "not_utf8",
        3,
        len(f"{EMRE};maaltijd ") + 1,
    )
    assert_private(str(caught.value), EMRE)


def test_a_header_only_billing_file_is_refused(tmp_path):
    with pytest.raises(PupilFileError, match="geen enkele factuurlijn") as caught:
        _read(write_file(tmp_path, "facturen.csv", [BILLING_HEADER]))
    assert caught.value.reason == "no_rows"


def test_the_repr_of_a_billing_file_shows_no_number_or_amount(tmp_path):
    lines = [BILLING_HEADER, f"{ZOE};meals;12;3.20"]
    billing = _read(write_file(tmp_path, "facturen.csv", lines))
    assert_private(repr(billing), ZOE, "3.20")
    assert_private(repr(billing.lines[ZOE]), ZOE, "3.20", "12")
