"""Typed facts read from the registries: what the rules and the flows work with.

The registry client turns MAGDA answers into these; the simulator is built from the
synthetic city; the rules read them. They live in memory only: incomes and statuses
are never stored, logged or printed (see DESIGN.md, data minimisation).

Dates are `datetime.date`, except birth dates, which the registry may give with an
unknown month or day (`1985-00-00`): those are kept as the registry's string, and
`birth_year` reads the part that is always known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Address:
    """A main residence or a reference address, as the population register has it."""

    street: str
    number: str
    box: str | None
    postcode: str
    municipality: str
    since: date | None = None
    reference_address: bool = False


@dataclass(frozen=True, slots=True)
class Person:
    """GeefPersoon: who someone is and where they live."""

    insz: str
    first_name: str
    last_name: str
    birth_date: str | None
    death_date: date | None = None
    address: Address | None = None
    household_position: str | None = None
    parents: tuple[str, ...] = ()
    replaced_by: str | None = None

    @property
    def birth_year(self) -> int | None:
        if not self.birth_date or not self.birth_date[:4].isdigit():
            return None
        year = int(self.birth_date[:4])
        return year or None


@dataclass(frozen=True, slots=True)
class HouseholdMember:
    """One line of GeefGezinssamenstelling."""

    insz: str
    position: str | None
    birth_date: str | None = None
    death_date: date | None = None


@dataclass(frozen=True, slots=True)
class Household:
    """GeefGezinssamenstelling: the registered household of a subject on a date."""

    subject: str
    members: tuple[HouseholdMember, ...]

    @property
    def reference_persons(self) -> tuple[HouseholdMember, ...]:
        return tuple(m for m in self.members if m.position == "01")


@dataclass(frozen=True, slots=True)
class SocialStatuses:
    """GeefSociaalStatuut: for each status asked, whether it applies on the date.

    A status the registry did not answer for is absent from `applies`, which is not
    the same as False: unknown is never no. `ends` holds, for a status that
    applies, the last day of the period the registry gave for it, when it gave
    one with an end: a status absent from `ends` has no known end.
    """

    insz: str
    on: date
    applies: dict[str, bool] = field(default_factory=dict)
    not_found: bool = False
    ends: dict[str, date] = field(default_factory=dict)

    def has(self, name: str) -> bool | None:
        return self.applies.get(name)


@dataclass(frozen=True, slots=True)
class Income:
    """GeefAanslagbiljetPersonenbelasting: taxable income of one income year.

    `taxable_income` is None when no assessment is available (45008 or no data):
    unknown, never zero.
    """

    insz: str
    income_year: int
    taxable_income: Decimal | None


@dataclass(frozen=True, slots=True)
class ParkingCard:
    """A disability parking card in the federal disability file: when it was
    delivered and, for a card issued for a limited time, its last valid day."""

    delivered_on: date
    ends_on: date | None = None

    def valid_on(self, day: date) -> bool:
        return self.delivered_on <= day and (
            self.ends_on is None or day <= self.ends_on
        )


@dataclass(frozen=True, slots=True)
class DisabilityFile:
    """GeefDossierHandicap: the parking cards in a person's disability file.

    Only the social cards of category PARKINGCARD are asked and kept: no
    recognition, no allowance, no card number. `found` is False when the source
    has no file for the person (NO_DATA_FOUND): not an error, and not the same as
    a file without a parking card.
    """

    insz: str
    on: date
    found: bool = True
    parking_cards: tuple[ParkingCard, ...] = ()

    def parking_card_on(self, day: date) -> ParkingCard | None:
        """The card valid on `day` that runs longest (one without end first)."""
        valid = [card for card in self.parking_cards if card.valid_on(day)]
        if not valid:
            return None
        return max(valid, key=lambda card: card.ends_on or date.max)
