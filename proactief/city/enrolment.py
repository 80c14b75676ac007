"""The schools of the synthetic city, and which child is enrolled where.

A city of year Y stands on 1 January Y, which lies inside school year (Y-1)/Y: the
city of 2027 lives in school year 2026-2027. Its schools, daycare centres and
after-school care are fictitious, with names in the style of Ghent's own:

| kind | id | who goes there | classes |
|---|---|---|---|
| `school` | `GENT-BS-001` | kindergarten and primary | K0 (entry), K1-K3, L1-L6 |
| `daycare` | `GENT-KDV-001` | some children under school age | `baby`, `peuter` |
| `after_school_care` | `GENT-BKO-001` | pupils of the schools it serves | their school's |

There is about one of them per 600 inhabitants (at least three, one of each kind),
six in ten a school, a quarter a daycare centre, the rest after-school care.

A person's `school` is where the child is enrolled: most children of kindergarten and
primary age in a school of the city (the others go to school elsewhere), some younger
ones in a daycare centre, nobody else. The class follows the birth year, as in
Flanders: a child born in N-6 starts L1 in September N; a few pupils are a year
behind. `since` is the first September at that school, or a later day of school year
N/N+1 for a toddler who starts on one of the entry days after turning two and a half,
and for a child whose family came to live in the city during the school year.
After-school care keeps its own lists, drawn from the schools' pupils when the
schools' files are written (`proactief.city.schools`): a child's `school` names the
school.

Every draw here comes from a random stream of its own, so that adding schools changed
nobody's name, number, address or income.
"""

from __future__ import annotations

import calendar
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from proactief.city.generator import Household, Inhabitant

SCHOOL = "school"
DAYCARE = "daycare"
AFTER_SCHOOL_CARE = "after_school_care"
KINDS = (SCHOOL, DAYCARE, AFTER_SCHOOL_CARE)

INHABITANTS_PER_SCHOOL = 600
MINIMUM_SCHOOLS = 3

# Reference date of each of the six checks of a school year: (month, day).
CHECK_DAYS = {1: (9, 1), 2: (11, 1), 3: (1, 1), 4: (3, 1), 5: (5, 1), 6: (6, 1)}

PRIMARY_CLASSES = ("K1", "K2", "K3", "L1", "L2", "L3", "L4", "L5", "L6")
ENTRY_CLASS = "K0"
DAYCARE_GROUPS = ("baby", "peuter")

# Share of each kind among the city's establishments (est.).
_KIND_SHARE = {DAYCARE: 0.25, AFTER_SCHOOL_CARE: 0.15}
_ID_PREFIX = {SCHOOL: "GENT-BS", DAYCARE: "GENT-KDV", AFTER_SCHOOL_CARE: "GENT-BKO"}

# Chance that a child is enrolled in one of the city's schools or daycare centres
# (est.): nearly every child of school age; most toddlers once they may enter school;
# about half of the youngest in formal childcare, as in Flanders.
_ENROLLED_SHARE = 0.96
_ENTRY_SHARE = 0.85
_DAYCARE_SHARE = 0.5
_HELD_BACK_SHARE = 0.03
_SIBLINGS_TOGETHER = 0.9
_SAME_SCHOOL_SINCE_KINDERGARTEN = 0.75

_SCHOOL_PREFIXES = (
    "Basisschool",
    "Stedelijke Basisschool",
    "Vrije Basisschool",
    "Freinetschool",
    "Kleuter- en Lagere School",
)
_SCHOOL_NAMES = (
    "De Vlieger",
    "Het Klavertje",
    "De Notelaar",
    "De Wilgenhoek",
    "Het Mierennest",
    "De Boomhut",
    "De Zeppelin",
    "'t Kompas",
    "De Krekel",
    "Het Lijsterbesje",
    "De Knotwilg",
    "De Leeuwerik",
    "Het Zonnedak",
    "De Tuimelaar",
    "De Linde",
    "Het Kastanjeblad",
    "De Oogappel",
    "'t Vogelnestje",
    "De Kleine Reus",
    "De Appelboom",
    "Het Zandkasteel",
    "De Ooievaar",
    "De Reeën",
    "Het Windroosje",
)
_DAYCARE_PREFIXES = (
    "Kinderdagverblijf",
    "Stedelijk Kinderdagverblijf",
    "Kinderopvang",
    "Crèche",
)
_DAYCARE_NAMES = (
    "'t Kriebeltje",
    "'t Madeliefje",
    "De Knuffelbeer",
    "Het Kabouterhuis",
    "'t Rupsje",
    "De Zonnestraal",
    "Het Bijenkorfje",
    "'t Eendje",
    "Het Hummelhuis",
    "De Kleine Kikker",
    "Het Nestje",
    "De Wiegelaar",
    "'t Pluimpje",
    "De Dribbelaars",
)
_AFTER_SCHOOL_PREFIXES = ("Buitenschoolse opvang", "IBO")
_AFTER_SCHOOL_NAMES = (
    "De Ideeënfabriek",
    "Het Speeleiland",
    "De Ravotters",
    "De Kwinkslag",
    "Het Boomkamp",
    "De Knikker",
    "De Vrijbuiters",
    "Het Avonturenhuis",
    "De Sprinkhaan",
    "De Zonnewijzer",
)
# Ghent's neighbourhoods tell apart two establishments that drew the same name.
_NEIGHBOURHOODS = (
    "Brugse Poort",
    "Ledeberg",
    "Gentbrugge",
    "Sint-Amandsberg",
    "Oostakker",
    "Mariakerke",
    "Drongen",
    "Wondelgem",
    "Zwijnaarde",
    "Sint-Denijs-Westrem",
    "Muide",
    "Rabot",
    "Sluizeken",
    "Dampoort",
    "Macharius",
    "Heirnis",
    "Bloemekenswijk",
    "Nieuw Gent",
    "Moscou",
    "Stationsbuurt",
)
_NAMES = {
    SCHOOL: (_SCHOOL_PREFIXES, _SCHOOL_NAMES),
    DAYCARE: (_DAYCARE_PREFIXES, _DAYCARE_NAMES),
    AFTER_SCHOOL_CARE: (_AFTER_SCHOOL_PREFIXES, _AFTER_SCHOOL_NAMES),
}

