"""The machine-to-machine API: the LEZ permit system asks about a citizen's vehicle.

`POST /api/lez/checks` with a national number, a number plate and (optionally)
the national number of the relative who applies, answers both questions of
POLICY.md section 4: is the vehicle registered free of charge (parking card and
increased allowance, one vehicle per card), and does the citizen get the social
tariff on day passes. Each part is `granted`, `not_granted` or `manual_check`,
with its end date and reason codes the permit system can show. A registry that
does not answer gives `manual_check`, never a refusal.

Callers authenticate with an API key per client system (`Authorization: Bearer
<key>`); keys are kept hashed and can be revoked (`proactief api-clients`).
Every call is in the audit log by pseudonymous reference, like a desk check. The
OpenAPI description is served at `/api/openapi.json`. Error answers never repeat
what was sent: it may hold a national number.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import date
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from proactief.errors import InvalidInsz
from proactief.insz import pseudonym, validate
from proactief.store import Store
from proactief.web.apikeys import ApiKeys

log = logging.getLogger("proactief.web.api")
FREE = "lez-free-registration"
DAY_PASS = "lez-day-pass"
OUTCOMES = {
    "granted": "granted",
    "not_granted": "not_granted",
    "review": "manual_check",
}


class LezCheckRequest(BaseModel):
    """A question of the permit system about one citizen and one vehicle."""

    model_config = ConfigDict(extra="forbid")

    insz: str = Field(
        min_length=1,
        max_length=32,
        description=(
            "National number (INSZ) of the citizen with the parking card; dots,"
            " dashes and spaces are allowed."
        ),
        examples=["85.07.30-033.28"],
    )
    plate: str = Field(
        min_length=1,
        max_length=20,
        description="Number plate of the vehicle, e.g. 1-ABC-123.",
        examples=["1-ABC-123"],
    )
    applicant_insz: str | None = Field(
        default=None,
        max_length=32,
        description=(
            "National number of who applies, when that is a relative at the"
            " citizen's address; empty when the citizen applies."
        ),
    )


class Part(BaseModel):
    outcome: Literal["granted", "not_granted", "manual_check"] = Field(
        description="`manual_check`: the permit system's staff decide by hand."
    )
    valid_until: date | None = Field(
        description="Last day of the grant; null unless granted."
    )
    reasons: list[str] = Field(description="Stable reason codes.")


class FreeRegistration(Part):
    plate: str = Field(description="The plate as registered (normalised).")


class DayPassTariff(Part):
    pass


class LezCheckResponse(BaseModel):
    check_id: str = Field(description="Reference of this check in Proactief's log.")
    free_registration: FreeRegistration
    social_tariff: DayPassTariff


class ApiError(BaseModel):
    error: str = Field(description="Stable error code.")
    message: str = Field(description="What is wrong, without the data sent.")
    field: str | None = Field(default=None, description="The field concerned.")


def _error(
    status: int, error: str, message: str, field: str | None = None, headers=None
):
    return JSONResponse(
        status_code=status,
        content=ApiError(error=error, message=message, field=field).model_dump(),
        headers=headers,
    )


class Unauthorised(Exception):
    """A call without a live API key."""


bearer = HTTPBearer(auto_error=False, description="An API key per client system.")


def client_of(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    """The client system behind the call's API key."""
    keys: ApiKeys = request.app.state.keys
    name = keys.client_of(credentials.credentials if credentials else None)
    if name is None:
        raise Unauthorised()
    return name


ERRORS = {
    401: {"model": ApiError, "description": "Missing, unknown or revoked API key."},
    422: {"model": ApiError, "description": "A field is missing or not valid."},
}


