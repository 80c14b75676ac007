"""The registry simulator: its answers follow MAGDA's schemas and the city's dates."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from lxml import etree

from proactief.errors import (
    CityDataError,
    RegistryError,
    RegistryRefused,
    RegistryUnavailable,
)
from proactief.facts import DisabilityFile, ParkingCard
from proactief.magda import messages
from proactief.magda.client import RegistryClient
from proactief.magda.simulator import (
    SimulatorConfig,
    create_app,
    load_city,
    running_simulator,
)

from .conftest import (
    BABY,
    CHILD,
    FATHER,
    GRANDFATHER,
    LODGER,
    MOTHER,
    NEW_NUMBER,
    OLD_NUMBER,
    STRANGER,
)

CONSUMER, PURPOSE = "gent.be/proactief", "1300"
TODAY = date(2025, 3, 1)


def _config(**overrides) -> SimulatorConfig:
    return SimulatorConfig(
        consumers=frozenset({CONSUMER}), purposes=frozenset({PURPOSE}), **overrides
    )


def _sender(**overrides) -> dict:
    values = {
        "as_of": TODAY,
        "consumer": CONSUMER,
        "purpose": PURPOSE,
        "reference": "5e0c2d4a-4a57-4c55-9d43-2f7f6a0b9e11",
    }
    values.update(overrides)
    return values


# Each case: a request the simulator gets, and the result code it must answer.
SCHEMA_CASES = {
    "person": (lambda: messages.person_request(MOTHER, **_sender()), "0"),
    "person-deceased": (lambda: messages.person_request(GRANDFATHER, **_sender()), "0"),
    "person-reference-address": (
        lambda: messages.person_request(LODGER, **_sender()),
        "0",
    ),
    "person-new-number": (
        lambda: messages.person_request(OLD_NUMBER, **_sender()),
        "0",
    ),
    "person-unknown": (lambda: messages.person_request(STRANGER, **_sender()), "30003"),
    "household": (lambda: messages.household_request(CHILD, **_sender()), "0"),
    "household-unknown": (
        lambda: messages.household_request(STRANGER, **_sender()),
        "30003",
    ),
    "household-history": (
        lambda: messages.household_history_request(
            CHILD, on=date(2025, 1, 1), **_sender()
        ),
        "0",
    ),
    "household-history-not-yet-born": (
        lambda: messages.household_history_request(
            BABY, on=date(2025, 1, 1), **_sender()
        ),
        "30001",
    ),
    "statuses": (
        lambda: messages.social_status_request(
            MOTHER, ["BIM_BVT", "GENT_PARKING_ADULT"], on=date(2025, 1, 1), **_sender()
        ),
        "0",
    ),
    "statuses-unknown": (
        lambda: messages.social_status_request(
            STRANGER, ["BIM_BVT"], on=date(2025, 1, 1), **_sender()
        ),
        "30003",
    ),
    "statuses-with-periods": (
        lambda: messages.social_status_request(
            FATHER,
            ["GENT_PARKING_ADULT", "GENT_PARKING_CHILD", "BIM_BVT"],
            on=TODAY,
            **_sender(),
        ),
        "0",
    ),
    "disability-file": (
        lambda: messages.disability_file_request(FATHER, on=TODAY, **_sender()),
        "0",
    ),
    "disability-file-open-ended-card": (
        lambda: messages.disability_file_request(
            LODGER, on=TODAY, **_sender(as_of=date(2025, 3, 5))
        ),
        "0",
    ),
    # no file: NO_DATA_FOUND with KSZ's warning 70001, which decides nothing
    "disability-file-none": (
        lambda: messages.disability_file_request(MOTHER, on=TODAY, **_sender()),
        "0",
    ),
    "disability-file-unknown": (
        lambda: messages.disability_file_request(STRANGER, on=TODAY, **_sender()),
        "30003",
    ),
    "income": (lambda: messages.income_request(MOTHER, 2023, **_sender()), "0"),
    "income-not-assessed-yet": (
        lambda: messages.income_request(MOTHER, 2024, **_sender()),
        "45008",
    ),
    "income-no-assessment": (
        lambda: messages.income_request(FATHER, 2023, **_sender()),
        "30001",
    ),
    "unknown-consumer": (
        lambda: messages.person_request(MOTHER, **_sender(consumer="someone.else")),
        "40001",
    ),
    "purpose-not-allowed": (
        lambda: messages.income_request(MOTHER, 2023, **_sender(purpose="9999")),
        "40002",
    ),
}


CASE_OF_SERVICE = {
    "GeefPersoon": "person",
    "GeefGezinssamenstelling": "household",
    "GeefHistoriekGezinssamenstelling": "household-history",
    "GeefSociaalStatuut": "statuses",
    "GeefAanslagbiljetPersonenbelasting": "income",
    "GeefDossierHandicap": "disability-file",
}


@pytest.fixture(scope="module")
def app(city_dir: Path) -> FastAPI:
    return create_app(load_city(city_dir), _config())


async def _post(app: FastAPI, path: str, content: bytes) -> httpx.Response:
    """One request to the app in this process: no socket, no network."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as http:
        return await http.post(path, content=content)


