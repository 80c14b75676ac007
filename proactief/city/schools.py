"""The school tariff's view of a synthetic city: cases, pupil lists, billing lines.

For school year N/N+1 (the city of year Y is in school year (Y-1)/Y) and each of its
six checks (1 September, 1 November, 1 January, 1 March, 1 May, 1 June), a school
sends the city the list of its pupils and what it bills them for the period that
starts on that day. `write_school_files` writes both for every school of a city
folder, in the formats of DESIGN.md ("Pupil lists", "Billing lines"):

| file | columns |
|---|---|
| `pupils-<school_id>.csv` | `school_id;school_name;pupil_insz;last_name;first_name;` |
| | `class;since` |
| `billing-<school_id>-check<K>.csv` | `pupil_insz;item;quantity;unit_price` |

A list holds the pupils enrolled on the check's reference date: `since` on or before
it, not deceased. After-school care lists a share of the pupils of the schools it
serves. A school with no pupil on that date sends nothing, and one that bills nothing
sends no billing file. Items are `care_hours`, `meals` and `activity`; quantities and prices are
decimal strings with a dot (`7.5`, `12`, `3.45`). Files are UTF-8 with `;` and `\n`;
one school in three writes a byte-order mark, as spreadsheet exports do. Prices and a
pupil's habits hold for the school year, quantities vary by check; the same city
folder, school year and check give the same bytes.

Tariff cases. A city of 900 or more inhabitants holds at least one household of each
case below, appended by the generator after the others, with adults and pupils
enrolled in a school from 1 September N at the latest. Amounts are incomes of N-2;
"integration income" is `LIVING_WAGES_PCSA_HELP`; the last column is what the tariff
should do (POLICY.md section 2).

| case | household | tariff |
|---|---|---|
| `social_parent_in_household` | single parent on integration income for years | social |
| `household_income_22999.99` | two parents, 22999.99 together | low income A |
| `household_income_23000.00` | two parents, 23000.00 together | low income B |
| `household_income_32999.99` | two parents, 32999.99 together | low income B |
| `household_income_33000.00` | two parents, 33000.00 together | standard |
| `no_assessment_with_status` | single parent on integration income, no assessment | social |
| `no_assessment_without_status` | single parent, no status, no assessment (came | review |
| | from abroad in N-1) | |
| `co_parent_integration_income_elsewhere` | pupil with one parent; the other lives | review |
| | alone on integration income | |
| `foster_child_without_parent` | couple with a foster child (12), no legal parent | review |
| `step_parent_income` | parent (9,000-14,000) and a partner who is not a | B, not A |
| | parent: together 23,000-33,000 | |
| `improves_at_check_3` | single parent above 33,000; integration income from | social from |
| | 15 December N, registered before 1 January | check 3 |
| `worsens_at_check_3` | single parent above 33,000; integration income that | social, kept |
| | ends on 31 December N | at check 3 |
| `family_discount_low_income` | two parents, three children of 4-11, 15,000-22,000 | A + family |
| | | discount |

`tariff_cases(city_dir)` finds each case's pupils from the files alone, looking at a
pupil as the tariff does: its legal parents (`parents`); those living in its
household; their partners there (01 with 02 or 22), who with them are the earners;
integration income active and registered on a check's reference date; assessments
of N-2 assessed by then. Households drawn at random that show a case are listed too.

| case | found as (on check 1 unless said) |
|---|---|
| `social_parent_in_household` | a legal parent at home has integration income |
| `household_income_<amount>` | every earner assessed, the sum exactly the amount |
| `no_assessment_with_status` | an earner not assessed; a parent at home on |
| | integration income |
| `no_assessment_without_status` | an earner not assessed; no legal parent on |
| | integration income |
| `co_parent_integration_income_elsewhere` | a legal parent at home, and one in |
| | another household on integration income |
| `foster_child_without_parent` | position 12 and no legal parent |
| `step_parent_income` | an earner who is not a legal parent has an assessment |
| `improves_at_check_3` | integration income at home on check 3, none on check 2 |
| `worsens_at_check_3` | integration income at home on checks 1 and 2, none on 3 |
| `family_discount_low_income` | two or more members aged 12 or younger, income |
| | below 33,000, no integration income at home |

The pupil is enrolled on every check its case reads.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from proactief.city.enrolment import (
    AFTER_SCHOOL_CARE,
    DAYCARE,
    DAYCARE_GROUPS,
    ENTRY_CLASS,
    PRIMARY_CLASSES,
    SCHOOL,
    School,
    SchoolYear,
)
from proactief.city.folder import load_population, read_schools
from proactief.city.generator import INTEGRATION_INCOME, NOT_RELATED

PUPILS_HEADER = (
    "school_id",
    "school_name",
    "pupil_insz",
    "last_name",
    "first_name",
    "class",
    "since",
)
BILLING_HEADER = ("pupil_insz", "item", "quantity", "unit_price")
ITEMS = ("care_hours", "meals", "activity")

TARIFF_CASES = (
    "social_parent_in_household",
    "household_income_22999.99",
    "household_income_23000.00",
    "household_income_32999.99",
    "household_income_33000.00",
    "no_assessment_with_status",
    "no_assessment_without_status",
    "co_parent_integration_income_elsewhere",
    "foster_child_without_parent",
    "step_parent_income",
    "improves_at_check_3",
    "worsens_at_check_3",
    "family_discount_low_income",
)

# The limits the cases sit on (POLICY.md section 2). The rule reads its own from
# rules/parameters; these only label the city's households.
_LOW_INCOME_B_LIMIT = Decimal("33000.00")
_EXACT_INCOMES = tuple(
    Decimal(name.rsplit("_", 1)[1])
    for name in TARIFF_CASES
    if name.startswith("household_income_")
)
_CHILD_AGE_LIMIT = 12
_PARTNER_POSITIONS = frozenset({"02", "22"})
_REFERENCE_POSITION = "01"

_BOM = "\ufeff"
# one school in three exports its files with a byte-order mark
_BOM_EVERY = 3
# share of a school's pupils that go to the after-school care serving it (est.)
_AFTER_SCHOOL_SHARE = 0.35
_CLASS_ORDER = {
    name: index
    for index, name in enumerate((ENTRY_CLASS, *PRIMARY_CLASSES, *DAYCARE_GROUPS))
}

# Days in the period each check bills (est.): school days, days with a hot meal
# (no meals on Wednesday afternoon), and the days a daycare centre is open.
_SCHOOL_DAYS = {1: 38, 2: 30, 3: 33, 4: 30, 5: 18, 6: 21}
_MEAL_DAYS = {1: 31, 2: 24, 3: 27, 4: 24, 5: 14, 6: 17}
_DAYCARE_DAYS = {1: 43, 2: 38, 3: 41, 4: 42, 5: 19, 6: 22}

# Prices a school may ask (est.), in euro: one of each is drawn per school and year.
_PRICES = {
    SCHOOL: {
        "care_hours": ("0.98", "1.02", "1.06", "1.10", "1.16"),
        "meals": ("3.15", "3.30", "3.45", "3.60", "3.85"),
        "activity": ("4.50", "6.75", "8.20", "12.50", "15.00", "18.40", "22.75"),
    },
    DAYCARE: {
        "care_hours": ("1.84", "2.06", "2.31", "2.58"),
        "meals": ("1.95", "2.10", "2.25", "2.40"),
        "activity": ("3.50",),
    },
    AFTER_SCHOOL_CARE: {
        "care_hours": ("0.95", "1.06", "1.12", "1.19"),
        "meals": ("3.20", "3.45", "3.70"),
        "activity": ("5.50", "9.80", "12.50", "16.00"),
    },
}
# kindergarten pupils get a smaller meal at a lower price
_KINDERGARTEN_MEAL_DISCOUNT = Decimal("0.40")


# -------------------------------------------------------------------- the city


def _city_school_year(people: list[dict]) -> SchoolYear | None:
    """The school year a city folder's pupils are enrolled for, or None without pupils.

    A city of year Y holds the assessments of Y-3 and Y-2 and is in school year
    (Y-1)/Y; a folder without assessments is placed by its latest `since`, which lies
    in that school year in any city with more than a handful of pupils.
    """
    pupils = [person for person in people if person["school"] is not None]
    if not pupils:
        return None
    years = [income["income_year"] for p in people for income in p["incomes"]]
    if years:
        return SchoolYear(max(years) + 1)
    latest = max(date.fromisoformat(pupil["school"]["since"]) for pupil in pupils)
    # a summer day belongs to the school year that starts after it
    return SchoolYear(latest.year if latest.month >= 7 else latest.year - 1)


def _age(birth_date: str, on: date) -> int:
    """Age on a day; an unknown month or day counts as the latest one possible, so
    that nobody is made older than they can be."""
    year, month, day = (int(part) for part in birth_date.split("-"))
    month = month or 12
    day = day or 28
    return on.year - year - ((on.month, on.day) < (month, day))


def _alive(person: dict, on: date) -> bool:
    return person["death_date"] is None or person["death_date"] > on.isoformat()


def _enrolled(person: dict, on: date) -> bool:
    school = person["school"]
    return (
        school is not None and school["since"] <= on.isoformat() and _alive(person, on)
    )


@dataclass
class _CityView:
    """The people of a city folder, as the tariff looks at a pupil's family."""

    people: dict[str, dict]
    households: dict[str, list[dict]]
    school_year: SchoolYear

    @classmethod
    def of(cls, people: list[dict], school_year: SchoolYear) -> _CityView:
        households: dict[str, list[dict]] = defaultdict(list)
        for person in people:
            households[person["household"]].append(person)
        return cls({p["insz"]: p for p in people}, dict(households), school_year)

    def check(self, number: int) -> date:
        return self.school_year.check_date(number)

    def legal_parents(self, pupil: dict) -> list[dict]:
        return [self.people[insz] for insz in pupil["parents"] if insz in self.people]

    def parents_at_home(self, pupil: dict, on: date) -> list[dict]:
        return [
            parent
            for parent in self.legal_parents(pupil)
            if parent["household"] == pupil["household"] and _alive(parent, on)
        ]

    def earners(self, pupil: dict, on: date) -> list[dict]:
        """The legal parents at home and their partners in the pupil's household."""
        members = [m for m in self.households[pupil["household"]] if _alive(m, on)]
        earners = self.parents_at_home(pupil, on)
        for parent in list(earners):
            if parent["position"] == _REFERENCE_POSITION:
                partners = [m for m in members if m["position"] in _PARTNER_POSITIONS]
            elif parent["position"] in _PARTNER_POSITIONS:
                partners = [m for m in members if m["position"] == _REFERENCE_POSITION]
            else:
                partners = []
            earners += [p for p in partners if p not in earners]
        return earners

    def income(self, person: dict, on: date) -> Decimal | None:
        for income in person["incomes"]:
            if (
                income["income_year"] == self.school_year.income_year
                and income["assessed_on"] <= on.isoformat()
            ):
                return Decimal(income["taxable_income"])
        return None

    def household_income(self, pupil: dict, on: date) -> Decimal | None:
        earners = self.earners(pupil, on)
        incomes = [self.income(earner, on) for earner in earners]
        if not earners or any(income is None for income in incomes):
            return None
        return sum(incomes, Decimal("0.00"))

    def missing_assessment(self, pupil: dict, on: date) -> bool:
        earners = self.earners(pupil, on)
        return bool(earners) and any(self.income(e, on) is None for e in earners)

    def social(self, pupil: dict, on: date) -> bool:
        return any(
            _integration_income(parent, on)
            for parent in self.parents_at_home(pupil, on)
        )

    def children_12_or_younger(self, pupil: dict, on: date) -> int:
        return sum(
            1
            for member in self.households[pupil["household"]]
            if member["birth_date"] <= on.isoformat()
            and _alive(member, on)
            and _age(member["birth_date"], on) <= _CHILD_AGE_LIMIT
        )


