"""School and childcare social tariff: a pupil's tariff category (POLICY.md section 2).

The unit is the pupil, checked six times per school year N/N+1 on the reference dates
of `check_days`. Categories, best first: `social` (a legal parent in the pupil's
household has integration income on the reference date), `low_income_a` and
`low_income_b` (household taxable income of year N-2 strictly below a limit), and
`standard`. A family discount on care applies when enough young children live in the
household; it combines with the low-income categories and with `standard`, not with
`social`.

Within a school year a category only improves: a check that finds a worse category,
or a grey zone, keeps the category an earlier check granted. What a human must look
at (no legal parent, integration income only at a parent elsewhere, unknown income or
status with nothing else granting, address problems, a deceased parent, a registry
that kept failing) goes to review. Unknown is never read as no.

Prices: each billing line is rounded half-up to the cent on its own and an invoice
total is the sum of its printed lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from proactief.errors import RuleParameterError
from rules import parameters
from rules.outcomes import Outcome, RuleDecision

BENEFIT = "school-tariffs"
RULE_CODE_VERSION = "1"
CENT = Decimal("0.01")
ITEMS = ("care_hours", "meals", "activity")

_SCHOOL_YEAR = re.compile(r"(\d{4})-(\d{4})")


class Category(StrEnum):
    """Tariff categories, declared best first: the order is the ranking."""

    SOCIAL = "social"
    LOW_INCOME_A = "low_income_a"
    LOW_INCOME_B = "low_income_b"
    STANDARD = "standard"


CATEGORIES_BEST_FIRST: tuple[Category, ...] = tuple(Category)
_RANK = {category: rank for rank, category in enumerate(CATEGORIES_BEST_FIRST)}


class Reason:
    """Reason codes of this rule, as stored and shown to reviewers."""

    INTEGRATION_INCOME = "integration_income_in_household"
    INCOME_BELOW_LIMIT_A = "household_income_below_limit_a"
    INCOME_BELOW_LIMIT_B = "household_income_below_limit_b"
    INCOME_NOT_BELOW_LIMITS = "household_income_not_below_limits"
    REGISTRY_FAILED = "registry_failed"
    NO_LEGAL_PARENT = "no_legal_parent"
    ADDRESS_MISSING = "address_missing"
    REFERENCE_ADDRESS = "reference_address"
    PARENT_DECEASED = "parent_deceased"
    INTEGRATION_INCOME_OUTSIDE_HOUSEHOLD = "integration_income_outside_household"
    INCOME_UNKNOWN = "household_income_unknown"
    STATUS_UNKNOWN = "integration_income_unknown"
    KEPT_FROM_EARLIER_CHECK = "kept_from_earlier_check"


@dataclass(frozen=True, slots=True)
class Parent:
    """A legal parent of the pupil, as read on the reference date.

    `integration_income` is None when the registry could not say (unknown, not no).
    """

    insz: str
    in_household: bool
    integration_income: bool | None
    deceased: bool = False


@dataclass(frozen=True, slots=True)
class Earner:
    """A legal parent, or a parent's partner, living in the pupil's household.

    `taxable_income` is the assessed taxable income of income year N-2, or None when
    there is no assessment for that year (yet).
    """

    insz: str
    taxable_income: Decimal | None


@dataclass(frozen=True, slots=True)
class PupilSituation:
    """Everything the rule needs to know of one pupil, read as of a reference date.

    `children_12_or_younger` counts the children of the pupil's household aged
    `family_discount_max_age` or younger on the reference date, the pupil included.
    """

    pupil: str
    parents: tuple[Parent, ...]
    earners: tuple[Earner, ...]
    children_12_or_younger: int
    address_missing: bool
    reference_address: bool
    registry_failed: bool = False


@dataclass(frozen=True, slots=True)
class _Finding:
    """What today's facts give, before the earlier checks of the year are heard."""

    category: Category | None
    reasons: tuple[str, ...]
    review: bool