def create_api(
    store: Store, desk: Callable[[], object], allow_test_numbers: bool, key: bytes
) -> FastAPI:
    """The API application, mounted at /api by the web app. `desk` gives the
    web app's desk service (its registry client), made when the app starts."""
    api = FastAPI(
        title="Proactief API",
        version="1",
        description=__doc__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    api.state.keys = ApiKeys(store)

    @api.exception_handler(Unauthorised)
    async def unauthorised(_request: Request, _exc: Unauthorised):
        await run_in_threadpool(
            store.audit, "api:(no valid key)", "api_refused", benefit="lez"
        )
        return _error(
            401,
            "unauthorised",
            "Send a valid API key as 'Authorization: Bearer <key>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        # the key first: a caller without one learns nothing about the body
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        client = api.state.keys.client_of(token if scheme.lower() == "bearer" else None)
        if client is None:
            return await unauthorised(request, Unauthorised())
        await run_in_threadpool(
            store.audit,
            f"api:{client}",
            "lez_check",
            benefit="lez",
            outcome="invalid_request",
        )
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("type") == "json_invalid":
            return _error(422, "invalid_request", "The request body is not valid JSON.")
        location = [str(p) for p in first.get("loc", ()) if p != "body"]
        return _error(
            422,
            "invalid_request",
            "The request is not a JSON object with the fields insz, plate and"
            " optionally applicant_insz, each a string.",
            ".".join(location) or None,
        )

    @api.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException):
        if exc.status_code == 400:  # a body that is not JSON at all
            return _error(422, "invalid_request", "The request body is not valid JSON.")
        codes = {404: "not_found", 405: "method_not_allowed"}
        return _error(
            exc.status_code,
            codes.get(exc.status_code, "http_error"),
            "This address or method is not part of the API.",
            headers=getattr(exc, "headers", None),
        )

    @api.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.error("unexpected %s on %s", type(exc).__name__, request.url.path)
        return _error(500, "internal_error", "Something went wrong on our side.")

    async def refused(client: str, error: str, message: str, field: str):
        await run_in_threadpool(
            store.audit, f"api:{client}", "lez_check", benefit="lez", outcome=error
        )
        return _error(422, error, message, field)

    @api.post(
        "/lez/checks",
        response_model=LezCheckResponse,
        responses=ERRORS,
        summary="Free LEZ registration and day-pass social tariff of a citizen",
        operation_id="checkLez",
    )
    async def check(
        body: LezCheckRequest, client: Annotated[str, Depends(client_of)]
    ) -> LezCheckResponse | JSONResponse:
        from proactief.lez import check_vehicle, normalise_plate
        from proactief.web.desk import today_in_brussels

        numbers = {}
        for field in ("insz", "applicant_insz"):
            raw = getattr(body, field)
            if field == "applicant_insz" and not raw:
                numbers[field] = numbers["insz"]
                continue
            try:
                numbers[field] = validate(raw, allow_test_numbers=allow_test_numbers)
            except InvalidInsz as exc:
                return await refused(client, "invalid_insz", str(exc), field)
        try:
            plate = normalise_plate(body.plate)
        except ValueError as exc:
            return await refused(client, "invalid_plate", str(exc), "plate")

        insz, applicant = numbers["insz"], numbers["applicant_insz"]
        service = desk()
        today = today_in_brussels()
        current = await run_in_threadpool(store.active_lez_registration, insz)
        answer = await check_vehicle(
            service.client,
            insz,
            applicant_insz=applicant,
            plate=plate,
            today=today,
            registered_plate=current.plate if current else None,
        )
        check_id = uuid.uuid4().hex
        free, tariff = await run_in_threadpool(
            _record,
            store,
            service,
            client=client,
            check_id=check_id,
            insz=insz,
            applicant=applicant,
            plate=plate,
            answer=answer,
            today=today,
            key=key,
        )
        return LezCheckResponse(
            check_id=check_id,
            free_registration=FreeRegistration(plate=plate, **free),
            social_tariff=DayPassTariff(**tariff),
        )

    return api


def _part(part) -> dict:
    outcome = OUTCOMES[str(part.outcome)]
    return {
        "outcome": outcome,
        "valid_until": part.valid_until if outcome == "granted" else None,
        "reasons": list(part.reasons),
    }


def _record(
    store: Store,
    service,
    *,
    client: str,
    check_id: str,
    insz: str,
    applicant: str,
    plate: str,
    answer,
    today: date,
    key: bytes,
) -> tuple[dict, dict]:
    """Register the vehicle when granted, store both decisions, open a review
    case for a manual check, and log the call: nothing personal in the log."""
    ref = pseudonym(insz, key)
    free, tariff = _part(answer.free_registration), _part(answer.social_tariff)
    current = store.active_lez_registration(insz)
    if (
        free["outcome"] == "manual_check"
        and "registry_failed" in free["reasons"]
        and current is not None
        and current.plate == plate
        and current.status == "active"
        and current.valid_until >= today
    ):
        # the registry is silent, but this very vehicle is registered: say so
        free = {
            "outcome": "granted",
            "valid_until": current.valid_until,
            "reasons": ["vehicle_registered_before"],
        }
    elif free["outcome"] == "granted":
        registered = store.register_lez_vehicle(
            card_holder=insz,
            card_holder_ref=ref,
            plate=plate,
            applicant_ref=pseudonym(applicant, key),
            client=client,
            valid_until=free["valid_until"],
        )
        if registered is None:  # another plate took the card in the meantime
            free = {
                "outcome": "not_granted",
                "valid_until": None,
                "reasons": ["card_already_used_for_other_vehicle"],
            }
    store.record_consultations(service.drain_consultations())
    period = str(today.year)
    evidence = json.dumps(
        [
            f"GeefPersoon 02.02 as of {today}",
            f"GeefGezinssamenstelling 02.02 as of {today}",
            f"GeefSociaalStatuut 03.00 on {today} as of {today}",
            f"GeefDossierHandicap 03.00 as of {today}",
        ]
    )
    for benefit, part in ((FREE, free), (DAY_PASS, tariff)):
        outcome = {"manual_check": "review"}.get(part["outcome"], part["outcome"])
        reasons = ",".join(part["reasons"])
        sources = evidence
        if benefit == FREE:  # what a reviewer needs to register it by hand
            sources = json.dumps([*json.loads(evidence), f"number plate {plate}"])
        store.record_on_the_spot(
            {
                "benefit": benefit,
                "period": period,
                "subject": insz,
                "subject_ref": ref,
                "outcome": outcome,
                "reasons": reasons,
                "evidence": sources,
                "rule_version": answer.rule_version,
                "run_id": f"api:{today.isoformat()}",
            },
            settled_by=f"granted through the API ({client})",
        )
    store.audit(
        f"api:{client}",
        "lez_check",
        benefit="lez",
        subject_ref=ref,
        outcome=f"{free['outcome']}/{tariff['outcome']}",
        detail=f"check {check_id}: {','.join(free['reasons'] + tariff['reasons'])}",
    )
    return free, tariff
