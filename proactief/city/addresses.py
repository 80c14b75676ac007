"""Addresses of the synthetic city: real Ghent streets with invented house numbers.

The streets and postcodes come from the project's reference lists, shipped with this
package in `data/` (copies of `../shared/ghent/`), and are read when a city is made.
A street lies in the part of the city its postcode names; parts are drawn in rough
proportion to where Ghent's people live, so that the inner city (9000) holds a bit
under half of the households and most of the flats.

People without a fixed home are registered at a reference address: the social
service's own address (`SOCIAL_SERVICE_ADDRESS`), which is fictitious but lies on a
real street from the list.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

from proactief.errors import CityDataError

DATA_DIR = Path(__file__).parent / "data"
STREETS_FILE = DATA_DIR / "streets.csv"
POSTCODES_FILE = DATA_DIR / "postcodes.csv"
MUNICIPALITY = "Gent"

# Share of the city's households per postcode, in percent (est., from the population
# of Ghent's parts). A postcode missing here weighs 1; one without streets is skipped.
_POSTCODE_SHARE = {
    "9000": 45.0,
    "9030": 5.0,
    "9031": 5.0,
    "9032": 4.5,
    "9040": 11.0,
    "9041": 5.0,
    "9042": 1.0,
    "9050": 12.0,
    "9051": 2.5,
    "9052": 2.5,
}

# Flats (an address with a box) are common in the inner city, rarer outside it.
_BOX_SHARE_INNER = 0.32
_BOX_SHARE_OUTER = 0.12


@dataclass(frozen=True, slots=True)
class Dwelling:
    """Where a household lives: shared by its members, each with their own `since`."""

    street: str
    number: str
    box: str | None
    postcode: str
    reference_address: bool = False


SOCIAL_SERVICE_ADDRESS = Dwelling(
    street="Botermarkt", number="1", box=None, postcode="9000", reference_address=True
)


def _read_rows(path: Path, header: list[str]) -> list[list[str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle, delimiter=";"))
    except OSError as exc:
        raise CityDataError(
            f"cannot read the Ghent reference list {str(path)!r}: {exc.strerror};"
            " reinstall the package or restore proactief/city/data/"
        ) from exc
    if not rows or rows[0] != header:
        raise CityDataError(
            f"{str(path)!r} should start with the header {';'.join(header)!r}"
        )
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header) or not all(field.strip() for field in row):
            raise CityDataError(
                f"{str(path)!r} line {number}: expected {len(header)} non-empty"
                " fields separated by ';'"
            )
    return rows[1:]


class AddressBook:
    """Draws addresses from the Ghent lists; one instance per generated city."""

    def __init__(
        self, streets_file: Path = STREETS_FILE, postcodes_file: Path = POSTCODES_FILE
    ) -> None:
        postcodes = {
            row[0] for row in _read_rows(postcodes_file, ["postcode", "place"])
        }
        by_postcode: dict[str, list[str]] = {}
        for street, postcode in _read_rows(streets_file, ["street", "postcode"]):
            if postcode not in postcodes:
                raise CityDataError(
                    f"{str(streets_file)!r} has a street in postcode {postcode!r},"
                    f" which {str(postcodes_file)!r} does not list; add it there"
                )
            by_postcode.setdefault(postcode, []).append(street)
        # sorted, so that the draw does not depend on the order of the file's lines
        self._postcodes = sorted(by_postcode)
        self._streets = {code: sorted(by_postcode[code]) for code in self._postcodes}
        self._weights = [_POSTCODE_SHARE.get(code, 1.0) for code in self._postcodes]
        if SOCIAL_SERVICE_ADDRESS.street not in self._streets.get(
            SOCIAL_SERVICE_ADDRESS.postcode, []
        ):
            raise CityDataError(
                f"the social service's street {SOCIAL_SERVICE_ADDRESS.street!r} is"
                f" missing from {str(streets_file)!r}; the reference addresses need it"
            )

    @property
    def streets(self) -> dict[str, list[str]]:
        return self._streets

    def draw(self, rng: random.Random) -> Dwelling:
        postcode = rng.choices(self._postcodes, weights=self._weights)[0]
        street = rng.choice(self._streets[postcode])
        # most houses of a street sit at its low numbers
        number = str(min(1 + int(rng.lognormvariate(2.9, 0.9)), 399))
        if rng.random() < 0.03:
            number += rng.choice("ABC")
        box_share = _BOX_SHARE_INNER if postcode == "9000" else _BOX_SHARE_OUTER
        box = _draw_box(rng) if rng.random() < box_share else None
        return Dwelling(street=street, number=number, box=box, postcode=postcode)


def _draw_box(rng: random.Random) -> str:
    """A box ("bus") as Ghent's buildings number them: 3, 0201, 101, A."""
    roll = rng.random()
    if roll < 0.6:
        return str(rng.randint(1, 12))
    if roll < 0.75:
        return f"{rng.randint(0, 5):02d}{rng.randint(1, 4):02d}"
    if roll < 0.9:
        return rng.choice("ABCD")
    return str(rng.randint(1, 4) * 100 + rng.randint(1, 8))