def _validate(response_schemas: dict, payload: bytes) -> messages.Answer:
    envelope = etree.fromstring(payload)
    body = envelope.find(f"{{{messages.SOAP_ENV}}}Body")[0]
    answer = messages.read_answer(payload)
    response_schemas[answer.service].validate(etree.tostring(body).decode())
    return answer


@pytest.mark.parametrize("case", sorted(SCHEMA_CASES))
async def test_simulator_answers_validate_against_magda_schemas(
    app: FastAPI, response_schemas: dict, case: str
) -> None:
    build, expected = SCHEMA_CASES[case]
    request = build()
    service = messages.read_request(request).service
    response = await _post(app, messages.SERVICES[service].path, request)
    assert response.status_code == 200
    answer = _validate(response_schemas, response.content)
    assert answer.result_code == expected


@pytest.mark.parametrize("service", sorted(messages.SERVICES))
async def test_simulator_source_unavailable_answers_validate(
    city_dir: Path, response_schemas: dict, service: str
) -> None:
    failing = create_app(load_city(city_dir), _config(fail_rate=1.0))
    request = SCHEMA_CASES[CASE_OF_SERVICE[service]][0]()
    response = await _post(failing, messages.SERVICES[service].path, request)
    answer = _validate(response_schemas, response.content)
    assert answer.result_code == "99996"


async def test_simulator_rejects_a_malformed_request_with_a_client_fault(
    app: FastAPI,
) -> None:
    response = await _post(app, "/GeefPersoon-02.02", b"<not-soap/>")
    assert response.status_code == 500
    with pytest.raises(RegistryRefused):
        messages.read_answer(response.content)


async def test_simulator_rejects_a_request_at_the_wrong_endpoint(
    app: FastAPI,
) -> None:
    request = messages.person_request(MOTHER, **_sender())
    response = await _post(app, "/GeefSociaalStatuut-03.00", request)
    assert response.status_code == 500


async def test_simulator_health_counts_persons(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as http:
        assert (await http.get("/health")).text == "ok 8 persons"


async def test_simulator_logs_no_national_number(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="proactief.magda.simulator")
    await _post(app, "/GeefPersoon-02.02", SCHEMA_CASES["person"][0]())
    assert "service=GeefPersoon result=0 status=200" in caplog.text
    assert MOTHER not in caplog.text


def test_city_without_population_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CityDataError, match="population.jsonl"):
        load_city(tmp_path)


def test_city_with_a_bad_line_names_the_line_not_the_person(tmp_path: Path) -> None:
    record = {"insz": MOTHER, "birth_date": "30/07/1985"}
    (tmp_path / "population.jsonl").write_text(json.dumps(record) + "\n")
    with pytest.raises(CityDataError, match="line 1") as raised:
        load_city(tmp_path)
    assert MOTHER not in str(raised.value)


def test_fault_rates_must_add_up_to_at_most_one() -> None:
    with pytest.raises(ValueError, match="at most 1"):
        _config(fail_rate=0.6, error500_rate=0.6)


# -- a real simulator process, over HTTP ---------------------------------------


@pytest.fixture(scope="module")
def registry_url(city_dir: Path):
    with running_simulator(city_dir, consumers=[CONSUMER], purposes=[PURPOSE]) as url:
        yield url


def _client(url: str, **kwargs) -> RegistryClient:
    kwargs.setdefault("consumer", CONSUMER)
    kwargs.setdefault("purpose", PURPOSE)
    return RegistryClient(url, backoff_s=0.001, seed=1, **kwargs)


async def test_person_reads_name_address_parents_and_position(registry_url: str):
    async with _client(registry_url) as registry:
        child = await registry.get_person(CHILD, as_of=TODAY)
        mother = await registry.get_person(MOTHER, as_of=TODAY)
    assert (child.first_name, child.last_name) == ("Çelik", "Peeters")
    assert child.parents == (MOTHER, FATHER)
    assert child.household_position == "03"
    assert mother.last_name == "D'Hondt"
    address = mother.address
    assert (address.street, address.number, address.box) == (
        "Voorbeeldstraat",
        "12",
        "3",
    )
    assert (address.postcode, address.municipality) == ("9000", "Gent")
    assert address.since == date(2019, 3, 1)
    assert address.reference_address is False


