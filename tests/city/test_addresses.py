"""The Ghent reference lists shipped with the generator, and how they are read."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from proactief.city.addresses import (
    POSTCODES_FILE,
    SOCIAL_SERVICE_ADDRESS,
    STREETS_FILE,
    AddressBook,
)
from proactief.errors import CityDataError

SHARED_GHENT = Path(__file__).resolve().parents[3] / "shared" / "ghent"


@pytest.mark.skipif(not SHARED_GHENT.is_dir(), reason="../shared/ghent is absent")
@pytest.mark.parametrize("name", ["streets.csv", "postcodes.csv"])
def test_shipped_lists_are_copies_of_the_shared_ones(name):
    shipped = (STREETS_FILE if name == "streets.csv" else POSTCODES_FILE).read_bytes()
    assert shipped == (SHARED_GHENT / name).read_bytes()


def test_the_social_service_lies_on_a_listed_street():
    book = AddressBook()
    assert (
        SOCIAL_SERVICE_ADDRESS.street in book.streets[SOCIAL_SERVICE_ADDRESS.postcode]
    )
    assert SOCIAL_SERVICE_ADDRESS.reference_address


def test_drawn_addresses_are_on_listed_streets():
    book = AddressBook()
    rng = random.Random(1)
    for _ in range(2_000):
        dwelling = book.draw(rng)
        assert dwelling.street in book.streets[dwelling.postcode]
        assert dwelling.number[0].isdigit() and dwelling.number[0] != "0"
        assert not dwelling.reference_address


def test_a_street_in_an_unlisted_postcode_is_refused(tmp_path):
    streets = tmp_path / "streets.csv"
    streets.write_text("street;postcode\nBotermarkt;9000\nNergensstraat;9999\n")
    with pytest.raises(CityDataError, match="'9999'"):
        AddressBook(streets_file=streets)


def test_a_list_without_its_header_is_refused(tmp_path):
    streets = tmp_path / "streets.csv"
    streets.write_text("Botermarkt;9000\n")
    with pytest.raises(CityDataError, match="header 'street;postcode'"):
        AddressBook(streets_file=streets)


def test_a_missing_list_says_how_to_restore_it(tmp_path):
    with pytest.raises(CityDataError, match="proactief/city/data"):
        AddressBook(streets_file=tmp_path / "absent.csv")