def _integration_income(person: dict, on: date) -> bool:
    day = on.isoformat()
    return _alive(person, on) and any(
        status["name"] == INTEGRATION_INCOME
        and status["from"] <= day
        and (status["to"] is None or status["to"] >= day)
        and status["registered_on"] <= day
        for status in person["statuses"]
    )


def _social_parent(city: _CityView, pupil: dict) -> bool:
    return city.social(pupil, city.check(1))


def _exact_income(amount: Decimal) -> Callable[[_CityView, dict], bool]:
    def test(city: _CityView, pupil: dict) -> bool:
        return city.household_income(pupil, city.check(1)) == amount

    return test


def _no_assessment_with_status(city: _CityView, pupil: dict) -> bool:
    day = city.check(1)
    return city.missing_assessment(pupil, day) and city.social(pupil, day)


def _no_assessment_without_status(city: _CityView, pupil: dict) -> bool:
    day = city.check(1)
    return city.missing_assessment(pupil, day) and not any(
        _integration_income(parent, day) for parent in city.legal_parents(pupil)
    )


def _co_parent_elsewhere(city: _CityView, pupil: dict) -> bool:
    day = city.check(1)
    return bool(city.parents_at_home(pupil, day)) and any(
        parent["household"] != pupil["household"] and _integration_income(parent, day)
        for parent in city.legal_parents(pupil)
    )