async def test_person_with_a_reference_address(registry_url: str):
    async with _client(registry_url) as registry:
        lodger = await registry.get_person(LODGER, as_of=TODAY)
    assert lodger.address.reference_address is True
    assert lodger.address.box is None


async def test_death_is_visible_only_from_the_day_of_death(registry_url: str):
    async with _client(registry_url) as registry:
        before = await registry.get_person(GRANDFATHER, as_of=date(2025, 2, 14))
        after = await registry.get_person(GRANDFATHER, as_of=date(2025, 2, 15))
    assert before.death_date is None
    assert after.death_date == date(2025, 2, 15)
    assert after.birth_date == "1940-00-00"


async def test_person_born_after_the_consultation_is_unknown(registry_url: str):
    async with _client(registry_url) as registry:
        with pytest.raises(RegistryError) as raised:
            await registry.get_person(BABY, as_of=date(2025, 1, 31))
        baby = await registry.get_person(BABY, as_of=date(2025, 2, 1))
    assert raised.value.code == "30003"
    assert baby.birth_date == "2025-02-01"


async def test_unknown_number_is_30003(registry_url: str):
    async with _client(registry_url) as registry:
        with pytest.raises(RegistryError) as raised:
            await registry.get_income(STRANGER, 2023, as_of=TODAY)
    assert raised.value.code == "30003"
    assert STRANGER not in str(raised.value)


async def test_replaced_number_names_the_new_one(registry_url: str):
    async with _client(registry_url) as registry:
        old = await registry.get_person(OLD_NUMBER, as_of=TODAY)
    assert old.replaced_by == NEW_NUMBER


async def test_household_on_the_reference_date(registry_url: str):
    """On 1 January the baby (born in February) is not there, grandfather still is."""
    async with _client(registry_url) as registry:
        household = await registry.get_household(
            CHILD, on=date(2025, 1, 1), as_of=TODAY
        )
    assert household.subject == CHILD
    assert {(m.insz, m.position) for m in household.members} == {
        (MOTHER, "01"),
        (FATHER, "02"),
        (CHILD, "03"),
        (GRANDFATHER, "04"),
    }
    assert [m.insz for m in household.reference_persons] == [MOTHER]


async def test_household_today(registry_url: str):
    """On 1 March the baby is there, and grandfather, deceased, is not."""
    async with _client(registry_url) as registry:
        household = await registry.get_household(MOTHER, on=TODAY, as_of=TODAY)
    assert {m.insz for m in household.members} == {MOTHER, FATHER, CHILD, BABY}
    birth_dates = {m.insz: m.birth_date for m in household.members}
    assert birth_dates[BABY] == "2025-02-01"


async def test_status_is_invisible_until_registered(registry_url: str):
    """BIM_BVT applies from 1 January but reaches the registry on 10 February."""
    names = ["BIM_BVT", "LIVING_WAGES_PCSA_HELP"]
    async with _client(registry_url) as registry:
        early = await registry.get_social_statuses(
            MOTHER, names, on=date(2025, 1, 1), as_of=date(2025, 2, 9)
        )
        late = await registry.get_social_statuses(
            MOTHER, names, on=date(2025, 1, 1), as_of=date(2025, 2, 10)
        )
    assert early.applies == {"BIM_BVT": False, "LIVING_WAGES_PCSA_HELP": False}
    assert late.applies == {"BIM_BVT": True, "LIVING_WAGES_PCSA_HELP": False}
    assert late.on == date(2025, 1, 1)


async def test_status_applies_only_within_its_period(registry_url: str):
    async with _client(registry_url) as registry:
        during = await registry.get_social_statuses(
            MOTHER, ["LIVING_WAGES_PCSA_HELP"], on=date(2024, 12, 31), as_of=TODAY
        )
        after = await registry.get_social_statuses(
            MOTHER, ["LIVING_WAGES_PCSA_HELP"], on=date(2025, 1, 1), as_of=TODAY
        )
    assert during.has("LIVING_WAGES_PCSA_HELP") is True
    assert after.has("LIVING_WAGES_PCSA_HELP") is False


async def test_income_is_45008_before_it_is_assessed(registry_url: str):
    async with _client(registry_url) as registry:
        before = await registry.get_income(MOTHER, 2023, as_of=date(2024, 9, 14))
        after = await registry.get_income(MOTHER, 2023, as_of=date(2024, 9, 15))
        never = await registry.get_income(FATHER, 2023, as_of=TODAY)
    assert before.taxable_income is None
    assert after.taxable_income == Decimal("18345.12")
    assert never.taxable_income is None


async def test_unknown_consumer_is_refused(registry_url: str):
    async with _client(registry_url, consumer="someone.else") as registry:
        with pytest.raises(RegistryRefused) as raised:
            await registry.get_person(MOTHER, as_of=TODAY)
    assert raised.value.code == "40001"