def school_year_start(school_year: str) -> int:
    """The first calendar year N of school year "N-N+1"."""
    match = (
        _SCHOOL_YEAR.fullmatch(school_year) if isinstance(school_year, str) else None
    )
    if match is None or int(match[2]) != int(match[1]) + 1:
        raise ValueError(
            f"school year {school_year!r} is not two consecutive years joined by a"
            " dash; write it like '2026-2027'"
        )
    return int(match[1])


def _school_year_anchor(school_year: str) -> date:
    # Parameters that shape a whole school year are read on one fixed day before its
    # first check, so all six checks of a year follow the same calendar.
    return date(school_year_start(school_year), 1, 1)


def check_reference_date(school_year: str, check: int) -> date:
    """The reference date of check number `check` (1 to 6) of `school_year`."""
    first = school_year_start(school_year)
    params = parameters.load(BENEFIT)
    days = params.value_on("check_days", _school_year_anchor(school_year))["checks"]
    if isinstance(check, int) and not isinstance(check, bool):
        for day in days:
            if day["check"] == check:
                year = first if day["year"] == "first" else first + 1
                return date(year, day["month"], day["day"])
    numbers = ", ".join(str(day["check"]) for day in days)
    raise ValueError(
        f"check {check!r} is not a check of school year {school_year}; use one of"
        f" {numbers}"
    )


def checks(school_year: str) -> tuple[int, ...]:
    """The check numbers of `school_year`, in order."""
    params = parameters.load(BENEFIT)
    days = params.value_on("check_days", _school_year_anchor(school_year))["checks"]
    return tuple(sorted(day["check"] for day in days))


def income_year(school_year: str) -> int:
    """The income year (N-2) whose tax assessment gives the household income."""
    params = parameters.load(BENEFIT)
    offset = params.value_on("income_year_offset", _school_year_anchor(school_year))
    return school_year_start(school_year) - offset["years"]


def status_names(on: date) -> tuple[str, ...]:
    """The social statuses to ask the registry for, for each legal parent."""
    params = parameters.load(BENEFIT)
    return tuple(params.value_on("integration_income_statuses", on)["names"])


def family_discount_max_age(on: date) -> int:
    """Oldest age at which a child still counts towards the family discount."""
    return parameters.load(BENEFIT).value_on("family_discount", on)["max_age"]


def rule_version(school_year: str) -> str:
    school_year_start(school_year)
    params = parameters.load(BENEFIT)
    return f"{BENEFIT}/r{RULE_CODE_VERSION}/p{params.digest}"


def is_better(category: str, than: str) -> bool:
    """Whether `category` is a strictly better tariff than `than`."""
    return _RANK[_category(category)] < _RANK[_category(than)]


def household_income(situation: PupilSituation) -> Decimal | None:
    """Sum of the earners' taxable incomes; None when any of them is unknown."""
    if not situation.earners:
        return None
    incomes = [earner.taxable_income for earner in situation.earners]
    if any(income is None for income in incomes):
        return None
    return sum(incomes, Decimal(0))


def income_band(total: Decimal | None, on: date) -> str:
    """The band a household income falls in, to keep as evidence instead of it.

    For example "below_23000", "below_33000", "33000_or_more" or "unknown".
    """
    if total is None:
        return "unknown"
    limits = parameters.load(BENEFIT).value_on("income_limits", on)
    for name in (Category.LOW_INCOME_A, Category.LOW_INCOME_B):
        limit = limits[name.value]
        if _under_limit(total, limit):
            prefix = "up_to" if limit["inclusive"] else "below"
            return f"{prefix}_{_amount_label(limit['amount'])}"
    top = limits[Category.LOW_INCOME_B.value]
    label = _amount_label(top["amount"])
    return f"above_{label}" if top["inclusive"] else f"{label}_or_more"


