"""National numbers (INSZ): validation, test numbers and pseudonymous references.

An INSZ is an 11-character string: birth date YYMMDD, a serial number, two check
digits. Three families share that shape:

- national register numbers (month 00-12), checked with python-stdnum;
- BIS numbers (month + 20 or + 40), checked with python-stdnum;
- MAGDA test numbers (month + 60), which can never be a real person's. They are
  accepted only where the configuration says so (the demo, the tests).

For everyone born in 2000 or later the check digits are computed over "2" followed
by the first nine digits.
"""

from __future__ import annotations

import hmac
import re

from stdnum.be import bis, nn
from stdnum.exceptions import ValidationError

from proactief.errors import InvalidInsz

TEST_MONTH_OFFSET = 60
_SEPARATORS = re.compile(r"[\s.\-/]")
_DIGITS = re.compile(r"[0-9]{11}")


def compact(value: str) -> str:
    """Strip the dots, dashes and spaces people type in a national number."""
    return _SEPARATORS.sub("", value or "")


def check_digits(first_nine: str, *, born_2000_or_later: bool) -> str:
    """The two check digits of an INSZ whose first nine digits are given."""
    base = int(("2" if born_2000_or_later else "") + first_nine)
    return f"{97 - base % 97:02d}"


def _check_digits_match(number: str) -> bool:
    return number[9:] in {
        check_digits(number[:9], born_2000_or_later=False),
        check_digits(number[:9], born_2000_or_later=True),
    }


def is_test_number(number: str) -> bool:
    """True for a MAGDA test number: birth month raised by 60 (61-72, or 60)."""
    number = compact(number)
    return (
        len(number) == 11
        and _DIGITS.fullmatch(number) is not None
        and TEST_MONTH_OFFSET <= int(number[2:4]) <= TEST_MONTH_OFFSET + 12
        and _check_digits_match(number)
    )


def validate(value: str, *, allow_test_numbers: bool = False) -> str:
    """Return the compact INSZ, or raise InvalidInsz saying what is wrong.

    The message never repeats the number itself: it may reach a log line.
    """
    number = compact(value)
    # ASCII digits only: str.isdigit() also takes "²" and other scripts' digits
    if _DIGITS.fullmatch(number) is None:
        raise InvalidInsz(
            f"a national number has 11 digits; got {len(number)} characters"
            " (dots, dashes and spaces are allowed, other characters are not)"
        )
    month = int(number[2:4])
    if TEST_MONTH_OFFSET <= month <= TEST_MONTH_OFFSET + 12:
        if not allow_test_numbers:
            raise InvalidInsz(
                "this is a MAGDA test number (birth month + 60); it is accepted only"
                " when the configuration allows test numbers"
            )
        if not _check_digits_match(number):
            raise InvalidInsz("the check digits of this national number do not match")
        return number
    try:
        if month > 12:
            return bis.validate(number)
        return nn.validate(number)
    except ValidationError as exc:
        if not _check_digits_match(number):
            raise InvalidInsz(
                "the check digits of this national number do not match"
            ) from exc
        raise InvalidInsz(
            f"this is not a valid national or BIS number: {exc.message}"
        ) from exc


def is_valid(value: str, *, allow_test_numbers: bool = False) -> bool:
    """True when `validate` accepts the number."""
    try:
        validate(value, allow_test_numbers=allow_test_numbers)
    except InvalidInsz:
        return False
    return True


def pseudonym(number: str, key: bytes) -> str:
    """A stable, non-reversible reference for a subject, safe for logs and artifacts.

    Keyed (HMAC-SHA256), so that nobody without the key can test a guessed number.
    """
    digest = hmac.digest(key, compact(number).encode(), "sha256").hex()
    return f"P-{digest[:12]}"
