"""The registry simulator: a synthetic city served in MAGDA's SOAP messages.

It stands in for the MAGDA gateway on any machine without access to it, so that
the same `RegistryClient` talks to the simulator in development and to MAGDA in
production. It reads a city folder (`population.jsonl`, the "Synthetic city"
contract of DESIGN.md) into memory, indexed by INSZ and by household, and answers
one POST endpoint per service:

| path | service |
|---|---|
| `/GeefPersoon-02.02` | GeefPersoon 02.02.0000 |
| `/GeefGezinssamenstelling-02.02` | GeefGezinssamenstelling 02.02.0000 |
| `/GeefHistoriekGezinssamenstelling-02.02` | GeefHistoriekGezinssamenstelling 02.02.0000 |
| `/GeefSociaalStatuut-03.00` | GeefSociaalStatuut 03.00.0000 |
| `/GeefAanslagbiljetPersonenbelasting-02.00` | GeefAanslagbiljetPersonenbelasting 02.00.0000 |
| `/GeefDossierHandicap-03.00` | GeefDossierHandicap 03.00.0000 (parking cards) |
| `GET /health` | 200 and the number of persons, once the city is loaded |

It answers as the registries stood on the date of the request's `Tijdstip`:

- a person born after that date does not exist yet: 30003, as for an unknown INSZ;
  a death after that date is not shown;
- a status is visible only from its `registered_on` (registry lag); each status
  asked is answered 1 when it is active on the status's criteria date, else 0;
  a status answered 1 lists the period that holds that date (its start, and its
  end when it has one), as the gateway's `Periodes` do;
- the disability file (GeefDossierHandicap) holds a parking card for each
  visible `GENT_PARKING_ADULT` or `GENT_PARKING_CHILD` period that started on or
  before the reference date asked: delivered on the period's start, ending on its
  end; the card number is derived from the INSZ. Someone without such a period
  has no file (NO_DATA_FOUND with KSZ's warning 70001);
- an income is visible only from its `assessed_on` (45008 before, as MAGDA does);
  an income year the city has no assessment for is 30001;
- a household is everyone with the same `household` id born on or before the
  date asked (the criteria date of GeefHistoriekGezinssamenstelling, else the
  message date) and not deceased before it; a subject who is not part of it on
  that date gets 30001. Persons with no household id form a household alone.
- addresses, positions and household ids are the city's current ones: the
  contract keeps no history of them, so only births and deaths change a
  household over time;
- a person with the optional key `replaced_by` (an extension of the contract: the
  number the register replaced theirs with) is answered with MAGDA's 30004
  warning naming the new number.

Refusals, at the level of the whole message as MAGDA does for context errors
(the codes are this simulator's choice; MAGDA's own for these cases are not
public): 40001 when the consumer (`Afzender/Identificatie`) is not one of the
configured consumers, 40002 when its capacity (`Hoedanigheid`) is not one of the
configured purposes. A request that is not a readable MAGDA request gets a SOAP
`Client` fault with HTTP 500, as SOAP 1.1 prescribes.

Faults, drawn from one seeded random sequence in the order requests arrive:
`fail_rate` answers 99996 (source unavailable), `timeout_rate` holds the answer
for `timeout_hold_s` (longer than a client's time-out) before answering,
`error500_rate` answers HTTP 500 with a SOAP `Server` fault. `latency_ms` is added
to every request.

One log line per request: service, result code, HTTP status and duration. Never
the payload, never an INSZ.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.routing import Route

from proactief.city import load_population
from proactief.config import Settings
from proactief.errors import CityDataError, RegistryRefused
from proactief.facts import Address, HouseholdMember, ParkingCard, Person
from proactief.magda import answers
from proactief.magda import messages as m

logger = logging.getLogger(__name__)

REFERENCE_PERSON = "01"
PARKING_STATUSES = frozenset({"GENT_PARKING_ADULT", "GENT_PARKING_CHILD"})


# ---------------------------------------------------------------------------
# The city, as the registries know it


@dataclass(frozen=True, slots=True)
class StatusSpell:
    """A period during which a person has a social status, and when it was registered."""

    name: str
    start: date
    end: date | None
    registered_on: date | None


@dataclass(frozen=True, slots=True)
class Assessment:
    """A tax assessment: the taxable income of a year, and when it became known."""

    taxable_income: Decimal | None
    assessed_on: date | None


@dataclass(frozen=True, slots=True)
class Resident:
    """One line of population.jsonl, read once at start."""

    insz: str
    first_name: str
    last_name: str
    sex: str | None
    birth_date: str | None
    born_on: date | None
    death_date: date | None
    household: str | None
    position: str | None
    address: Address | None
    parents: tuple[str, ...]
    statuses: tuple[StatusSpell, ...]
    incomes: dict[int, Assessment]
    replaced_by: str | None = None

    def exists_on(self, day: date) -> bool:
        return self.born_on is None or self.born_on <= day

    def alive_on(self, day: date) -> bool:
        return self.exists_on(day) and (
            self.death_date is None or self.death_date >= day
        )


@dataclass(slots=True)
class City:
    """The residents of a synthetic city, by INSZ and by household."""

    residents: dict[str, Resident] = field(default_factory=dict)
    households: dict[str, list[str]] = field(default_factory=dict)


def _day(value: object, what: str, line: int) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise CityDataError(
            f"population.jsonl line {line}: {what} {value!r} is not a date YYYY-MM-DD"
        ) from None


def _earliest(birth_date: str | None, line: int) -> date | None:
    """The first day a birth date with unknown month or day (`00`) can mean."""
    if not birth_date:
        return None
    try:
        year, month, day = (int(part) for part in birth_date.split("-"))
        return date(year, month or 1, day or 1)
    except ValueError:
        raise CityDataError(
            f"population.jsonl line {line}: birth_date {birth_date!r} is not a date"
            " YYYY-MM-DD (00 allowed for an unknown month or day)"
        ) from None


def _resident(record: dict, line: int) -> Resident:
    insz = record.get("insz")
    if not isinstance(insz, str) or len(insz) != 11 or not insz.isdigit():
        raise CityDataError(
            f"population.jsonl line {line}: insz must be an 11-digit string"
        )
    raw_address = record.get("address")
    address = None
    if raw_address:
        address = Address(
            street=str(raw_address.get("street") or ""),
            number=str(raw_address.get("number") or ""),
            box=str(raw_address["box"]) if raw_address.get("box") else None,
            postcode=str(raw_address.get("postcode") or ""),
            municipality=str(raw_address.get("municipality") or ""),
            since=_day(raw_address.get("since"), "address.since", line),
            reference_address=bool(raw_address.get("reference_address")),
        )
    statuses = tuple(
        StatusSpell(
            name=str(s["name"]),
            start=_day(s.get("from"), "status from", line) or date.min,
            end=_day(s.get("to"), "status to", line),
            registered_on=_day(s.get("registered_on"), "registered_on", line),
        )
        for s in record.get("statuses") or ()
    )
    incomes = {}
    for income in record.get("incomes") or ():
        amount = income.get("taxable_income")
        try:
            taxable = Decimal(str(amount)) if amount is not None else None
        except InvalidOperation:
            raise CityDataError(
                f"population.jsonl line {line}: taxable_income is not a decimal"
                " number of euro"
            ) from None
        incomes[int(income["income_year"])] = Assessment(
            taxable_income=taxable,
            assessed_on=_day(income.get("assessed_on"), "assessed_on", line),
        )
    birth_date = record.get("birth_date")
    return Resident(
        insz=insz,
        first_name=str(record.get("first_name") or ""),
        last_name=str(record.get("last_name") or ""),
        sex=record.get("sex"),
        birth_date=birth_date,
        born_on=_earliest(birth_date, line),
        death_date=_day(record.get("death_date"), "death_date", line),
        household=record.get("household"),
        position=record.get("position"),
        address=address,
        parents=tuple(record.get("parents") or ()),
        statuses=statuses,
        incomes=incomes,
        replaced_by=record.get("replaced_by"),
    )


def load_city(city_dir: Path | str) -> City:
    """Read `population.jsonl` of a city folder into memory."""
    city = City()
    for number, record in enumerate(load_population(city_dir), start=1):
        try:
            resident = _resident(record, number)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, CityDataError):
                raise
            raise CityDataError(
                f"population.jsonl person {number} does not follow the city"
                f" contract ({type(exc).__name__}); see DESIGN.md"
            ) from None
        city.residents[resident.insz] = resident
        if resident.household:
            city.households.setdefault(resident.household, []).append(resident.insz)
    return city


# ---------------------------------------------------------------------------
# What the registries answer


class Registry:
    """The answers of the registries about a city, as of a message date."""

    def __init__(self, city: City) -> None:
        self.city = city

    def answer(self, request: m.Request, to: answers.Addressee) -> tuple[bytes, str]:
        """The answer to a request (its consumer already checked) and its result code."""
        resident = self.city.residents.get(request.insz)
        if resident is None or not resident.exists_on(request.as_of):
            return answers.answer_error(to, m.UNKNOWN_INSZ), m.UNKNOWN_INSZ
        if request.service == m.GEEF_PERSOON:
            return self._person(resident, to), "0"
        if request.service in (
            m.GEEF_GEZINSSAMENSTELLING,
            m.GEEF_HISTORIEK_GEZINSSAMENSTELLING,
        ):
            return self._household(resident, request.criteria_date or request.as_of, to)
        if request.service == m.GEEF_SOCIAAL_STATUUT:
            return self._statuses(resident, request, to), "0"
        if request.service == m.GEEF_DOSSIER_HANDICAP:
            return self._disability_file(resident, request, to), "0"
        return self._income(resident, request, to)

    def _members(self, resident: Resident, on: date) -> list[Resident]:
        if not resident.household:
            return [resident]
        return [
            member
            for insz in self.city.households[resident.household]
            if (member := self.city.residents[insz]).alive_on(on)
        ]

    def _person(self, resident: Resident, to: answers.Addressee) -> bytes:
        as_of = to.as_of
        head = None
        if resident.position != REFERENCE_PERSON:
            heads = [
                r.insz
                for r in self._members(resident, as_of)
                if r.position == REFERENCE_PERSON
            ]
            head = heads[0] if heads else None
        dead = resident.death_date is not None and resident.death_date <= as_of
        person = Person(
            insz=resident.insz,
            first_name=resident.first_name,
            last_name=resident.last_name,
            birth_date=resident.birth_date,
            death_date=resident.death_date if dead else None,
            address=resident.address,
            household_position=resident.position,
            parents=resident.parents,
            replaced_by=resident.replaced_by,
        )
        return answers.person_answer(
            to, person, sex=resident.sex, reference_person=head
        )

    def _household(
        self, resident: Resident, on: date, to: answers.Addressee
    ) -> tuple[bytes, str]:
        members = self._members(resident, on)
        if not any(member is resident for member in members):
            return answers.answer_error(to, m.NO_DATA), m.NO_DATA
        lines = [
            HouseholdMember(insz=r.insz, position=r.position, birth_date=r.birth_date)
            for r in members
        ]
        return answers.household_answer(to, lines), "0"

    @staticmethod
    def _known(resident: Resident, as_of: date) -> list[StatusSpell]:
        return [
            s
            for s in resident.statuses
            if s.registered_on is None or s.registered_on <= as_of
        ]

    def _statuses(
        self, resident: Resident, request: m.Request, to: answers.Addressee
    ) -> bytes:
        known = self._known(resident, request.as_of)
        results, periods = [], {}
        for name, on in request.status_names_and_dates:
            holding = [
                (s.start, s.end)
                for s in known
                if s.name == name and s.start <= on and (s.end is None or on <= s.end)
            ]
            results.append((name, bool(holding)))
            if holding and holding[0][0] != date.min:
                periods[name] = holding
        return answers.statuses_answer(to, resident.insz, results, periods)

    def _disability_file(
        self, resident: Resident, request: m.Request, to: answers.Addressee
    ) -> bytes:
        on = request.reference_date
        cards = [
            ParkingCard(delivered_on=s.start, ends_on=s.end)
            for s in sorted(self._known(resident, request.as_of), key=lambda s: s.start)
            if s.name in PARKING_STATUSES and date.min < s.start <= on
        ]
        if not cards:
            return answers.disability_file_not_found(to)
        # a stable ten-digit number, so that two look-ups of one card agree; it
        # identifies nothing outside the simulator
        number = f"{int(resident.insz) * 7919 % 10**10:010d}"
        return answers.disability_file_answer(to, resident.insz, cards, number)

    def _income(
        self, resident: Resident, request: m.Request, to: answers.Addressee
    ) -> tuple[bytes, str]:
        year = request.income_year
        assessment = resident.incomes.get(year)
        if assessment is None or assessment.taxable_income is None:
            return answers.answer_error(to, m.NO_DATA), m.NO_DATA
        if (
            assessment.assessed_on is not None
            and assessment.assessed_on > request.as_of
        ):
            # MAGDA marks 45008 as information, not as an error.
            code = m.INCOME_YEAR_NOT_AVAILABLE
            return answers.answer_error(to, code, kind="INFORMATIE"), code
        return (
            answers.income_answer(to, resident.insz, year, assessment.taxable_income),
            "0",
        )


# ---------------------------------------------------------------------------
# The HTTP service


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """Who may ask, and how slow and unreliable the simulated gateway is."""

    consumers: frozenset[str]
    purposes: frozenset[str]
    latency_ms: float = 0.0
    fail_rate: float = 0.0
    timeout_rate: float = 0.0
    error500_rate: float = 0.0
    timeout_hold_s: float = 30.0
    seed: int = 0

    def __post_init__(self) -> None:
        rates = (self.fail_rate, self.timeout_rate, self.error500_rate)
        if any(r < 0 for r in rates) or sum(rates) > 1:
            raise ValueError(
                f"fault rates must be between 0 and 1 and add up to at most 1;"
                f" got fail {self.fail_rate}, timeout {self.timeout_rate},"
                f" error500 {self.error500_rate}"
            )
        if self.latency_ms < 0 or self.timeout_hold_s < 0:
            raise ValueError("latency and time-out hold must not be negative")

    @classmethod
    def from_settings(cls, **overrides: object) -> SimulatorConfig:
        """Accept the consumer and purpose of this installation's settings."""
        settings = Settings.from_env()
        values: dict = {
            "consumers": frozenset({settings.consumer}),
            "purposes": frozenset({settings.purpose}),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        values["consumers"] = frozenset(values["consumers"])
        values["purposes"] = frozenset(values["purposes"])
        return cls(**values)


_FAIL, _TIMEOUT, _ERROR500 = "fail", "timeout", "error500"


class _FaultPlan:
    """One seeded random draw per request decides its fault, if any."""

    def __init__(self, config: SimulatorConfig) -> None:
        self._random = random.Random(config.seed)
        self._fail = config.fail_rate
        self._timeout = self._fail + config.timeout_rate
        self._error500 = self._timeout + config.error500_rate

    def draw(self) -> str | None:
        if not self._error500:
            return None
        r = self._random.random()
        if r < self._fail:
            return _FAIL
        if r < self._timeout:
            return _TIMEOUT
        if r < self._error500:
            return _ERROR500
        return None


def create_app(city: City, config: SimulatorConfig) -> FastAPI:
    """The FastAPI application serving a city; routes as in the module docstring."""
    app = FastAPI(
        title="Proactief registry simulator",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    registry = Registry(city)
    faults = _FaultPlan(config)
    latency = config.latency_ms / 1000

    def respond(body: bytes, service: str, fault: str | None) -> tuple[bytes, int, str]:
        try:
            request = m.read_request(body)
            if request.service != service:
                raise RegistryRefused(
                    f"a {request.service} request at the {service} endpoint",
                    code="soap-client",
                )
        except RegistryRefused as exc:
            return answers.soap_fault("Client", str(exc)), 500, "soap-client"
        to = answers.Addressee.of(request)
        if fault == _FAIL:
            return (
                answers.reply_error(to, m.SOURCE_UNAVAILABLE),
                200,
                m.SOURCE_UNAVAILABLE,
            )
        if request.consumer not in config.consumers:
            code = answers.UNKNOWN_CONSUMER
            return answers.reply_error(to, code), 200, code
        if request.purpose not in config.purposes:
            code = answers.PURPOSE_NOT_ALLOWED
            return answers.reply_error(to, code), 200, code
        try:
            payload, code = registry.answer(request, to)
        except RegistryRefused as exc:
            return answers.soap_fault("Client", str(exc)), 500, "soap-client"
        return payload, 200, code

    def endpoint(service: str):
        async def handle(request: Request) -> Response:
            started = time.perf_counter()
            body = await request.body()
            fault = faults.draw()
            if latency:
                await asyncio.sleep(latency)
            if fault == _ERROR500:
                payload = answers.soap_fault("Server", "simulated server error")
                status, result = 500, "http-500"
            else:
                if fault == _TIMEOUT:
                    await asyncio.sleep(config.timeout_hold_s)
                payload, status, result = respond(body, service, fault)
                if fault == _TIMEOUT:
                    result = "timeout"
            logger.info(
                "service=%s result=%s status=%d duration_ms=%.1f",
                service,
                result,
                status,
                (time.perf_counter() - started) * 1000,
            )
            return Response(payload, status_code=status, media_type=m.SOAP_MEDIA_TYPE)

        handle.__name__ = f"answer_{service}"
        return handle

    for service in m.SERVICES.values():
        # A plain Starlette route: the endpoint reads the raw body itself, so
        # FastAPI's parameter and response-model machinery would only cost time
        # (about a third of a request's CPU here).
        app.router.routes.append(
            Route(service.path, endpoint(service.name), methods=["POST"])
        )

    @app.get("/health", include_in_schema=False)
    async def health() -> PlainTextResponse:
        return PlainTextResponse(f"ok {len(city.residents)} persons")

    return app


def serve(
    city_dir: Path | str,
    *,
    host: str = "127.0.0.1",
    port: int = 8088,
    config: SimulatorConfig | None = None,
) -> None:
    """Load a city and serve it until interrupted (one worker, no access log)."""
    import uvicorn

    config = config or SimulatorConfig.from_settings()
    started = time.perf_counter()
    city = load_city(city_dir)
    logger.info(
        "loaded %d persons in %d households in %.1f s; serving on http://%s:%d",
        len(city.residents),
        len(city.households),
        time.perf_counter() - started,
        host,
        port,
    )
    if not city.residents:
        logger.warning("the city holds nobody: every look-up will answer 30003")
    app = create_app(city, config)
    # "auto" picks uvloop and httptools when they are installed, the pure-Python
    # loop and parser otherwise; the access log would double our own log line.
    uvicorn.run(
        app,
        host=host,
        port=port,
        workers=1,
        loop="auto",
        http="auto",
        access_log=False,
        log_level="warning",
        server_header=False,
        date_header=False,
        # Answers held by a time-out fault must not hold up a stop.
        timeout_graceful_shutdown=1,
    )


# ---------------------------------------------------------------------------
# A simulator in a subprocess, for tests, the demo and benchmarks


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_simulator(
    city_dir: Path | str,
    *,
    latency_ms: float = 0,
    fail_rate: float = 0.0,
    timeout_rate: float = 0.0,
    error500_rate: float = 0.0,
    timeout_hold_s: float = 30.0,
    seed: int = 0,
    consumers: list[str] | None = None,
    purposes: list[str] | None = None,
    startup_timeout_s: float = 120.0,
    log_path: Path | None = None,
) -> Iterator[str]:
    """Run `python -m proactief registry serve` on a free 127.0.0.1 port.

    Yields the base URL once the simulator answers, and stops it on exit. Its log
    goes to `log_path`, or to a temporary file whose end is quoted if it fails to
    start (the log carries no personal data).
    """
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "proactief",
        "registry",
        "serve",
        "--city",
        str(city_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--latency-ms",
        str(latency_ms),
        "--fail-rate",
        str(fail_rate),
        "--timeout-rate",
        str(timeout_rate),
        "--error500-rate",
        str(error500_rate),
        "--timeout-hold-s",
        str(timeout_hold_s),
        "--seed",
        str(seed),
    ]
    for consumer in consumers or ():
        command += ["--consumer", consumer]
    for purpose in purposes or ():
        command += ["--purpose", purpose]
    env = dict(os.environ)
    # The subprocess must import this very package, installed or not.
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (package_root, env.get("PYTHONPATH")) if p
    )
    if log_path is None:
        handle, name = tempfile.mkstemp(prefix="proactief-simulator-", suffix=".log")
        os.close(handle)
        log_file = Path(name)
    else:
        log_file = Path(log_path)
    url = f"http://127.0.0.1:{port}"
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env
        )
    try:
        _wait_until_ready(process, url, startup_timeout_s, log_file)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log_path is None:
            log_file.unlink(missing_ok=True)


def _wait_until_ready(
    process: subprocess.Popen, url: str, timeout_s: float, log_file: Path
) -> None:
    deadline = time.monotonic() + timeout_s
    with httpx.Client(trust_env=False, timeout=1.0) as probe:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                if probe.get(f"{url}/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    tail = log_file.read_text(encoding="utf-8", errors="replace")[-2000:]
    state = (
        f"exited with code {process.returncode}"
        if process.poll() is not None
        else f"did not answer within {timeout_s} s"
    )
    raise RuntimeError(
        f"the registry simulator {state}; its log ends with:\n{tail}\n"
        "Check the city folder and that `python -m proactief registry serve` runs."
    )
