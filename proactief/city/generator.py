"""The synthetic city: households and people of Ghent as the registries know them.

A city is made for a year Y and stands "as of" its reference date, 1 January Y. Its
events run a little past that date, as a registry read later in the year would show
them: deaths and births in January-March Y, households that arrive in that period,
statuses that start or reach the registry in the first half of Y, tax assessments
that come late. Everything is drawn from one `random.Random(seed)`, so that the same
size, seed and year give the same city.

Household positions (MAGDA's codes, `Positie` in GeefGezinssamenstelling):

| code | position | used for |
|---|---|---|
| 01 | reference person (gezinshoofd, alleenstaande) | one per household |
| 02 | spouse (echtgeno(o)t(e)) | a married partner of 01 |
| 22 | legal cohabitant (wettelijk samenwonende) | a registered partner of 01 |
| 03 | son or daughter (zoon/dochter) | a child of 01 |
| 13 | stepchild (stiefzoon/stiefdochter) | a child of 01's partner only |
| 06 | father or mother (vader/moeder) | an elderly parent of 01 living in |
| 12 | not related (niet verwant) | housemates, foster children |

Household shapes: singles, couples, families with one to three children, large
families (five or more people), single parents, co-parents (a child registered with
one parent whose other legal parent lives in another household of the city),
recomposed families, shared houses, three generations under one roof, foster families.

Rare cases, each at a small rate and at least `minimum_rare` times (three in a city of
900 or more inhabitants) so that tests can find them:

| case | rate |
|---|---|
| reference address (the social service's) | 0.4 % of households |
| no registered address | 0.2 % of households |
| household without a 01 | 0.1 % of households of two or more |
| household with two 01 | 0.1 % of households of two or more |
| died in the half year before 1 January Y | 0.5 % of people |
| died between 1 January and 31 March Y | 0.25 % of people |
| born between 2 January and 31 March Y | 0.25 % of people (min. 2) |
| household arrived between 2 January and 31 March Y | 0.3 % of households (min. 2) |
| unknown birth date (`1950-00-00`, `1950-03-00`) | 0.15 % of people |
| VT that started in the quarter before 1 January Y | 5 % of VT households |
| VT that starts after 1 January Y | 5 % of VT households |
| VT that ended in December Y-1 | 3 % of VT households |
| VT that ends in the first half of Y | 4 % of VT households |
| VT from before 1 January Y registered in February-May Y | 4 % of VT households |

One of the reference-address households and one of those without an address is a
single parent with children (pupils), one person who died before 1 January is a
parent of a minor, and one who died after it is a reference person with children.
Children whose other parent is unknown to the register have one legal parent; foster
children have none.

Around those: VT (`BIM_BVT`) or guidance by the social service in about one household
in five, integration income (`LIVING_WAGES_PCSA_HELP`) for about 3 % of adults,
disability parking cards (`GENT_PARKING_ADULT`, `GENT_PARKING_CHILD`) for a few,
statuses that reach the registry days or weeks after they start, and two income years
per adult (Y-3 and Y-2) with about 3 % of assessments missing per year.

After all of those, a city of 900 or more inhabitants gets the households of the
school tariff's cases (`TARIFF_CASE_PEOPLE` people more than asked for; the table is
in `proactief.city.schools`), and then its schools and pupils (`enrolment`). Both
draw from random streams of their own and number households and people after the
others, so that they changed nobody who was there before them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from proactief.city.addresses import SOCIAL_SERVICE_ADDRESS, AddressBook, Dwelling
from proactief.city.enrolment import (
    Enroller,
    Enrolment,
    School,
    SchoolYear,
    draw_schools,
)
from proactief.city.names import (
    Origin,
    draw_first_name,
    draw_language,
    draw_origin,
    draw_surname,
    surname_for,
)
from proactief.city.numbers import NumberIssuer

DEFAULT_YEAR = 2027
MAX_AGE = 99
# From this size on a city holds the school tariff's cases (as it holds every rare
# case three times), in this many people more than asked for.
TARIFF_CASES_FROM = 900
TARIFF_CASE_PEOPLE = 36

REFERENCE = "01"
SPOUSE = "02"
LEGAL_COHABITANT = "22"
CHILD = "03"
STEPCHILD = "13"
PARENT = "06"
NOT_RELATED = "12"
PARTNER_POSITIONS = frozenset({SPOUSE, LEGAL_COHABITANT})

VT = "BIM_BVT"
INTEGRATION_INCOME = "LIVING_WAGES_PCSA_HELP"
PARKING_ADULT = "GENT_PARKING_ADULT"
PARKING_CHILD = "GENT_PARKING_CHILD"

# (shape, share of households drawn, in percent)
_SHAPES = (
    ("single", 40.0),
    ("couple", 24.0),
    ("family", 16.5),
    ("large_family", 3.5),
    ("single_parent", 8.5),
    ("recomposed", 3.0),
    ("shared", 2.8),
    ("three_generations", 0.9),
    ("foster", 0.5),
)
_SHAPE_NAMES = tuple(name for name, _ in _SHAPES)
_SHAPE_WEIGHTS = tuple(weight for _, weight in _SHAPES)

# Chance that a household has VT, by shape (est.; elderly singles and couples and
# single parents are the groups the health-insurance funds report most often).
_VT_SHARE = {
    "single": 0.11,
    "single_elderly": 0.24,
    "couple": 0.05,
    "couple_elderly": 0.14,
    "family": 0.07,
    "large_family": 0.22,
    "single_parent": 0.28,
    "recomposed": 0.09,
    "shared": 0.05,
    "three_generations": 0.14,
    "foster": 0.05,
}
# Chance that a household with an adult under 65 has one on integration income.
_INTEGRATION_SHARE = {
    "single": 0.09,
    "single_parent": 0.12,
    "large_family": 0.05,
    "shared": 0.045,
    "recomposed": 0.02,
    "family": 0.017,
    "couple": 0.017,
}
# Chance that a household is followed by the social service (budget guidance,
# budget management or debt mediation).
_GUIDANCE_SHARE = {
    "single": 0.07,
    "single_parent": 0.12,
    "large_family": 0.08,
}
_GUIDANCE_DEFAULT = 0.03

ProgressHook = Callable[[str, int, int], None]


@dataclass(slots=True)
class Status:
    name: str
    start: date
    end: date | None
    registered_on: date


@dataclass(slots=True)
class IncomeAssessment:
    income_year: int
    cents: int
    assessed_on: date


@dataclass(slots=True, eq=False)
class Inhabitant:
    """A person of the city while it is being made; `folder` writes it out."""

    first_name: str
    last_name: str
    sex: str
    born: date
    language: str
    household: Household
    position: str
    family_name: str
    birth_date: str = ""
    insz: str = ""
    death: date | None = None
    address_since: date | None = None
    parents: list[Inhabitant] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    incomes: list[IncomeAssessment] = field(default_factory=list)
    school: Enrolment | None = None


@dataclass(slots=True, eq=False)
class Household:
    shape: str
    origin: Origin
    language: str
    members: list[Inhabitant] = field(default_factory=list)
    id: str = ""
    dwelling: Dwelling | None = None
    since: date | None = None
    arrived_after_reference_date: bool = False
    rare_case: str | None = None


@dataclass(slots=True)
class SocialServiceEntry:
    person: Inhabitant
    budget_guidance: bool
    budget_management: bool
    debt_mediation: bool
    since: date


@dataclass
class City:
    """A generated city: its households in order, the social service's file and the
    city's schools."""

    year: int
    seed: int
    households: list[Household]
    social_service: list[SocialServiceEntry]
    schools: list[School] = field(default_factory=list)

    @property
    def reference_date(self) -> date:
        return date(self.year, 1, 1)

    @property
    def school_year(self) -> SchoolYear:
        return SchoolYear.of_city(self.year)

    def people(self):
        for household in self.households:
            yield from household.members

    def in_register(self, person: Inhabitant) -> bool:
        """Whether the person is on the city's register extract of 1 January Y."""
        reference = self.reference_date
        return (
            person.born < reference
            and (person.death is None or person.death >= reference)
            and not person.household.arrived_after_reference_date
        )