def decide(
    situation: PupilSituation,
    school_year: str,
    check: int,
    previous_category: str | None = None,
) -> RuleDecision:
    """Decide a pupil's tariff category at check `check` of `school_year`.

    `previous_category` is the best category an earlier check of the same school
    year granted; the decision never falls below it. A worse finding, or a grey zone,
    keeps it (granted, reason `kept_from_earlier_check` before today's reasons). A
    grey zone behind which today's facts show a better category goes to review, with
    the earlier category as `category`: it holds while the case waits.
    """
    on = check_reference_date(school_year, check)
    version = rule_version(school_year)
    finding = _find(situation, on)
    previous = None if previous_category is None else _category(previous_category)

    if previous is not None and previous is not Category.STANDARD:
        if finding.review and (
            finding.category is not None and is_better(finding.category, previous)
        ):
            # Today's facts point to a better category behind a grey zone: a human
            # must look, while the earlier category holds as the floor meanwhile.
            return RuleDecision(
                Outcome.REVIEW,
                (*finding.reasons, Reason.KEPT_FROM_EARLIER_CHECK),
                version,
                category=previous.value,
            )
        if finding.review or is_better(previous, finding.category):
            return RuleDecision(
                Outcome.GRANTED,
                (Reason.KEPT_FROM_EARLIER_CHECK, *finding.reasons),
                version,
                category=previous.value,
            )

    if finding.review:
        return RuleDecision(Outcome.REVIEW, finding.reasons, version)
    outcome = (
        Outcome.NOT_GRANTED
        if finding.category is Category.STANDARD
        else Outcome.GRANTED
    )
    return RuleDecision(
        outcome, finding.reasons, version, category=finding.category.value
    )


def family_discount(
    situation: PupilSituation,
    category: str,
    on: date,
    *,
    previously: bool = False,
) -> bool:
    """Whether the family discount applies to a pupil of tariff `category`.

    `previously` says an earlier check of the same school year gave it: like the
    category, a granted family discount is not taken back within the year (a child
    turning 13 mid-year does not raise the price).
    """
    params = parameters.load(BENEFIT).value_on("family_discount", on)
    if _category(category).value not in params["combines_with"]:
        return False
    if previously:
        return True
    if situation.registry_failed:
        # Nobody read the count of children: the decision itself goes to review or
        # keeps an earlier category, and no new discount is granted on a guess.
        return False
    return situation.children_12_or_younger >= params["min_children"]


def discounts(category: str, family_discount: bool, on: date) -> dict[str, Decimal]:
    """Share off the price of each billing item for a pupil of `category`.

    The family discount is ignored for a category it does not combine with.
    """
    params = parameters.load(BENEFIT)
    own = params.value_on("category_discounts", on)[_category(category).value]
    shares = {item: _share(own, item) for item in ITEMS}
    family = params.value_on("family_discount", on)
    if not family_discount or _category(category).value not in family["combines_with"]:
        return shares
    method = params.value_on("discount_combination", on)["method"]
    for item in ITEMS:
        extra = _share(family["items"], item)
        if method == "multiplicative":
            shares[item] = 1 - (1 - shares[item]) * (1 - extra)
        elif method == "additive":
            shares[item] = min(Decimal(1), shares[item] + extra)
        else:
            raise RuleParameterError(
                f"discount_combination method {method!r} of {BENEFIT!r} is not known;"
                " use 'multiplicative' or 'additive'"
            )
    return shares


def price_line(
    item: str, quantity: Decimal, unit_price: Decimal, discount: Decimal
) -> Decimal:
    """Price of one billing line after its discount, rounded half-up to the cent."""
    if item not in ITEMS:
        raise ValueError(
            f"billing item {item!r} is not known; use one of {', '.join(ITEMS)}"
        )
    for name, value in (
        ("quantity", quantity),
        ("unit_price", unit_price),
        ("discount", discount),
    ):
        if not isinstance(value, (Decimal, int)) or isinstance(value, bool):
            # A float would carry binary rounding into the cents.
            raise TypeError(
                f"{name} {value!r} is not a Decimal; pass it as Decimal('1.50')"
            )
    if quantity < 0 or unit_price < 0:
        raise ValueError(
            f"quantity {quantity!r} and unit price {unit_price!r} must not be"
            " negative; bill a correction as its own positive line on a credit note"
        )
    if not 0 <= discount <= 1:
        raise ValueError(f"discount {discount!r} must be a share between 0 and 1")
    # Inputs are checked above, so the price cannot come out negative.
    price = Decimal(quantity) * Decimal(unit_price) * (1 - Decimal(discount))
    return price.quantize(CENT, rounding=ROUND_HALF_UP)