def _foster_child(city: _CityView, pupil: dict) -> bool:
    return pupil["position"] == NOT_RELATED and not pupil["parents"]


def _step_parent_income(city: _CityView, pupil: dict) -> bool:
    day = city.check(1)
    return any(
        earner["insz"] not in pupil["parents"] and city.income(earner, day) is not None
        for earner in city.earners(pupil, day)
    )


def _improves_at_check_3(city: _CityView, pupil: dict) -> bool:
    return (
        _enrolled(pupil, city.check(2))
        and not city.social(pupil, city.check(2))
        and city.social(pupil, city.check(3))
    )


def _worsens_at_check_3(city: _CityView, pupil: dict) -> bool:
    return (
        city.social(pupil, city.check(1))
        and city.social(pupil, city.check(2))
        and _enrolled(pupil, city.check(3))
        and not city.social(pupil, city.check(3))
    )


def _family_discount(city: _CityView, pupil: dict) -> bool:
    day = city.check(1)
    income = city.household_income(pupil, day)
    return (
        city.children_12_or_younger(pupil, day) >= 2
        and income is not None
        and income < _LOW_INCOME_B_LIMIT
        and not city.social(pupil, day)
    )


_CASE_TESTS: dict[str, Callable[[_CityView, dict], bool]] = {
    "social_parent_in_household": _social_parent,
    **{
        f"household_income_{amount}": _exact_income(amount) for amount in _EXACT_INCOMES
    },
    "no_assessment_with_status": _no_assessment_with_status,
    "no_assessment_without_status": _no_assessment_without_status,
    "co_parent_integration_income_elsewhere": _co_parent_elsewhere,
    "foster_child_without_parent": _foster_child,
    "step_parent_income": _step_parent_income,
    "improves_at_check_3": _improves_at_check_3,
    "worsens_at_check_3": _worsens_at_check_3,
    "family_discount_low_income": _family_discount,
}
# the improving pupil may join at check 2; every other case reads check 1 first
_FIRST_CHECK = {"improves_at_check_3": 2}


