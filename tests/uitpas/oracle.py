"""The UiTPAS policy read straight off a city folder: what a desk check must answer.

Written apart from the rule and the registry layer, from POLICY.md section 3 and
the city contract of DESIGN.md, so that a mistake in either shows up as a
difference.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

GENT = {"9000", "9030", "9031", "9032", "9040", "9041", "9042", "9050", "9051", "9052"}
STATUS_REASONS = {"BIM_BVT": "vt", "LIVING_WAGES_PCSA_HELP": "integration_income"}
MEASURES = ("budget_guidance", "budget_management", "debt_mediation")


@dataclass(frozen=True)
class Expected:
    outcome: str
    reasons: tuple[str, ...]
    # the other living members (insz, first name, birth year); a desk answer
    # lists them only when granted
    mates: tuple[tuple[str, str, int | None], ...]


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _born(person: dict) -> date:
    year, month, day = (int(p) for p in person["birth_date"].split("-"))
    return date(year, month or 1, day or 1)


def read_population(city: Path) -> dict[str, dict]:
    with (city / "population.jsonl").open(encoding="utf-8") as handle:
        return {p["insz"]: p for p in map(json.loads, handle)}


def read_measures(city: Path, today: date) -> dict[str, tuple[str, ...]]:
    path = city / "social_service.csv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    return {
        row["insz"]: tuple(m for m in MEASURES if row[m] == "1")
        for row in rows
        if not row["since"] or _day(row["since"]) <= today
    }


def statuses_on(person: dict, today: date) -> tuple[str, ...]:
    """The statuses the registry shows for `today`, when asked on `today`."""
    found = []
    for name in STATUS_REASONS:
        for spell in person["statuses"]:
            registered = _day(spell.get("registered_on"))
            ended = _day(spell["to"])
            if (
                spell["name"] == name
                and _day(spell["from"]) <= today
                and (ended is None or today <= ended)
                and (registered is None or registered <= today)
            ):
                found.append(name)
                break
    return tuple(found)


def grounds(person: dict, measures: dict, today: date) -> tuple[str, ...]:
    own = tuple(STATUS_REASONS[name] for name in statuses_on(person, today))
    return own + measures.get(person["insz"], ())


def household_of(person: dict, people: dict[str, dict], today: date) -> list[dict]:
    """The other members living in the person's household on `today`."""
    if not person["household"]:
        return []
    return [
        p
        for p in people.values()
        if p["household"] == person["household"]
        and p["insz"] != person["insz"]
        and _born(p) <= today
        and (p["death_date"] is None or _day(p["death_date"]) > today)
    ]


def expected_answer(
    insz: str, people: dict[str, dict], measures: dict, today: date
) -> Expected:
    person = people[insz]
    if person["death_date"] and _day(person["death_date"]) <= today:
        return Expected("review", ("person_deceased",), ())
    if person["address"] is None:
        return Expected("review", ("address_missing",), ())
    if person["address"]["postcode"] not in GENT:
        return Expected("not_granted", ("not_resident_in_city",), ())
    members = household_of(person, people, today)
    reasons = list(grounds(person, measures, today))
    for member in members:
        for ground in grounds(member, measures, today):
            if f"{ground}_household_member" not in reasons:
                reasons.append(f"{ground}_household_member")
    mates = tuple(
        (m["insz"], m["first_name"], int(m["birth_date"][:4]) or None) for m in members
    )
    if not reasons:
        return Expected("not_granted", ("no_qualifying_situation",), mates)
    return Expected("granted", tuple(reasons), mates)
