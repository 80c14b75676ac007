"""The city folder: the four files a synthetic city is made of, written and read.

| file | content |
|---|---|
| `population.jsonl` | one person a line, as the registries know them (DESIGN.md, "Synthetic city") |
| `residents.csv` | the city's register extract on 1 January Y: `insz;household;position` |
| `social_service.csv` | `insz;budget_guidance;budget_management;debt_mediation;since` |
| `schools.csv` | the city's schools, daycare and after-school care: `school_id;school_name;kind` |

A person's `school` is null, or where the child is enrolled:
`{"school_id": "GENT-BS-004", "class": "L3", "since": "2026-09-01"}` (see `enrolment`).

`residents.csv` lists who was registered in the city on the reference date: people who
died before it, babies born after it and households that arrived after it are in
`population.jsonl` only. People without an address or at a reference address are on
it, as they are on the register.

All files are UTF-8 with `\\n` line ends; CSV files use `;` and a header line; national
numbers are 11-character strings; booleans are `0`/`1`; dates are ISO. Readers accept a
byte-order mark. Errors name the file and the line, never the national number on it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Self

from proactief.city.addresses import MUNICIPALITY
from proactief.city.enrolment import KINDS, School
from proactief.city.generator import City, Inhabitant, ProgressHook
from proactief.errors import CityDataError

POPULATION_FILE = "population.jsonl"
RESIDENTS_FILE = "residents.csv"
SOCIAL_SERVICE_FILE = "social_service.csv"
SCHOOLS_FILE = "schools.csv"
CITY_FILES = (POPULATION_FILE, RESIDENTS_FILE, SOCIAL_SERVICE_FILE, SCHOOLS_FILE)

RESIDENTS_HEADER = ("insz", "household", "position")
SOCIAL_SERVICE_HEADER = (
    "insz",
    "budget_guidance",
    "budget_management",
    "debt_mediation",
    "since",
)
SCHOOLS_HEADER = ("school_id", "school_name", "kind")
SCHOOL_KEYS = ("school_id", "class", "since")
PERSON_KEYS = (
    "insz",
    "first_name",
    "last_name",
    "sex",
    "birth_date",
    "death_date",
    "language",
    "household",
    "position",
    "address",
    "parents",
    "statuses",
    "incomes",
)
# `school` is written for everyone but read as optional: only pupils need it.

_INSZ = re.compile(r"\d{11}")
_SCHOOL_ID = re.compile(r"[A-Z0-9][A-Z0-9-]*")
_POSITION = re.compile(r"\d{2}")


@dataclass(frozen=True, slots=True)
class Resident:
    """One line of the city's register extract."""

    insz: str
    household: str
    position: str


@dataclass(frozen=True, slots=True)
class SocialServiceRecord:
    """What the city's social service does for one person, and since when."""

    budget_guidance: bool
    budget_management: bool
    debt_mediation: bool
    since: date


# ------------------------------------------------------------------------- writing


