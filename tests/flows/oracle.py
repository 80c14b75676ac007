"""The garbage-bag policy read straight off a city folder: what the flow must decide.

Written apart from the rule and the registry layer, from POLICY.md section 1 and the
city contract of DESIGN.md, so that a mistake in either shows up as a difference.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

GENT = {"9000", "9030", "9031", "9032", "9040", "9041", "9042", "9050", "9051", "9052"}


@dataclass(frozen=True)
class Expected:
    subject: str
    outcome: str
    amount: str
    reasons: str


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _earliest_birth(value: str) -> date:
    year, month, day = (int(p) for p in value.split("-"))
    return date(year, month or 1, day or 1)


def _amount(others: int, year: int) -> tuple[Decimal, Decimal]:
    base = {0: 42, 1: 63, 2: 84, 3: 105, 4: 105}.get(others, 126)
    credit = Decimal(base) / 2 if year >= 2023 else Decimal(0)
    return Decimal(base), credit


def expected_decisions(city: Path, year: int, as_of: date) -> dict[str, Expected]:
    """Expected decision of each household of residents.csv, by household id."""
    ref = date(year, 1, 1)
    people = {}
    by_household = defaultdict(list)
    with (city / "population.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            person = json.loads(line)
            people[person["insz"]] = person
            if person["household"]:
                by_household[person["household"]].append(person)
    with (city / "residents.csv").open(encoding="utf-8") as handle:
        residents = list(csv.DictReader(handle, delimiter=";"))
    with (city / "social_service.csv").open(encoding="utf-8") as handle:
        guidance = {
            row["insz"]: row
            for row in csv.DictReader(handle, delimiter=";")
            if _day(row["since"]) is None or _day(row["since"]) <= ref
        }

    cohort = defaultdict(list)
    for row in residents:
        cohort[row["household"]].append(row)

    expected = {}
    for household, rows in cohort.items():
        rows.sort(key=lambda r: (r["position"], r["insz"]))
        heads = [r for r in rows if r["position"] == "01"]
        subject = (heads or rows)[0]["insz"]

        def alive(p):
            died = _day(p["death_date"])
            return _earliest_birth(p["birth_date"]) <= ref and (
                died is None or died >= ref
            )

        members = [p for p in by_household[household] if alive(p)]
        if subject not in {p["insz"] for p in members}:
            members = []
        registry_heads = [p for p in members if p["position"] == "01"]
        if len(registry_heads) == 1:
            subject = registry_heads[0]["insz"]
        address = people[subject]["address"]
        failures = []
        if len(registry_heads) != 1:
            failures.append("reference_person_count")
        if address is None:
            failures.append("address_missing")
        if failures:
            expected[household] = Expected(subject, "review", "", ",".join(failures))
            continue

        def has_vt(p):
            return any(
                s["name"] == "BIM_BVT"
                and _day(s["registered_on"]) <= as_of
                and _day(s["from"]) <= ref
                and (s["to"] is None or ref <= _day(s["to"]))
                for s in p["statuses"]
            )

        grounds = []
        if any(has_vt(p) for p in members):
            grounds.append("vt_member")
        for measure in ("budget_guidance", "budget_management"):
            if any(guidance.get(p["insz"], {}).get(measure) == "1" for p in members):
                grounds.append(measure)
        if not grounds:
            reason = (
                "no_qualifying_situation"
                if address["postcode"] in GENT
                else "not_resident_in_city"
            )
            expected[household] = Expected(subject, "not_granted", "", reason)
            continue
        if address["postcode"] not in GENT:
            expected[household] = Expected(
                subject, "not_granted", "", "not_resident_in_city"
            )
            continue
        review = None
        if address["reference_address"]:
            review = "reference_address"
        elif address["since"] and _day(address["since"]) > ref:
            review = "address_changed_after_reference_date"
        elif any(p["death_date"] and _day(p["death_date"]) <= as_of for p in members):
            review = "member_deceased"
        if review:
            expected[household] = Expected(
                subject, "review", "", ",".join([review, *grounds])
            )
            continue
        amount, _ = _amount(len(members) - 1, year)
        expected[household] = Expected(
            subject, "granted", f"{amount:.2f}", ",".join(grounds)
        )
    return expected


def read_decisions(path: Path) -> dict[str, dict]:
    with path.open(encoding="utf-8") as handle:
        return {row["subject"]: row for row in csv.DictReader(handle, delimiter=";")}
