"""Fixtures of the LEZ check tests: the generated city the web tests use (seed 11,
2,000 inhabitants) and a small hand-written one, each served by the real simulator
over HTTP at 100 ms a request, as the gateway answers."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from proactief.city import generate_city, write_city
from proactief.insz import check_digits
from proactief.magda.simulator import running_simulator

from .cast import lez_cast

YEAR = 2027
INHABITANTS = 2_000
SEED = 11
TODAY = date(2027, 6, 1)
LATENCY_MS = 100


def synthetic_insz(born: date, serial: int) -> str:
    """A MAGDA test number (month + 60) with correct check digits."""
    first_nine = f"{born.year % 100:02d}{born.month + 60:02d}{born.day:02d}{serial:03d}"
    return first_nine + check_digits(first_nine, born_2000_or_later=born.year >= 2000)


# The small city: what the generator does not make, one household each.
CARD_ENDS = synthetic_insz(date(1950, 4, 4), 1)  # card issued until 30 Sept 2028
VT_ENDS = synthetic_insz(date(1951, 5, 5), 3)  # allowance until 31 August 2027
OLD_NUMBER = synthetic_insz(date(1952, 6, 6), 5)  # replaced by NEW_NUMBER
NEW_NUMBER = synthetic_insz(date(1952, 6, 6), 7)  # card and allowance
DECEASED = synthetic_insz(date(1940, 7, 7), 9)  # card and allowance, died 1 May
PARENT = synthetic_insz(date(1980, 8, 8), 11)  # applies for the child's card
CHILD = synthetic_insz(date(2015, 9, 9), 13)  # child's parking card, allowance
UNKNOWN = synthetic_insz(date(1999, 9, 9), 15)  # not in the registry at all

HOME = {
    "street": "Sleepstraat",
    "number": "12",
    "box": None,
    "postcode": "9000",
    "municipality": "Gent",
    "since": "2015-03-01",
    "reference_address": False,
}


def _status(name: str, start: str, end: str | None = None) -> dict:
    return {"name": name, "from": start, "to": end, "registered_on": start}


def _person(insz: str, first: str, household: str, **fields) -> dict:
    century = "20" if insz[:2] < "20" else "19"
    born = f"{century}{insz[:2]}-{int(insz[2:4]) - 60:02d}-{insz[4:6]}"
    return {
        "insz": insz,
        "first_name": first,
        "last_name": "Claes",
        "sex": "F",
        "birth_date": born,
        "death_date": None,
        "language": "nl",
        "household": household,
        "position": "01",
        "address": HOME,
        "parents": [],
        "statuses": [],
        "incomes": [],
        **fields,
    }


def small_population() -> list[dict]:
    vt = _status("BIM_BVT", "2020-01-01")
    card = _status("GENT_PARKING_ADULT", "2021-01-01")
    return [
        _person(
            CARD_ENDS,
            "An",
            "S1",
            statuses=[vt, _status("GENT_PARKING_ADULT", "2023-10-01", "2028-09-30")],
        ),
        _person(
            VT_ENDS,
            "Bart",
            "S2",
            statuses=[_status("BIM_BVT", "2020-01-01", "2027-08-31"), card],
        ),
        _person(OLD_NUMBER, "Carla", None, replaced_by=NEW_NUMBER),
        _person(NEW_NUMBER, "Carla", "S3", statuses=[vt, card]),
        _person(DECEASED, "Dirk", "S4", death_date="2027-05-01", statuses=[vt, card]),
        _person(PARENT, "Els", "S5", statuses=[]),
        _person(
            CHILD,
            "Fien",
            "S5",
            position="03",
            parents=[PARENT],
            statuses=[vt, _status("GENT_PARKING_CHILD", "2019-02-01")],
        ),
    ]


def read_people(city: Path) -> list[dict]:
    with (city / "population.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope="session")
def city(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lez-city")
    write_city(generate_city(INHABITANTS, SEED, year=YEAR), folder)
    return folder


@pytest.fixture(scope="session")
def people(city) -> list[dict]:
    return read_people(city)


@pytest.fixture(scope="session")
def cast(people) -> dict[str, dict]:
    return lez_cast(people, TODAY)


@pytest.fixture(scope="session")
def registry(city, tmp_path_factory) -> str:
    log = tmp_path_factory.mktemp("simulator") / "simulator.log"
    with running_simulator(city, latency_ms=LATENCY_MS, log_path=log) as url:
        yield url


@pytest.fixture(scope="session")
def small_city(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lez-small-city")
    lines = (json.dumps(p, ensure_ascii=False) for p in small_population())
    (folder / "population.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    return folder


@pytest.fixture(scope="session")
def small_registry(small_city) -> str:
    with running_simulator(small_city, latency_ms=LATENCY_MS) as url:
        yield url
