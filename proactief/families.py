"""Looking a pupil's family up in the registries, for the school social tariff.

For each pupil, as of the run's look-up date and for the check's reference date:
- the pupil (GeefPersoon): legal parents (`Afstammingen`), address;
- the household the pupil lives in on the reference date (composition and positions);
- each legal parent: death, and integration income on the reference date, wherever
  the parent lives (a parent with integration income outside the pupil's household
  is a case for a reviewer, POLICY.md section 2);
- the income of year N-2 of each earner: the legal parents living with the pupil and
  their partners (spouse or legal cohabitant of the same household).

Statuses and incomes stay in memory while the rule runs; only the decision leaves.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date

from proactief.errors import InvalidInsz, RegistryError, RegistryUnavailable
from proactief.facts import Household, Person
from proactief.magda.client import RegistryClient
from rules.school_tariffs import (
    Earner,
    Parent,
    PupilSituation,
    family_discount_max_age,
)

REFERENCE_PERSON = "01"
PARTNER_POSITIONS = frozenset({"02", "22"})
INTEGRATION_INCOME = "LIVING_WAGES_PCSA_HELP"


class _Unavailable(Exception):
    """A look-up the registry could not answer after its retries."""


@dataclass(slots=True)
class LookedUpPupil:
    pupil: str
    situation: PupilSituation | None = None
    person: Person | None = None
    failure: str | None = None


def age_on(birth_date: str | None, on: date) -> int | None:
    """Age on a date; an unknown month or day counts as the latest possible one,
    so that a child is never made older than they can be."""
    if not birth_date or not birth_date[:4].isdigit() or int(birth_date[:4]) == 0:
        return None
    year, month, day = (int(part) for part in birth_date.split("-"))
    month = month or 12
    day = day or (31 if month == 12 else 28)
    return on.year - year - ((on.month, on.day) < (month, day))


def partners_of(household: Household, insz: str) -> set[str]:
    """The partners of a member: 01 with 02/22 of the same household."""
    positions = {m.insz: m.position for m in household.members}
    position = positions.get(insz)
    if position == REFERENCE_PERSON:
        return {i for i, p in positions.items() if p in PARTNER_POSITIONS}
    if position in PARTNER_POSITIONS:
        return {i for i, p in positions.items() if p == REFERENCE_PERSON}
    return set()


async def look_up_pupil(
    client: RegistryClient,
    pupil: str,
    *,
    on: date,
    as_of: date,
    income_year: int,
) -> LookedUpPupil:
    """Look one pupil's family up; a registry that keeps failing ends in a failure
    code, never in a refusal."""
    result = LookedUpPupil(pupil)

    async def ask(coroutine):
        try:
            return await coroutine
        except RegistryUnavailable as exc:
            raise _Unavailable from exc
        except (RegistryError, InvalidInsz) as exc:
            return exc

    try:
        person, household = await asyncio.gather(
            ask(client.get_person(pupil, as_of=as_of)),
            ask(client.get_household(pupil, on=on, as_of=as_of)),
        )
        if isinstance(person, Exception):
            result.failure = "pupil_not_in_registry"
            return result
        result.person = person
        members = household.members if isinstance(household, Household) else ()
        in_household = {m.insz for m in members}
        parents = list(dict.fromkeys(person.parents))
        parent_people, parent_statuses = await asyncio.gather(
            asyncio.gather(*(ask(client.get_person(p, as_of=as_of)) for p in parents)),
            asyncio.gather(
                *(
                    ask(
                        client.get_social_statuses(
                            p, (INTEGRATION_INCOME,), on=on, as_of=as_of
                        )
                    )
                    for p in parents
                )
            ),
        )
        earners = [p for p in parents if p in in_household]
        if isinstance(household, Household):
            for parent in list(earners):
                earners += sorted(partners_of(household, parent) - set(earners))
        incomes = await asyncio.gather(
            *(ask(client.get_income(e, income_year, as_of=as_of)) for e in earners)
        )
    except _Unavailable:
        result.failure = "registry_failed"
        return result

    parent_facts = []
    for insz, parent, statuses in zip(
        parents, parent_people, parent_statuses, strict=True
    ):
        integration = None
        if not isinstance(statuses, Exception):
            integration = (
                False if statuses.not_found else statuses.has(INTEGRATION_INCOME)
            )
        deceased = (
            not isinstance(parent, Exception)
            and parent.death_date is not None
            and parent.death_date <= as_of
        )
        parent_facts.append(
            Parent(
                insz=insz,
                in_household=insz in in_household,
                integration_income=integration,
                deceased=deceased,
            )
        )
    limit = family_discount_max_age(on)
    young = sum(
        1
        for m in members
        if (age := age_on(m.birth_date, on)) is not None and age <= limit
    )
    address = person.address
    result.situation = PupilSituation(
        pupil=pupil,
        parents=tuple(parent_facts),
        earners=tuple(
            Earner(
                insz=insz,
                taxable_income=None
                if isinstance(income, Exception)
                else income.taxable_income,
            )
            for insz, income in zip(earners, incomes, strict=True)
        ),
        children_12_or_younger=young,
        address_missing=address is None,
        reference_address=bool(address and address.reference_address),
    )
    return result
