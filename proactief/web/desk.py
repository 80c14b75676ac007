"""The desk: a UiTPAS opportunity-tariff check from a national number.

The officer types or pastes the number from the identity card; the page answers
yes (with the end date), no, or "check by hand" with what to ask the citizen for,
and never shows an income, a status name or an address. A number that fails its
check digits is caught before any registry call. Every check is recorded in the
audit log by pseudonymous reference, and an officer who checks more numbers than
the configured rate waits longer for each answer and is reported to supervisors.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections import deque
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Self
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from proactief.cohort import social_service_measures
from proactief.errors import InvalidInsz
from proactief.insz import pseudonym, validate
from proactief.magda.client import RegistryClient
from proactief.store import Store
from proactief.uitpas import HouseholdMate
from proactief.web.accounts import SignedIn
from proactief.web.security import DESK, check_csrf, require
from proactief.web.settings import WebSettings
from rules.outcomes import Outcome

log = logging.getLogger("proactief.web.desk")
router = APIRouter()
BRUSSELS = ZoneInfo("Europe/Brussels")
BENEFIT = "uitpas"
HOUSEHOLD_OFFER_MINUTES = 15
GRANTED_EARLIER = "granted_earlier_this_year"


def today_in_brussels() -> date:
    return datetime.now(BRUSSELS).date()


def formatted(insz: str) -> str:
    """85073003328 -> 85.07.30-033.28, as printed on the identity card."""
    return f"{insz[0:2]}.{insz[2:4]}.{insz[4:6]}-{insz[6:9]}.{insz[9:11]}"


@dataclass
class HouseholdOffer:
    """Household members a granted answer may be extended to, kept server-side
    so that their numbers never travel through the page."""

    username: str
    members: list[tuple[str, str, int | None]]  # insz, first name, birth year
    period: str
    rule_version: str
    valid_until: date
    expires: float


class DeskService:
    """What the desk pages share: the registry client, the social service's
    measures of the day, and the household offers waiting for a click."""

    def __init__(self, settings: WebSettings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self._consultations: deque = deque()
        self._measures: tuple[date, dict] | None = None
        self._offers: dict[str, HouseholdOffer] = {}
        self.client: RegistryClient | None = None

    async def __aenter__(self) -> Self:
        self.client = RegistryClient(
            self.settings.registry_url,
            timeout_s=self.settings.registry_timeout_s,
            retries=self.settings.registry_retries,
            backoff_s=0.05,
            max_backoff_s=0.2,
            on_consultation=self._consultations.append,
            settings=self.settings.core,
        )
        return self

    async def __aexit__(self, *exc_info) -> None:
        if self.client is not None:
            await self.client.aclose()

    def measures(self, today: date) -> dict[str, frozenset[str]]:
        if self._measures is None or self._measures[0] != today:
            self._measures = (
                today,
                social_service_measures(self.settings.city_dir, today),
            )
        return self._measures[1]

    def drain_consultations(self) -> list[dict]:
        rows = []
        while self._consultations:
            rows.append(asdict(self._consultations.popleft()))
        return rows

    def offer(self, offer: HouseholdOffer) -> str:
        now = time.monotonic()
        for token in [t for t, o in self._offers.items() if o.expires < now]:
            del self._offers[token]
        token = secrets.token_urlsafe(24)
        self._offers[token] = offer
        return token

    def offer_for(self, token: str, username: str) -> HouseholdOffer | None:
        """The live offer made to this officer under `token`, if any."""
        offer = self._offers.get(token)
        if offer is None or offer.username != username:
            return None
        if offer.expires < time.monotonic():
            del self._offers[token]
            return None
        return offer

    def drop_offer(self, token: str) -> None:
        """An offer is used once."""
        self._offers.pop(token, None)


def _service(request: Request) -> DeskService:
    return request.app.state.desk


@router.get("/balie", response_class=HTMLResponse)
async def desk_form(
    request: Request, user: Annotated[SignedIn, Depends(require(DESK))]
) -> Response:
    from proactief.web.app import page

    return page(request, "desk.html", user, csrf_token=user.csrf_token)


@router.post("/balie", response_class=HTMLResponse)
async def desk_check(
    request: Request,
    user: Annotated[SignedIn, Depends(require(DESK))],
    rijksregisternummer: Annotated[str, Form(max_length=100)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    from proactief.uitpas import check_citizen
    from proactief.web.app import page

    check_csrf(user.csrf_token, csrf_token)
    service = _service(request)
    settings = service.settings
    store = service.store
    try:
        insz = validate(
            rijksregisternummer, allow_test_numbers=settings.core.allow_test_numbers
        )
    except InvalidInsz as exc:
        await run_in_threadpool(
            store.audit,
            user.username,
            "desk_check",
            benefit=BENEFIT,
            outcome="invalid_number",
        )
        return page(
            request,
            "desk.html",
            user,
            status_code=422,
            csrf_token=user.csrf_token,
            typed=rijksregisternummer,
            number_error=_number_error(str(exc)),
        )

    since = datetime.now(UTC) - timedelta(minutes=settings.desk_rate_window_minutes)
    done = await run_in_threadpool(
        store.count_audit_events, user.username, "desk_check", since
    )
    slowed = done >= settings.desk_rate_limit
    if slowed:
        await run_in_threadpool(
            store.audit,
            user.username,
            "desk_rate_exceeded",
            benefit=BENEFIT,
            detail=f"{done} checks in {settings.desk_rate_window_minutes:g} min",
        )
        log.warning(
            "desk officer %s went over the rate: %d checks in %g minutes",
            user.username,
            done,
            settings.desk_rate_window_minutes,
        )
        await asyncio.sleep(settings.desk_slowdown_seconds)

    today = today_in_brussels()
    started = time.perf_counter()
    answer = await check_citizen(
        service.client, insz, today=today, measures=service.measures(today)
    )
    elapsed_ms = int((time.perf_counter() - started) * 1000)
    answer = await run_in_threadpool(_earlier_grant_stands, store, insz, answer, today)
    ref = pseudonym(insz, settings.core.pseudonym_key)
    await run_in_threadpool(
        _record_check, service, user.username, insz, ref, answer, today, elapsed_ms
    )
    offer_token, members = None, []
    if answer.outcome == "granted" and answer.household:
        granted = await run_in_threadpool(
            store.final_decisions,
            BENEFIT,
            str(today.year),
            [m.insz for m in answer.household],
        )
        members = [
            m
            for m in answer.household
            if getattr(granted.get(m.insz), "outcome", None) != "granted"
        ]
    if members:
        offer_token = service.offer(
            HouseholdOffer(
                username=user.username,
                members=[(m.insz, m.first_name, m.birth_year) for m in members],
                period=str(today.year),
                rule_version=answer.rule_version,
                valid_until=answer.valid_until,
                expires=time.monotonic() + HOUSEHOLD_OFFER_MINUTES * 60,
            )
        )
    return page(
        request,
        "desk.html",
        user,
        csrf_token=user.csrf_token,
        answer=answer,
        number=formatted(insz),
        offer_token=offer_token,
        offer_members=members,
        slowed=slowed,
    )


def _earlier_grant_stands(store: Store, insz: str, answer, today: date):
    """A tariff granted earlier this year runs to its end date whatever today's
    look-up says (POLICY.md: valid until 31 December)."""
    from proactief.uitpas import DeskAnswer
    from rules import uitpas

    if str(answer.outcome) == "granted":
        return answer
    earlier = store.final_decisions(BENEFIT, str(today.year), [insz]).get(insz)
    if earlier is None or earlier.outcome != "granted":
        return answer
    return DeskAnswer(
        outcome=Outcome.GRANTED,
        reasons=(GRANTED_EARLIER,),
        valid_until=uitpas.valid_until(today.year),
        ask_for=(),
        household=(),
        rule_version=earlier.rule_version,
    )


def _number_error(message: str) -> str:
    if "check digits" in message:
        return (
            "Dit rijksregisternummer klopt niet: de controlecijfers passen niet bij"
            " de rest van het nummer. Kijk het nummer na op de identiteitskaart."
        )
    if "test number" in message:
        return "Testnummers zijn hier niet toegelaten."
    if "11 digits" in message:
        return (
            "Een rijksregisternummer heeft 11 cijfers (punten, streepjes en spaties"
            " mogen). Kijk het nummer na op de identiteitskaart."
        )
    return (
        "Dit is geen geldig rijksregister- of BIS-nummer. Kijk het nummer na op de"
        " identiteitskaart."
    )


def _evidence(today: date) -> str:
    return json.dumps(
        [
            f"GeefPersoon 02.02 as of {today}",
            f"GeefGezinssamenstelling 02.02 as of {today}",
            f"GeefSociaalStatuut 03.00 on {today} as of {today}",
            f"social_service.csv on {today}",
        ]
    )


def _record_check(
    service: DeskService,
    username: str,
    insz: str,
    ref: str,
    answer,
    today: date,
    elapsed_ms: int,
) -> None:
    """The audit line, the registry consultations, the decision and, for a
    "check by hand", the review case: all without a number in any log."""
    store = service.store
    store.record_consultations(service.drain_consultations())
    reasons = ",".join(answer.reasons)
    store.audit(
        username,
        "desk_check",
        benefit=BENEFIT,
        subject_ref=ref,
        outcome=str(answer.outcome),
        detail=f"{reasons} ({elapsed_ms} ms)",
    )
    store.record_on_the_spot(
        {
            "benefit": BENEFIT,
            "period": str(today.year),
            "subject": insz,
            "subject_ref": ref,
            "outcome": str(answer.outcome),
            "reasons": reasons,
            "evidence": _evidence(today),
            "rule_version": answer.rule_version,
            "run_id": f"desk:{today.isoformat()}",
        },
        settled_by=f"granted at the desk by {username}",
    )


@router.post("/balie/gezin", response_class=HTMLResponse)
async def household_grant(
    request: Request,
    user: Annotated[SignedIn, Depends(require(DESK))],
    aanbod: Annotated[str, Form(max_length=100)] = "",
    gezinslid: Annotated[list[int] | None, Form()] = None,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    from proactief.web.app import page

    check_csrf(user.csrf_token, csrf_token)
    service = _service(request)
    offer = service.offer_for(aanbod, user.username)
    if offer is None:
        return page(
            request,
            "desk.html",
            user,
            status_code=409,
            csrf_token=user.csrf_token,
            household_error=(
                "Dit aanbod voor de gezinsleden is verlopen of werd al gebruikt. Doe"
                " de controle opnieuw."
            ),
        )
    # ticks that match no member count as none
    chosen = [
        offer.members[i]
        for i in sorted(set(gezinslid or []))
        if 0 <= i < len(offer.members)
    ]
    if not chosen:  # the offer stays, to tick again
        return page(
            request,
            "desk.html",
            user,
            status_code=422,
            csrf_token=user.csrf_token,
            household_error="Vink minstens één gezinslid aan.",
            offer_again=aanbod,
            offer_members=[
                HouseholdMate(insz, name, year) for insz, name, year in offer.members
            ],
        )
    service.drop_offer(aanbod)
    await run_in_threadpool(_record_household, service, user.username, offer, chosen)
    return page(
        request,
        "desk.html",
        user,
        csrf_token=user.csrf_token,
        household_done=[(name, year) for _, name, year in chosen],
        valid_until=offer.valid_until,
    )


def _record_household(
    service: DeskService,
    username: str,
    offer: HouseholdOffer,
    chosen: list[tuple[str, str, int | None]],
) -> None:
    store = service.store
    key = service.settings.core.pseudonym_key
    rows = []
    for insz, _name, _year in chosen:
        ref = pseudonym(insz, key)
        rows.append(
            {
                "benefit": BENEFIT,
                "period": offer.period,
                "subject": insz,
                "subject_ref": ref,
                "outcome": "granted",
                "reasons": "household_member_granted",
                "evidence": json.dumps(
                    ["same household and address as a citizen granted at the desk"]
                ),
                "rule_version": offer.rule_version,
                "run_id": f"desk:{date.today().isoformat()}",
            }
        )
        store.audit(
            username,
            "desk_household_grant",
            benefit=BENEFIT,
            subject_ref=ref,
            outcome="granted",
        )
    store.record_grants(rows, settled_by=f"granted at the desk by {username}")
