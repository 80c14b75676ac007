"""Fixtures of the desk-check tests: a generated city and a small hand-written one,
each served by the real simulator over HTTP at 100 ms a request."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from proactief.city import generate_city, write_city
from proactief.insz import check_digits
from proactief.magda.simulator import running_simulator

YEAR = 2027
INHABITANTS = 3_000
SEED = 3
TODAY = date(2027, 6, 1)
LATENCY_MS = 100


def synthetic_insz(born: date, serial: int) -> str:
    """A MAGDA test number (month + 60) with correct check digits."""
    first_nine = f"{born.year % 100:02d}{born.month + 60:02d}{born.day:02d}{serial:03d}"
    return first_nine + check_digits(first_nine, born_2000_or_later=born.year >= 2000)


# The small city: one household per situation the generator does not make.
OUTSIDE = synthetic_insz(date(1980, 4, 4), 1)  # VT, lives in Merelbeke
STARTS_TODAY = synthetic_insz(date(1981, 5, 5), 3)  # VT from the day of the check
ENDED_YESTERDAY = synthetic_insz(date(1982, 6, 6), 5)  # VT until the day before
REGISTERED_LATER = synthetic_insz(date(1983, 7, 7), 7)  # VT not yet in the registry
OLD_NUMBER = synthetic_insz(date(1970, 3, 3), 9)  # replaced by NEW_NUMBER
NEW_NUMBER = synthetic_insz(date(1970, 3, 3), 11)  # VT
REFERENCE_ADDRESS = synthetic_insz(date(1975, 8, 8), 13)  # VT, reference address
UNKNOWN = synthetic_insz(date(1999, 9, 9), 15)  # not in the registry at all

IN_GENT = {
    "street": "Sleepstraat",
    "number": "12",
    "box": None,
    "postcode": "9000",
    "municipality": "Gent",
    "since": "2015-03-01",
    "reference_address": False,
}
IN_MERELBEKE = {
    **IN_GENT,
    "street": "Kerkstraat",
    "postcode": "9820",
    "municipality": "Merelbeke",
}
ON_REFERENCE = {**IN_GENT, "street": "Onderbergen", "reference_address": True}


def _vt(start: str, end: str | None = None, registered: str | None = None) -> dict:
    return {
        "name": "BIM_BVT",
        "from": start,
        "to": end,
        "registered_on": registered or start,
    }


def _person(insz: str, first: str, household: str, address: dict, **fields) -> dict:
    born = f"19{insz[:2]}-{int(insz[2:4]) - 60:02d}-{insz[4:6]}"
    return {
        "insz": insz,
        "first_name": first,
        "last_name": "Peeters",
        "sex": "F",
        "birth_date": born,
        "death_date": None,
        "language": "nl",
        "household": household,
        "position": "01",
        "address": address,
        "parents": [],
        "statuses": [],
        "incomes": [],
        **fields,
    }


def small_population() -> list[dict]:
    today = TODAY.isoformat()
    return [
        _person(OUTSIDE, "An", "S1", IN_MERELBEKE, statuses=[_vt("2020-01-01")]),
        _person(STARTS_TODAY, "Bart", "S2", IN_GENT, statuses=[_vt(today)]),
        _person(
            ENDED_YESTERDAY,
            "Carla",
            "S3",
            IN_GENT,
            statuses=[_vt("2020-01-01", "2027-05-31")],
        ),
        _person(
            REGISTERED_LATER,
            "Dirk",
            "S4",
            IN_GENT,
            statuses=[_vt("2027-04-01", registered="2027-06-15")],
        ),
        _person(OLD_NUMBER, "Els", None, IN_GENT, replaced_by=NEW_NUMBER),
        _person(NEW_NUMBER, "Els", "S5", IN_GENT, statuses=[_vt("2020-01-01")]),
        _person(
            REFERENCE_ADDRESS, "Fien", "S6", ON_REFERENCE, statuses=[_vt("2020-01-01")]
        ),
    ]


@pytest.fixture(scope="session")
def city(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("city")
    write_city(generate_city(INHABITANTS, SEED, year=YEAR), folder)
    return folder


@pytest.fixture(scope="session")
def registry(city, tmp_path_factory) -> str:
    log = tmp_path_factory.mktemp("simulator") / "simulator.log"
    with running_simulator(city, latency_ms=LATENCY_MS, log_path=log) as url:
        yield url


@pytest.fixture(scope="session")
def small_city(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("small-city")
    lines = (json.dumps(p, ensure_ascii=False) for p in small_population())
    (folder / "population.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    return folder


@pytest.fixture(scope="session")
def small_registry(small_city) -> str:
    with running_simulator(small_city, latency_ms=LATENCY_MS) as url:
        yield url