async def test_purpose_not_allowed_is_refused(registry_url: str):
    async with _client(registry_url, purpose="9999") as registry:
        with pytest.raises(RegistryRefused) as raised:
            await registry.get_person(MOTHER, as_of=TODAY)
    assert raised.value.code == "40002"


async def test_every_consultation_is_recorded_under_a_pseudonym(registry_url: str):
    seen = []
    async with _client(registry_url, on_consultation=seen.append) as registry:
        await registry.get_person(MOTHER, as_of=TODAY)
        await registry.get_income(MOTHER, 2024, as_of=TODAY)
    assert [(c.service, c.result_code, c.attempt) for c in seen] == [
        ("GeefPersoon", "0", 1),
        ("GeefAanslagbiljetPersonenbelasting", "45008", 1),
    ]
    assert all(c.subject_ref.startswith("P-") for c in seen)
    assert MOTHER not in repr(seen)


def test_source_unavailable_is_retried_then_given_up(city_dir: Path):
    async def look_up(url: str) -> list:
        seen = []
        async with _client(url, retries=2, on_consultation=seen.append) as registry:
            with pytest.raises(RegistryUnavailable) as raised:
                await registry.get_person(MOTHER, as_of=TODAY)
        assert raised.value.code == "99996"
        return seen

    with running_simulator(city_dir, fail_rate=1.0, consumers=[CONSUMER]) as url:
        seen = asyncio.run(look_up(url))
    assert [(c.result_code, c.attempt) for c in seen] == [
        ("99996", 1),
        ("99996", 2),
        ("99996", 3),
    ]


def test_held_answers_time_out_and_are_retried(city_dir: Path):
    async def look_up(url: str) -> list:
        seen = []
        async with _client(
            url, retries=1, timeout_s=0.3, on_consultation=seen.append
        ) as registry:
            with pytest.raises(RegistryUnavailable) as raised:
                await registry.get_person(MOTHER, as_of=TODAY)
        assert raised.value.code == "timeout"
        return seen

    with running_simulator(
        city_dir, timeout_rate=1.0, timeout_hold_s=1.0, consumers=[CONSUMER]
    ) as url:
        seen = asyncio.run(look_up(url))
    assert [c.result_code for c in seen] == ["timeout", "timeout"]


async def test_status_that_applies_carries_its_period_end(registry_url: str):
    async with _client(registry_url) as registry:
        card = await registry.get_social_statuses(
            FATHER, ["GENT_PARKING_ADULT", "BIM_BVT"], on=TODAY, as_of=TODAY
        )
        open_ended = await registry.get_social_statuses(
            MOTHER, ["BIM_BVT"], on=TODAY, as_of=TODAY
        )
    assert card.applies == {"GENT_PARKING_ADULT": True, "BIM_BVT": False}
    assert card.ends == {"GENT_PARKING_ADULT": date(2030, 5, 31)}
    assert open_ended.applies == {"BIM_BVT": True}
    assert open_ended.ends == {}


async def test_disability_file_holds_the_parking_cards_delivered_by_then(
    registry_url: str,
):
    async with _client(registry_url) as registry:
        file = await registry.get_disability_file(FATHER, as_of=TODAY)
        before = await registry.get_disability_file(
            FATHER, as_of=TODAY, on=date(2015, 1, 1)
        )
        none = await registry.get_disability_file(MOTHER, as_of=TODAY)
    assert file == DisabilityFile(
        insz=FATHER,
        on=TODAY,
        found=True,
        parking_cards=(
            ParkingCard(date(2015, 6, 1), date(2020, 5, 31)),
            ParkingCard(date(2020, 6, 1), date(2030, 5, 31)),
        ),
    )
    assert file.parking_card_on(TODAY) == ParkingCard(
        date(2020, 6, 1), date(2030, 5, 31)
    )
    assert before.found is False
    assert none == DisabilityFile(insz=MOTHER, on=TODAY, found=False)


async def test_a_parking_card_is_in_the_file_only_once_registered(registry_url: str):
    """The lodger's card dates from 1 February and is registered on 5 March."""
    async with _client(registry_url) as registry:
        early = await registry.get_disability_file(LODGER, as_of=TODAY)
        late = await registry.get_disability_file(LODGER, as_of=date(2025, 3, 5))
    assert early.found is False
    assert late.parking_cards == (ParkingCard(date(2025, 2, 1)),)


async def test_disability_file_of_an_unknown_number_is_30003(registry_url: str):
    async with _client(registry_url) as registry:
        with pytest.raises(RegistryError) as raised:
            await registry.get_disability_file(STRANGER, as_of=TODAY)
    assert raised.value.code == "30003"
