"""The school tariff of each pupil, read straight off a city folder.

Written apart from the rule and the registry layer, from POLICY.md section 2 and the
city contract, so that a mistake in either shows up as a difference. It gives the
outcome and category of one check, without the memory of earlier checks, and the
review reason that must be among the decision's reasons.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

LIMIT_A = Decimal(23000)
LIMIT_B = Decimal(33000)


@dataclass(frozen=True)
class Tariff:
    outcome: str
    category: str
    review_reason: str = ""


def _day(value):
    return date.fromisoformat(value) if value else None


def _born(value: str) -> date:
    year, month, day = (int(p) for p in value.split("-"))
    return date(year, month or 1, day or 1)


def expected_tariffs(city: Path, on: date, as_of: date, income_year: int) -> dict:
    people = {}
    households = defaultdict(list)
    with (city / "population.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            person = json.loads(line)
            people[person["insz"]] = person
            if person["household"]:
                households[person["household"]].append(person)

    def alive(p):
        died = _day(p["death_date"])
        return _born(p["birth_date"]) <= on and (died is None or died >= on)

    def integration_income(p):
        return any(
            s["name"] == "LIVING_WAGES_PCSA_HELP"
            and _day(s["registered_on"]) <= as_of
            and _day(s["from"]) <= on
            and (s["to"] is None or on <= _day(s["to"]))
            for s in p["statuses"]
        )

    def income(p):
        for i in p["incomes"]:
            if i["income_year"] == income_year and _day(i["assessed_on"]) <= as_of:
                return Decimal(i["taxable_income"])
        return None

    result = {}
    for insz, pupil in people.items():
        members = [p for p in households.get(pupil["household"], []) if alive(p)]
        member_ids = {p["insz"] for p in members}
        positions = {p["insz"]: p["position"] for p in members}
        parents = [people[p] for p in pupil["parents"] if p in people]
        address = pupil["address"]
        in_house = [p for p in parents if p["insz"] in member_ids]
        social = any(integration_income(p) for p in in_house)
        earners = {p["insz"] for p in in_house}
        for parent in in_house:
            if positions[parent["insz"]] == "01":
                earners |= {i for i, pos in positions.items() if pos in ("02", "22")}
            elif positions[parent["insz"]] in ("02", "22"):
                earners |= {i for i, pos in positions.items() if pos == "01"}
        amounts = [income(people[e]) for e in earners]
        total = None if not earners or None in amounts else sum(amounts, Decimal(0))

        if social:
            found = Tariff("granted", "social")
        elif total is None:
            found = Tariff("review", "", "household_income_unknown")
        elif total < LIMIT_A:
            found = Tariff("granted", "low_income_a")
        elif total < LIMIT_B:
            found = Tariff("granted", "low_income_b")
        else:
            found = Tariff("not_granted", "standard")

        review = None
        if address is None:
            review = "address_missing"
        elif address["reference_address"]:
            review = "reference_address"
        elif not parents:
            review = "no_legal_parent"
        elif any(p["death_date"] and _day(p["death_date"]) <= as_of for p in parents):
            review = "parent_deceased"
        elif not social and any(
            integration_income(p) for p in parents if p not in in_house
        ):
            review = "integration_income_outside_household"
        if review:
            found = Tariff("review", "", review)
        result[insz] = found
    return result


def line_amount(quantity: str, unit_price: str, discount: Decimal) -> Decimal:
    raw = Decimal(quantity) * Decimal(unit_price) * (1 - discount)
    return raw.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
