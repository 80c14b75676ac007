"""UiTPAS opportunity tariff (kansentarief): does a person get it (POLICY.md section 3).

The unit is the person checked at the desk on a day `today`. Everyone in the
person's registered household (the same address) gets the same answer (an
estimate of the policy, a parameter), so the rule decides on the person's facts
together with those of the other living members of that household.

The tariff is granted when the person lives in the city (main residence or
reference address) and the person or a household member has, on `today`, an
increased allowance (VT), integration income, or budget guidance, budget
management or debt mediation with the city's social service. It is valid until
the end of the year of the check.

What the desk cannot answer on the spot goes to a human ("check by hand"): a
registry that kept failing, a status the registry could not give while nothing
else grants, a person the registry does not know, no registered address, a
person the registry says has died. Unknown is never read as no.

`ASK_FOR` holds, for each reason a desk officer may see, a Dutch text saying what
to ask the citizen for. The texts are shown as they are: they never carry an
income, a status's registry name or an address.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from proactief.facts import Address
from rules import parameters
from rules.outcomes import Outcome, RuleDecision

BENEFIT = "uitpas"
RULE_CODE_VERSION = "1"
HOUSEHOLD_MEMBER_SUFFIX = "_household_member"


class Reason:
    """Reason codes of this rule, as stored and shown to reviewers.

    A grant lists its grounds: the reason of each qualifying status (`vt`,
    `integration_income`, see the parameters) and each social-service measure,
    for the person, and the same with `_household_member` appended for the
    other members.
    """

    VT = "vt"
    INTEGRATION_INCOME = "integration_income"
    NOT_RESIDENT = "not_resident_in_city"
    NO_QUALIFYING_SITUATION = "no_qualifying_situation"
    REGISTRY_FAILED = "registry_failed"
    STATUS_UNKNOWN = "status_unknown"
    PERSON_NOT_FOUND = "person_not_in_registry"
    ADDRESS_MISSING = "address_missing"
    PERSON_DECEASED = "person_deceased"


_RECENT_PROOF = (
    "een recent attest van het ziekenfonds over de verhoogde tegemoetkoming, of een"
    " recent attest van het OCMW of van de sociale dienst van de stad"
)

ASK_FOR: dict[str, str] = {
    Reason.REGISTRY_FAILED: (
        "Het register gaf geen antwoord. Probeer het over enkele minuten opnieuw."
        f" Lukt het dan nog niet, vraag dan {_RECENT_PROOF}."
    ),
    Reason.STATUS_UNKNOWN: (
        "Het register kon niet alles bevestigen. Vraag"
        f" {_RECENT_PROOF}, van de persoon zelf of van iemand die op hetzelfde"
        " adres woont."
    ),
    Reason.PERSON_NOT_FOUND: (
        "Het register kent dit rijksregisternummer niet. Controleer het nummer op"
        " de identiteitskaart of verblijfskaart en probeer opnieuw. Klopt het"
        " nummer, vraag dan een recent attest van gezinssamenstelling van de"
        " dienst Burgerzaken."
    ),
    Reason.ADDRESS_MISSING: (
        "Het register vermeldt geen adres. Vraag een recent bewijs van woonst of"
        " van referentieadres in de stad, van de dienst Burgerzaken."
    ),
    Reason.PERSON_DECEASED: (
        "Het register vermeldt deze persoon als overleden. Vraag de"
        " identiteitskaart en controleer of het nummer bij de persoon aan de balie"
        " hoort; geef het kansentarief niet zonder een collega van de sociale"
        " dienst."
    ),
    Reason.NOT_RESIDENT: (
        "Volgens het register woont de persoon niet in de stad. Is de persoon"
        " onlangs naar de stad verhuisd, vraag dan een bewijs van woonst of van de"
        " adreswijziging, van de dienst Burgerzaken."
    ),
    Reason.NO_QUALIFYING_SITUATION: (
        "Een verhoogde tegemoetkoming of steun die de laatste weken werd toegekend,"
        " staat soms nog niet in het register. Geeft de persoon aan dat dit zo is,"
        f" vraag dan {_RECENT_PROOF}."
    ),
}


@dataclass(frozen=True, slots=True)
class Member:
    """The person checked, or another member of their registered household.

    `statuses` maps each asked status to whether it applies on the day of the
    check; a status missing from it, or None for all of them, is one the registry
    could not say (unknown, not no).
    `social_service` holds the social-service measures active on that day.
    """

    insz: str
    statuses: dict[str, bool] | None = None
    social_service: frozenset[str] = frozenset()
    death_date: date | None = None


@dataclass(frozen=True, slots=True)
class CitizenSituation:
    """Everything the rule needs to know of one person, read on the day of the check.

    `household` holds the other members of the person's registered household, or
    is None when the registry could not give it. `found` is False when the
    registry does not know the person; `registry_failed` when the person's own
    look-up kept failing.
    """

    person: Member
    address: Address | None
    household: tuple[Member, ...] | None = ()
    found: bool = True
    registry_failed: bool = False


def valid_until(year: int) -> date:
    """The last day of a tariff granted in (or renewed for) year `year`."""
    day = parameters.load(BENEFIT).value_on("validity_end", date(year, 1, 1))
    return date(year, day["month"], day["day"])


def renewal_window(year: int) -> tuple[date, date]:
    """The first and last day on which the grants of `year` may be renewed."""
    day = parameters.load(BENEFIT).value_on("renewal_window_start", date(year, 1, 1))
    return date(year, day["month"], day["day"]), valid_until(year)


def rule_version() -> str:
    params = parameters.load(BENEFIT)
    return f"{BENEFIT}/r{RULE_CODE_VERSION}/p{params.digest}"


def status_names(on: date) -> tuple[str, ...]:
    """The social statuses to ask the registry for."""
    statuses = parameters.load(BENEFIT).value_on("qualifying_statuses", on)
    return tuple(s["name"] for s in statuses["statuses"])


def household_counts(on: date) -> bool:
    """Whether the other members' facts count for the person on `on`."""
    return bool(
        parameters.load(BENEFIT).value_on("household_shares_answer", on)["applies"]
    )


