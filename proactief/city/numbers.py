"""National numbers (INSZ) for the people of a synthetic city.

By default every number is a MAGDA test number: birth month raised by 60 (an unknown
month `00` becomes `60`), so that none can belong to a real person. With
`real_style=True` the month is written as it is (00-12); that is only for checking how
code handles ordinary numbers, never for data that leaves the machine.

The serial (digits 7-9) is odd for men and even for women, as in the national
register; the check digits follow the rule for people born in 2000 or later where it
applies (`proactief.insz.check_digits`). Numbers are unique within a city: an issuer
that adds people to a city made by another one is given the numbers issued so far.
"""

from __future__ import annotations

import random

from proactief.insz import TEST_MONTH_OFFSET, check_digits


class NumberIssuer:
    """Issues unique national numbers for one city, drawing serials from its `rng`."""

    def __init__(
        self,
        rng: random.Random,
        *,
        real_style: bool = False,
        issued: set[str] | None = None,
    ) -> None:
        self._rng = rng
        self._real_style = real_style
        # shared, not copied: two issuers of one city must never give the same number
        self._issued: set[str] = issued if issued is not None else set()

    @property
    def issued(self) -> set[str]:
        """The first nine digits of every number issued so far (shared, not a copy)."""
        return self._issued

    def issue(self, birth_date: str, sex: str) -> str:
        """The number of someone born on `birth_date` (`YYYY-MM-DD`, `00` allowed)."""
        year, month, day = (int(part) for part in birth_date.split("-"))
        if not self._real_style:
            month += TEST_MONTH_OFFSET
        prefix = f"{year % 100:02d}{month:02d}{day:02d}"
        # men 001-997 odd, women 002-998 even
        first = self._rng.randrange(1 if sex == "M" else 2, 998, 2)
        serial = first
        while f"{prefix}{serial:03d}" in self._issued:
            serial += 2
            if serial > 998:
                serial = 1 if sex == "M" else 2
            if serial == first:
                raise RuntimeError(
                    "every serial number of one birth date is taken;"
                    " generate a smaller city"
                )
        first_nine = f"{prefix}{serial:03d}"
        self._issued.add(first_nine)
        return first_nine + check_digits(first_nine, born_2000_or_later=year >= 2000)