def tariff_cases(city_dir: Path | str) -> dict[str, list[str]]:
    """The pupils of each tariff case (module docstring), found in the city's files.

    Every case name of `TARIFF_CASES` is a key, with the national numbers of its
    pupils in ascending order (empty when the city has none, as a city under 900
    inhabitants may).
    """
    people = list(load_population(city_dir))
    cases: dict[str, list[str]] = {name: [] for name in TARIFF_CASES}
    pupils = [person for person in people if person["school"] is not None]
    school_year = _city_school_year(people)
    if school_year is None:
        return cases
    city = _CityView.of(people, school_year)
    for pupil in pupils:
        for name, test in _CASE_TESTS.items():
            if _enrolled(pupil, city.check(_FIRST_CHECK.get(name, 1))) and test(
                city, pupil
            ):
                cases[name].append(pupil["insz"])
    return {name: sorted(numbers) for name, numbers in cases.items()}


# ---------------------------------------------------------------- school files


@dataclass(frozen=True, slots=True)
class _Listed:
    """One line of a pupil list."""

    insz: str
    last_name: str
    first_name: str
    class_name: str
    since: str

    def sort_key(self) -> tuple:
        return (
            _CLASS_ORDER.get(self.class_name, len(_CLASS_ORDER)),
            self.last_name,
            self.first_name,
            self.insz,
        )


