"""Fixtures of the registry-layer tests: MAGDA's samples and a tiny synthetic city.

The city is written here, by hand, with MAGDA test numbers (birth month + 60),
so that every expected answer can be read off this file.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from proactief.insz import check_digits

MAGDA_DIR = Path(__file__).parents[2] / ".." / "shared" / "magda"


def synthetic_insz(born: date, serial: int) -> str:
    """A MAGDA test number (month + 60) with correct check digits."""
    first_nine = f"{born.year % 100:02d}{born.month + 60:02d}{born.day:02d}{serial:03d}"
    return first_nine + check_digits(first_nine, born_2000_or_later=born.year >= 2000)


MOTHER = synthetic_insz(date(1985, 7, 30), 1)
FATHER = synthetic_insz(date(1983, 2, 11), 3)
CHILD = synthetic_insz(date(2015, 5, 5), 5)
BABY = synthetic_insz(date(2025, 2, 1), 7)
GRANDFATHER = synthetic_insz(date(1940, 1, 1), 9)
LODGER = synthetic_insz(date(1990, 1, 15), 11)
OLD_NUMBER = synthetic_insz(date(1970, 3, 3), 13)
NEW_NUMBER = synthetic_insz(date(1970, 3, 3), 15)
STRANGER = synthetic_insz(date(1999, 9, 9), 17)

HOME = {
    "street": "Voorbeeldstraat",
    "number": "12",
    "box": "3",
    "postcode": "9000",
    "municipality": "Gent",
    "since": "2019-03-01",
    "reference_address": False,
}


def _person(insz: str, first: str, last: str, born: str, **fields) -> dict:
    record = {
        "insz": insz,
        "first_name": first,
        "last_name": last,
        "sex": "F",
        "birth_date": born,
        "death_date": None,
        "language": "nl",
        "household": None,
        "position": None,
        "address": None,
        "parents": [],
        "statuses": [],
        "incomes": [],
    }
    record.update(fields)
    return record


POPULATION = [
    _person(
        MOTHER,
        "Zoë",
        "D'Hondt",
        "1985-07-30",
        household="H1",
        position="01",
        address=HOME,
        statuses=[
            # Granted from 1 January, but the registry learns it on 10 February.
            {
                "name": "BIM_BVT",
                "from": "2025-01-01",
                "to": None,
                "registered_on": "2025-02-10",
            },
            {
                "name": "LIVING_WAGES_PCSA_HELP",
                "from": "2024-01-01",
                "to": "2024-12-31",
                "registered_on": "2024-01-20",
            },
        ],
        incomes=[
            {
                "income_year": 2023,
                "taxable_income": "18345.12",
                "assessed_on": "2024-09-15",
            },
            {
                "income_year": 2024,
                "taxable_income": "19000.00",
                "assessed_on": "2025-09-15",
            },
        ],
    ),
    _person(
        FATHER,
        "Jan",
        "Peeters",
        "1983-02-11",
        sex="M",
        household="H1",
        position="02",
        address=HOME,
        statuses=[
            # An earlier parking card, then one issued until 31 May 2030.
            {
                "name": "GENT_PARKING_ADULT",
                "from": "2015-06-01",
                "to": "2020-05-31",
                "registered_on": "2015-06-10",
            },
            {
                "name": "GENT_PARKING_ADULT",
                "from": "2020-06-01",
                "to": "2030-05-31",
                "registered_on": "2020-06-20",
            },
        ],
    ),
    _person(
        CHILD,
        "Çelik",
        "Peeters",
        "2015-05-05",
        sex="M",
        household="H1",
        position="03",
        address=HOME,
        parents=[MOTHER, FATHER],
    ),
    _person(
        BABY,
        "Lien",
        "Peeters",
        "2025-02-01",
        household="H1",
        position="03",
        address=HOME,
        parents=[MOTHER, FATHER],
    ),
    _person(
        GRANDFATHER,
        "Staf",
        "D'Hondt",
        "1940-00-00",
        sex="M",
        death_date="2025-02-15",
        household="H1",
        position="04",
        address=HOME,
    ),
    _person(
        LODGER,
        "Ann",
        "Smet",
        "1990-01-15",
        household="H2",
        position="01",
        address={
            **HOME,
            "street": "Onderbergen",
            "number": "86",
            "box": None,
            "reference_address": True,
            "since": "2024-06-01",
        },
        statuses=[
            # A parking card for good from 1 February, registered on 5 March.
            {
                "name": "GENT_PARKING_ADULT",
                "from": "2025-02-01",
                "to": None,
                "registered_on": "2025-03-05",
            },
        ],
    ),
    _person(OLD_NUMBER, "Rik", "Claes", "1970-03-03", sex="M", replaced_by=NEW_NUMBER),
    _person(
        NEW_NUMBER,
        "Rik",
        "Claes",
        "1970-03-03",
        sex="M",
        household="H3",
        position="01",
        address=HOME,
    ),
]


def write_city(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = (json.dumps(p, ensure_ascii=False) for p in POPULATION)
    (folder / "population.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def city_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_city(tmp_path_factory.mktemp("city"))


@pytest.fixture(scope="session")
def magda_dir() -> Path:
    if not MAGDA_DIR.is_dir():
        pytest.skip(f"MAGDA samples not found at {MAGDA_DIR.resolve()}")
    return MAGDA_DIR.resolve()


RESPONSE_SCHEMAS = {
    "GeefPersoon": "Persoon.GeefPersoonDienst-02.02/WebService/GeefPersoonResponse.xsd",
    "GeefGezinssamenstelling": "Persoon.GeefGezinssamenstellingDienst-02.02/WebService/GeefGezinssamenstellingResponse.xsd",
    "GeefHistoriekGezinssamenstelling": "Persoon.GeefHistoriekGezinssamenstellingDienst-02.02/WebService/GeefHistoriekGezinssamenstellingResponse.xsd",
    "GeefSociaalStatuut": "SocZek.GeefSociaalStatuutDienst-03.00/WebService/GeefSociaalStatuutResponse.xsd",
    "GeefAanslagbiljetPersonenbelasting": "Inkomen.GeefAanslagbiljetPersonenbelastingDienst-02.00/WebService/GeefAanslagbiljetPersonenbelastingResponse.xsd",
    "GeefDossierHandicap": "SocZek.GeefDossierHandicapDienst-03.00/WebService/GeefDossierHandicapResponse.xsd",
}


@pytest.fixture(scope="session")
def response_schemas(magda_dir: Path) -> dict:
    xmlschema = pytest.importorskip("xmlschema")
    base = magda_dir / "xsd" / "responses"
    return {
        service: xmlschema.XMLSchema(str(base / path))
        for service, path in RESPONSE_SCHEMAS.items()
    }
