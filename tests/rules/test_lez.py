"""The Low Emission Zone rule against its cases in rules/cases/lez.yaml."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from proactief.facts import DisabilityFile, ParkingCard
from rules import lez, parameters
from rules.lez import CardHolder, Reason, VehicleRequest
from rules.outcomes import Outcome

CASES_FILE = Path(lez.__file__).parent / "cases" / "lez.yaml"
CASES = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
PARAMETERS_FILE = Path(lez.__file__).parent / "parameters" / "lez.yaml"
TODAY = date(2027, 3, 15)


def _field(case: dict, name: str):
    return case.get(name, CASES["defaults"][name])


def _file(raw: dict | None, today: date) -> DisabilityFile | None:
    if raw is None:
        return None
    cards = tuple(ParkingCard(c["delivered"], c["ends"]) for c in raw["cards"])
    return DisabilityFile("00000000000", today, raw["found"], cards)


def _holder(case: dict) -> CardHolder:
    today = _field(case, "today")
    return CardHolder(
        statuses=_field(case, "statuses"),
        status_ends=_field(case, "status_ends"),
        disability_file=_file(_field(case, "disability_file"), today),
        death_date=case.get("died"),
        found=case.get("found", True),
        registry_failed=case.get("registry_failed", False),
    )


def _vehicle(case: dict) -> VehicleRequest:
    applicant = _field(case, "applicant")
    return VehicleRequest(
        plate=_field(case, "plate"),
        registered_plate=_field(case, "registered_plate"),
        applicant_is_holder=applicant == "holder",
        applicant_in_household={
            "holder": None,
            "household": True,
            "elsewhere": False,
            "household_unknown": None,
        }[applicant],
    )


def _part(expect: dict) -> tuple:
    return (expect["outcome"], expect["reasons"], expect.get("valid_until"))


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: c["name"])
def test_rule_case(case):
    decision = lez.decide(_holder(case), _vehicle(case), _field(case, "today"))
    for part, expect in (
        (decision.free_registration, case["expect"]["free"]),
        (decision.social_tariff, case["expect"]["tariff"]),
    ):
        assert (part.outcome.value, list(part.reasons), part.valid_until) == _part(
            expect
        )
    assert decision.rule_version == lez.rule_version()


def test_a_registry_failure_is_never_a_refusal():
    for case in CASES["cases"]:
        holder = _holder(case)
        if holder.registry_failed or holder.statuses is None:
            decision = lez.decide(holder, _vehicle(case), _field(case, "today"))
            assert decision.free_registration.outcome is Outcome.REVIEW
            assert decision.social_tariff.outcome is Outcome.REVIEW


def test_only_a_grant_has_a_valid_until():
    for case in CASES["cases"]:
        decision = lez.decide(_holder(case), _vehicle(case), _field(case, "today"))
        for part in (decision.free_registration, decision.social_tariff):
            assert (part.valid_until is not None) == (part.outcome is Outcome.GRANTED)


def test_a_renewal_in_december_grants_the_next_years_tariff_until_its_end():
    holder = CardHolder(statuses={"BIM_BVT": True})
    part = lez.decide_social_tariff(holder, date(2027, 12, 5), year=2028)
    assert (part.outcome, part.valid_until) == (Outcome.GRANTED, date(2028, 12, 31))
    ending = CardHolder(
        statuses={"BIM_BVT": True}, status_ends={"BIM_BVT": date(2027, 12, 20)}
    )
    part = lez.decide_social_tariff(ending, date(2027, 12, 5), year=2028)
    assert (part.outcome, part.valid_until) == (Outcome.GRANTED, date(2027, 12, 20))


def test_every_reason_has_a_short_dutch_text():
    codes = {
        value
        for name, value in vars(Reason).items()
        if not name.startswith("_") and isinstance(value, str)
    }
    assert codes == set(lez.REASON_TEXTS)
    in_cases = {
        reason
        for case in CASES["cases"]
        for part in case["expect"].values()
        for reason in part["reasons"]
    }
    assert in_cases <= codes
    for code in codes:
        assert re.fullmatch(r"[a-z_]+", code), code


def test_the_texts_carry_no_status_name_number_or_code():
    names = set(lez.status_names(TODAY))
    for text in lez.REASON_TEXTS.values():
        assert not any(name in text for name in names)
        assert not re.search(r"\d", text)
        assert "_" not in text
        assert len(text) < 120


def test_texts_gives_each_text_once_in_order():
    assert lez.texts([Reason.NO_VT, Reason.NO_VT, "unknown_code"]) == (
        lez.REASON_TEXTS[Reason.NO_VT],
    )


def test_statuses_asked_are_the_allowance_and_the_parking_cards():
    assert lez.status_names(TODAY) == (
        "BIM_BVT",
        "GENT_PARKING_ADULT",
        "GENT_PARKING_CHILD",
    )
    assert lez.status_names(TODAY, vehicle=False) == ("BIM_BVT",)


def test_twelve_day_passes_a_year_since_27_april_2024():
    assert lez.day_passes_per_year(date(2024, 4, 27)) == 12
    assert lez.day_passes_per_year(TODAY) == 12


def test_a_registration_runs_five_years_at_most():
    assert lez.registration_end(date(2026, 12, 4)) == date(2031, 12, 4)
    assert lez.registration_end(date(2028, 2, 29)) == date(2033, 2, 28)


@pytest.mark.parametrize(
    ("as_of", "horizon"),
    [
        (date(2026, 12, 5), date(2027, 2, 5)),
        (date(2026, 11, 5), date(2027, 1, 5)),
        (date(2026, 12, 31), date(2027, 2, 28)),
        (date(2027, 12, 31), date(2028, 2, 29)),
        (date(2027, 3, 5), date(2027, 5, 5)),
    ],
)
def test_the_renewal_looks_two_months_ahead(as_of, horizon):
    assert lez.renewal_horizon(as_of) == horizon


def test_rule_version_names_the_parameters():
    version = lez.rule_version()
    assert version.startswith("lez/r1/p")
    assert version.split("/p")[1] == parameters.load("lez").digest


def test_every_parameter_has_description_unit_source_and_dated_values():
    content = yaml.safe_load(PARAMETERS_FILE.read_text(encoding="utf-8"))
    assert content["benefit"] == lez.PARAMETERS
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
    assert {"social_tariff_validity_end", "renewal_window"} <= estimated