_SCHOOL_YEAR = re.compile(r"(\d{4})-(\d{4})")


@dataclass(frozen=True, slots=True)
class SchoolYear:
    """School year N/N+1, from 1 September N to 30 June N+1."""

    start: int

    @classmethod
    def parse(cls, text: str) -> SchoolYear:
        """`2026-2027` as a school year; anything else is refused with the remedy."""
        match = _SCHOOL_YEAR.fullmatch(text.strip())
        if not match or int(match[2]) != int(match[1]) + 1:
            raise ValueError(
                f"school year {text!r} is not of the form N-N+1; write it as"
                " for example '2026-2027'"
            )
        return cls(int(match[1]))

    @classmethod
    def of_city(cls, year: int) -> SchoolYear:
        """The school year that holds 1 January of the city's year."""
        return cls(year - 1)

    def __str__(self) -> str:
        return f"{self.start}-{self.start + 1}"

    @property
    def first_day(self) -> date:
        return date(self.start, 9, 1)

    @property
    def last_day(self) -> date:
        return date(self.start + 1, 6, 30)

    @property
    def income_year(self) -> int:
        """The income year whose assessment decides the tariff: N-2."""
        return self.start - 2

    def check_date(self, check: int) -> date:
        """The reference date of check 1-6 (1 September ... 1 June)."""
        if check not in CHECK_DAYS:
            raise ValueError(
                f"check {check!r} does not exist; a school year has checks 1 to 6"
            )
        month, day = CHECK_DAYS[check]
        return date(self.start if month >= 9 else self.start + 1, month, day)

    def contains(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    def entry_days(self) -> tuple[date, ...]:
        """The days a toddler of two and a half may start school (instapdagen).

        Flanders lets toddlers start on the first school day after each holiday and
        on the first school day of February; these are close to those days (est.),
        with the holidays placed alike every year.
        """
        following = self.start + 1
        return (
            self.first_day,
            _monday_from(date(self.start, 11, 9)),
            _monday_from(date(following, 1, 3)),
            _school_day_from(date(following, 2, 1)),
            _monday_from(date(following, 3, 1)),
            _monday_from(date(following, 4, 19)),
            _monday_from(date(following, 5, 10)),
        )


@dataclass(frozen=True, slots=True)
class School:
    """One line of `schools.csv`: a school, daycare centre or after-school care."""

    id: str
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class Enrolment:
    """Where a child is enrolled: the `school` of a person in `population.jsonl`."""

    school_id: str
    class_name: str
    since: date


def _monday_from(day: date) -> date:
    return day + timedelta(days=-day.weekday() % 7)


def _school_day_from(day: date) -> date:
    """The day itself, or the Monday after it when it falls in a weekend."""
    return day if day.weekday() < 5 else _monday_from(day)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    # the 29th-31st of a month that is shorter: its last day
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def school_count(inhabitants: int) -> int:
    """How many schools, daycare centres and after-school care a city has."""
    return max(MINIMUM_SCHOOLS, round(inhabitants / INHABITANTS_PER_SCHOOL))


def draw_schools(rng: random.Random, inhabitants: int) -> list[School]:
    """The city's establishments: schools, then daycare, then after-school care."""
    total = school_count(inhabitants)
    counts = {kind: max(1, round(total * share)) for kind, share in _KIND_SHARE.items()}
    counts = {SCHOOL: total - sum(counts.values()), **counts}
    used: set[str] = set()
    schools = []
    for kind in KINDS:
        for number in range(1, counts[kind] + 1):
            name = _draw_name(rng, kind, used)
            used.add(name)
            schools.append(School(f"{_ID_PREFIX[kind]}-{number:03d}", name, kind))
    return schools


def _draw_name(rng: random.Random, kind: str, used: set[str]) -> str:
    prefixes, names = _NAMES[kind]
    name = f"{rng.choice(prefixes)} {rng.choice(names)}"
    if name not in used:
        return name
    name += f" {rng.choice(_NEIGHBOURHOODS)}"
    base, number = name, 2
    while name in used:
        name = f"{base} {number}"
        number += 1
    return name


class Enroller:
    """Enrols the children of a city in its schools and daycare centres."""

    def __init__(
        self, rng: random.Random, schools: list[School], school_year: SchoolYear
    ) -> None:
        self.rng = rng
        self.year = school_year
        self.schools = [school for school in schools if school.kind == SCHOOL]
        self.daycares = [school for school in schools if school.kind == DAYCARE]
        # some schools draw more pupils than others
        self.school_weights = [rng.lognormvariate(0, 0.35) for _ in self.schools]
        self.daycare_weights = [rng.lognormvariate(0, 0.35) for _ in self.daycares]
        self.entry_days = school_year.entry_days()

    def enrol(
        self, households: Iterable[Household], always: Iterable[Inhabitant] = ()
    ) -> None:
        """Give each child of these households its `school`, or leave it None.

        Children in `always` are enrolled in a school whenever their age allows it,
        and from a September at the latest: the tariff cases count on them.
        """
        required = {id(person) for person in always}
        for household in households:
            family_school: School | None = None
            for person in household.members:
                family_school = self._enrol_person(
                    person, family_school, id(person) in required
                )

    def _enrol_person(
        self, person: Inhabitant, family_school: School | None, required: bool
    ) -> School | None:
        """Enrol one child; returns the school its younger siblings will most likely
        go to."""
        if person.born > self.year.last_day or (
            person.death is not None and person.death < self.year.first_day
        ):
            return family_school
        offset = self.year.start - person.born.year
        grade = offset - 3  # 0 is K1: the class of those born in N-3
        if grade >= 4 and self.rng.random() < _HELD_BACK_SHARE:
            grade -= 1
        if 0 <= grade < len(PRIMARY_CLASSES):
            if not required and self.rng.random() >= _ENROLLED_SHARE:
                return family_school
            school = self._school_for(family_school)
            since = self._since_at_school(person, grade, required)
            if since is not None:
                person.school = Enrolment(school.id, PRIMARY_CLASSES[grade], since)
            return school
        entry = self._entry_day(person) if offset == 2 else None
        if entry is not None and self.rng.random() < _ENTRY_SHARE:
            school = self._school_for(family_school)
            since = self._newcomer_since(person, entry)
            if since is not None:
                person.school = Enrolment(school.id, ENTRY_CLASS, since)
            return school
        # babies born after 1 January may start in daycare before the summer
        if -1 <= offset <= 2 and self.daycares and self.rng.random() < _DAYCARE_SHARE:
            self._enrol_in_daycare(person)
        return family_school

    def _school_for(self, family_school: School | None) -> School:
        if family_school is not None and self.rng.random() < _SIBLINGS_TOGETHER:
            return family_school
        return self.rng.choices(self.schools, weights=self.school_weights)[0]

    def _entry_day(self, person: Inhabitant) -> date | None:
        old_enough = _add_months(person.born, 30)
        return next((day for day in self.entry_days if day >= old_enough), None)

    def _since_at_school(
        self, person: Inhabitant, grade: int, required: bool
    ) -> date | None:
        # most pupils stay where they went to kindergarten; others changed school
        if self.rng.random() < _SAME_SCHOOL_SINCE_KINDERGARTEN:
            years_here = grade
        else:
            years_here = self.rng.randint(0, grade)
        since = self._newcomer_since(person, date(self.year.start - years_here, 9, 1))
        if required and (since is None or since > self.year.first_day):
            # the tariff cases need the pupil on every list of the school year
            return self.year.first_day
        return since

    def _newcomer_since(self, person: Inhabitant, since: date) -> date | None:
        """`since`, or a later day for a child who came to live in the city after it."""
        arrived = person.address_since
        if arrived is None or arrived <= since:
            return since
        if arrived <= self.year.first_day:
            # moved in before this school year: started at the next September
            september = date(arrived.year, 9, 1)
            return september if arrived <= september else date(arrived.year + 1, 9, 1)
        start = _school_day_from(arrived + timedelta(days=self.rng.randint(1, 14)))
        return start if start <= self.year.last_day else None

    def _enrol_in_daycare(self, person: Inhabitant) -> None:
        since = person.born + timedelta(days=self.rng.randint(90, 300))
        if person.address_since is not None and person.address_since > since:
            since = person.address_since + timedelta(days=self.rng.randint(3, 30))
        since = _school_day_from(since)
        if since > self.year.last_day:
            return
        # the group follows the age when the child is there this school year
        seen = max(since, self.year.first_day)
        group = DAYCARE_GROUPS[0 if _add_months(person.born, 18) > seen else 1]
        daycare = self.rng.choices(self.daycares, weights=self.daycare_weights)[0]
        person.school = Enrolment(daycare.id, group, since)
