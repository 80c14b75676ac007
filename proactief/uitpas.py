"""The desk check of the UiTPAS opportunity tariff: one person, looked up on the spot.

The desk officer types or scans a national number and gets yes (valid until),
no, or "check by hand" with what to ask the citizen for (POLICY.md section 3).
`check_citizen` reads the registries as of the day of the check in about two
round trips:

1. GeefPersoon and GeefGezinssamenstelling of the person, at once;
2. GeefSociaalStatuut of the person and of every other member, and GeefPersoon of
   the other members (first name, birth year, death), all at once.

A national number the register replaced is followed to the new one once, which
costs one round trip more. Whatever the registry does (errors, refusals,
time-outs), the answer is a `DeskAnswer`: a registry that failed gives "check by
hand" (`registry_failed`), never an exception and never a no. The rule itself is
`rules.uitpas`; this module only gathers its facts.

The same check serves the yearly renewal flow, on the flow's shared client.
Nothing here logs a national number, a name or a status: subjects appear by
pseudonymous reference.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import httpx

from proactief.config import Settings
from proactief.errors import InvalidInsz, RegistryError
from proactief.facts import Person, SocialStatuses
from proactief.insz import pseudonym
from proactief.magda.client import RegistryClient
from proactief.magda.messages import NO_DATA, UNKNOWN_INSZ
from rules import uitpas
from rules.outcomes import Outcome
from rules.uitpas import CitizenSituation, Member

logger = logging.getLogger(__name__)

# How long an officer waits at most before the answer becomes "check by hand".
DESK_TIMEOUT_S = 8.0

_T = TypeVar("_T")
_LOOK_UP_ERRORS = (RegistryError, InvalidInsz, TimeoutError, httpx.HTTPError)


@dataclass(frozen=True, slots=True)
class HouseholdMate:
    """Another living member of the person's household, who gets the same answer.

    `first_name` is empty when the registry could not give it; `birth_year` is
    None when the birth date is unknown.
    """

    insz: str
    first_name: str
    birth_year: int | None


@dataclass(frozen=True, slots=True)
class DeskAnswer:
    """What the desk officer sees: never an income, a status name or an address.

    `ask_for` holds Dutch texts for the officer: what to ask the citizen for on a
    "check by hand", and hints on a no. `household` lists the other living
    members at the same address, only when the tariff is granted.
    """

    outcome: Outcome
    reasons: tuple[str, ...]
    valid_until: date | None
    ask_for: tuple[str, ...]
    household: tuple[HouseholdMate, ...]
    rule_version: str


@dataclass(frozen=True, slots=True)
class _Looked:
    situation: CitizenSituation
    mates: tuple[HouseholdMate, ...] = ()


async def check_citizen(
    client: RegistryClient,
    insz: str,
    *,
    today: date,
    measures: Mapping[str, frozenset[str]],
    timeout_s: float | None = DESK_TIMEOUT_S,
) -> DeskAnswer:
    """Decide the UiTPAS opportunity tariff of `insz` on `today`, at the desk.

    `insz` is a validated national number; `measures` the social-service
    measures active on `today`, by national number
    (`proactief.cohort.social_service_measures`). `timeout_s` bounds the whole
    check (None: only the client's own time-outs, as a batch run wants).
    """
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            looked = await _look_up(client, insz, today, measures, follow=True)
    except TimeoutError:
        logger.warning(
            "desk check subject=%s: no answer within %s s, answered as check by hand",
            _ref(insz),
            timeout_s,
        )
        looked = _Looked(_failed(insz))
    decision = uitpas.decide(looked.situation, today)
    granted = decision.outcome is Outcome.GRANTED
    logger.debug(
        "desk check subject=%s outcome=%s duration_ms=%.0f",
        _ref(insz),
        decision.outcome.value,
        (time.perf_counter() - started) * 1000,
    )
    return DeskAnswer(
        outcome=decision.outcome,
        reasons=decision.reasons,
        valid_until=uitpas.valid_until(today.year) if granted else None,
        ask_for=() if granted else uitpas.ask_for(decision.reasons),
        household=looked.mates if granted else (),
        rule_version=decision.rule_version,
    )


async def _look_up(
    client: RegistryClient,
    insz: str,
    today: date,
    measures: Mapping[str, frozenset[str]],
    *,
    follow: bool,
) -> _Looked:
    person, household = await asyncio.gather(
        _attempt(client.get_person(insz, as_of=today)),
        _attempt(client.get_household(insz, on=today, as_of=today)),
    )
    if isinstance(person, Exception):
        if _not_found(person):
            return _Looked(
                CitizenSituation(
                    person=Member(insz), address=None, household=None, found=False
                )
            )
        return _Looked(_failed(insz))
    if person.replaced_by and follow:
        # The register issued a new number: the person is decided under it, once.
        return await _look_up(client, person.replaced_by, today, measures, follow=False)

    others = (
        ()
        if isinstance(household, Exception)
        else tuple(m for m in household.members if m.insz != person.insz)
    )
    names = uitpas.status_names(today)
    everyone = (person.insz, *(m.insz for m in others))
    answers = await asyncio.gather(
        *(
            _attempt(client.get_social_statuses(i, names, on=today, as_of=today))
            for i in everyone
        ),
        *(_attempt(client.get_person(m.insz, as_of=today)) for m in others),
    )
    statuses = dict(zip(everyone, answers[: len(everyone)], strict=True))
    people = answers[len(everyone) :]

    def member(insz: str, death_date: date | None) -> Member:
        return Member(
            insz=insz,
            statuses=_statuses(statuses[insz], names),
            social_service=frozenset(measures.get(insz, frozenset())),
            death_date=death_date,
        )

    members, mates = [], []
    for line, other in zip(others, people, strict=True):
        died = other.death_date if isinstance(other, Person) else line.death_date
        members.append(member(line.insz, died))
        if died is not None and died <= today:
            continue  # died since the composition was registered: left out
        if isinstance(other, Person):
            mates.append(HouseholdMate(other.insz, other.first_name, other.birth_year))
        else:
            mates.append(HouseholdMate(line.insz, "", _year(line.birth_date)))
    situation = CitizenSituation(
        person=member(person.insz, person.death_date),
        address=person.address,
        household=None if isinstance(household, Exception) else tuple(members),
    )
    return _Looked(situation, tuple(mates))


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


def _failed(insz: str) -> CitizenSituation:
    return CitizenSituation(
        person=Member(insz), address=None, household=None, registry_failed=True
    )


def _year(birth_date: str | None) -> int | None:
    return Person(
        insz="", first_name="", last_name="", birth_date=birth_date
    ).birth_year


def _ref(insz: str) -> str:
    return pseudonym(insz, Settings.from_env().pseudonym_key)
