"""How Proactief's documents write amounts, dates, numbers and addresses in Dutch.

Shared by every document the city prints (voucher letters, invoices, school lists),
so that an amount or an address reads the same on all of them. Nothing here logs,
and no message quotes an amount or a name: they may reach a log line.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from proactief.facts import Address

__all__ = [
    "NBSP",
    "address_block_size",
    "clean_text",
    "fits_address_line",
    "format_address_lines",
    "format_date",
    "format_euro",
    "format_number",
    "format_percentage",
    "join_text",
]

NBSP = "\u00a0"
_HUNDRED = Decimal(100)
_DUTCH_MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
_WHITESPACE = re.compile(r"\s+")
# The address block is set smaller when its longest line would not fit the window's
# 80 mm of text width at the normal size, so that a long street keeps its number
# and box on its line, which is where the post's sorting machines read them. The
# limits are in characters of Liberation Sans: 11 pt fits about 40, 9.5 pt about 46.
# The sizes are classes of `.recipient` in templates/mail.css.
_ADDRESS_SIZES = ((36, ""), (44, "compact"))
_SMALLEST_ADDRESS_SIZE = "compact smallest"


def format_euro(amount: Decimal, *, places: int = 2) -> str:
    """An amount the Belgian way: `€ 1.234,50`, with a no-break space after the sign.

    Rounded half-up to `places` decimals (the cent by default); a negative amount
    reads `-€ 5,00`.
    """
    # The value is not quoted in the message: it is an amount, which stays out
    # of logs and state messages.
    _require_decimal(amount, "an amount")
    rounded = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    whole, _, fraction = f"{abs(rounded):.{places}f}".partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return f"{sign}€{NBSP}{grouped}{',' if fraction else ''}{fraction}"


def format_number(number: Decimal) -> str:
    """A quantity as Dutch writes it: `12`, `12,5`, `1.250`; no trailing zeros."""
    _require_decimal(number, "a number")
    exact = number.normalize()
    if exact == exact.to_integral_value():
        exact = exact.quantize(Decimal(1))
    whole, _, fraction = f"{abs(exact):f}".partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    sign = "-" if exact < 0 else ""
    return f"{sign}{grouped}{',' if fraction else ''}{fraction}"


def format_percentage(share: Decimal) -> str:
    """A share (0.5) as a Dutch percentage: `50 %`, `62,5 %`, with a no-break space."""
    _require_decimal(share, "a share")
    return f"{format_number(share * _HUNDRED)}{NBSP}%"


def format_date(day: date) -> str:
    """A date as a Dutch letter writes it: `3 februari 2026`."""
    return f"{day.day} {_DUTCH_MONTHS[day.month - 1]} {day.year}"


def format_address_lines(first: str, last: str, address: Address | None) -> list[str]:
    """The recipient block the Belgian way: name, street and number, postcode and place.

    `Zoë D'Hondt` / `Voorbeeldstraat 12 bus 3` / `9000 Gent`. A part that is missing
    prints nothing: no `bus` without a box, never an empty line.
    """
    if address is None:
        raise ValueError(
            "The recipient has no address: a letter cannot be sent; the household "
            "goes to review (POLICY.md, free garbage bags)."
        )
    name = join_text(first, last)
    if not name or not clean_text(address.street) or not clean_text(address.postcode):
        raise ValueError(
            "The recipient has no name, street or postcode: the letter could not be "
            "delivered; correct the data or send the household to review."
        )
    street = join_text(address.street, address.number)
    if clean_text(address.box):
        street = f"{street} bus {clean_text(address.box)}"
    return [name, street, join_text(address.postcode, address.municipality)]


def address_block_size(lines: list[str]) -> str:
    """The class of the window's address block that fits its longest line."""
    longest = max(map(len, lines))
    for limit, size in _ADDRESS_SIZES:
        if longest <= limit:
            return size
    return _SMALLEST_ADDRESS_SIZE


def fits_address_line(line: str) -> bool:
    """Whether the line fits the window on one line at a size the post still reads."""
    return len(line) <= _ADDRESS_SIZES[-1][0]


def clean_text(part: str | None) -> str:
    """The text with its runs of white space made single and its ends trimmed."""
    return _WHITESPACE.sub(" ", part or "").strip()


def join_text(*parts: str | None) -> str:
    """The parts that are not blank, cleaned and joined by one space."""
    return " ".join(cleaned for part in parts if (cleaned := clean_text(part)))


def _require_decimal(value: object, what: str) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(
            f"A {type(value).__name__} that is not a finite Decimal cannot be "
            f"printed as {what}; pass a Decimal, never a float."
        )
