"""The school-tariff rule against its cases in rules/cases/school_tariffs.yaml."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from rules import parameters, school_tariffs
from rules.school_tariffs import (
    CATEGORIES_BEST_FIRST,
    Category,
    Earner,
    Parent,
    PupilSituation,
)

CASES_FILE = Path(school_tariffs.__file__).parent / "cases" / "school_tariffs.yaml"
CASES = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
PARAMETERS_FILE = (
    Path(school_tariffs.__file__).parent / "parameters" / "school_tariffs.yaml"
)


def _field(case: dict, name: str):
    return case.get(name, CASES["defaults"][name])


def _situation(case: dict) -> PupilSituation:
    parents = tuple(
        Parent(
            insz=f"P{i:010d}",
            in_household=p["in_household"],
            integration_income=p["integration_income"],
            deceased=p.get("deceased", False),
        )
        for i, p in enumerate(case["parents"])
    )
    earners = tuple(
        Earner(
            insz=f"E{i:010d}",
            taxable_income=None if e["income"] is None else Decimal(e["income"]),
        )
        for i, e in enumerate(case["earners"])
    )
    return PupilSituation(
        pupil="00000000000",
        parents=parents,
        earners=earners,
        children_12_or_younger=_field(case, "children_12_or_younger"),
        address_missing=_field(case, "address_missing"),
        reference_address=_field(case, "reference_address"),
        registry_failed=_field(case, "registry_failed"),
    )


def _shares(values: dict) -> dict[str, Decimal]:
    return {item: Decimal(share) for item, share in values.items()}


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: c["name"])
def test_rule_case(case):
    school_year = _field(case, "school_year")
    check = _field(case, "check")
    situation = _situation(case)
    decision = school_tariffs.decide(
        situation, school_year, check, _field(case, "previous_category")
    )
    expect = case["expect"]
    assert decision.outcome == expect["outcome"]
    assert decision.category == expect["category"]
    if "reasons" in expect:
        assert list(decision.reasons) == expect["reasons"]
    assert decision.rule_version == school_tariffs.rule_version(school_year)
    assert decision.amount is None

    on = school_tariffs.check_reference_date(school_year, check)
    if "family_discount" in expect:
        family = school_tariffs.family_discount(situation, decision.category, on)
        assert family is expect["family_discount"]
    else:
        family = False
    if "discounts" in expect:
        shares = school_tariffs.discounts(decision.category, family, on)
        assert shares == _shares(expect["discounts"])


@pytest.mark.parametrize("line", CASES["price_lines"], ids=lambda c: c["name"])
def test_price_line_case(line):
    price = school_tariffs.price_line(
        line["item"],
        Decimal(line["quantity"]),
        Decimal(line["unit_price"]),
        Decimal(line["discount"]),
    )
    assert price == Decimal(line["expect"])
    assert price.as_tuple().exponent == -2


@pytest.mark.parametrize("invoice", CASES["invoices"], ids=lambda c: c["name"])
def test_invoice_case(invoice):
    lines = [
        school_tariffs.price_line(
            line["item"],
            Decimal(line["quantity"]),
            Decimal(line["unit_price"]),
            Decimal(line["discount"]),
        )
        for line in invoice["lines"]
    ]
    total = school_tariffs.invoice_total(lines)
    assert total == Decimal(invoice["expect"])
    assert total == sum(lines, Decimal(0))


def test_case_names_are_unique():
    names = [
        case["name"]
        for section in ("cases", "price_lines", "invoices")
        for case in CASES[section]
    ]
    assert len(names) == len(set(names))


def test_check_reference_dates_of_school_year_2026_2027():
    dates = [
        school_tariffs.check_reference_date("2026-2027", check) for check in range(1, 7)
    ]
    assert dates == [
        date(2026, 9, 1),
        date(2026, 11, 1),
        date(2027, 1, 1),
        date(2027, 3, 1),
        date(2027, 5, 1),
        date(2027, 6, 1),
    ]


def test_check_reference_dates_follow_the_school_year():
    assert school_tariffs.check_reference_date("2027-2028", 1) == date(2027, 9, 1)
    assert school_tariffs.check_reference_date("2027-2028", 3) == date(2028, 1, 1)
    assert school_tariffs.checks("2027-2028") == (1, 2, 3, 4, 5, 6)


@pytest.mark.parametrize(
    "school_year", ["2026-2028", "2026/2027", "26-27", "2027-2026", "", 2026]
)
def test_school_year_that_is_not_two_consecutive_years_is_refused(school_year):
    with pytest.raises(ValueError, match="school year"):
        school_tariffs.check_reference_date(school_year, 1)
    with pytest.raises(ValueError, match="school year"):
        school_tariffs.income_year(school_year)
    with pytest.raises(ValueError, match="school year"):
        school_tariffs.rule_version(school_year)


@pytest.mark.parametrize("check", [0, 7, -1, "1", 1.0, True])
def test_check_that_is_not_one_of_the_six_is_refused(check):
    with pytest.raises(ValueError, match="use one of 1, 2, 3, 4, 5, 6"):
        school_tariffs.check_reference_date("2026-2027", check)


def test_income_year_is_two_years_before_the_school_year_starts():
    assert school_tariffs.income_year("2026-2027") == 2024
    assert school_tariffs.income_year("2030-2031") == 2028


def test_status_names_ask_for_integration_income():
    assert school_tariffs.status_names(date(2026, 9, 1)) == ("LIVING_WAGES_PCSA_HELP",)


def test_family_discount_counts_children_up_to_twelve():
    assert school_tariffs.family_discount_max_age(date(2026, 9, 1)) == 12


def test_rule_version_names_benefit_and_parameters():
    version = school_tariffs.rule_version("2026-2027")
    assert version.startswith("school-tariffs/r1/p")
    assert len(version.split("/p")[1]) == 8


def test_categories_are_ranked_best_first():
    assert [c.value for c in CATEGORIES_BEST_FIRST] == [
        "social",
        "low_income_a",
        "low_income_b",
        "standard",
    ]
    assert school_tariffs.is_better("social", "low_income_a")
    assert school_tariffs.is_better("low_income_b", "standard")
    assert not school_tariffs.is_better("low_income_b", "low_income_b")


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (None, "unknown"),
        ("0", "below_23000"),
        ("22999.99", "below_23000"),
        ("23000.00", "below_33000"),
        ("32999.99", "below_33000"),
        ("33000.00", "33000_or_more"),
        ("120000.00", "33000_or_more"),
    ],
)
def test_income_band_names_the_limit_not_the_amount(total, band):
    amount = None if total is None else Decimal(total)
    assert school_tariffs.income_band(amount, date(2026, 9, 1)) == band


def test_household_income_is_unknown_without_earners_or_with_one_unassessed():
    def situation(*incomes):
        return PupilSituation(
            pupil="00000000000",
            parents=(),
            earners=tuple(Earner(f"E{i}", income) for i, income in enumerate(incomes)),
            children_12_or_younger=1,
            address_missing=False,
            reference_address=False,
        )

    assert school_tariffs.household_income(situation()) is None
    assert school_tariffs.household_income(situation(Decimal(1), None)) is None
    assert school_tariffs.household_income(
        situation(Decimal("20000.00"), Decimal("14000.00"))
    ) == Decimal("34000.00")


def _household(**changes) -> PupilSituation:
    facts = {
        "pupil": "00000000000",
        "parents": (Parent("P1", in_household=True, integration_income=False),),
        "earners": (Earner("P1", Decimal("40000.00")),),
        "children_12_or_younger": 1,
        "address_missing": False,
        "reference_address": False,
        "registry_failed": False,
    } | changes
    return PupilSituation(**facts)


SITUATIONS = {
    "social": _household(
        parents=(Parent("P1", in_household=True, integration_income=True),)
    ),
    "low_income_a": _household(earners=(Earner("P1", Decimal("1000.00")),)),
    "low_income_b": _household(earners=(Earner("P1", Decimal("30000.00")),)),
    "standard": _household(),
    "income_unknown": _household(earners=(Earner("P1", None),)),
    "registry_failed": _household(registry_failed=True),
    "deceased": _household(
        parents=(Parent("P1", True, integration_income=True, deceased=True),)
    ),
}


@pytest.mark.parametrize("previous", CATEGORIES_BEST_FIRST)
@pytest.mark.parametrize("facts", SITUATIONS, ids=str)
def test_a_later_check_never_gives_a_worse_category(previous, facts):
    for check in range(2, 7):
        decision = school_tariffs.decide(
            SITUATIONS[facts], "2026-2027", check, previous.value
        )
        if previous is Category.STANDARD:
            continue
        assert decision.category is not None
        assert not school_tariffs.is_better(previous, decision.category)
        assert decision.outcome != "not_granted"


def test_a_granted_family_discount_is_kept_within_the_school_year():
    on = date(2027, 3, 1)
    one_child = _household(children_12_or_younger=1)
    assert not school_tariffs.family_discount(one_child, "low_income_b", on)
    assert school_tariffs.family_discount(
        one_child, "low_income_b", on, previously=True
    )
    assert not school_tariffs.family_discount(one_child, "social", on, previously=True)


def test_no_family_discount_is_granted_on_a_count_the_registry_did_not_give():
    failed = _household(registry_failed=True, children_12_or_younger=2)
    assert not school_tariffs.family_discount(failed, "standard", date(2026, 9, 1))


def test_discounts_ignore_the_family_discount_for_the_social_tariff():
    on = date(2026, 9, 1)
    assert school_tariffs.discounts("social", True, on) == school_tariffs.discounts(
        "social", False, on
    )


def test_unknown_category_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="use one of social, low_income_a"):
        school_tariffs.decide(SITUATIONS["standard"], "2026-2027", 2, "socail")
    with pytest.raises(ValueError, match="'middle'"):
        school_tariffs.discounts("middle", False, date(2026, 9, 1))


@pytest.mark.parametrize(
    ("item", "quantity", "unit_price", "discount", "error"),
    [
        ("lessons", Decimal(1), Decimal(1), Decimal(0), ValueError),
        ("meals", Decimal(-1), Decimal("2.85"), Decimal(0), ValueError),
        ("meals", Decimal(1), Decimal("-2.85"), Decimal(0), ValueError),
        ("meals", Decimal(1), Decimal("2.85"), Decimal("1.2"), ValueError),
        ("meals", Decimal(1), Decimal("2.85"), Decimal("-0.1"), ValueError),
        ("meals", 1.5, Decimal("2.85"), Decimal(0), TypeError),
        ("meals", Decimal(1), 2.85, Decimal(0), TypeError),
    ],
)
def test_price_line_refuses_what_cannot_be_billed(
    item, quantity, unit_price, discount, error
):
    with pytest.raises(error):
        school_tariffs.price_line(item, quantity, unit_price, discount)


def test_invoice_total_refuses_a_line_that_was_not_rounded():
    with pytest.raises(ValueError, match="not rounded to the cent"):
        school_tariffs.invoice_total([Decimal("0.125")])


def test_every_parameter_is_described_sourced_and_dated():
    content = yaml.safe_load(PARAMETERS_FILE.read_text(encoding="utf-8"))
    assert content["benefit"] == school_tariffs.BENEFIT
    for name, parameter in content["parameters"].items():
        for key in ("description", "unit", "source", "values"):
            assert parameter.get(key), f"{name} has no {key}"
        for value in parameter["values"]:
            assert isinstance(value["from"], date), f"{name} has an undated value"


def test_income_limits_are_exclusive_and_estimates_are_marked():
    params = parameters.load(school_tariffs.BENEFIT)
    on = date(2026, 9, 1)
    limits = params.value_on("income_limits", on)
    assert limits["low_income_a"] == {"amount": "23000.00", "inclusive": False}
    assert limits["low_income_b"] == {"amount": "33000.00", "inclusive": False}
    assert "(est.)" in params.value_on("category_discounts", on)["note"]
    assert "(est.)" in params.value_on("discount_combination", on)["note"]
