"""The LEZ cast: every role is in the city the web tests build, on any day of the year."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from proactief.city import generate_city, write_city

from .cast import PARKING, VT, alive, lez_cast, spells
from .conftest import INHABITANTS, SEED, TODAY, read_people

ROLES = {
    "card_and_vt",
    "relative_same_address",
    "relative_elsewhere",
    "vt_only",
    "card_only",
    "neither",
    "second_card_and_vt",
}


@pytest.fixture(scope="module")
def this_years_people(tmp_path_factory) -> list[dict]:
    """The city of tests/web/conftest.py's `web_city`: this year, seed 11."""
    folder = tmp_path_factory.mktemp("web-like-city")
    write_city(generate_city(INHABITANTS, SEED, year=date.today().year), folder)
    return read_people(folder)


def test_every_role_is_cast_on_every_day_of_this_year(this_years_people):
    year = date.today().year
    day, missing = date(year, 1, 1), {}
    while day.year == year:
        try:
            cast = lez_cast(this_years_people, day)
        except LookupError as exc:
            missing.setdefault(str(exc), []).append(day)
        else:
            assert set(cast) == ROLES
        day += timedelta(days=1)
    assert missing == {}


def test_the_roles_are_what_they_say(cast):
    holder = cast["card_and_vt"]
    assert len({person["insz"] for person in cast.values()}) == len(ROLES)
    for role in ("card_and_vt", "second_card_and_vt"):
        assert spells(cast[role], PARKING, TODAY) and spells(cast[role], VT, TODAY)
    relative = cast["relative_same_address"]
    assert relative["household"] == holder["household"]
    assert alive(relative, TODAY)
    for role in ("relative_elsewhere", "vt_only", "card_only", "neither"):
        assert cast[role]["household"] != holder["household"]
    assert spells(cast["vt_only"], VT, TODAY)
    assert not spells(cast["vt_only"], PARKING, TODAY)
    assert spells(cast["card_only"], PARKING, TODAY)
    assert not spells(cast["card_only"], VT, TODAY)


def test_a_status_is_seen_only_once_registered():
    person = {
        "insz": "85073003328",
        "birth_date": "1985-07-30",
        "death_date": None,
        "statuses": [
            {
                "name": VT,
                "from": "2027-01-01",
                "to": None,
                "registered_on": "2027-02-10",
            }
        ],
    }
    assert spells(person, (VT,), date(2027, 2, 9)) == []
    assert spells(person, (VT,), date(2027, 2, 10)) == person["statuses"]