def write_city(
    city: City, out_dir: Path, *, progress: ProgressHook | None = None
) -> list[Path]:
    """Write the city's four files into `out_dir` (created if need be)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    people = sum(len(household.members) for household in city.households)
    population = out_dir / POPULATION_FILE
    residents = out_dir / RESIDENTS_FILE
    social_service = out_dir / SOCIAL_SERVICE_FILE
    schools = out_dir / SCHOOLS_FILE
    with (
        population.open("w", encoding="utf-8", newline="\n") as people_out,
        residents.open("w", encoding="utf-8", newline="\n") as residents_out,
    ):
        residents_out.write(";".join(RESIDENTS_HEADER) + "\n")
        for written, person in enumerate(city.people(), start=1):
            people_out.write(
                json.dumps(_person_record(person), ensure_ascii=False) + "\n"
            )
            if city.in_register(person):
                residents_out.write(
                    f"{person.insz};{person.household.id};{person.position}\n"
                )
            if progress is not None and (written % 5000 == 0 or written == people):
                progress("writing", written, people)
    with social_service.open("w", encoding="utf-8", newline="\n") as service_out:
        service_out.write(";".join(SOCIAL_SERVICE_HEADER) + "\n")
        for entry in city.social_service:
            flags = (
                entry.budget_guidance,
                entry.budget_management,
                entry.debt_mediation,
            )
            service_out.write(
                f"{entry.person.insz};{';'.join(str(int(flag)) for flag in flags)};"
                f"{entry.since.isoformat()}\n"
            )
    with schools.open("w", encoding="utf-8", newline="\n") as schools_out:
        schools_out.write(";".join(SCHOOLS_HEADER) + "\n")
        for school in city.schools:
            schools_out.write(f"{school.id};{school.name};{school.kind}\n")
    return [population, residents, social_service, schools]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _person_record(person: Inhabitant) -> dict:
    household = person.household
    dwelling = household.dwelling
    address = None
    if dwelling is not None:
        address = {
            "street": dwelling.street,
            "number": dwelling.number,
            "box": dwelling.box,
            "postcode": dwelling.postcode,
            "municipality": MUNICIPALITY,
            "since": _iso(person.address_since),
            "reference_address": dwelling.reference_address,
        }
    return {
        "insz": person.insz,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "sex": person.sex,
        "birth_date": person.birth_date,
        "death_date": _iso(person.death),
        "language": person.language,
        "household": household.id,
        "position": person.position,
        "address": address,
        "parents": [parent.insz for parent in person.parents],
        "statuses": [
            {
                "name": status.name,
                "from": status.start.isoformat(),
                "to": _iso(status.end),
                "registered_on": status.registered_on.isoformat(),
            }
            for status in person.statuses
        ],
        "incomes": [
            {
                "income_year": income.income_year,
                "taxable_income": f"{income.cents // 100}.{income.cents % 100:02d}",
                "assessed_on": income.assessed_on.isoformat(),
            }
            for income in person.incomes
        ],
        "school": None
        if person.school is None
        else {
            "school_id": person.school.school_id,
            "class": person.school.class_name,
            "since": person.school.since.isoformat(),
        },
    }


# ------------------------------------------------------------------------- reading


def _city_file(city_dir: Path | str, name: str) -> Path:
    path = Path(city_dir) / name
    if not path.is_file():
        raise CityDataError(
            f"{str(path)!r} does not exist; make a city with"
            " `proactief city generate --inhabitants N --seed S --out DIR`"
        )
    return path


class _TextLines:
    """A city file's lines as UTF-8 text, one at a time.

    A byte that is not UTF-8 becomes a CityDataError naming the file and line.
    Python's own UnicodeDecodeError carries the undecoded bytes around it, which
    are national numbers and names: it must never reach a log or a traceback.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = path.open("rb")
        self._number = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self._handle.close()

    def _decode(self, raw: bytes) -> str:
        self._number += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CityDataError(
                f"{str(self.path)!r} line {self._number}, byte {exc.start + 1}: not"
                " UTF-8 text (saved as Latin-1 or Windows-1252?); save the file as"
                " UTF-8"
            ) from None
        return text.removeprefix("\ufeff") if self._number == 1 else text

    def readline(self) -> str:
        raw = self._handle.readline()
        return self._decode(raw) if raw else ""

    def __iter__(self) -> Iterator[str]:
        for raw in self._handle:
            yield self._decode(raw)


