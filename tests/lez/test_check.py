"""The LEZ check against the real simulator over HTTP, answering in 100 ms.

People are picked from the generated city by what the policy says of them (see
cast.py); what the generator does not make (a card or an allowance with a known
end, a replaced number, a holder who died, a child's card) is in the small
hand-written city of conftest.py.
"""

from __future__ import annotations

import logging
import socket
import time
from datetime import date

import pytest

from proactief.lez import LezAnswer, LezPart, check_vehicle, normalise_plate
from proactief.magda.client import RegistryClient
from proactief.magda.simulator import running_simulator
from rules import lez
from rules.outcomes import Outcome

from .cast import PARKING, VT, spells
from .conftest import (
    CARD_ENDS,
    CHILD,
    DECEASED,
    LATENCY_MS,
    NEW_NUMBER,
    OLD_NUMBER,
    PARENT,
    TODAY,
    UNKNOWN,
    VT_ENDS,
)

PLATE = "1ABC123"
VERSION = lez.rule_version()
FIVE_YEARS = date(2032, 6, 1)
END_OF_YEAR = date(2027, 12, 31)


async def _check(
    url: str,
    insz: str,
    *,
    applicant: str | None = None,
    plate: str = PLATE,
    registered_plate: str | None = None,
    timeout_s: float | None = 8.0,
    **client_options,
) -> LezAnswer:
    async with RegistryClient(url, **client_options) as client:
        return await check_vehicle(
            client,
            insz,
            applicant_insz=applicant or insz,
            plate=plate,
            today=TODAY,
            registered_plate=registered_plate,
            timeout_s=timeout_s,
        )


def _known_end(person: dict, names) -> date | None:
    ends = [
        date.fromisoformat(s["to"]) for s in spells(person, names, TODAY) if s["to"]
    ]
    return min(ends) if ends else None


def _granted(until: date, *reasons: str) -> LezPart:
    return LezPart(Outcome.GRANTED, until, reasons)


def _refused(*reasons: str) -> LezPart:
    return LezPart(Outcome.NOT_GRANTED, None, reasons)


def _review(reason: str) -> LezPart:
    return LezPart(Outcome.REVIEW, None, (reason,))


def _tariff_of(person: dict) -> LezPart:
    ends = [END_OF_YEAR, _known_end(person, (VT,))]
    return _granted(min(d for d in ends if d), "vt")


# -- the generated city -----------------------------------------------------------


async def test_a_card_holder_with_an_allowance_registers_free_and_gets_the_tariff(
    registry, cast
):
    holder = cast["card_and_vt"]
    answer = await _check(registry, holder["insz"])
    ends = [FIVE_YEARS, _known_end(holder, (VT,)), _known_end(holder, PARKING)]
    assert answer == LezAnswer(
        free_registration=_granted(min(d for d in ends if d), "parking_card_and_vt"),
        social_tariff=_tariff_of(holder),
        rule_version=VERSION,
    )


async def test_a_relative_at_the_same_address_registers_on_the_holders_card(
    registry, cast
):
    holder, relative = cast["card_and_vt"], cast["relative_same_address"]
    answer = await _check(registry, holder["insz"], applicant=relative["insz"])
    assert answer.free_registration.outcome is Outcome.GRANTED
    assert answer.free_registration.reasons == (
        "parking_card_and_vt",
        "applicant_same_address",
    )
    # the tariff is the holder's, whoever applies
    assert answer.social_tariff == _tariff_of(holder)


async def test_someone_at_another_address_may_not_register_on_the_card(registry, cast):
    holder, other = cast["card_and_vt"], cast["relative_elsewhere"]
    answer = await _check(registry, holder["insz"], applicant=other["insz"])
    assert answer.free_registration == _refused("applicant_not_at_same_address")
    assert answer.social_tariff == _tariff_of(holder)


async def test_an_allowance_without_a_parking_card_gives_only_the_tariff(
    registry, cast
):
    person = cast["vt_only"]
    answer = await _check(registry, person["insz"])
    assert answer.free_registration == _refused("no_parking_card")
    assert answer.social_tariff == _tariff_of(person)


async def test_a_parking_card_without_an_allowance_gives_neither(registry, cast):
    answer = await _check(registry, cast["card_only"]["insz"])
    assert answer.free_registration == _refused("no_vt")
    assert answer.social_tariff == _refused("no_vt")


async def test_neither_card_nor_allowance_gives_both_reasons(registry, cast):
    answer = await _check(registry, cast["neither"]["insz"])
    assert answer.free_registration == _refused("no_parking_card", "no_vt")
    assert answer.social_tariff == _refused("no_vt")


async def test_a_card_carries_one_vehicle_and_that_one_again(registry, cast):
    holder = cast["card_and_vt"]["insz"]
    other = await _check(registry, holder, plate="2XYZ987", registered_plate=PLATE)
    assert other.free_registration == _refused("card_already_used_for_other_vehicle")
    assert other.social_tariff.outcome is Outcome.GRANTED
    # the plate as the store keeps it, and as the permit system may write it
    same = await _check(registry, holder, registered_plate="1-abc-123")
    assert same.free_registration.outcome is Outcome.GRANTED
    assert same.free_registration.reasons == (
        "parking_card_and_vt",
        "vehicle_registered_before",
    )


