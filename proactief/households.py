"""Looking a household up in the registries, and what came back.

For each household of the cohort, as of the run's look-up date (`as_of`) and for the
benefit's reference date (`on`): the registered household composition, the reference
person (address, death), and the social statuses of every member. The persons of the
other members are read only when the household may qualify, since only then does a
death matter (POLICY.md: a member deceased before the letter is sent goes to review).

A registry that keeps failing makes the household a review case, never a refusal; a
member whose status could not be read is "unknown", never "no".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from proactief.cohort import CohortHousehold
from proactief.errors import InvalidInsz, RegistryError, RegistryUnavailable
from proactief.facts import Person, SocialStatuses
from proactief.magda.client import RegistryClient
from rules.garbage_bags import HouseholdSituation, Member

REFERENCE_PERSON = "01"


@dataclass(slots=True)
class LookedUpHousehold:
    """One household after its look-ups: a situation for the rule, or a failure."""

    household: str
    subject: str
    situation: HouseholdSituation | None = None
    recipient: Person | None = None
    failure: str | None = None
    reference_persons: int = 0
    members_missing: int = 0

    def quality_row(self) -> dict:
        return {
            "row": self.household,
            "reference_persons": self.reference_persons,
            "has_address": bool(self.situation and self.situation.address),
            "members_missing": self.members_missing,
        }


async def look_up_household(
    client: RegistryClient,
    entry: CohortHousehold,
    *,
    on: date,
    as_of: date,
    status_names: Sequence[str],
    measures: dict[str, frozenset[str]],
    may_qualify: Callable[[dict[str, bool] | None, frozenset[str]], bool],
) -> LookedUpHousehold:
    """Look one household up; registry trouble ends in a failure code, not a raise."""
    result = LookedUpHousehold(entry.household, entry.subject)
    try:
        household = await client.get_household(entry.subject, on=on, as_of=as_of)
    except InvalidInsz:
        # a mistyped number in the city's own register: a person must look at it
        result.failure = "national_number_invalid"
        return result
    except RegistryUnavailable:
        result.failure = "registry_failed"
        return result
    except RegistryError:
        result.failure = "household_not_in_registry"
        return result

    heads = household.reference_persons
    result.reference_persons = len(heads)
    if len(heads) == 1:
        result.subject = heads[0].insz
    members = household.members or ()

    async def statuses_of(insz: str) -> SocialStatuses | Exception:
        try:
            return await client.get_social_statuses(
                insz, status_names, on=on, as_of=as_of
            )
        except (RegistryError, InvalidInsz) as exc:
            return exc

    async def person_of(insz: str) -> Person | Exception:
        try:
            return await client.get_person(insz, as_of=as_of)
        except (RegistryError, InvalidInsz) as exc:
            return exc

    subject_person, *answers = await asyncio.gather(
        person_of(result.subject), *(statuses_of(m.insz) for m in members)
    )
    if isinstance(subject_person, RegistryUnavailable):
        result.failure = "registry_failed"
        return result

    statuses: dict[str, dict[str, bool] | None] = {}
    for member, answer in zip(members, answers, strict=True):
        if isinstance(answer, RegistryUnavailable):
            statuses[member.insz] = None
        elif isinstance(answer, Exception):
            statuses[member.insz] = None
            result.members_missing += 1
        elif answer.not_found:
            statuses[member.insz] = {name: False for name in status_names}
        else:
            # a status the answer left out stays unknown: unknown is never no
            statuses[member.insz] = {
                n: answer.has(n) for n in status_names if answer.has(n) is not None
            }

    deaths: dict[str, date | None] = {m.insz: m.death_date for m in members}
    if isinstance(subject_person, Person):
        result.recipient = subject_person
        deaths[subject_person.insz] = subject_person.death_date
    else:
        result.members_missing += 1

    if any(
        may_qualify(statuses.get(m.insz), measures.get(m.insz, frozenset()))
        for m in members
    ):
        others = [m.insz for m in members if m.insz != result.subject]
        people = await asyncio.gather(*(person_of(insz) for insz in others))
        for insz, person in zip(others, people, strict=True):
            if isinstance(person, RegistryUnavailable):
                result.failure = "registry_failed"
                return result
            if isinstance(person, Person):
                deaths[insz] = person.death_date or deaths.get(insz)
            else:
                result.members_missing += 1

    address = result.recipient.address if result.recipient else None
    result.situation = HouseholdSituation(
        subject=result.subject,
        members=tuple(
            Member(
                insz=m.insz,
                position=m.position,
                death_date=deaths.get(m.insz),
                statuses=statuses.get(m.insz),
                social_service=measures.get(m.insz, frozenset()),
            )
            for m in members
        ),
        address=address,
    )
    return result


async def look_up_households(
    client: RegistryClient,
    entries: Sequence[CohortHousehold],
    **kwargs,
) -> list[LookedUpHousehold]:
    """Look a chunk of households up at once; the client bounds what is in flight."""
    return list(
        await asyncio.gather(*(look_up_household(client, e, **kwargs) for e in entries))
    )
