"""Low Emission Zone (lage-emissiezone): free registration and day-pass social tariff.

POLICY.md section 4. The unit is a card holder (the person whose national number
the permit system sends) checked on a day `today`, and for the free registration
also a vehicle: its plate, who applies for it, and the plate the card already
carries, if any.

- **Free registration** (`lez-free-registration`): granted when the card holder
  has, on `today`, a disability parking card and the increased allowance (VT);
  the applicant is the card holder or a member of the holder's registered
  household (a relative at the same address); and the card carries no other
  vehicle (the same plate again is granted again). Valid for five years at most,
  and no longer than the allowance, the parking-card status or the card itself
  when the registry gives their last day.
- **Social tariff on day passes** (`lez-day-pass`): granted to a card holder (or
  anyone) with VT on `today`, until 31 December of the year or the last day of
  the allowance, whichever comes first.

Unknown is never no: a registry that kept failing gives `review` with
`registry_failed`, a status the registry could not give gives `review` with
`status_unknown`. A refusal is only ever read off facts the registry did give.

Reason codes are stable lower-case codes that the permit system shows and the
store keeps; `REASON_TEXTS` holds a short Dutch text for each, for letters and
reviewers. Neither a code nor a text carries a status's registry name.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from proactief.facts import DisabilityFile
from rules import parameters
from rules.outcomes import Outcome

PARAMETERS = "lez"
FREE_REGISTRATION = "lez-free-registration"
DAY_PASS = "lez-day-pass"
RULE_CODE_VERSION = "1"


class Reason:
    """Reason codes of this rule."""

    # grounds of a grant
    PARKING_CARD_AND_VT = "parking_card_and_vt"
    APPLICANT_SAME_ADDRESS = "applicant_same_address"
    VEHICLE_REGISTERED_BEFORE = "vehicle_registered_before"
    VT = "vt"
    # refusals
    NO_PARKING_CARD = "no_parking_card"
    NO_VT = "no_vt"
    APPLICANT_NOT_AT_SAME_ADDRESS = "applicant_not_at_same_address"
    CARD_ALREADY_USED = "card_already_used_for_other_vehicle"
    # a human looks
    REGISTRY_FAILED = "registry_failed"
    STATUS_UNKNOWN = "status_unknown"
    PARKING_CARD_SOURCES_DISAGREE = "parking_card_sources_disagree"
    PERSON_NOT_FOUND = "person_not_in_registry"
    PERSON_DECEASED = "person_deceased"


REASON_TEXTS: dict[str, str] = {
    Reason.PARKING_CARD_AND_VT: (
        "De kaarthouder heeft een parkeerkaart voor personen met een handicap en"
        " een verhoogde tegemoetkoming."
    ),
    Reason.APPLICANT_SAME_ADDRESS: (
        "De aanvrager woont op hetzelfde adres als de kaarthouder."
    ),
    Reason.VEHICLE_REGISTERED_BEFORE: (
        "Dit voertuig was al gratis geregistreerd op deze parkeerkaart."
    ),
    Reason.VT: "De persoon heeft een verhoogde tegemoetkoming.",
    Reason.NO_PARKING_CARD: (
        "Het register vermeldt geen geldige parkeerkaart voor personen met een"
        " handicap."
    ),
    Reason.NO_VT: "Het register vermeldt geen verhoogde tegemoetkoming.",
    Reason.APPLICANT_NOT_AT_SAME_ADDRESS: (
        "De aanvrager is niet de kaarthouder en woont niet op hetzelfde adres."
    ),
    Reason.CARD_ALREADY_USED: (
        "Op deze parkeerkaart is al een ander voertuig gratis geregistreerd."
    ),
    Reason.REGISTRY_FAILED: (
        "Het register gaf geen antwoord; een medewerker kijkt het na."
    ),
    Reason.STATUS_UNKNOWN: (
        "Het register kon niet alles bevestigen; een medewerker kijkt het na."
    ),
    Reason.PARKING_CARD_SOURCES_DISAGREE: (
        "De registers spreken elkaar tegen over de parkeerkaart; een medewerker"
        " kijkt het na."
    ),
    Reason.PERSON_NOT_FOUND: (
        "Het register kent dit rijksregisternummer niet; een medewerker kijkt het na."
    ),
    Reason.PERSON_DECEASED: (
        "Het register vermeldt deze persoon als overleden; een medewerker kijkt het na."
    ),
}


@dataclass(frozen=True, slots=True)
class CardHolder:
    """What the registries said of the card holder, read on the day of the check.

    `statuses` maps each asked status to whether it applies on that day; a
    status missing from it, or None for all of them, is one the registry could
    not give. `status_ends` holds the last day of a status that applies, where
    the registry gave one. `disability_file` is None when GeefDossierHandicap
    could not be read. `registry_failed` when the person's own look-up kept
    failing; `found` is False when the registry does not know the person.
    """

    statuses: Mapping[str, bool] | None = None
    status_ends: Mapping[str, date] = field(default_factory=dict)
    disability_file: DisabilityFile | None = None
    death_date: date | None = None
    found: bool = True
    registry_failed: bool = False


@dataclass(frozen=True, slots=True)
class VehicleRequest:
    """The vehicle asked for, and who asks.

    `registered_plate` is the plate the card carries already (None: none).
    `applicant_in_household` says whether the applicant is a member of the card
    holder's registered household, None when the household could not be read;
    it does not matter when the applicant is the holder.
    """

    plate: str
    registered_plate: str | None = None
    applicant_is_holder: bool = True
    applicant_in_household: bool | None = None


@dataclass(frozen=True, slots=True)
class PartDecision:
    """The verdict on one part: outcome, reasons, and until when a grant holds."""

    outcome: Outcome
    reasons: tuple[str, ...]
    valid_until: date | None = None


@dataclass(frozen=True, slots=True)
class LezDecision:
    free_registration: PartDecision
    social_tariff: PartDecision
    rule_version: str


def rule_version() -> str:
    return f"{PARAMETERS}/r{RULE_CODE_VERSION}/p{parameters.load(PARAMETERS).digest}"


def _value(name: str, on: date):
    return parameters.load(PARAMETERS).value_on(name, on)


def parking_card_statuses(on: date) -> tuple[str, ...]:
    return tuple(_value("parking_card_statuses", on)["names"])


def vt_status(on: date) -> str:
    return _value("vt_status", on)["name"]


def status_names(on: date, *, vehicle: bool = True) -> tuple[str, ...]:
    """The statuses to ask the registry for: VT, and the parking cards for a vehicle."""
    names = (vt_status(on),)
    return names + parking_card_statuses(on) if vehicle else names


def day_passes_per_year(on: date) -> int:
    return int(_value("day_passes_at_social_tariff", on)["count"])


def social_tariff_end(year: int) -> date:
    """The last day of a social tariff granted for `year` (before the VT's end)."""
    day = _value("social_tariff_validity_end", date(year, 12, 31))
    return date(year, day["month"], day["day"])


def registration_end(today: date) -> date:
    """The latest last day of a free registration granted or extended on `today`."""
    years = int(_value("registration_validity", today)["years"])
    try:
        return today.replace(year=today.year + years)
    except ValueError:  # 29 February into a common year
        return today.replace(year=today.year + years, day=28)


def renewal_horizon(as_of: date) -> date:
    """What ends on or before this day is checked again by a renewal on `as_of`."""
    months = int(_value("renewal_window", as_of)["months"])
    index = as_of.month - 1 + months
    year, month = as_of.year + index // 12, index % 12 + 1
    return date(year, month, min(as_of.day, calendar.monthrange(year, month)[1]))


def household_member_may_register(on: date) -> bool:
    return bool(_value("household_member_may_register", on)["applies"])


def decide(holder: CardHolder, vehicle: VehicleRequest, today: date) -> LezDecision:
    """Both parts for one card holder and vehicle on `today`."""
    return LezDecision(
        free_registration=decide_free_registration(holder, vehicle, today),
        social_tariff=decide_social_tariff(holder, today),
        rule_version=rule_version(),
    )


def decide_free_registration(
    holder: CardHolder, vehicle: VehicleRequest, today: date
) -> PartDecision:
    """The free registration of `vehicle` on the card of `holder`, on `today`."""
    blocked = _unanswerable(holder, today)
    if blocked:
        return blocked
    if holder.disability_file is None or (
        not vehicle.applicant_is_holder and vehicle.applicant_in_household is None
    ):
        return _review(Reason.REGISTRY_FAILED)

    card = _parking_card(holder, today)
    vt = _status(holder, vt_status(today))
    refusals = []
    if card is False:
        if holder.disability_file.parking_card_on(today) is not None:
            # the card's own file says it is valid: the status may lag behind
            return _review(Reason.PARKING_CARD_SOURCES_DISAGREE)
        refusals.append(Reason.NO_PARKING_CARD)
    if vt is False:
        refusals.append(Reason.NO_VT)
    relative = not vehicle.applicant_is_holder
    if relative and not (
        vehicle.applicant_in_household and household_member_may_register(today)
    ):
        refusals.append(Reason.APPLICANT_NOT_AT_SAME_ADDRESS)
    same_plate = vehicle.registered_plate == vehicle.plate
    if vehicle.registered_plate is not None and not same_plate:
        refusals.append(Reason.CARD_ALREADY_USED)
    if refusals:
        return PartDecision(Outcome.NOT_GRANTED, tuple(refusals))
    if card is None or vt is None:
        return _review(Reason.STATUS_UNKNOWN)

    grounds = [Reason.PARKING_CARD_AND_VT]
    if relative:
        grounds.append(Reason.APPLICANT_SAME_ADDRESS)
    if same_plate:
        grounds.append(Reason.VEHICLE_REGISTERED_BEFORE)
    ends = [registration_end(today), *_card_ends(holder, today)]
    vt_end = holder.status_ends.get(vt_status(today))
    if vt_end is not None:
        ends.append(vt_end)
    return PartDecision(Outcome.GRANTED, tuple(grounds), min(ends))


def decide_social_tariff(
    holder: CardHolder, today: date, *, year: int | None = None
) -> PartDecision:
    """The social tariff on day passes of `holder`, checked on `today`, for
    `year` (default: the year of `today`; a renewal asks for the next)."""
    blocked = _unanswerable(holder, today)
    if blocked:
        return blocked
    vt = _status(holder, vt_status(today))
    if vt is None:
        return _review(Reason.STATUS_UNKNOWN)
    if not vt:
        return PartDecision(Outcome.NOT_GRANTED, (Reason.NO_VT,))
    end = social_tariff_end(today.year if year is None else year)
    vt_end = holder.status_ends.get(vt_status(today))
    return PartDecision(
        Outcome.GRANTED, (Reason.VT,), end if vt_end is None else min(end, vt_end)
    )


def texts(reasons: Iterable[str]) -> tuple[str, ...]:
    """The Dutch text of each reason, once each, in order."""
    found: list[str] = []
    for reason in reasons:
        text = REASON_TEXTS.get(reason)
        if text is not None and text not in found:
            found.append(text)
    return tuple(found)


def _review(reason: str) -> PartDecision:
    return PartDecision(Outcome.REVIEW, (reason,))


def _unanswerable(holder: CardHolder, today: date) -> PartDecision | None:
    """Review for what leaves nothing to decide on: no answer, nobody, died."""
    if holder.registry_failed or holder.statuses is None:
        return _review(Reason.REGISTRY_FAILED)
    if not holder.found:
        return _review(Reason.PERSON_NOT_FOUND)
    if holder.death_date is not None and holder.death_date <= today:
        return _review(Reason.PERSON_DECEASED)
    return None


def _status(holder: CardHolder, name: str) -> bool | None:
    return (holder.statuses or {}).get(name)


def _parking_card(holder: CardHolder, today: date) -> bool | None:
    """True when a parking-card status applies, False when the registry said
    none does, None when it could not say."""
    answers = [_status(holder, name) for name in parking_card_statuses(today)]
    if any(answers):
        return True
    return None if None in answers else False


def _card_ends(holder: CardHolder, today: date) -> list[date]:
    """The known last days of the parking card: of the status that applies
    longest, and of the card in the disability file."""
    ends = []
    applying = [name for name in parking_card_statuses(today) if _status(holder, name)]
    status_ends = [holder.status_ends.get(name) for name in applying]
    if status_ends and None not in status_ends:
        ends.append(max(status_ends))
    card = (
        holder.disability_file.parking_card_on(today)
        if holder.disability_file is not None
        else None
    )
    if card is not None and card.ends_on is not None:
        ends.append(card.ends_on)
    return ends