def generate_city(
    inhabitants: int,
    seed: int,
    *,
    year: int = DEFAULT_YEAR,
    real_style_numbers: bool = False,
    progress: ProgressHook | None = None,
    address_book: AddressBook | None = None,
) -> City:
    """Make a city of `inhabitants` people, the same for the same arguments.

    A city of `TARIFF_CASES_FROM` inhabitants or more holds `TARIFF_CASE_PEOPLE` more:
    the households of the school tariff's cases, added after the others.
    """
    if inhabitants < 1:
        raise ValueError(f"a city needs at least one inhabitant, not {inhabitants!r}")
    if not 1950 <= year <= 2090:
        raise ValueError(f"the year {year!r} is out of range; pick one in 1950-2090")
    builder = _CityBuilder(
        seed=seed,
        year=year,
        real_style_numbers=real_style_numbers,
        address_book=address_book or AddressBook(),
        progress=progress,
    )
    return builder.build(inhabitants)


def minimum_rare(inhabitants: int) -> int:
    """How many times each rare case appears at least in a city of this size."""
    return min(3, inhabitants // 300)


class _CityBuilder:
    def __init__(
        self,
        *,
        seed: int,
        year: int,
        real_style_numbers: bool,
        address_book: AddressBook,
        progress: ProgressHook | None,
        stream: str = "",
        issued: set[str] | None = None,
    ) -> None:
        # a string seed hashes the same way in every process (unlike hash(tuple));
        # parts added later draw from a `stream` of their own, so that the people
        # drawn before them stay the same
        self.rng = random.Random(f"proactief-city:{seed}{stream}")
        self.seed = seed
        self.year = year
        self.reference = date(year, 1, 1)
        self.addresses = address_book
        self.real_style_numbers = real_style_numbers
        self.issuer = NumberIssuer(
            self.rng, real_style=real_style_numbers, issued=issued
        )
        self.progress = progress
        self.minimum = 0

    # ----------------------------------------------------------------- the whole city

    def build(self, inhabitants: int) -> City:
        self.minimum = minimum_rare(inhabitants)
        households = self._draw_households(inhabitants)
        for number, household in enumerate(households, start=1):
            household.id = f"H{number:07d}"
        people = [person for household in households for person in household.members]
        self._add_rare_cases(households, people)
        social_service = self._add_social_situation(households)
        self._add_incomes(people)
        self._finish_statuses(people)
        self._issue_numbers(people)
        required_pupils: list[Inhabitant] = []
        if inhabitants >= TARIFF_CASES_FROM:
            required_pupils = self._add_tariff_cases(households)
        return City(
            year=self.year,
            seed=self.seed,
            households=households,
            social_service=social_service,
            schools=self._add_schools(households, required_pupils),
        )

    def _report(self, phase: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(phase, done, total)

    def _draw_households(self, inhabitants: int) -> list[Household]:
        households: list[Household] = []
        count = 0
        reported = 0
        while count < inhabitants:
            remaining = inhabitants - count
            group = self._draw_group(remaining)
            households.extend(group)
            count += sum(len(household.members) for household in group)
            if count - reported >= 5000 or count == inhabitants:
                self._report("households", count, inhabitants)
                reported = count
        return households

    def _draw_group(self, remaining: int) -> list[Household]:
        """One household, or a few linked ones (co-parents), of at most `remaining`."""
        for _ in range(4):
            shape = self.rng.choices(_SHAPE_NAMES, weights=_SHAPE_WEIGHTS)[0]
            group = getattr(self, f"_make_{shape}")()
            if sum(len(household.members) for household in group) <= remaining:
                break
        else:
            group = self._make_single()
        for household in group:
            self._settle(household)
        return group

    # ------------------------------------------------------------------- dates, ages

    def _day_between(self, first: date, last: date) -> date:
        return first + timedelta(days=self.rng.randint(0, (last - first).days))

    def _born_at_age(self, age: int) -> date:
        """A birth date that makes someone `age` years old on the reference date."""
        age = max(0, min(age, MAX_AGE))
        return self._day_between(
            date(self.year - age - 1, 1, 2), date(self.year - age, 1, 1)
        )

    def _age(self, person: Inhabitant, on: date | None = None) -> int:
        on = on or self.reference
        born = person.born
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))

    def _elderly_age(self) -> int:
        return 65 + int(self.rng.triangular(0, MAX_AGE - 64, 10))

    # ------------------------------------------------------------------------ people

    def _household(self, shape: str, origin: Origin | None = None) -> Household:
        origin = origin or draw_origin(self.rng)
        return Household(
            shape=shape, origin=origin, language=draw_language(self.rng, origin)
        )

    def _person(
        self,
        household: Household,
        position: str,
        sex: str,
        age: int,
        *,
        family_name: str | None = None,
        origin: Origin | None = None,
    ) -> Inhabitant:
        origin = origin or household.origin
        born = self._born_at_age(age)
        family_name = family_name or draw_surname(self.rng, origin)
        person = Inhabitant(
            first_name=draw_first_name(self.rng, origin, sex, born.year),
            last_name=surname_for(family_name, sex),
            sex=sex,
            born=born,
            language=household.language,
            household=household,
            position=position,
            # kept whole, so that a child takes the name in its own form
            family_name=family_name,
        )
        household.members.append(person)
        return person

    def _sex(self, female_share: float = 0.5) -> str:
        return "F" if self.rng.random() < female_share else "M"

    def _couple(self, household: Household, age: int) -> tuple[Inhabitant, Inhabitant]:
        """Reference person and partner: mostly mixed-sex, some same-sex couples."""
        same_sex = self.rng.random() < 0.04
        first_sex = self._sex()
        second_sex = first_sex if same_sex else ("M" if first_sex == "F" else "F")
        partner_position = SPOUSE if self.rng.random() < 0.6 else LEGAL_COHABITANT
        partner_age = max(18, age + round(self.rng.gauss(0, 3.5)))
        # most couples share an origin; some met across communities
        partner_origin = (
            household.origin if self.rng.random() < 0.85 else draw_origin(self.rng)
        )
        first = self._person(household, REFERENCE, first_sex, age)
        second = self._person(
            household, partner_position, second_sex, partner_age, origin=partner_origin
        )
        return first, second

    def _children(
        self,
        household: Household,
        parents: list[Inhabitant],
        count: int,
        *,
        oldest: int | None = None,
        position: str = CHILD,
        family_of: Inhabitant | None = None,
    ) -> list[Inhabitant]:
        youngest_parent = min(self._age(parent) for parent in parents)
        limit = min(youngest_parent - 19, 24 if oldest is None else oldest)
        if limit < 0:
            return []
        fathers = [parent for parent in parents if parent.sex == "M"]
        name_giver = family_of or (fathers[0] if fathers else parents[0])
        children = []
        for _ in range(count):
            # children living with their parents are mostly minors
            age = self.rng.randint(
                0, min(limit, 17 if self.rng.random() < 0.85 else 24)
            )
            child = self._person(
                household,
                position,
                self._sex(),
                age,
                family_name=name_giver.family_name,
                origin=name_giver.household.origin,
            )
            child.parents = list(parents)
            children.append(child)
        return children

    # ------------------------------------------------------------- household shapes

    def _make_single(self) -> list[Household]:
        household = self._household("single")
        roll = self.rng.random()
        if roll < 0.22:
            age = self.rng.randint(18, 26)  # Ghent's students and starters
        elif roll < 0.70:
            age = self.rng.randint(27, 64)
        else:
            age = self._elderly_age()
        self._person(household, REFERENCE, self._sex(0.52), age)
        return [household]

    def _make_couple(self) -> list[Household]:
        household = self._household("couple")
        roll = self.rng.random()
        if roll < 0.35:
            age = self.rng.randint(22, 39)
        elif roll < 0.62:
            age = self.rng.randint(40, 64)
        else:
            age = min(self._elderly_age(), 95)
        self._couple(household, age)
        return [household]

    def _make_family(self, shape: str = "family") -> list[Household]:
        household = self._household(shape)
        if shape == "large_family":
            count = self.rng.choices((3, 4, 5, 6, 7), weights=(40, 35, 15, 7, 3))[0]
            age = round(self.rng.triangular(28, 54, 40))
        else:
            count = self.rng.choices((1, 2, 3), weights=(42, 43, 15))[0]
            age = round(self.rng.triangular(25, 58, 39))
        first, second = self._couple(household, age)
        self._children(household, [first, second], count)
        return [household]

    def _make_large_family(self) -> list[Household]:
        return self._make_family("large_family")

    def _make_single_parent(self) -> list[Household]:
        household = self._household("single_parent")
        parent_sex = self._sex(0.8)
        age = round(self.rng.triangular(22, 56, 40))
        parent = self._person(household, REFERENCE, parent_sex, age)
        count = self.rng.choices((1, 2, 3, 4), weights=(50, 35, 12, 3))[0]
        if self.rng.random() < 0.8:
            other_household, other = self._co_parent(parent)
            self._children(household, [parent, other], count)
            return [household, other_household]
        # the other parent is unknown to the register: the child has one legal parent
        self._children(household, [parent], count, family_of=parent)
        return [household]

    def _co_parent(self, parent: Inhabitant) -> tuple[Household, Inhabitant]:
        """The other legal parent, living in a household of their own in the city."""
        origin = parent.household.origin if self.rng.random() < 0.8 else None
        age = max(20, self._age(parent) + round(self.rng.gauss(1.5, 3.5)))
        sex = "M" if parent.sex == "F" else "F"
        if self.rng.random() < 0.7:
            household = self._household("single", origin)
            other = self._person(household, REFERENCE, sex, age)
            return household, other
        household = self._household("couple", origin)
        new_partner_age = max(20, age + round(self.rng.gauss(0, 4)))
        if self.rng.random() < 0.5:
            other = self._person(household, REFERENCE, sex, age)
            self._person(
                household,
                self.rng.choice((SPOUSE, LEGAL_COHABITANT)),
                self._sex(),
                new_partner_age,
            )
        else:
            self._person(household, REFERENCE, self._sex(), new_partner_age)
            other = self._person(
                household, self.rng.choice((SPOUSE, LEGAL_COHABITANT)), sex, age
            )
        return household, other

    def _make_recomposed(self) -> list[Household]:
        """A parent, a new partner, children of before (co-parented) and of now."""
        household = self._household("recomposed")
        age = round(self.rng.triangular(28, 55, 40))
        first, second = self._couple(household, age)
        # either partner may be the one who brings children from before
        parent = first if self.rng.random() < 0.5 else second
        other_household, other = self._co_parent(parent)
        earlier_position = CHILD if parent is first else STEPCHILD
        self._children(
            household,
            [parent, other],
            self.rng.choice((1, 1, 2)),
            position=earlier_position,
        )
        common = self.rng.choice((0, 1, 1, 2))
        if common:
            self._children(household, [first, second], common, oldest=8)
        return [household, other_household]

    def _make_shared(self) -> list[Household]:
        household = self._household("shared")
        size = self.rng.choices((2, 3, 4), weights=(50, 35, 15))[0]
        for index in range(size):
            origin = household.origin if index == 0 else draw_origin(self.rng)
            self._person(
                household,
                REFERENCE if index == 0 else NOT_RELATED,
                self._sex(),
                self.rng.randint(19, 34),
                origin=origin,
            )
        return [household]

    def _make_three_generations(self) -> list[Household]:
        household = self._household("three_generations")
        age = round(self.rng.triangular(34, 60, 45))
        first, second = self._couple(household, age)
        self._children(household, [first, second], self.rng.choice((1, 2, 3)))
        elder_sex = self._sex(0.65)
        elder_age = min(MAX_AGE, age + self.rng.randint(22, 38))
        elder = self._person(
            household,
            PARENT,
            elder_sex,
            max(elder_age, 66),
            family_name=first.family_name if elder_sex == "M" else None,
        )
        first.parents = [elder]
        return [household]

    def _make_foster(self) -> list[Household]:
        household = self._household("foster")
        age = round(self.rng.triangular(30, 58, 44))
        first, second = self._couple(household, age)
        own = self.rng.choice((0, 1, 2))
        if own:
            self._children(household, [first, second], own)
        for _ in range(self.rng.choice((1, 1, 2))):
            # foster children keep their own family's name; no legal parent is linked
            self._person(
                household,
                NOT_RELATED,
                self._sex(),
                self.rng.randint(0, 17),
                origin=draw_origin(self.rng),
            )
        return [household]

    def _settle(self, household: Household) -> None:
        """Give a new household its address and each member the date they came."""
        reference = household.members[0]
        household.dwelling = self.addresses.draw(self.rng)
        earliest = max(
            reference.born + timedelta(days=18 * 365),
            self.reference - timedelta(days=30 * 365),
        )
        latest = self.reference - timedelta(days=1)
        household.since = self._day_between(min(earliest, latest), latest)
        for member in household.members:
            member.address_since = max(household.since, member.born)

    # -------------------------------------------------------------------- rare cases

    def _pick(self, candidates: list, count: int) -> list:
        return self.rng.sample(candidates, min(count, len(candidates)))

    def _quota(self, rate: float, base: int, minimum: int | None = None) -> int:
        floor = self.minimum if minimum is None else min(minimum, self.minimum)
        return max(round(rate * base), floor)

    def _add_rare_cases(
        self, households: list[Household], people: list[Inhabitant]
    ) -> None:
        self._born_after_reference_date(people)
        self._died(people)
        self._unknown_birth_dates(people)
        self._reference_addresses(households)
        self._without_address(households)
        self._inconsistent(households)
        self._arrived_after_reference_date(households)

    def _born_after_reference_date(self, people: list[Inhabitant]) -> None:
        babies = [
            person
            for person in people
            if person.born.year == self.year - 1 and person.position == CHILD
        ]
        last = date(self.year, 3, 31)
        for baby in self._pick(babies, self._quota(0.0025, len(people), 2)):
            baby.born = self._day_between(self.reference + timedelta(days=1), last)
            baby.address_since = baby.born

    def _died(self, people: list[Inhabitant]) -> None:
        reference = self.reference
        alive = [person for person in people if person.born < reference]
        with_children = {
            id(parent)
            for person in alive
            if self._age(person) < 18
            for parent in person.parents
        }
        # before 1 January: an elderly person living alone, a partner, a parent
        parents = [
            person
            for person in alive
            if id(person) in with_children and person.position in PARTNER_POSITIONS
        ]
        elderly = [
            person
            for person in alive
            if self._age(person) >= 70
            and (
                person.position in PARTNER_POSITIONS
                or person.household.shape == "single"
            )
        ]
        count = self._quota(0.005, len(people))
        chosen = self._pick(parents, 1) if count else []
        chosen += self._pick(
            [person for person in elderly if person not in chosen], count - len(chosen)
        )
        for person in chosen:
            person.death = self._day_between(
                reference - timedelta(days=183), reference - timedelta(days=1)
            )
        # after 1 January: mostly the elderly, once a reference person with children
        taken = {id(person) for person in chosen}
        heads = [
            person
            for person in alive
            if id(person) in with_children
            and person.position == REFERENCE
            and id(person) not in taken
        ]
        old = [
            person
            for person in alive
            if self._age(person) >= 65 and id(person) not in taken
        ]
        count = self._quota(0.0025, len(people))
        later = self._pick(heads, 1) if count else []
        later += self._pick([p for p in old if p not in later], count - len(later))
        for person in later:
            person.death = self._day_between(
                reference + timedelta(days=1), date(self.year, 3, 31)
            )

    def _unknown_birth_dates(self, people: list[Inhabitant]) -> None:
        # people born abroad whose papers gave no full birth date
        limit = date(1990, 1, 1)
        born_abroad = [
            person
            for person in people
            if person.born < limit and person.household.origin.key != "flemish"
        ]
        if len(born_abroad) < self.minimum:
            born_abroad = [person for person in people if person.born < limit]
        chosen = self._pick(born_abroad, self._quota(0.0015, len(people)))
        for index, person in enumerate(chosen):
            if index % 5 in (0, 2, 4):
                person.birth_date = f"{person.born.year:04d}-00-00"
            else:
                person.birth_date = f"{person.born.year:04d}-{person.born.month:02d}-00"

    def _free(self, households: list[Household], shapes: set[str]) -> list[Household]:
        """Households of these shapes not yet given a rare case, with nobody dead."""
        return [
            household
            for household in households
            if household.rare_case is None
            and household.shape in shapes
            and all(member.death is None for member in household.members)
        ]

    def _reference_addresses(self, households: list[Household]) -> None:
        count = self._quota(0.004, len(households))
        chosen = (
            self._pick(self._free(households, {"single_parent"}), 1) if count else []
        )
        chosen += self._pick(self._free(households, {"single"}), count - len(chosen))
        for household in chosen:
            household.rare_case = "reference_address"
            household.dwelling = SOCIAL_SERVICE_ADDRESS
            household.since = self._day_between(
                self.reference - timedelta(days=3 * 365),
                self.reference - timedelta(days=1),
            )
            for member in household.members:
                member.address_since = max(household.since, member.born)

    def _without_address(self, households: list[Household]) -> None:
        count = self._quota(0.002, len(households))
        chosen = (
            self._pick(self._free(households, {"single_parent"}), 1) if count else []
        )
        chosen += self._pick(self._free(households, {"single"}), count - len(chosen))
        for household in chosen:
            household.rare_case = "no_address"
            household.dwelling = None
            household.since = None
            for member in household.members:
                member.address_since = None

    def _inconsistent(self, households: list[Household]) -> None:
        several = self._free(households, set(_SHAPE_NAMES) - {"single"})
        # the second member is an adult, so that a swap of positions stays plausible
        several = [
            household
            for household in several
            if len(household.members) >= 2 and self._age(household.members[1]) >= 18
        ]
        count = self._quota(0.001, len(several))
        chosen = self._pick(several, 2 * count)
        for household in chosen[:count]:
            household.rare_case = "no_reference_person"
            head, second = household.members[0], household.members[1]
            head.position = (
                second.position if second.position in PARTNER_POSITIONS else NOT_RELATED
            )
        for household in chosen[count:]:
            household.rare_case = "two_reference_persons"
            household.members[1].position = REFERENCE

    def _arrived_after_reference_date(self, households: list[Household]) -> None:
        free = self._free(households, set(_SHAPE_NAMES))
        chosen = self._pick(free, self._quota(0.003, len(households), 2))
        for household in chosen:
            household.rare_case = "arrived"
            household.arrived_after_reference_date = True
            household.since = self._day_between(
                self.reference + timedelta(days=1), date(self.year, 3, 31)
            )
            for member in household.members:
                member.address_since = max(household.since, member.born)

    # --------------------------------------------------------------- social situation

    def _add_social_situation(
        self, households: list[Household]
    ) -> list[SocialServiceEntry]:
        vt_households: list[Household] = []
        entries: list[SocialServiceEntry] = []
        for household in households:
            adults = [m for m in household.members if 18 <= self._age(m) < 65]
            integration = False
            share = _INTEGRATION_SHARE.get(household.shape, 0.01)
            if adults and self.rng.random() < share:
                self._give_integration_income(self.rng.choice(adults))
                integration = True
            guidance = self.rng.random() < _GUIDANCE_SHARE.get(
                household.shape, _GUIDANCE_DEFAULT
            )
            if guidance:
                entries.extend(self._guidance(household))
            vt_share = _VT_SHARE[self._vt_group(household)]
            if integration or (guidance and self.rng.random() < 0.55):
                vt_share = 1.0
            has_vt = self.rng.random() < vt_share
            if has_vt:
                vt_households.append(household)
            elif self.rng.random() < 0.02:
                # VT in earlier years that has since ended
                self._give_vt(household, "ended_long_ago")
            self._give_parking_cards(household, has_vt)
        self._give_vt_by_pattern(vt_households)
        return entries

    def _vt_group(self, household: Household) -> str:
        elderly = self._age(household.members[0]) >= 65
        if household.shape in ("single", "couple") and elderly:
            return f"{household.shape}_elderly"
        return household.shape

    def _lag(self) -> int:
        """Days between a status's start and its arrival in the registry."""
        roll = self.rng.random()
        if roll < 0.12:
            return 0
        if roll < 0.72:
            return self.rng.randint(1, 21)
        return self.rng.randint(22, 56)

    def _give_vt_by_pattern(self, vt_households: list[Household]) -> None:
        patterns = (
            ("recent_start", 0.05),
            ("starts_after", 0.05),
            ("ended_before", 0.03),
            ("ends_during", 0.04),
            ("late_registration", 0.04),
        )
        remaining = list(vt_households)
        assigned: dict[int, str] = {}
        for pattern, rate in patterns:
            chosen = self._pick(remaining, self._quota(rate, len(vt_households)))
            chosen_ids = {id(household) for household in chosen}
            for household in chosen:
                assigned[id(household)] = pattern
            remaining = [h for h in remaining if id(h) not in chosen_ids]
        for household in vt_households:
            self._give_vt(household, assigned.get(id(household), "standing"))

    def _give_vt(self, household: Household, pattern: str) -> None:
        reference, year = self.reference, self.year
        day = self._day_between
        end: date | None = None
        registered: date | None = None
        if pattern == "standing":
            start = day(
                reference - timedelta(days=12 * 365), reference - timedelta(days=92)
            )
        elif pattern == "recent_start":
            start = day(reference - timedelta(days=92), reference - timedelta(days=1))
        elif pattern == "starts_after":
            start = day(reference + timedelta(days=1), date(year, 4, 30))
        elif pattern == "ended_before":
            start = day(
                reference - timedelta(days=8 * 365), reference - timedelta(days=365)
            )
            end = day(date(year - 1, 12, 1), reference - timedelta(days=1))
        elif pattern == "ends_during":
            start = day(
                reference - timedelta(days=8 * 365), reference - timedelta(days=200)
            )
            end = day(reference + timedelta(days=14), date(year, 6, 30))
        elif pattern == "late_registration":
            start = day(date(year - 1, 10, 1), reference - timedelta(days=1))
            registered = day(date(year, 2, 1), date(year, 5, 31))
        else:  # ended_long_ago
            start = day(
                reference - timedelta(days=10 * 365),
                reference - timedelta(days=3 * 365),
            )
            end = day(start + timedelta(days=180), reference - timedelta(days=400))
        lag = self._lag()
        for index, member in enumerate(household.members):
            # dependants share the holder's right; a few members are covered apart
            if index and self.rng.random() < 0.1:
                continue
            member_start = max(start, member.born)
            if end is not None and member_start > end:
                continue
            member.statuses.append(
                Status(
                    name=VT,
                    start=member_start,
                    end=end,
                    registered_on=max(registered, member_start)
                    if registered is not None
                    else member_start + timedelta(days=lag),
                )
            )

    def _give_integration_income(self, person: Inhabitant) -> None:
        reference, year = self.reference, self.year
        roll = self.rng.random()
        end = None
        registered = None
        if roll < 0.80:
            start = self._day_between(
                reference - timedelta(days=4 * 365), reference - timedelta(days=30)
            )
        elif roll < 0.90:
            start = self._day_between(
                reference - timedelta(days=3 * 365), reference - timedelta(days=240)
            )
            end = self._day_between(
                reference - timedelta(days=200), reference + timedelta(days=150)
            )
        elif roll < 0.95:
            start = self._day_between(reference + timedelta(days=1), date(year, 4, 30))
        else:
            start = self._day_between(
                date(year - 1, 10, 1), reference - timedelta(days=1)
            )
            registered = self._day_between(date(year, 2, 1), date(year, 5, 31))
        start = max(start, person.born + timedelta(days=18 * 365))
        if registered is None:
            registered = start + timedelta(days=self._lag())
        person.statuses.append(
            Status(
                name=INTEGRATION_INCOME,
                start=start,
                end=end if end is None or end > start else None,
                registered_on=max(registered, start),
            )
        )

    def _give_parking_cards(self, household: Household, has_vt: bool) -> None:
        for member in household.members:
            age = self._age(member)
            if age < 18:
                share, name = 0.004, PARKING_CHILD
            else:
                share = 0.008 + (0.03 if age >= 65 else 0.0) + (0.02 if has_vt else 0.0)
                name = PARKING_ADULT
            if self.rng.random() >= share:
                continue
            first = max(member.born, self.reference - timedelta(days=8 * 365))
            last = self.reference - timedelta(days=10)
            if first > last:
                continue
            start = self._day_between(first, last)
            # a card is issued for a limited time in some cases, for good in others
            end = start + timedelta(days=5 * 365) if self.rng.random() < 0.3 else None
            member.statuses.append(
                Status(
                    name=name,
                    start=start,
                    end=end,
                    registered_on=start + timedelta(days=self._lag()),
                )
            )

    def _guidance(self, household: Household) -> list[SocialServiceEntry]:
        head = household.members[0]
        followed = [head]
        partners = [m for m in household.members[1:] if m.position in PARTNER_POSITIONS]
        if partners and self.rng.random() < 0.4:
            followed.append(partners[0])
        if self.rng.random() < 0.9:
            since = self._day_between(
                self.reference - timedelta(days=6 * 365),
                self.reference - timedelta(days=14),
            )
        else:
            since = self._day_between(
                self.reference + timedelta(days=1), date(self.year, 4, 30)
            )
        if self.rng.random() < 0.04:
            # a closed file: the person is known to the service, nothing runs now
            flags = (False, False, False)
        else:
            flags = (
                self.rng.random() < 0.6,
                self.rng.random() < 0.3,
                self.rng.random() < 0.3,
            )
            if not any(flags):
                flags = (True, False, False)
        return [
            SocialServiceEntry(person, *flags, since=max(since, person.born))
            for person in followed
        ]

    # ------------------------------------------------------------------------ income

    def _add_incomes(self, people: list[Inhabitant]) -> None:
        years = (self.year - 3, self.year - 2)
        for count, person in enumerate(people, start=1):
            if count % 5000 == 0 or count == len(people):
                self._report("incomes", count, len(people))
            if self._age(person) < 18:
                continue
            base = self._income_base(person)
            for income_year in years:
                if self._age(person, date(income_year, 12, 31)) < 18:
                    continue
                if person.death is not None and person.death.year < income_year:
                    continue
                missing = 0.6 if base is None else 0.03
                if self.rng.random() < missing:
                    continue
                amount = (base or self.rng.uniform(0, 8000)) * self.rng.lognormvariate(
                    0.02 * (income_year - years[0]), 0.1
                )
                person.incomes.append(
                    IncomeAssessment(
                        income_year=income_year,
                        cents=max(0, round(amount * 100)),
                        assessed_on=self._assessment_day(income_year),
                    )
                )

    def _income_base(self, person: Inhabitant) -> float | None:
        """A person's yearly taxable income, or None for a student with no return."""
        rng = self.rng
        age = self._age(person)
        names = {status.name for status in person.statuses}
        household_vt = any(
            status.name == VT
            for member in person.household.members
            for status in member.statuses
        )
        if INTEGRATION_INCOME in names:
            return 0.0 if rng.random() < 0.4 else rng.uniform(0, 6000)
        if age <= 24 and person.position in (CHILD, STEPCHILD):
            return None
        roll = rng.random()
        if household_vt:
            if roll < 0.15:
                return rng.uniform(0, 2000)
            return min(rng.lognormvariate(9.5, 0.45), 30000.0)
        if age >= 65:
            return rng.lognormvariate(9.95, 0.4)
        if roll < 0.08:
            return rng.uniform(0, 3000)
        if roll < 0.095:
            return rng.uniform(90000, 250000)
        return rng.lognormvariate(10.35, 0.5)

    def _assessment_day(self, income_year: int) -> date:
        """Assessments arrive in the second half of the next year; a few come late."""
        year = income_year + 1
        roll = self.rng.random()
        if roll < 0.20:
            return self._day_between(date(year, 7, 1), date(year, 8, 31))
        if roll < 0.85:
            return self._day_between(date(year, 9, 1), date(year, 11, 30))
        if roll < 0.97:
            return self._day_between(date(year, 12, 1), date(year, 12, 31))
        return self._day_between(date(year + 1, 1, 15), date(year + 1, 6, 30))

    # ------------------------------------------------------------- final touches

    def _finish_statuses(self, people: list[Inhabitant]) -> None:
        """End every status at death; drop those that would start after it."""
        for person in people:
            if person.death is None or not person.statuses:
                continue
            kept = []
            for status in person.statuses:
                if status.start > person.death:
                    continue
                if status.end is None or status.end > person.death:
                    status.end = person.death
                kept.append(status)
            person.statuses = kept

    def _issue_numbers(self, people: list[Inhabitant]) -> None:
        for count, person in enumerate(people, start=1):
            if not person.birth_date:
                person.birth_date = person.born.isoformat()
            person.insz = self.issuer.issue(person.birth_date, person.sex)
            if count % 5000 == 0 or count == len(people):
                self._report("numbers", count, len(people))

    # ------------------------------------------------------------- schools, pupils

    def _add_schools(
        self, households: list[Household], required_pupils: list[Inhabitant]
    ) -> list[School]:
        rng = random.Random(f"proactief-city:{self.seed}/schools")
        people = sum(len(household.members) for household in households)
        schools = draw_schools(rng, people)
        enroller = Enroller(rng, schools, SchoolYear.of_city(self.year))
        enroller.enrol(households, always=required_pupils)
        return schools

    # ------------------------------------------------------------------ tariff cases

    def _add_tariff_cases(self, households: list[Household]) -> list[Inhabitant]:
        """Append the school tariff's case households; returns their pupils."""
        cases = _CityBuilder(
            seed=self.seed,
            year=self.year,
            real_style_numbers=self.real_style_numbers,
            address_book=self.addresses,
            progress=None,
            stream="/tariff-cases",
            issued=self.issuer.issued,
        )
        made, pupils = cases._make_tariff_cases()
        for number, household in enumerate(made, start=len(households) + 1):
            household.id = f"H{number:07d}"
        cases._issue_numbers(
            [person for household in made for person in household.members]
        )
        households.extend(made)
        return pupils

    def _make_tariff_cases(self) -> tuple[list[Household], list[Inhabitant]]:
        """One household (two for co-parents) of each case in `schools`' table."""
        # school year N/N+1 holds 1 January Y; its incomes of N-2 are those of Y-3
        school_start = self.year - 1
        made: list[Household] = []
        pupils: list[Inhabitant] = []

        def keep(household: Household, *children: Inhabitant) -> None:
            self._settle_case(household)
            made.append(household)
            pupils.extend(children)

        # a legal parent with integration income, living with the pupil
        household, parent, child = self._case_single_parent("social_parent")
        self._case_integration_income(
            parent,
            start=self._day_between(
                self.reference - timedelta(days=4 * 365),
                self.reference - timedelta(days=400),
            ),
        )
        self._case_incomes(parent, self._low_income_cents())
        keep(household, child)

        # household incomes at the limits of low income A and B, split over two parents
        for limit in (2_299_999, 2_300_000, 3_299_999, 3_300_000):
            household, first, second, children = self._case_couple_family("income", 1)
            share = self.rng.uniform(0.3, 0.7)
            self._case_incomes(first, round(limit * share))
            self._case_incomes(second, limit - round(limit * share))
            keep(household, *children)

        # no assessment of N-2 for the parent: once with integration income, once
        # with no status at all (a family that came from abroad in N-1)
        household, parent, child = self._case_single_parent("no_assessment_status")
        self._case_integration_income(
            parent,
            start=self._day_between(
                self.reference - timedelta(days=3 * 365),
                self.reference - timedelta(days=500),
            ),
        )
        self._case_incomes(parent, None, self._low_income_cents())
        keep(household, child)
        household, parent, child = self._case_single_parent("no_assessment")
        self._case_incomes(parent, None, self._ordinary_income_cents())
        keep(household, child)
        household.since = self._day_between(
            date(school_start - 1, 1, 15), date(school_start - 1, 6, 30)
        )
        for member in household.members:
            member.address_since = max(household.since, member.born)

        # the pupil lives with one parent; the other, on integration income, alone
        household, parent, child = self._case_single_parent("co_parent")
        other_household = self._household("single", household.origin)
        other = self._person(
            other_household,
            REFERENCE,
            "M" if parent.sex == "F" else "F",
            max(24, self._age(parent) + round(self.rng.gauss(1.5, 3.0))),
        )
        child.parents = [parent, other]
        self._case_incomes(parent, self._ordinary_income_cents())
        self._case_integration_income(
            other,
            start=self._day_between(
                self.reference - timedelta(days=3 * 365),
                self.reference - timedelta(days=400),
            ),
        )
        self._case_incomes(other, self._low_income_cents())
        keep(household, child)
        keep(other_household)

        # a foster child: not related to the reference person, no legal parent
        household = self._household("foster")
        first, second = self._couple(household, round(self.rng.triangular(30, 52, 41)))
        foster = self._person(
            household,
            NOT_RELATED,
            self._sex(),
            self.rng.randint(4, 11),
            origin=draw_origin(self.rng),
        )
        for adult in (first, second):
            self._case_incomes(adult, self._ordinary_income_cents())
        keep(household, foster)

        # a step-parent: the partner of the pupil's only legal parent, with an income
        # that lifts the household from low income A into B
        household = self._household("recomposed")
        parent, partner = self._couple(
            household, round(self.rng.triangular(27, 48, 37))
        )
        child = self._case_child(household, [parent])
        parent_cents = self.rng.randint(900_000, 1_400_000)
        partner_cents = self.rng.randint(
            2_300_001 - parent_cents + 50_000, 3_299_999 - parent_cents - 50_000
        )
        self._case_incomes(parent, parent_cents)
        self._case_incomes(partner, partner_cents)
        keep(household, child)

        # integration income from 15 December N, in the registry before 1 January:
        # standard at checks 1 and 2, social from check 3 on
        household, parent, child = self._case_single_parent("improves")
        start = date(school_start, 12, 15)
        self._case_integration_income(
            parent,
            start=start,
            registered_on=start + timedelta(days=self.rng.randint(1, 10)),
        )
        self._case_incomes(parent, self._standard_income_cents())
        keep(household, child)

        # integration income that ends on 31 December N: social at checks 1 and 2,
        # standard at check 3 if nothing kept the tariff
        household, parent, child = self._case_single_parent("worsens")
        self._case_integration_income(
            parent,
            start=self._day_between(
                date(school_start - 1, 2, 1), date(school_start, 6, 30)
            ),
            end=date(school_start, 12, 31),
        )
        self._case_incomes(parent, self._standard_income_cents())
        keep(household, child)

        # three children of 12 or younger and a low income: the family discount
        household, first, second, children = self._case_couple_family("family", 3)
        total = self.rng.randint(1_500_000, 2_200_000)
        share = round(total * self.rng.uniform(0.35, 0.65))
        self._case_incomes(first, share)
        self._case_incomes(second, total - share)
        keep(household, *children)

        return made, pupils

    def _case_single_parent(
        self, shape: str
    ) -> tuple[Household, Inhabitant, Inhabitant]:
        """A parent with one pupil whose other parent the register does not know."""
        household = self._household("single_parent")
        household.rare_case = f"tariff_case:{shape}"
        parent = self._person(
            household,
            REFERENCE,
            self._sex(0.8),
            round(self.rng.triangular(26, 48, 36)),
        )
        return household, parent, self._case_child(household, [parent])

    def _case_couple_family(
        self, shape: str, children: int
    ) -> tuple[Household, Inhabitant, Inhabitant, list[Inhabitant]]:
        household = self._household("family")
        household.rare_case = f"tariff_case:{shape}"
        first, second = self._couple(household, round(self.rng.triangular(28, 50, 38)))
        pupils = [self._case_child(household, [first, second]) for _ in range(children)]
        return household, first, second, pupils

    def _case_child(
        self, household: Household, parents: list[Inhabitant]
    ) -> Inhabitant:
        """A child of kindergarten or primary age (4-11 on 1 January Y)."""
        fathers = [parent for parent in parents if parent.sex == "M"]
        name_giver = fathers[0] if fathers else parents[0]
        youngest = min(self._age(parent) for parent in parents)
        child = self._person(
            household,
            CHILD,
            self._sex(),
            self.rng.randint(4, max(4, min(11, youngest - 20))),
            family_name=name_giver.family_name,
            origin=name_giver.household.origin,
        )
        child.parents = list(parents)
        return child

    def _settle_case(self, household: Household) -> None:
        """An address, lived at long enough for the pupils to start in September."""
        self._settle(household)
        earliest = max(
            household.members[0].born + timedelta(days=20 * 365),
            self.reference - timedelta(days=12 * 365),
        )
        latest = self.reference - timedelta(days=2 * 365)
        household.since = self._day_between(min(earliest, latest), latest)
        for member in household.members:
            member.address_since = max(household.since, member.born)

    def _case_integration_income(
        self,
        person: Inhabitant,
        *,
        start: date,
        end: date | None = None,
        registered_on: date | None = None,
    ) -> None:
        """Integration income, and the VT that comes with it, for the household."""
        registered = registered_on or start + timedelta(days=self._lag())
        person.statuses.append(Status(INTEGRATION_INCOME, start, end, registered))
        for member in person.household.members:
            member_start = max(start, member.born)
            member.statuses.append(Status(VT, member_start, end, registered))

    def _case_incomes(
        self,
        person: Inhabitant,
        tariff_cents: int | None,
        later_cents: int | None = None,
    ) -> None:
        """Assessments of Y-3 (the tariff's N-2; None for none) and of Y-2."""
        if later_cents is None and tariff_cents is not None:
            later_cents = round(tariff_cents * self.rng.lognormvariate(0.02, 0.1))
        for income_year, cents in (
            (self.year - 3, tariff_cents),
            (self.year - 2, later_cents),
        ):
            if cents is None:
                continue
            person.incomes.append(
                IncomeAssessment(income_year, cents, self._assessment_day(income_year))
            )

    def _low_income_cents(self) -> int:
        return 0 if self.rng.random() < 0.4 else self.rng.randint(0, 600_000)

    def _ordinary_income_cents(self) -> int:
        return round(min(self.rng.lognormvariate(10.2, 0.35), 60_000.0) * 100)

    def _standard_income_cents(self) -> int:
        """A single earner's income above the low-income B limit."""
        return self.rng.randint(3_450_000, 4_400_000)