def load_population(city_dir: Path | str) -> Iterator[dict]:
    """Stream the people of `population.jsonl`, one dict each, in file order."""
    path = _city_file(city_dir, POPULATION_FILE)
    with _TextLines(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                person = json.loads(line)
            except json.JSONDecodeError as exc:
                # exc's own message quotes the line: keep only the position
                raise CityDataError(
                    f"{str(path)!r} line {number}: not valid JSON"
                    f" ({exc.msg}, column {exc.colno})"
                ) from None
            if not isinstance(person, dict):
                raise CityDataError(
                    f"{str(path)!r} line {number}: expected a JSON object per line"
                )
            missing = [key for key in PERSON_KEYS if key not in person]
            if missing:
                raise CityDataError(
                    f"{str(path)!r} line {number}: missing {', '.join(missing)}"
                )
            insz = person["insz"]
            if not isinstance(insz, str) or not _INSZ.fullmatch(insz):
                raise CityDataError(
                    f"{str(path)!r} line {number}: insz must be a string of 11 digits"
                )
            yield person


def _csv_rows(
    path: Path, header: tuple[str, ...], *, insz_first: bool = True
) -> Iterator[tuple[int, list[str]]]:
    """The numbered rows of a `;` file with this header; with `insz_first`, each
    row's first field must be a national number."""
    with _TextLines(path) as handle:
        first = handle.readline().rstrip("\r\n")
        if tuple(first.split(";")) != header:
            raise CityDataError(
                f"{str(path)!r} line 1: expected the header {';'.join(header)!r}"
            )
        for number, line in enumerate(handle, start=2):
            line = line.rstrip("\r\n")
            if not line:
                continue
            fields = line.split(";")
            if len(fields) != len(header):
                raise CityDataError(
                    f"{str(path)!r} line {number}: expected {len(header)} fields"
                    f" separated by ';', found {len(fields)}"
                )
            if insz_first and not _INSZ.fullmatch(fields[0]):
                raise CityDataError(
                    f"{str(path)!r} line {number}: insz must be 11 digits"
                    " (keep leading zeros: write it as text, not as a number)"
                )
            yield number, fields


def read_residents(city_dir: Path | str) -> list[Resident]:
    """The register extract of `residents.csv`, in file order."""
    path = _city_file(city_dir, RESIDENTS_FILE)
    residents = []
    for number, (insz, household, position) in _csv_rows(path, RESIDENTS_HEADER):
        if not household:
            raise CityDataError(f"{str(path)!r} line {number}: household is empty")
        if not _POSITION.fullmatch(position):
            raise CityDataError(
                f"{str(path)!r} line {number}: position {position!r} is not a"
                " two-digit MAGDA household position code"
            )
        residents.append(Resident(insz=insz, household=household, position=position))
    return residents


def _flag(value: str, path: Path, number: int, name: str) -> bool:
    if value not in ("0", "1"):
        raise CityDataError(
            f"{str(path)!r} line {number}: {name} is {value!r}; write 0 or 1"
        )
    return value == "1"


def read_social_service(city_dir: Path | str) -> dict[str, SocialServiceRecord]:
    """The social service's file, keyed by national number."""
    path = _city_file(city_dir, SOCIAL_SERVICE_FILE)
    records: dict[str, SocialServiceRecord] = {}
    for number, fields in _csv_rows(path, SOCIAL_SERVICE_HEADER):
        insz, guidance, management, mediation, since = fields
        try:
            since_date = date.fromisoformat(since)
        except ValueError:
            raise CityDataError(
                f"{str(path)!r} line {number}: since {since!r} is not an ISO date"
                " (YYYY-MM-DD)"
            ) from None
        if insz in records:
            raise CityDataError(
                f"{str(path)!r} line {number}: this person already has a line above;"
                " keep one line per person"
            )
        records[insz] = SocialServiceRecord(
            budget_guidance=_flag(guidance, path, number, "budget_guidance"),
            budget_management=_flag(management, path, number, "budget_management"),
            debt_mediation=_flag(mediation, path, number, "debt_mediation"),
            since=since_date,
        )
    return records


def read_schools(city_dir: Path | str) -> list[School]:
    """The city's schools, daycare centres and after-school care, in file order."""
    path = _city_file(city_dir, SCHOOLS_FILE)
    schools: list[School] = []
    seen: set[str] = set()
    for number, fields in _csv_rows(path, SCHOOLS_HEADER, insz_first=False):
        school_id, name, kind = fields
        if not _SCHOOL_ID.fullmatch(school_id):
            raise CityDataError(
                f"{str(path)!r} line {number}: school_id {school_id!r} should be"
                " capitals, digits and dashes, like 'GENT-BS-001'"
            )
        if school_id in seen:
            raise CityDataError(
                f"{str(path)!r} line {number}: school_id {school_id!r} is listed"
                " twice; give each school its own id"
            )
        if kind not in KINDS:
            raise CityDataError(
                f"{str(path)!r} line {number}: kind {kind!r} is not one of"
                f" {', '.join(KINDS)}"
            )
        if not name.strip():
            raise CityDataError(f"{str(path)!r} line {number}: school_name is empty")
        seen.add(school_id)
        schools.append(School(id=school_id, name=name, kind=kind))
    return schools
