"""The UiTPAS rule against its cases in rules/cases/uitpas.yaml."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from proactief.facts import Address
from rules import parameters, uitpas
from rules.outcomes import Outcome
from rules.uitpas import CitizenSituation, Member, Reason

CASES_FILE = Path(uitpas.__file__).parent / "cases" / "uitpas.yaml"
CASES = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
PARAMETERS_FILE = Path(uitpas.__file__).parent / "parameters" / "uitpas.yaml"


def _field(case: dict, name: str):
    return case.get(name, CASES["defaults"][name])


def _member(insz: str, raw: dict) -> Member:
    return Member(
        insz=insz,
        statuses=raw["statuses"],
        social_service=frozenset(raw.get("social_service", [])),
        death_date=raw.get("died"),
    )


def _situation(case: dict) -> CitizenSituation:
    address = _field(case, "address")
    members = _field(case, "members")
    return CitizenSituation(
        person=_member("00000000000", _field(case, "person")),
        address=None if address is None else Address(municipality="Gent", **address),
        household=None
        if members is None
        else tuple(_member(f"{i:011d}", m) for i, m in enumerate(members, start=1)),
        found=case.get("found", True),
        registry_failed=case.get("registry_failed", False),
    )


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: c["name"])
def test_rule_case(case):
    today = _field(case, "today")
    decision = uitpas.decide(_situation(case), today)
    expect = case["expect"]
    assert decision.outcome == expect["outcome"]
    assert list(decision.reasons) == expect["reasons"]
    assert decision.amount is None and decision.category is None
    if "valid_until" in expect:
        assert uitpas.valid_until(today.year) == expect["valid_until"]


def test_every_review_and_refusal_reason_tells_the_officer_what_to_ask_for():
    asked = {
        reason
        for case in CASES["cases"]
        if case["expect"]["outcome"] != "granted"
        for reason in case["expect"]["reasons"]
    }
    assert asked == set(uitpas.ASK_FOR)
    for reason in asked:
        (text,) = uitpas.ask_for([reason])
        assert text == uitpas.ASK_FOR[reason]


def test_the_officers_texts_carry_no_status_name_number_or_address():
    names = {
        s["name"]
        for value in yaml.safe_load(PARAMETERS_FILE.read_text())["parameters"][
            "qualifying_statuses"
        ]["values"]
        for s in value["statuses"]
    }
    streets = {
        case["address"]["street"] for case in CASES["cases"] if case.get("address")
    } | {CASES["defaults"]["address"]["street"]}
    for text in uitpas.ASK_FOR.values():
        assert not any(name in text for name in names)
        assert not re.search(r"\d", text)  # no amount, postcode or house number
        assert not any(street in text for street in streets)
        assert "_" not in text  # no code of any kind


def test_a_refusal_for_no_qualifying_situation_hints_at_a_late_status():
    (hint,) = uitpas.ask_for([Reason.NO_QUALIFYING_SITUATION])
    assert "nog niet in het register" in hint
    assert "attest van het ziekenfonds" in hint


def test_ask_for_gives_each_text_once_and_nothing_for_grounds():
    assert uitpas.ask_for(["vt", "debt_mediation_household_member"]) == ()
    twice = uitpas.ask_for([Reason.REGISTRY_FAILED, Reason.REGISTRY_FAILED])
    assert len(twice) == 1


def test_a_tariff_granted_in_a_year_runs_until_31_december_of_that_year():
    assert uitpas.valid_until(2026) == date(2026, 12, 31)
    assert uitpas.valid_until(2027) == date(2027, 12, 31)


def test_renewal_of_a_years_grants_runs_from_1_november_until_31_december():
    assert uitpas.renewal_window(2026) == (date(2026, 11, 1), date(2026, 12, 31))


def test_statuses_asked_of_the_registry_are_the_qualifying_ones():
    assert uitpas.status_names(date(2027, 3, 15)) == (
        "BIM_BVT",
        "LIVING_WAGES_PCSA_HELP",
    )


def test_rule_version_names_benefit_and_parameters():
    version = uitpas.rule_version()
    assert version.startswith("uitpas/r1/p")
    assert version.split("/p")[1] == parameters.load("uitpas").digest


def test_every_parameter_has_description_unit_source_and_dated_values():
    content = yaml.safe_load(PARAMETERS_FILE.read_text(encoding="utf-8"))
    assert content["benefit"] == uitpas.BENEFIT
    for name, parameter in content["parameters"].items():
        assert {"description", "unit", "source", "values"} <= set(parameter), name
        for value in parameter["values"]:
            assert isinstance(value["from"], date), name
            assert value.get("note", "(est.)") == "(est.)", name


def test_the_estimates_of_the_policy_are_marked_as_such():
    content = yaml.safe_load(PARAMETERS_FILE.read_text(encoding="utf-8"))
    estimated = {
        name
        for name, parameter in content["parameters"].items()
        if any(v.get("note") == "(est.)" for v in parameter["values"])
    }
    assert {"validity_end", "household_shares_answer"} <= estimated


def test_grounds_never_name_a_status_as_the_registry_does():
    situation = CitizenSituation(
        person=Member("00000000000", {"BIM_BVT": True, "LIVING_WAGES_PCSA_HELP": True}),
        address=Address("Sleepstraat", "12", None, "9000", "Gent"),
        household=(
            Member("00000000001", {"BIM_BVT": True, "LIVING_WAGES_PCSA_HELP": True}),
        ),
    )
    decision = uitpas.decide(situation, date(2027, 3, 15))
    assert decision.outcome is Outcome.GRANTED
    assert not any(
        name in reason
        for reason in decision.reasons
        for name in uitpas.status_names(date(2027, 3, 15))
    )
