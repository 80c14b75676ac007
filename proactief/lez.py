"""The Low Emission Zone check: a card holder and a vehicle, looked up on the spot.

The permit system asks, for a national number and a number plate, whether the
vehicle is registered free of charge and whether the person gets the social
tariff on day passes (POLICY.md section 4). Both parts answer about `insz`, the
card holder; `applicant_insz` only decides who may register the card's vehicle
(the holder, or a member of the holder's registered household). A relative who
wants their own day-pass tariff is checked under their own number.

`check_vehicle` reads the registries as of the day of the check in one round
trip, all at once: GeefPersoon, GeefSociaalStatuut (the allowance and the
parking cards, with their periods), GeefDossierHandicap (the parking card's own
validity) and, when someone else applies, GeefGezinssamenstelling of the holder.
A national number the register replaced is followed to the new one once, which
costs a second round trip. `check_social_tariff` reads only the person and the
allowance, for the renewal of day-pass tariffs.

Whatever the registry does (errors, refusals, time-outs), the answer is a
`LezAnswer`: a registry that failed gives `review` (`registry_failed`), never an
exception and never a refusal. The rule itself is `rules.lez`; this module only
gathers its facts. Nothing here logs a national number, a name, a plate or a
status: subjects appear by pseudonymous reference.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import httpx

from proactief.config import Settings
from proactief.errors import InvalidInsz, RegistryError
from proactief.facts import DisabilityFile, Household, SocialStatuses
from proactief.insz import pseudonym
from proactief.magda.client import RegistryClient
from proactief.magda.messages import NO_DATA, UNKNOWN_INSZ
from rules import lez
from rules.lez import CardHolder, PartDecision, VehicleRequest
from rules.outcomes import Outcome

logger = logging.getLogger(__name__)

# How long the permit system waits at most before the answer becomes a review.
CHECK_TIMEOUT_S = 8.0
MAX_PLATE_LENGTH = 10

_T = TypeVar("_T")
_LOOK_UP_ERRORS = (RegistryError, InvalidInsz, TimeoutError, httpx.HTTPError)
_PLATE_SEPARATORS = re.compile(r"[ .\-]+")
_PLATE = re.compile(rf"[A-Z0-9]{{1,{MAX_PLATE_LENGTH}}}")


@dataclass(frozen=True, slots=True)
class LezPart:
    outcome: Outcome
    valid_until: date | None
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LezAnswer:
    free_registration: LezPart
    social_tariff: LezPart
    rule_version: str


def normalise_plate(raw: str) -> str:
    """A number plate as the store keeps it: upper case, without spaces, dashes
    or dots (`1-abc-123` and `1 ABC 123` are `1ABC123`).

    Raises ValueError for anything that is not 1 to 10 letters (A-Z) and digits
    once those are taken out; the message does not repeat the plate.
    """
    plate = _PLATE_SEPARATORS.sub("", str(raw))
    # ASCII before upper(): "ß".upper() is "SS", and other scripts' letters
    # must not pass as A-Z.
    plate = plate.upper() if plate.isascii() else ""
    if not _PLATE.fullmatch(plate):
        raise ValueError(
            f"a number plate has 1 to {MAX_PLATE_LENGTH} letters A-Z and digits,"
            " optionally separated by spaces, dashes or dots; check the plate"
            " and send it again"
        )
    return plate


async def check_vehicle(
    client: RegistryClient,
    insz: str,
    *,
    applicant_insz: str,
    plate: str,
    today: date,
    registered_plate: str | None,
    timeout_s: float | None = CHECK_TIMEOUT_S,
) -> LezAnswer:
    """Decide the free registration of `plate` on the card of `insz`, asked by
    `applicant_insz`, and the day-pass social tariff of `insz`, on `today`.

    `insz` and `applicant_insz` are validated national numbers; `registered_plate`
    is the plate the card carries already (None: none). `timeout_s` bounds the
    whole check (None: only the client's own time-outs, as a batch run wants).
    """
    started = time.perf_counter()
    relative = applicant_insz != insz
    holder, number, household = await _bounded(
        _look_up(client, insz, today, vehicle=True, household=relative),
        insz,
        timeout_s,
    )
    vehicle = VehicleRequest(
        plate=_comparable(plate),
        registered_plate=_comparable(registered_plate) if registered_plate else None,
        applicant_is_holder=not relative or applicant_insz == number,
        applicant_in_household=(
            None
            if household is None
            else any(m.insz == applicant_insz for m in household.members)
        ),
    )
    decision = lez.decide(holder, vehicle, today)
    logger.debug(
        "lez check subject=%s free=%s tariff=%s duration_ms=%.0f",
        _ref(insz),
        decision.free_registration.outcome.value,
        decision.social_tariff.outcome.value,
        (time.perf_counter() - started) * 1000,
    )
    return LezAnswer(
        free_registration=_part(decision.free_registration),
        social_tariff=_part(decision.social_tariff),
        rule_version=decision.rule_version,
    )


async def check_social_tariff(
    client: RegistryClient,
    insz: str,
    *,
    today: date,
    year: int | None = None,
    timeout_s: float | None = CHECK_TIMEOUT_S,
) -> LezPart:
    """The day-pass social tariff of `insz` checked on `today` for `year`
    (default: the year of `today`; the renewal asks for the next)."""
    holder, _, _ = await _bounded(
        _look_up(client, insz, today, vehicle=False, household=False),
        insz,
        timeout_s,
    )
    return _part(lez.decide_social_tariff(holder, today, year=year))


_Looked = tuple[CardHolder, str, Household | None]


async def _bounded(look_up: Awaitable[_Looked], insz: str, timeout_s) -> _Looked:
    try:
        async with asyncio.timeout(timeout_s):
            return await look_up
    except TimeoutError:
        logger.warning(
            "lez check subject=%s: no answer within %s s, answered as review",
            _ref(insz),
            timeout_s,
        )
        return CardHolder(registry_failed=True), insz, None


async def _look_up(
    client: RegistryClient,
    insz: str,
    today: date,
    *,
    vehicle: bool,
    household: bool,
    follow: bool = True,
) -> _Looked:
    """The card holder's facts, the number they were read under, and the
    holder's household (None when not asked or not read)."""
    names = lez.status_names(today, vehicle=vehicle)
    calls: list[Awaitable] = [
        client.get_person(insz, as_of=today),
        client.get_social_statuses(insz, names, on=today, as_of=today),
    ]
    if vehicle:
        calls.append(client.get_disability_file(insz, as_of=today))
    if household:
        calls.append(client.get_household(insz, on=today, as_of=today))
    person, statuses, *rest = await asyncio.gather(*map(_attempt, calls))
    file = rest.pop(0) if vehicle else None
    members = rest.pop(0) if household else None

    if isinstance(person, Exception):
        if _not_found(person):
            return CardHolder(statuses={}, found=False), insz, None
        return CardHolder(registry_failed=True), insz, None
    if person.replaced_by and follow:
        # The register issued a new number: the holder is decided under it, once.
        return await _look_up(
            client,
            person.replaced_by,
            today,
            vehicle=vehicle,
            household=household,
            follow=False,
        )
    holder = CardHolder(
        statuses=_statuses(statuses, names),
        status_ends={} if isinstance(statuses, Exception) else dict(statuses.ends),
        disability_file=file if isinstance(file, DisabilityFile) else None,
        death_date=person.death_date,
    )
    return holder, person.insz, members if isinstance(members, Household) else None


async def _attempt(call: Awaitable[_T]) -> _T | Exception:
    """The call's result, or the registry error that ended it."""
    try:
        return await call
    except _LOOK_UP_ERRORS as exc:
        return exc


def _statuses(
    answer: SocialStatuses | Exception, names: tuple[str, ...]
) -> dict[str, bool] | None:
    """What the registry said of each asked status; absent ones stay unknown."""
    if isinstance(answer, Exception):
        return None
    if answer.not_found:
        # "no data" (30001): the registry knows no status of this person at all
        return dict.fromkeys(names, False)
    return {name: answer.applies[name] for name in names if name in answer.applies}


def _not_found(error: Exception) -> bool:
    return isinstance(error, InvalidInsz) or (
        isinstance(error, RegistryError) and error.code in (NO_DATA, UNKNOWN_INSZ)
    )


def _comparable(plate: str) -> str:
    """A plate as compared: normalised when it can be, else as given."""
    try:
        return normalise_plate(plate)
    except ValueError:
        return plate


def _part(decision: PartDecision) -> LezPart:
    return LezPart(
        outcome=decision.outcome,
        valid_until=decision.valid_until,
        reasons=decision.reasons,
    )


def _ref(insz: str) -> str:
    return pseudonym(insz, Settings.from_env().pseudonym_key)
