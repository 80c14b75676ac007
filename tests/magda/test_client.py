"""The registry client against scripted gateways (httpx.MockTransport, no network)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import httpx
import pytest

from proactief.errors import (
    InvalidInsz,
    RegistryAnswerError,
    RegistryRefused,
    RegistryUnavailable,
)
from proactief.facts import DisabilityFile, HouseholdMember, ParkingCard, Person
from proactief.magda import answers, messages
from proactief.magda.client import Consultation, RegistryClient

from .conftest import CHILD, FATHER, MOTHER

TODAY = date(2025, 3, 1)
# Never contacted: every test here runs on a MockTransport.
NOWHERE = "http://127.0.0.1:9"

Reply = Callable[[messages.Request, answers.Addressee], httpx.Response]


def _ok(payload: bytes, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=payload)


def person_ok(request: messages.Request, to: answers.Addressee) -> httpx.Response:
    person = Person(request.insz, "Zoë", "D'Hondt", "1985-07-30")
    return _ok(answers.person_answer(to, person))


def magda_error(code: str) -> Reply:
    return lambda request, to: _ok(answers.reply_error(to, code))


def server_fault(request: messages.Request, to: answers.Addressee) -> httpx.Response:
    return _ok(answers.soap_fault("Server", "down"), status=500)


def client_fault(request: messages.Request, to: answers.Addressee) -> httpx.Response:
    return _ok(answers.soap_fault("Client", "bad request"), status=500)


def read_timeout(request: messages.Request, to: answers.Addressee) -> httpx.Response:
    raise httpx.ReadTimeout("no answer in time")


class ScriptedGateway:
    """Answers each request with the next reply of a script (the last one repeats)."""

    def __init__(self, *script: Reply) -> None:
        self.script = list(script)
        self.requests: list[messages.Request] = []
        self.paths: list[str] = []

    def __call__(self, http_request: httpx.Request) -> httpx.Response:
        request = messages.read_request(http_request.content)
        self.requests.append(request)
        self.paths.append(http_request.url.path)
        reply = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        to = answers.Addressee.of(request)
        return reply(request, to)


def _client(gateway: ScriptedGateway, **kwargs) -> RegistryClient:
    return RegistryClient(
        NOWHERE,
        consumer="gent.be/proactief",
        purpose="1300",
        transport=httpx.MockTransport(gateway),
        backoff_s=0.001,
        seed=7,
        **kwargs,
    )


async def test_99996_twice_then_an_answer_succeeds():
    gateway = ScriptedGateway(magda_error("99996"), magda_error("99996"), person_ok)
    seen: list[Consultation] = []
    async with _client(gateway, on_consultation=seen.append) as registry:
        person = await registry.get_person(MOTHER, as_of=TODAY)
    assert person.first_name == "Zoë"
    assert [(c.result_code, c.attempt) for c in seen] == [
        ("99996", 1),
        ("99996", 2),
        ("0", 3),
    ]
    # Each attempt is a new message with its own reference.
    assert len({r.reference for r in gateway.requests}) == 3


async def test_server_errors_are_retried():
    gateway = ScriptedGateway(server_fault, person_ok)
    seen: list[Consultation] = []
    async with _client(gateway, on_consultation=seen.append) as registry:
        await registry.get_person(MOTHER, as_of=TODAY)
    assert [c.result_code for c in seen] == ["http-500", "0"]


async def test_time_outs_are_retried_until_retries_run_out():
    gateway = ScriptedGateway(read_timeout)
    seen: list[Consultation] = []
    async with _client(gateway, retries=2, on_consultation=seen.append) as registry:
        with pytest.raises(RegistryUnavailable) as raised:
            await registry.get_person(MOTHER, as_of=TODAY)
    assert raised.value.code == "timeout"
    assert [c.attempt for c in seen] == [1, 2, 3]
    assert MOTHER not in str(raised.value)


async def test_a_client_fault_is_refused_without_retry():
    gateway = ScriptedGateway(client_fault)
    async with _client(gateway) as registry:
        with pytest.raises(RegistryRefused):
            await registry.get_person(MOTHER, as_of=TODAY)
    assert len(gateway.requests) == 1


async def test_a_refused_consumer_is_not_retried():
    gateway = ScriptedGateway(magda_error(answers.UNKNOWN_CONSUMER))
    async with _client(gateway) as registry:
        with pytest.raises(RegistryRefused) as raised:
            await registry.get_income(MOTHER, 2023, as_of=TODAY)
    assert raised.value.code == "40001"
    assert len(gateway.requests) == 1


async def test_a_wrong_url_is_an_answer_error():
    gateway = ScriptedGateway(lambda request, to: httpx.Response(404))
    async with _client(gateway) as registry:
        with pytest.raises(RegistryAnswerError, match="HTTP 404"):
            await registry.get_person(MOTHER, as_of=TODAY)


async def test_an_invalid_number_is_never_sent():
    gateway = ScriptedGateway(person_ok)
    async with _client(gateway) as registry:
        with pytest.raises(InvalidInsz):
            await registry.get_person("85073003329", as_of=TODAY)
    assert gateway.requests == []


async def test_consultation_names_service_purpose_consumer_and_a_pseudonym():
    gateway = ScriptedGateway(person_ok)
    seen: list[Consultation] = []
    async with _client(gateway, on_consultation=seen.append) as registry:
        await registry.get_person(MOTHER, as_of=TODAY)
    (consultation,) = seen
    assert consultation.service == "GeefPersoon"
    assert (consultation.consumer, consultation.purpose) == (
        "gent.be/proactief",
        "1300",
    )
    assert consultation.subject_ref.startswith("P-")
    assert consultation.at.tzinfo is not None
    assert MOTHER not in repr(consultation)


async def test_message_carries_the_consultation_date_and_criteria_date():
    def statuses(request: messages.Request, to: answers.Addressee) -> httpx.Response:
        asked = request.status_names_and_dates
        return _ok(
            answers.statuses_answer(to, request.insz, [(n, False) for n, _ in asked])
        )

    gateway = ScriptedGateway(statuses)
    async with _client(gateway) as registry:
        result = await registry.get_social_statuses(
            MOTHER, ["BIM_BVT"], on=date(2025, 1, 1), as_of=TODAY
        )
    (request,) = gateway.requests
    assert request.as_of == TODAY
    assert request.status_names_and_dates == [("BIM_BVT", date(2025, 1, 1))]
    assert result.applies == {"BIM_BVT": False}


async def test_more_than_eight_statuses_are_asked_in_two_requests():
    def statuses(request: messages.Request, to: answers.Addressee) -> httpx.Response:
        asked = request.status_names_and_dates
        return _ok(
            answers.statuses_answer(
                to, request.insz, [(n, n == "S9") for n, _ in asked]
            )
        )

    gateway = ScriptedGateway(statuses)
    names = [f"S{i}" for i in range(10)]
    async with _client(gateway) as registry:
        result = await registry.get_social_statuses(
            MOTHER, names, on=TODAY, as_of=TODAY
        )
    assert len(gateway.requests) == 2
    assert result.applies == {name: name == "S9" for name in names}


async def test_no_status_data_is_not_found():
    gateway = ScriptedGateway(lambda r, to: _ok(answers.answer_error(to, "30001")))
    async with _client(gateway) as registry:
        result = await registry.get_social_statuses(
            MOTHER, ["BIM_BVT"], on=TODAY, as_of=TODAY
        )
    assert result.not_found is True
    assert result.has("BIM_BVT") is None


async def test_household_today_uses_the_plain_service_and_earlier_the_history():
    members = [HouseholdMember(MOTHER, "01"), HouseholdMember(CHILD, "03")]
    gateway = ScriptedGateway(lambda r, to: _ok(answers.household_answer(to, members)))
    async with _client(gateway) as registry:
        today = await registry.get_household(CHILD, on=TODAY, as_of=TODAY)
        earlier = await registry.get_household(CHILD, on=date(2025, 1, 1), as_of=TODAY)
    assert gateway.paths == [
        "/GeefGezinssamenstelling-02.02",
        "/GeefHistoriekGezinssamenstelling-02.02",
    ]
    assert gateway.requests[1].criteria_date == date(2025, 1, 1)
    assert today.subject == earlier.subject == CHILD
    assert [m.insz for m in today.members] == [MOTHER, CHILD]


async def test_income_and_income_not_yet_assessed():
    gateway = ScriptedGateway(
        lambda r, to: _ok(
            answers.income_answer(to, r.insz, r.income_year, Decimal("23000.00"))
        ),
        lambda r, to: _ok(answers.answer_error(to, "45008", kind="INFORMATIE")),
    )
    async with _client(gateway) as registry:
        known = await registry.get_income(FATHER, 2023, as_of=TODAY)
        unknown = await registry.get_income(FATHER, 2024, as_of=TODAY)
    assert known.taxable_income == Decimal("23000.00")
    assert (unknown.income_year, unknown.taxable_income) == (2024, None)


async def test_disability_file_asks_its_reference_date_and_is_retried_when_down():
    card = ParkingCard(date(2020, 6, 1), date(2030, 5, 31))
    gateway = ScriptedGateway(
        magda_error("99996"),
        lambda r, to: _ok(
            answers.disability_file_answer(to, r.insz, [card], "1234567890")
        ),
        lambda r, to: _ok(answers.disability_file_not_found(to)),
    )
    async with _client(gateway) as registry:
        found = await registry.get_disability_file(
            FATHER, as_of=TODAY, on=date(2025, 1, 1)
        )
        none = await registry.get_disability_file(MOTHER, as_of=TODAY)
    assert gateway.paths == ["/GeefDossierHandicap-03.00"] * 3
    assert [r.reference_date for r in gateway.requests] == [
        date(2025, 1, 1),
        date(2025, 1, 1),
        TODAY,
    ]
    assert found == DisabilityFile(FATHER, date(2025, 1, 1), True, (card,))
    assert none == DisabilityFile(MOTHER, TODAY, found=False)


async def test_requests_in_flight_stay_within_the_limit():
    in_flight = peak = 0

    async def slow_gateway(http_request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        request = messages.read_request(http_request.content)
        to = answers.Addressee.of(request)
        return person_ok(request, to)

    async with RegistryClient(
        NOWHERE, transport=httpx.MockTransport(slow_gateway), max_in_flight=4
    ) as registry:
        await asyncio.gather(
            *(registry.get_person(MOTHER, as_of=TODAY) for _ in range(20))
        )
    assert peak == 4
