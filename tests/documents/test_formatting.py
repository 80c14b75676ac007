"""Dutch formatting shared by every document: amounts, quantities, shares, labels."""

from __future__ import annotations

from decimal import Decimal

import pytest

from proactief.documents.formatting import (
    NBSP,
    fits_address_line,
    format_euro,
    format_number,
    format_percentage,
)
from proactief.documents.tariff_labels import category_label, item_label, tariff_label


@pytest.mark.parametrize(
    ("amount", "places", "printed"),
    [
        (Decimal("1.85"), 2, "€ 1,85"),
        (Decimal("1.125"), 3, "€ 1,125"),
        (Decimal("1.1254"), 3, "€ 1,125"),
        (Decimal("1234.5"), 3, "€ 1.234,500"),
        (Decimal("12.5"), 0, "€ 13"),
    ],
)
def test_format_euro_to_more_or_fewer_places(amount, places, printed):
    assert format_euro(amount, places=places) == printed.replace(" ", NBSP)


@pytest.mark.parametrize(
    ("number", "printed"),
    [
        (Decimal(18), "18"),
        (Decimal("18.00"), "18"),
        (Decimal("24.5"), "24,5"),
        (Decimal("24.50"), "24,5"),
        (Decimal("0.25"), "0,25"),
        (Decimal(1250), "1.250"),
        (Decimal("1E+2"), "100"),
        (Decimal(0), "0"),
        (Decimal("-2.5"), "-2,5"),
    ],
)
def test_format_number_the_dutch_way(number, printed):
    assert format_number(number) == printed


@pytest.mark.parametrize(
    ("share", "printed"),
    [
        (Decimal(0), "0 %"),
        (Decimal("0.5"), "50 %"),
        (Decimal("0.25"), "25 %"),
        (Decimal("0.625"), "62,5 %"),
        (Decimal("0.80"), "80 %"),
        (Decimal("1.00"), "100 %"),
    ],
)
def test_format_percentage_with_a_no_break_space(share, printed):
    assert format_percentage(share) == printed.replace(" ", NBSP)


@pytest.mark.parametrize("value", [0.5, Decimal("NaN"), 1])
def test_formatting_refuses_what_is_not_a_decimal(value):
    with pytest.raises(ValueError):
        format_number(value)
    with pytest.raises(ValueError):
        format_percentage(value)


def test_an_address_line_fits_the_window_up_to_the_smallest_size():
    assert fits_address_line("Aan de ouders van Zoë D'Hondt")
    assert not fits_address_line("Aan de ouders van Marie-Thérèse Vandenbroucke")


def test_tariff_labels_name_the_tariff_never_the_reason():
    assert category_label("social") == "Sociaal tarief"
    assert category_label("review") == "In behandeling"
    assert tariff_label("low_income_a", True) == "Kortingstarief A met gezinskorting"
    assert item_label("care_hours") == "Opvanguren"
    with pytest.raises(ValueError, match="does not combine"):
        tariff_label("social", True)
    with pytest.raises(ValueError, match="'snacks'"):
        item_label("snacks")
