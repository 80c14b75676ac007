"""Free garbage bags: who gets a voucher, and of what value (POLICY.md section 1).

The unit is the household as registered on the reference date (1 January of the
benefit year), decided for its reference person. The rule grants when any member
has an increased allowance (VT) on that date, or budget guidance or budget
management with the city's social service. It sends to a reviewer whatever a letter
cannot safely follow: a reference address, a member who died after the reference
date, an address or a reference person that is missing, and every household whose
registry look-ups kept failing. Unknown is never read as no.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from proactief.facts import Address
from rules import parameters
from rules.outcomes import Outcome, RuleDecision

BENEFIT = "garbage-bags"
RULE_CODE_VERSION = "1"
REFERENCE_PERSON = "01"
CENT = Decimal("0.01")


class Reason:
    """Reason codes of this rule, as stored and shown to reviewers."""

    VT_MEMBER = "vt_member"
    BUDGET_GUIDANCE = "budget_guidance"
    BUDGET_MANAGEMENT = "budget_management"
    NO_QUALIFYING_SITUATION = "no_qualifying_situation"
    NOT_RESIDENT = "not_resident_in_city"
    REFERENCE_ADDRESS = "reference_address"
    MEMBER_DECEASED = "member_deceased"
    MOVED_AFTER_REFERENCE_DATE = "address_changed_after_reference_date"
    ADDRESS_MISSING = "address_missing"
    NO_REFERENCE_PERSON = "no_reference_person"
    MULTIPLE_REFERENCE_PERSONS = "multiple_reference_persons"
    REGISTRY_FAILED = "registry_failed"
    STATUS_UNKNOWN = "status_unknown"


@dataclass(frozen=True, slots=True)
class Member:
    """One household member as the rule sees them.

    `statuses` maps each asked status to whether it applies on the reference date;
    None means the registry could not say (unknown, not no).
    `social_service` holds the social-service measures active on the reference date.
    """

    insz: str
    position: str | None
    death_date: date | None = None
    statuses: dict[str, bool] | None = None
    social_service: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class HouseholdSituation:
    """Everything the rule needs to know of one household, read as of its dates."""

    subject: str
    members: tuple[Member, ...]
    address: Address | None
    registry_failed: bool = False


def reference_date(year: int) -> date:
    """The day of year `year` on which households and statuses are read."""
    day = parameters.load(BENEFIT).value_on("reference_day", date(year, 1, 1))
    return date(year, day["month"], day["day"])


def catch_up_end(year: int) -> date:
    """The last day on which a catch-up run may still grant for year `year`."""
    day = parameters.load(BENEFIT).value_on("catch_up_end", date(year, 1, 1))
    return date(year, day["month"], day["day"])


def rule_version(year: int) -> str:
    params = parameters.load(BENEFIT)
    return f"{BENEFIT}/r{RULE_CODE_VERSION}/p{params.digest}"


def voucher_amount(other_members: int, on: date) -> tuple[Decimal, Decimal]:
    """Voucher value and extra collection credit for a household of that size."""
    params = parameters.load(BENEFIT)
    brackets = params.value_on("amount_by_other_members", on)["brackets"]
    share = Decimal(params.value_on("extra_credit_share", on)["share"])
    for bracket in brackets:
        upper = bracket["max"]
        if other_members >= bracket["min"] and (
            upper is None or other_members <= upper
        ):
            amount = Decimal(bracket["amount"])
            credit = (amount * share).quantize(CENT, rounding=ROUND_HALF_UP)
            return amount, credit
    raise ValueError(f"no amount bracket holds {other_members!r} other members")


def decide(situation: HouseholdSituation, year: int) -> RuleDecision:
    """Decide the garbage-bag benefit of one household for benefit year `year`."""
    on = reference_date(year)
    params = parameters.load(BENEFIT)
    version = rule_version(year)

    def review(*reasons: str) -> RuleDecision:
        return RuleDecision(Outcome.REVIEW, tuple(reasons), version)

    if situation.registry_failed:
        return review(Reason.REGISTRY_FAILED)
    heads = [m for m in situation.members if m.position == REFERENCE_PERSON]
    if not heads:
        return review(Reason.NO_REFERENCE_PERSON)
    if len(heads) > 1:
        return review(Reason.MULTIPLE_REFERENCE_PERSONS)

    grounds = _qualifying_grounds(situation.members, on, params)
    asked = params.value_on("qualifying_statuses", on)["names"]
    unknown = any(
        m.statuses is None or any(name not in m.statuses for name in asked)
        for m in situation.members
    )
    if not grounds:
        if unknown:
            return review(Reason.STATUS_UNKNOWN)
        if situation.address is not None and not _in_city(situation.address, on):
            return RuleDecision(Outcome.NOT_GRANTED, (Reason.NOT_RESIDENT,), version)
        return RuleDecision(
            Outcome.NOT_GRANTED, (Reason.NO_QUALIFYING_SITUATION,), version
        )

    # Entitled on the facts; what follows decides whether a letter can follow.
    if situation.address is None:
        return review(Reason.ADDRESS_MISSING, *grounds)
    if not _in_city(situation.address, on):
        return RuleDecision(Outcome.NOT_GRANTED, (Reason.NOT_RESIDENT,), version)
    if situation.address.reference_address:
        return review(Reason.REFERENCE_ADDRESS, *grounds)
    if situation.address.since is not None and situation.address.since > on:
        # The registry gives today's address; where the household lived on the
        # reference date takes a human with the address history.
        return review(Reason.MOVED_AFTER_REFERENCE_DATE, *grounds)
    if any(m.death_date is not None for m in situation.members):
        return review(Reason.MEMBER_DECEASED, *grounds)

    amount, credit = voucher_amount(len(situation.members) - 1, on)
    return RuleDecision(
        Outcome.GRANTED, grounds, version, amount=amount, extra_credit=credit
    )


def status_names(on: date) -> tuple[str, ...]:
    """The social statuses to ask the registry for."""
    names = parameters.load(BENEFIT).value_on("qualifying_statuses", on)["names"]
    return tuple(names)


def may_qualify(
    statuses: dict[str, bool] | None, measures: frozenset[str], on: date
) -> bool:
    """Whether one member's known facts would make the household qualify."""
    params = parameters.load(BENEFIT)
    member = Member(insz="", position=None, statuses=statuses, social_service=measures)
    return bool(_qualifying_grounds((member,), on, params))


def _qualifying_grounds(
    members: tuple[Member, ...], on: date, params: parameters.ParameterFile
) -> tuple[str, ...]:
    statuses = params.value_on("qualifying_statuses", on)["names"]
    measures = params.value_on("qualifying_social_service", on)["measures"]
    grounds: list[str] = []
    if any(m.statuses and any(m.statuses.get(s) for s in statuses) for m in members):
        grounds.append(Reason.VT_MEMBER)
    for measure in measures:
        if any(measure in m.social_service for m in members):
            grounds.append(measure)
    return tuple(grounds)


def _in_city(address: Address, on: date) -> bool:
    postcodes = parameters.load(BENEFIT).value_on("city_postcodes", on)["postcodes"]
    return address.postcode in postcodes