def write_school_files(
    city_dir: Path | str,
    school_year: SchoolYear | str,
    check: int,
    out_dir: Path | str,
) -> list[Path]:
    """Write each school's pupil list and billing lines for one check; returns the
    files written, a school's list before its billing, in the order of `schools.csv`.
    """
    if isinstance(school_year, str):
        school_year = SchoolYear.parse(school_year)
    day = school_year.check_date(check)
    schools = read_schools(city_dir)
    people = list(load_population(city_dir))
    pupils = [person for person in people if person["school"] is not None]
    enrolled_for = _city_school_year(people)
    if enrolled_for is not None and enrolled_for != school_year:
        raise ValueError(
            f"the city's pupils are enrolled for school year {str(enrolled_for)!r},"
            f" not {str(school_year)!r}; ask for {str(enrolled_for)!r} or generate a"
            f" city for year {school_year.start + 1}"
        )
    lists = _pupil_lists(schools, pupils, day)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for index, school in enumerate(schools):
        bom = _BOM if index % _BOM_EVERY == 1 else ""
        listed = sorted(lists[school.id], key=_Listed.sort_key)
        if not listed:
            continue
        pupils_path = out / f"pupils-{school.id}.csv"
        _write_rows(
            pupils_path,
            bom,
            PUPILS_HEADER,
            (
                (
                    school.id,
                    school.name,
                    pupil.insz,
                    pupil.last_name,
                    pupil.first_name,
                    pupil.class_name,
                    pupil.since,
                )
                for pupil in listed
            ),
        )
        written.append(pupils_path)
        lines = list(_billing_lines(school, school_year, check, listed))
        if lines:
            billing_path = out / f"billing-{school.id}-check{check}.csv"
            _write_rows(billing_path, bom, BILLING_HEADER, lines)
            written.append(billing_path)
    return written


def _pupil_lists(
    schools: list[School], pupils: list[dict], day: date
) -> dict[str, list[_Listed]]:
    lists: dict[str, list[_Listed]] = {school.id: [] for school in schools}
    for pupil in pupils:
        if _enrolled(pupil, day) and pupil["school"]["school_id"] in lists:
            lists[pupil["school"]["school_id"]].append(_listed(pupil))
    # after-school care serves the schools in turn and keeps a list of its own
    primary = [school for school in schools if school.kind == SCHOOL]
    after_school = [school for school in schools if school.kind == AFTER_SCHOOL_CARE]
    for position, school in enumerate(primary):
        if not after_school:
            break
        care = after_school[position % len(after_school)]
        for pupil in lists[school.id]:
            draw = random.Random(f"proactief-after-school:{care.id}:{pupil.insz}")
            if draw.random() < _AFTER_SCHOOL_SHARE:
                lists[care.id].append(pupil)
    return lists


def _listed(pupil: dict) -> _Listed:
    school = pupil["school"]
    return _Listed(
        insz=pupil["insz"],
        last_name=pupil["last_name"],
        first_name=pupil["first_name"],
        class_name=school["class"],
        since=school["since"],
    )


def _write_rows(
    path: Path, bom: str, header: tuple[str, ...], rows: Iterable[tuple[str, ...]]
) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(bom + ";".join(header) + "\n")
        for row in rows:
            out.write(";".join(row) + "\n")