def decide(situation: CitizenSituation, today: date) -> RuleDecision:
    """Decide the UiTPAS opportunity tariff of one person on the day `today`."""
    version = rule_version()

    def review(*reasons: str) -> RuleDecision:
        return RuleDecision(Outcome.REVIEW, tuple(reasons), version)

    def not_granted(reason: str) -> RuleDecision:
        return RuleDecision(Outcome.NOT_GRANTED, (reason,), version)

    if situation.registry_failed:
        return review(Reason.REGISTRY_FAILED)
    if not situation.found:
        return review(Reason.PERSON_NOT_FOUND)
    if _deceased(situation.person, today):
        return review(Reason.PERSON_DECEASED)
    if situation.address is None:
        return review(Reason.ADDRESS_MISSING)
    if not _in_city(situation.address, today):
        return not_granted(Reason.NOT_RESIDENT)

    counted = _counted_members(situation, today)
    grounds = _grounds(situation.person, today)
    for member in counted or ():
        grounds += tuple(
            g + HOUSEHOLD_MEMBER_SUFFIX
            for g in _grounds(member, today)
            if g + HOUSEHOLD_MEMBER_SUFFIX not in grounds
        )
    if grounds:
        return RuleDecision(Outcome.GRANTED, grounds, version)
    if counted is None:
        # the household could not be read: a member might have granted it
        return review(Reason.REGISTRY_FAILED)
    asked = status_names(today)
    if any(_unknown(m, asked) for m in (situation.person, *counted)):
        return review(Reason.STATUS_UNKNOWN)
    return not_granted(Reason.NO_QUALIFYING_SITUATION)


def ask_for(reasons: Iterable[str]) -> tuple[str, ...]:
    """The Dutch texts of what to ask the citizen for, one per reason that has one."""
    texts: list[str] = []
    for reason in reasons:
        text = ASK_FOR.get(reason)
        if text is not None and text not in texts:
            texts.append(text)
    return tuple(texts)


def _unknown(member: Member, asked: tuple[str, ...]) -> bool:
    return member.statuses is None or any(n not in member.statuses for n in asked)


def _deceased(member: Member, today: date) -> bool:
    return member.death_date is not None and member.death_date <= today


def _counted_members(
    situation: CitizenSituation, today: date
) -> tuple[Member, ...] | None:
    """The living other members whose facts count, None when they are unknown."""
    if not household_counts(today):
        return ()
    if situation.household is None:
        return None
    return tuple(
        m
        for m in situation.household
        if m.insz != situation.person.insz and not _deceased(m, today)
    )


def _grounds(member: Member, today: date) -> tuple[str, ...]:
    params = parameters.load(BENEFIT)
    statuses = params.value_on("qualifying_statuses", today)["statuses"]
    measures = params.value_on("qualifying_social_service", today)["measures"]
    grounds = [
        s["reason"]
        for s in statuses
        if member.statuses is not None and member.statuses.get(s["name"])
    ]
    grounds += [measure for measure in measures if measure in member.social_service]
    return tuple(grounds)


def _in_city(address: Address, today: date) -> bool:
    postcodes = parameters.load(BENEFIT).value_on("city_postcodes", today)["postcodes"]
    return address.postcode in postcodes
