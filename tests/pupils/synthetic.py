"""Synthetic pupils and files for the tests of what schools send.

Every national number here is made up at run time. MAGDA test numbers (birth month
+ 60) are the default; the few ordinary and BIS numbers that the validation rules
need are built the same way, have no name attached and leave no file behind.
"""

from __future__ import annotations

import codecs
from datetime import date
from pathlib import Path

from proactief.insz import TEST_MONTH_OFFSET, check_digits

PUPIL_HEADER = "school_id;school_name;pupil_insz;last_name;first_name;class;since"
BILLING_HEADER = "pupil_insz;item;quantity;unit_price"
SCHOOLS = {
    "GENT-BSO-017": "Basisschool De Vlinder",
    "GENT-BSO-023": "Stedelijke Basisschool Rabot",
    "GENT-KDV-004": "Kinderdagverblijf Het Nest",
}


def _number(birth: date, serial: int, month_offset: int) -> str:
    first_nine = f"{birth:%y}{birth.month + month_offset:02d}{birth:%d}{serial:03d}"
    return first_nine + check_digits(first_nine, born_2000_or_later=birth.year >= 2000)


def magda_number(birth: date, serial: int = 11) -> str:
    """A MAGDA test number (birth month + 60) for someone born on `birth`."""
    return _number(birth, serial, TEST_MONTH_OFFSET)


def ordinary_number(birth: date, serial: int = 997) -> str:
    """A made-up number in the national register's own shape (month 01-12)."""
    return _number(birth, serial, 0)


def bis_number(birth: date, serial: int = 997) -> str:
    """A made-up BIS number (birth month + 40)."""
    return _number(birth, serial, 40)


def pupil_line(
    number: str,
    *,
    school: str = "GENT-BSO-017",
    last: str = "Peeters",
    first: str = "An",
    pupil_class: str = "3B",
    since: str = "2025-09-01",
) -> str:
    name = SCHOOLS.get(school, "School")
    return f"{school};{name};{number};{last};{first};{pupil_class};{since}"


def write_file(
    folder: Path,
    name: str,
    lines: list[str],
    *,
    encoding: str = "utf-8",
    bom: bool = False,
    newline: str = "\n",
) -> Path:
    data = "".join(line + newline for line in lines).encode(encoding)
    path = folder / name
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + data)
    return path


def assert_private(text: str, *secrets: str) -> None:
    """`text` repeats none of the numbers, names or amounts given."""
    for secret in secrets:
        assert secret not in text, "a message repeats personal data"