def invoice_total(lines: Iterable[Decimal]) -> Decimal:
    """Total of an invoice: the sum of its lines as printed (already rounded)."""
    total = Decimal("0.00")
    for line in lines:
        if line != line.quantize(CENT):
            raise ValueError(
                f"invoice line {line!r} is not rounded to the cent; pass the"
                " result of price_line"
            )
        total += line
    return total


def _find(situation: PupilSituation, on: date) -> _Finding:
    if situation.registry_failed:
        return _Finding(None, (Reason.REGISTRY_FAILED,), review=True)

    concerns: list[str] = []
    if not situation.parents:
        concerns.append(Reason.NO_LEGAL_PARENT)
    if situation.address_missing:
        concerns.append(Reason.ADDRESS_MISSING)
    if situation.reference_address:
        concerns.append(Reason.REFERENCE_ADDRESS)
    if any(parent.deceased for parent in situation.parents):
        concerns.append(Reason.PARENT_DECEASED)
    if not situation.parents:
        # A foster child: whose income and status count is for a human to say.
        return _Finding(None, tuple(concerns), review=True)

    at_home = [p for p in situation.parents if p.in_household]
    elsewhere = [p for p in situation.parents if not p.in_household]
    if any(p.integration_income is True for p in at_home):
        category: Category | None = Category.SOCIAL
        grounds = [Reason.INTEGRATION_INCOME]
    else:
        if any(p.integration_income is True for p in elsewhere):
            concerns.append(Reason.INTEGRATION_INCOME_OUTSIDE_HOUSEHOLD)
        category, grounds = _income_category(household_income(situation), on)
        if category is None:
            concerns.append(Reason.INCOME_UNKNOWN)
        if any(p.integration_income is None for p in situation.parents):
            # An unknown status could still mean social (or co-parenting review):
            # harmless beside a granted low-income category, which a later check
            # can improve, but never to be read as "no" where nothing else grants.
            if category in (None, Category.STANDARD):
                concerns.append(Reason.STATUS_UNKNOWN)
            else:
                grounds.append(Reason.STATUS_UNKNOWN)

    return _Finding(category, (*concerns, *grounds), review=bool(concerns))


def _income_category(
    total: Decimal | None, on: date
) -> tuple[Category | None, list[str]]:
    if total is None:
        return None, []
    limits = parameters.load(BENEFIT).value_on("income_limits", on)
    if _under_limit(total, limits[Category.LOW_INCOME_A.value]):
        return Category.LOW_INCOME_A, [Reason.INCOME_BELOW_LIMIT_A]
    if _under_limit(total, limits[Category.LOW_INCOME_B.value]):
        return Category.LOW_INCOME_B, [Reason.INCOME_BELOW_LIMIT_B]
    return Category.STANDARD, [Reason.INCOME_NOT_BELOW_LIMITS]


def _under_limit(total: Decimal, limit: dict) -> bool:
    amount = Decimal(limit["amount"])
    return total <= amount if limit["inclusive"] else total < amount


def _amount_label(amount: str) -> str:
    value = Decimal(amount)
    if value == value.to_integral_value():
        return str(int(value))
    return str(value).replace(".", "_")


def _share(shares: dict, item: str) -> Decimal:
    try:
        return Decimal(shares[item])
    except KeyError as exc:
        raise RuleParameterError(
            f"the discounts of {BENEFIT!r} give no share for item {item!r}; add it"
            " to rules/parameters/school_tariffs.yaml"
        ) from exc


def _category(value: str) -> Category:
    try:
        return Category(value)
    except ValueError:
        names = ", ".join(CATEGORIES_BEST_FIRST)
        raise ValueError(
            f"tariff category {value!r} is not known; use one of {names}"
        ) from None
