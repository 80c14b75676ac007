"""The registry client: MAGDA look-ups as async calls that return facts.

`RegistryClient` speaks MAGDA's SOAP messages through an httpx transport
(`httpx.AsyncBaseTransport`). By default that is `RegistryTransport`
(`proactief.magda.transport`), one aiohttp session, which the client calls
directly (`post`) without building httpx's request and response objects; any
other transport, such as `httpx.MockTransport` in tests, gets an `httpx.Request`.
A SOAP exchange needs none of what `httpx.AsyncClient` adds per request (cookies,
redirects, auth, event hooks). On two cores the client's CPU per request sets the
pace of a city run: 3-5 ms with httpx's own connection pool at 64 requests in
flight (DESIGN.md, "Measured on this kind of machine"), about 0.6 ms through
`httpx.AsyncClient` on aiohttp, well under that this way (`bench/city_scale.py`
prints the client's rate beside the bare one).

    async with RegistryClient("http://127.0.0.1:8088") as registry:
        person = await registry.get_person(insz, as_of=date.today())

Dates: `as_of` is the day we consult the registry (the message's `Tijdstip`); the
registry answers with what it knew that day. `on` is the day the facts are asked
for (the criteria date), for example the reference date of a run.

Failures: 99996 and the other "not now" codes, HTTP 5xx and time-outs are retried
with exponential back-off and jitter; when the retries run out the call raises
`RegistryUnavailable`. A refusal raises `RegistryRefused`, an unreadable answer
`RegistryAnswerError`, an unknown INSZ `RegistryError` with code "30003".

Every request (every attempt) is reported to `on_consultation` as a
`Consultation`: service, purpose, consumer, time, result code, duration, attempt
and the subject's pseudonym. Never the payload, never the INSZ.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Self

import httpx

from proactief.config import Settings
from proactief.errors import (
    RegistryAnswerError,
    RegistryError,
    RegistryRefused,
    RegistryUnavailable,
)
from proactief.facts import DisabilityFile, Household, Income, Person, SocialStatuses
from proactief.insz import pseudonym, validate
from proactief.magda import messages as m
from proactief.magda.transport import RegistryTransport

logger = logging.getLogger(__name__)

DEFAULT_MAX_IN_FLIGHT = 64
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_RETRIES = 3
# How many national numbers a client remembers as checked before it starts over.
_CHECKED_KEEP = 4096
# HTTP statuses worth another try: the gateway or a proxy in front of it is busy.
_RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})

# Result codes of a request the registry answered, with data or with "no data";
# every other code is a failure (a fault, a time-out, an unreadable answer).
ANSWERED_RESULT_CODES = frozenset({"0", "30001", "30003", "45008"})


@dataclass(frozen=True, slots=True)
class Consultation:
    """One request to the registry, as the store records it (no payload, no INSZ).

    The field names are the store's (`proactief.store.Consultation`), so that
    `dataclasses.asdict` gives a row. `subject_ref` is the subject's pseudonym.
    `result_code` is "0" for an answer with data, the MAGDA code that decided the
    answer ("30001", "99996", ...), "http-<status>" for an HTTP error,
    "timeout", "connection-error" or "unreadable".
    """

    service: str
    consumer: str
    purpose: str
    subject_ref: str
    at: datetime
    result_code: str
    duration_ms: int
    attempt: int


class RegistryClient:
    """Async look-ups in the MAGDA registries, returning `proactief.facts`."""

    def __init__(
        self,
        base_url: str,
        *,
        consumer: str | None = None,
        purpose: str | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retries: int = DEFAULT_RETRIES,
        backoff_s: float = 0.1,
        max_backoff_s: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
        on_consultation: Callable[[Consultation], None] | None = None,
        settings: Settings | None = None,
        seed: int | None = None,
    ) -> None:
        if max_in_flight < 1 or retries < 0 or timeout_s <= 0:
            raise ValueError(
                "max_in_flight must be at least 1, retries at least 0 and the"
                f" time-out positive; got {max_in_flight}, {retries}, {timeout_s}"
            )
        settings = settings or Settings.from_env()
        self.consumer = consumer or settings.consumer
        self.purpose = purpose or settings.purpose
        self._allow_test_numbers = settings.allow_test_numbers
        self._checked: dict[str, str] = {}  # number as given -> valid number
        self._pseudonym_key = settings.pseudonym_key
        self._timeout_s = timeout_s
        self._retries = retries
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._on_consultation = on_consultation
        self._slots = asyncio.Semaphore(max_in_flight)
        # Jitter only: a seed makes a test's back-off reproducible.
        self._random = random.Random(seed)
        self._transport = transport or RegistryTransport(max_connections=max_in_flight)
        # Proactief's own transport takes the request without httpx's objects.
        self._direct = (
            self._transport if isinstance(self._transport, RegistryTransport) else None
        )
        # One URL per service path, joined once: base "http://host/magda" and
        # path "/GeefPersoon-02.02" give "http://host/magda/GeefPersoon-02.02".
        self._base_url = base_url.rstrip("/")
        self._urls: dict[str, str] = {}
        self._headers = {"Content-Type": m.SOAP_MEDIA_TYPE, "SOAPAction": '""'}

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._checked.clear()
        await self._transport.aclose()

    # -- look-ups ---------------------------------------------------------------

    async def get_person(self, insz: str, *, as_of: date) -> Person:
        """GeefPersoon: who someone is and where they live, as known on `as_of`.

        `Person.replaced_by` names the new number when the register replaced this
        one; following it is the caller's decision.
        """
        insz = self._valid(insz)
        answer = await self._consult(
            m.GEEF_PERSOON,
            insz,
            lambda sender: m.person_request(insz, as_of=as_of, **sender),
        )
        return m.parse_person(answer)

    async def get_household(self, insz: str, *, on: date, as_of: date) -> Household:
        """The registered household of `insz` on `on`, as known on `as_of`.

        Asked with GeefGezinssamenstelling when `on` is the consultation day
        (that service answers for the message date only), with
        GeefHistoriekGezinssamenstelling otherwise. No data (30001) gives a
        household without members.
        """
        insz = self._valid(insz)
        if on == as_of:
            answer = await self._consult(
                m.GEEF_GEZINSSAMENSTELLING,
                insz,
                lambda sender: m.household_request(insz, as_of=as_of, **sender),
            )
            return m.parse_household(answer, subject=insz)
        answer = await self._consult(
            m.GEEF_HISTORIEK_GEZINSSAMENSTELLING,
            insz,
            lambda sender: m.household_history_request(
                insz, on=on, as_of=as_of, **sender
            ),
        )
        return m.parse_household(answer, subject=insz, on=on)

    async def get_social_statuses(
        self, insz: str, names: Iterable[str], *, on: date, as_of: date
    ) -> SocialStatuses:
        """GeefSociaalStatuut: whether each named status applies on `on`.

        More than eight names are asked in several requests (MAGDA's limit).
        "No data" (30001) is `not_found=True`, not an error. `ends` holds the
        last day of a status that applies, where the registry gave one.
        """
        insz = self._valid(insz)
        names = list(dict.fromkeys(names))
        if not names:
            raise ValueError("name at least one social status to look up")
        size = m.MAX_STATUSES_PER_REQUEST
        chunks = [names[i : i + size] for i in range(0, len(names), size)]
        applies: dict[str, bool] = {}
        ends: dict[str, date] = {}
        not_found = True
        for chunk in chunks:
            answer = await self._consult(
                m.GEEF_SOCIAAL_STATUUT,
                insz,
                lambda sender, chunk=chunk: m.social_status_request(
                    insz,
                    chunk,
                    on=on,
                    as_of=as_of,
                    **sender,
                ),
            )
            part = m.parse_social_statuses(answer, insz=insz, on=on)
            applies.update(part.applies)
            ends.update(part.ends)
            not_found = not_found and part.not_found
        return SocialStatuses(
            insz=insz, on=on, applies=applies, not_found=not_found, ends=ends
        )

    async def get_income(self, insz: str, income_year: int, *, as_of: date) -> Income:
        """GeefAanslagbiljetPersonenbelasting: the taxable income of `income_year`.

        Unknown (`taxable_income=None`) when the year is not assessed yet (45008)
        or there is no assessment (30001).
        """
        insz = self._valid(insz)
        answer = await self._consult(
            m.GEEF_AANSLAGBILJET,
            insz,
            lambda sender: m.income_request(insz, income_year, as_of=as_of, **sender),
        )
        return m.parse_income(answer, insz=insz, income_year=income_year)

    async def get_disability_file(
        self, insz: str, *, as_of: date, on: date | None = None
    ) -> DisabilityFile:
        """GeefDossierHandicap: the parking cards of the federal disability file.

        `on` is the reference date of the file (default: `as_of`). No file
        (NO_DATA_FOUND, 30001) is `found=False`, not an error; a source that
        could not answer raises `RegistryUnavailable`.
        """
        insz = self._valid(insz)
        on = on or as_of
        answer = await self._consult(
            m.GEEF_DOSSIER_HANDICAP,
            insz,
            lambda sender: m.disability_file_request(
                insz, on=on, as_of=as_of, **sender
            ),
        )
        return m.parse_disability_file(answer, insz=insz, on=on)

    # -- the exchange -----------------------------------------------------------

    def _valid(self, insz: str) -> str:
        # A household's members are asked for two or three times in a row: the
        # numbers checked lately are not checked again (python-stdnum's check
        # costs about as much as building the request).
        known = self._checked.get(insz)
        if known is None:
            known = validate(insz, allow_test_numbers=self._allow_test_numbers)
            if len(self._checked) >= _CHECKED_KEEP:
                self._checked.clear()
            self._checked[insz] = known
        return known

    def _sender(self, timestamp: datetime) -> dict[str, str]:
        """The sender's part of a request: who asks, why, and a fresh reference."""
        return {
            "consumer": self.consumer,
            "purpose": self.purpose,
            "reference": str(uuid.uuid4()),
            "at": m.message_time(timestamp),
        }

    def _record(
        self,
        service: str,
        subject: str,
        timestamp: datetime,
        started: float,
        result: str,
        attempt: int,
    ) -> None:
        duration_ms = (time.perf_counter() - started) * 1000
        logger.debug(
            "service=%s subject=%s result=%s attempt=%d duration_ms=%.1f",
            service,
            subject,
            result,
            attempt,
            duration_ms,
        )
        if self._on_consultation is not None:
            self._on_consultation(
                Consultation(
                    service=service,
                    consumer=self.consumer,
                    purpose=self.purpose,
                    subject_ref=subject,
                    at=timestamp,
                    result_code=result,
                    duration_ms=round(duration_ms),
                    attempt=attempt,
                )
            )

    async def _consult(
        self, service: str, insz: str, build: Callable[[dict[str, str]], bytes]
    ) -> m.Answer:
        """Send a request until it gets a definite answer, or retries run out."""
        path = m.SERVICES[service].path
        subject = pseudonym(insz, self._pseudonym_key)
        attempts = self._retries + 1
        last_result = ""
        for attempt in range(1, attempts + 1):
            timestamp = datetime.now(m.BRUSSELS)
            body = build(self._sender(timestamp))
            started = time.perf_counter()
            try:
                answer = await self._exchange(path, body)
            except _Retry as retry:
                last_result = retry.result
                self._record(
                    service, subject, timestamp, started, retry.result, attempt
                )
            except RegistryError as exc:
                result = exc.code or "unreadable"
                self._record(service, subject, timestamp, started, result, attempt)
                raise
            else:
                last_result = answer.result_code
                self._record(service, subject, timestamp, started, last_result, attempt)
                if last_result not in m.RETRYABLE_CODES:
                    return answer
            if attempt < attempts:
                delay = min(self._max_backoff_s, self._backoff_s * 2 ** (attempt - 1))
                # Jitter spreads the retries of a whole batch hit by one outage.
                delay *= self._random.uniform(0.5, 1.0)
                logger.info(
                    "service=%s subject=%s result=%s: retry %d of %d in %.2f s",
                    service,
                    subject,
                    last_result,
                    attempt,
                    self._retries,
                    delay,
                )
                await asyncio.sleep(delay)
        logger.warning(
            "service=%s subject=%s gave up after %d attempts (last result %s)",
            service,
            subject,
            attempts,
            last_result,
        )
        raise RegistryUnavailable(
            f"{service} gave no answer after {attempts} attempts (last result"
            f" {last_result}); the subject cannot be decided now: send it to review"
            " or run again later",
            code=last_result,
        )

    async def _exchange(self, path: str, body: bytes) -> m.Answer:
        """One request: an answer, `_Retry`, or a `RegistryError` that is final."""
        try:
            async with self._slots:
                # A ceiling on the whole attempt, whatever time-outs the
                # transport keeps itself.
                async with asyncio.timeout(self._timeout_s):
                    status, content = await self._post(path, body)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise _Retry("timeout") from exc
        except httpx.TransportError as exc:
            raise _Retry("connection-error") from exc
        if status == 200:
            try:
                return m.read_answer(content)
            except RegistryUnavailable as exc:
                raise _Retry(exc.code or "soap-server") from exc
        if status >= 500:
            try:
                # A SOAP client fault says the request is wrong: no retry helps.
                m.read_answer(content)
            except RegistryUnavailable as exc:
                raise _Retry(f"http-{status}") from exc
            except RegistryAnswerError as exc:
                raise _Retry(f"http-{status}") from exc
            raise _Retry(f"http-{status}")
        if status in _RETRYABLE_STATUSES:
            raise _Retry(f"http-{status}")
        if status in (401, 403):
            raise RegistryRefused(
                f"the gateway refused access (HTTP {status}); check the consumer's"
                " credentials and its registration for this service",
                code=f"http-{status}",
            )
        raise RegistryAnswerError(
            f"the gateway answered HTTP {status} at {path!r}; check the registry"
            " URL and the service paths",
            code=f"http-{status}",
        )

    async def _post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """POST `body` to the service at `path`: the HTTP status and the answer."""
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = str(httpx.URL(self._base_url + path))
        if self._direct is not None:
            return await self._direct.post(url, body, self._headers)
        response = await self._transport.handle_async_request(
            httpx.Request("POST", url, headers=self._headers, content=body)
        )
        await response.aread()
        return response.status_code, response.content


class _Retry(Exception):
    """An attempt that may succeed when tried again; `result` says why it failed."""

    def __init__(self, result: str) -> None:
        super().__init__(result)
        self.result = result