def _billing_lines(
    school: School, school_year: SchoolYear, check: int, listed: list[_Listed]
) -> Iterable[tuple[str, str, str, str]]:
    prices = _school_prices(school, school_year)
    for pupil in listed:
        # a pupil's habits hold for the year; what they come to varies by period
        habits = random.Random(
            f"proactief-billing:{school_year}:{school.id}:{pupil.insz}"
        )
        period = random.Random(
            f"proactief-billing:{school_year}:{check}:{school.id}:{pupil.insz}"
        )
        for item, quantity, price in _pupil_items(
            school.kind, check, pupil, prices, habits, period
        ):
            yield pupil.insz, item, _quantity_text(quantity), f"{price:.2f}"


@dataclass(frozen=True, slots=True)
class _Prices:
    """What one school asks in a school year."""

    care_hour: Decimal
    meal: Decimal
    activities: tuple[Decimal, ...]


def _school_prices(school: School, school_year: SchoolYear) -> _Prices:
    rng = random.Random(f"proactief-prices:{school_year}:{school.id}")
    choices = _PRICES[school.kind]
    activities = rng.sample(choices["activity"], min(3, len(choices["activity"])))
    return _Prices(
        care_hour=Decimal(rng.choice(choices["care_hours"])),
        meal=Decimal(rng.choice(choices["meals"])),
        activities=tuple(Decimal(price) for price in activities),
    )


def _pupil_items(
    kind: str,
    check: int,
    pupil: _Listed,
    prices: _Prices,
    habits: random.Random,
    period: random.Random,
) -> list[tuple[str, Decimal, Decimal]]:
    """The lines of one pupil: care hours, meals and an activity now and then."""
    items: list[tuple[str, Decimal, Decimal]] = []
    if kind == DAYCARE:
        days_a_week = habits.choices((2, 3, 4, 5), weights=(1, 3, 3, 4))[0]
        hours_a_day = habits.choice((7, 7.5, 8, 8.5, 9, 9.5, 10))
        days = round(_DAYCARE_DAYS[check] * days_a_week / 5 * period.uniform(0.8, 1))
        if days:
            items.append(("care_hours", _halves(days * hours_a_day), prices.care_hour))
            items.append(("meals", Decimal(days), prices.meal))
        return items
    if kind == SCHOOL:
        uses_care = habits.random() < 0.45
        eats = habits.random() < 0.7
        hours_a_day = habits.choice((0.5, 1, 1.5, 2))
        meal_days = _MEAL_DAYS[check]
        activity_share = 0.35
    else:
        # after-school care: everyone on its list comes for care; some eat there on
        # Wednesday afternoons
        uses_care = True
        eats = habits.random() < 0.3
        hours_a_day = habits.choice((1, 1.5, 2, 2.5))
        meal_days = _SCHOOL_DAYS[check] // 5
        activity_share = 0.3
    care_share = habits.uniform(0.2, 1.0)
    meal_share = habits.uniform(0.5, 1.0)
    if uses_care:
        hours = _SCHOOL_DAYS[check] * care_share * hours_a_day
        items.append(
            (
                "care_hours",
                _halves(hours * period.uniform(0.85, 1.15)),
                prices.care_hour,
            )
        )
    if eats:
        meals = round(meal_days * meal_share * period.uniform(0.85, 1.1))
        if meals:
            price = prices.meal
            if kind == SCHOOL and pupil.class_name.startswith("K"):
                price -= _KINDERGARTEN_MEAL_DISCOUNT
            items.append(("meals", Decimal(meals), price))
    if period.random() < activity_share:
        items.append(("activity", Decimal(1), period.choice(prices.activities)))
    return items


def _halves(hours: float) -> Decimal:
    """Hours rounded to the half hour care is counted in, at least one half hour."""
    return max(Decimal(round(hours * 2)) / 2, Decimal("0.5"))


def _quantity_text(quantity: Decimal) -> str:
    """`12` for whole numbers, `7.5` otherwise: how schools write quantities."""
    if quantity == quantity.to_integral_value():
        return str(int(quantity))
    return f"{quantity:.1f}"
