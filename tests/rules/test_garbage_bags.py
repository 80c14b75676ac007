"""The garbage-bag rule against its cases in rules/cases/garbage_bags.yaml."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from proactief.facts import Address
from rules import garbage_bags
from rules.garbage_bags import HouseholdSituation, Member

CASES_FILE = Path(garbage_bags.__file__).parent / "cases" / "garbage_bags.yaml"
CASES = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))


def _situation(case: dict) -> HouseholdSituation:
    address = case.get("address", CASES["defaults"]["address"])
    members = tuple(
        Member(
            insz=f"{i:011d}",
            position=m["position"],
            death_date=m.get("died"),
            statuses=m["statuses"],
            social_service=frozenset(m.get("social_service", [])),
        )
        for i, m in enumerate(case["members"])
    )
    return HouseholdSituation(
        subject=members[0].insz,
        members=members,
        address=None if address is None else Address(municipality="Gent", **address),
        registry_failed=case.get("registry_failed", False),
    )


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: c["name"])
def test_rule_case(case):
    decision = garbage_bags.decide(_situation(case), case["year"])
    expect = case["expect"]
    assert decision.outcome == expect["outcome"]
    if "reasons" in expect:
        assert list(decision.reasons) == expect["reasons"]
    if "amount" in expect:
        assert decision.amount == Decimal(expect["amount"])
    if "extra_credit" in expect:
        assert decision.extra_credit == Decimal(expect["extra_credit"])
    if expect["outcome"] != "granted":
        assert decision.amount is None


def test_reference_date_is_first_of_january():
    assert garbage_bags.reference_date(2027) == date(2027, 1, 1)


def test_catch_up_ends_on_15_august():
    assert garbage_bags.catch_up_end(2027) == date(2027, 8, 15)


def test_rule_version_names_benefit_and_parameters():
    version = garbage_bags.rule_version(2027)
    assert version.startswith("garbage-bags/r1/p")
    assert len(version.split("/p")[1]) == 8