async def test_one_round_trip_for_the_holder_and_the_household_for_a_relative(
    registry, cast
):
    holder, relative = cast["card_and_vt"], cast["relative_same_address"]
    seen = []
    async with RegistryClient(registry, on_consultation=seen.append) as client:
        started = time.perf_counter()
        await check_vehicle(
            client,
            holder["insz"],
            applicant_insz=relative["insz"],
            plate=PLATE,
            today=TODAY,
            registered_plate=None,
        )
        elapsed = time.perf_counter() - started
    assert sorted(c.service for c in seen) == [
        "GeefDossierHandicap",
        "GeefGezinssamenstelling",
        "GeefPersoon",
        "GeefSociaalStatuut",
    ]
    # all four at once: well under two round trips of the simulated gateway
    assert elapsed < 2 * LATENCY_MS / 1000


async def test_nothing_personal_is_logged(registry, cast, caplog):
    caplog.set_level(logging.DEBUG)
    holder, relative = cast["card_and_vt"], cast["relative_same_address"]
    await _check(registry, holder["insz"], applicant=relative["insz"])
    assert "lez check subject=P-" in caplog.text
    for person in (holder, relative):
        assert person["insz"] not in caplog.text
        assert person["last_name"] not in caplog.text
    assert PLATE not in caplog.text
    assert "BIM_BVT" not in caplog.text and "GENT_PARKING" not in caplog.text


# -- the small city ---------------------------------------------------------------


async def test_a_card_issued_until_a_date_ends_the_registration_then(small_registry):
    answer = await _check(small_registry, CARD_ENDS)
    assert answer.free_registration == _granted(
        date(2028, 9, 30), "parking_card_and_vt"
    )
    assert answer.social_tariff == _granted(END_OF_YEAR, "vt")


async def test_an_allowance_that_ends_ends_both_parts_then(small_registry):
    answer = await _check(small_registry, VT_ENDS)
    assert answer.free_registration == _granted(
        date(2027, 8, 31), "parking_card_and_vt"
    )
    assert answer.social_tariff == _granted(date(2027, 8, 31), "vt")


async def test_a_replaced_number_is_followed_once_to_the_new_one(small_registry):
    answer = await _check(small_registry, OLD_NUMBER)
    assert answer.free_registration == _granted(FIVE_YEARS, "parking_card_and_vt")
    # the holder under the new number applying on the old one is the holder
    again = await _check(small_registry, OLD_NUMBER, applicant=NEW_NUMBER)
    assert again.free_registration == answer.free_registration


async def test_a_parent_registers_the_vehicle_of_a_child_with_a_parking_card(
    small_registry,
):
    answer = await _check(small_registry, CHILD, applicant=PARENT)
    assert answer.free_registration == _granted(
        FIVE_YEARS, "parking_card_and_vt", "applicant_same_address"
    )


async def test_a_holder_the_registry_says_died_goes_to_review(small_registry):
    answer = await _check(small_registry, DECEASED)
    assert answer.free_registration == _review("person_deceased")
    assert answer.social_tariff == _review("person_deceased")


async def test_a_number_the_registry_does_not_know_goes_to_review(small_registry):
    answer = await _check(small_registry, UNKNOWN)
    assert answer.free_registration == _review("person_not_in_registry")
    assert answer.social_tariff == _review("person_not_in_registry")


# -- a registry that fails --------------------------------------------------------


async def test_a_registry_that_keeps_failing_gives_review_never_a_refusal(
    small_city,
):
    with running_simulator(small_city, fail_rate=1.0) as url:
        answer = await _check(url, CARD_ENDS, applicant=PARENT, backoff_s=0.001)
    assert answer.free_registration == _review("registry_failed")
    assert answer.social_tariff == _review("registry_failed")


async def test_a_check_that_takes_too_long_gives_review(small_registry):
    started = time.perf_counter()
    answer = await _check(small_registry, CARD_ENDS, timeout_s=0.05)
    assert time.perf_counter() - started < 1.0
    assert answer.free_registration == _review("registry_failed")
    assert answer.social_tariff == _review("registry_failed")


async def test_an_unreachable_registry_gives_review(small_city):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nobody listens there
    answer = await _check(
        f"http://127.0.0.1:{port}", CARD_ENDS, retries=1, backoff_s=0.001
    )
    assert answer.free_registration == _review("registry_failed")
    assert answer.social_tariff == _review("registry_failed")


# -- plates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "plate"),
    [
        ("1-ABC-123", "1ABC123"),
        ("1 abc 123", "1ABC123"),
        ("1.abc.123", "1ABC123"),
        (" 2-xyz-987 ", "2XYZ987"),
        ("B-AB 1234", "BAB1234"),
        ("A", "A"),
        ("ABCDE12345", "ABCDE12345"),
    ],
)
def test_plates_are_kept_upper_case_without_separators(raw, plate):
    assert normalise_plate(raw) == plate


@pytest.mark.parametrize(
    "raw", ["", " - ", "ABCDE123456", "1-ABÇ-123", "1/ABC/123", "1_ABC_123"]
)
def test_a_plate_that_is_not_letters_and_digits_is_refused_without_repeating_it(
    raw,
):
    with pytest.raises(ValueError, match="1 to 10 letters") as raised:
        normalise_plate(raw)
    if raw.strip(" -"):
        assert raw.strip() not in str(raised.value)
