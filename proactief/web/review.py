"""The review queue: grey-zone cases of every benefit, decided by a person.

Reviewers see the open cases oldest first, filtered by benefit and reason, with
what the flow knew (reasons, the sources and their dates, an income band, never
an amount). They grant, with the amount or category the policy allows, or refuse,
always with a written motivation; the store keeps who and when. A supervisor can
reopen a decided case as long as nothing was sent for it. The follow-up flow
`publish-reviewed` sends the letters and invoices of decided cases.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from proactief.documents.formatting import format_euro
from proactief.errors import ReviewCaseStateError
from proactief.insz import is_valid
from proactief.store import ReviewCase
from proactief.web import labels
from proactief.web.accounts import SignedIn
from proactief.web.security import REVIEW, SUPERVISE, check_csrf, may, require

log = logging.getLogger("proactief.web.review")
router = APIRouter()
PAGE_SIZE = 50
MIN_MOTIVATION = 10
GRANTED_CATEGORIES = ("social", "low_income_a", "low_income_b")
# A case number in a URL: a whole number the database can hold.
CaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@dataclass(frozen=True)
class GrantChoice:
    value: str
    label: str


def grant_choices(case: ReviewCase) -> list[GrantChoice]:
    """What a reviewer may grant for this case's benefit, as the policy allows."""
    if case.benefit == "garbage-bags":
        from rules import garbage_bags, parameters

        year = int(case.period)
        on = garbage_bags.reference_date(year)
        brackets = parameters.load("garbage-bags").value_on(
            "amount_by_other_members", on
        )["brackets"]
        choices = []
        for bracket in brackets:
            amount, credit = garbage_bags.voucher_amount(bracket["min"], on)
            if bracket["max"] is None:
                size = f"{bracket['min']} of meer andere gezinsleden"
            elif bracket["min"] == bracket["max"] == 0:
                size = "geen andere gezinsleden"
            elif bracket["min"] == bracket["max"] == 1:
                size = "1 ander gezinslid"
            elif bracket["min"] == bracket["max"]:
                size = f"{bracket['min']} andere gezinsleden"
            else:
                size = f"{bracket['min']} tot {bracket['max']} andere gezinsleden"
            choices.append(
                GrantChoice(
                    str(bracket["min"]),
                    f"{size}: {format_euro(amount)} en {format_euro(credit)}"
                    " ophaalkrediet",
                )
            )
        return choices
    if case.benefit == "school-tariffs":
        return [GrantChoice(c, labels.category(c)) for c in GRANTED_CATEGORIES]
    return []


def decides_a_person(case: ReviewCase) -> bool:
    """Cases about a school's file rather than a person can only be handled."""
    return is_valid(case.subject, allow_test_numbers=True)


def _store(request: Request):
    return request.app.state.store


@router.get("/beoordeling", response_class=HTMLResponse)
async def queue(
    request: Request,
    user: Annotated[SignedIn, Depends(require(REVIEW))],
    voordeel: str = "",
    reden: str = "",
    status: str = "open",
    pagina: int = 1,
) -> Response:
    from proactief.web.app import page

    store = _store(request)
    if status not in ("open", "decided"):
        status = "open"
    pagina = max(1, min(pagina, 100_000))
    cases, total = await run_in_threadpool(
        lambda: store.review_queue(
            status=status,
            benefit=voordeel or None,
            reason=reden or None,
            limit=PAGE_SIZE,
            offset=(pagina - 1) * PAGE_SIZE,
        )
    )
    facets = await run_in_threadpool(store.review_facets, status)
    return page(
        request,
        "review_list.html",
        user,
        cases=cases,
        total=total,
        facets=facets,
        chosen_benefit=voordeel,
        chosen_reason=reden,
        status=status,
        pagina=pagina,
        pages=max(1, -(-total // PAGE_SIZE)),
    )


async def _case_page(
    request: Request,
    user: SignedIn,
    case_id: CaseId,
    *,
    show_number: bool = False,
    error: str | None = None,
    status_code: int = 200,
    form: dict | None = None,
) -> Response:
    from proactief.web.app import page

    store = _store(request)
    case = await run_in_threadpool(store.review_case, case_id)
    if case is None:
        return page(
            request,
            "error.html",
            user,
            status_code=404,
            title="Dossier niet gevonden",
            message="Er is geen beoordeling met dit nummer.",
        )
    return page(
        request,
        "review_case.html",
        user,
        status_code=status_code,
        case=case,
        reasons=labels.reasons(case.reasons),
        evidence=labels.evidence(case.evidence),
        choices=grant_choices(case),
        person=decides_a_person(case),
        number=_formatted(case.subject) if show_number else None,
        may_reopen=may(user, SUPERVISE),
        csrf_token=user.csrf_token,
        error=error,
        form=form or {},
        today=date.today(),
    )


def _formatted(subject: str) -> str:
    if len(subject) == 11 and subject.isdigit():
        from proactief.web.desk import formatted

        return formatted(subject)
    return subject


async def _audit_case(
    request: Request, user: SignedIn, case_id: int, action: str
) -> None:
    store = _store(request)
    case = await run_in_threadpool(store.review_case, case_id)
    if case is not None:
        await run_in_threadpool(
            store.audit,
            user.username,
            action,
            benefit=case.benefit,
            subject_ref=case.subject_ref,
            detail=f"case {case.id}",
        )


@router.get("/beoordeling/{case_id}", response_class=HTMLResponse)
async def case_detail(
    request: Request,
    case_id: CaseId,
    user: Annotated[SignedIn, Depends(require(REVIEW))],
) -> Response:
    await _audit_case(request, user, case_id, "review_viewed")
    return await _case_page(request, user, case_id)


@router.post("/beoordeling/{case_id}/nummer", response_class=HTMLResponse)
async def show_number(
    request: Request,
    case_id: CaseId,
    user: Annotated[SignedIn, Depends(require(REVIEW))],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """The national number, for a reviewer who must look further: logged."""
    check_csrf(user.csrf_token, csrf_token)
    await _audit_case(request, user, case_id, "review_number_shown")
    return await _case_page(request, user, case_id, show_number=True)


@router.post("/beoordeling/{case_id}/beslissing", response_class=HTMLResponse)
async def decide(
    request: Request,
    case_id: CaseId,
    user: Annotated[SignedIn, Depends(require(REVIEW))],
    beslissing: Annotated[str, Form(max_length=20)] = "",
    keuze: Annotated[str, Form(max_length=40)] = "",
    motivering: Annotated[str, Form(max_length=4000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_csrf(user.csrf_token, csrf_token)
    store = _store(request)
    case = await run_in_threadpool(store.review_case, case_id)
    form = {"beslissing": beslissing, "keuze": keuze, "motivering": motivering}

    async def again(error: str, status_code: int = 422) -> Response:
        return await _case_page(
            request, user, case_id, error=error, status_code=status_code, form=form
        )

    if case is None:
        return await _case_page(request, user, case_id)
    person = decides_a_person(case)
    allowed = ("granted", "not_granted") if person else ("handled",)
    if beslissing not in allowed:
        return await again("Kies een beslissing.")
    if len(motivering.strip()) < MIN_MOTIVATION:
        return await again(
            f"Schrijf een motivering van minstens {MIN_MOTIVATION} tekens: waarom"
            " deze beslissing?"
        )
    fields: dict = {}
    choices = {c.value: c for c in grant_choices(case)}
    if beslissing == "granted" and choices:
        if keuze not in choices:
            return await again(
                "Kies het bedrag of de categorie die u toekent."
                if case.benefit != "school-tariffs"
                else "Kies de tariefcategorie die u toekent."
            )
        fields = _granted_fields(case, keuze)
    elif beslissing == "not_granted" and case.benefit == "school-tariffs":
        fields = {"category": "standard"}
    try:
        decided = await run_in_threadpool(
            lambda: store.decide_review_case(
                case_id,
                outcome=beslissing,
                decided_by=user.username,
                motivation=motivering,
                **fields,
            )
        )
    except ReviewCaseStateError:
        return await again(
            "Dit dossier is intussen al beslist of gesloten; er werd niets gewijzigd.",
            status_code=409,
        )
    await run_in_threadpool(
        store.audit,
        user.username,
        "review_decided",
        benefit=decided.benefit,
        subject_ref=decided.subject_ref,
        outcome=beslissing,
        detail=f"case {decided.id}",
    )
    return RedirectResponse(f"/beoordeling?bewaard={decided.id}", status_code=303)


def _granted_fields(case: ReviewCase, choice: str) -> dict:
    if case.benefit == "garbage-bags":
        from rules import garbage_bags

        on = garbage_bags.reference_date(int(case.period))
        amount, credit = garbage_bags.voucher_amount(int(choice), on)
        return {
            "amount_cents": int(amount * 100),
            "extra_credit_cents": int(credit * 100),
        }
    if case.benefit == "school-tariffs":
        return {"category": choice}
    return {}


@router.post("/beoordeling/{case_id}/heropenen", response_class=HTMLResponse)
async def reopen(
    request: Request,
    case_id: CaseId,
    user: Annotated[SignedIn, Depends(require(SUPERVISE))],
    motivering: Annotated[str, Form(max_length=4000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_csrf(user.csrf_token, csrf_token)
    store = _store(request)
    if len(motivering.strip()) < MIN_MOTIVATION:
        return await _case_page(
            request,
            user,
            case_id,
            status_code=422,
            error=(
                f"Schrijf waarom u dit dossier heropent (minstens {MIN_MOTIVATION}"
                " tekens)."
            ),
        )
    try:
        case = await run_in_threadpool(store.reopen_review_case, case_id, motivering)
    except ReviewCaseStateError as exc:
        sent = "already sent" in str(exc)
        return await _case_page(
            request,
            user,
            case_id,
            status_code=409,
            error=(
                "Dit dossier kan niet heropend worden: de brief of factuur is al"
                " verstuurd. Een correctie is een nieuwe beslissing."
                if sent
                else "Dit dossier is niet beslist door een beoordelaar en kan dus"
                " niet heropend worden."
            ),
        )
    await run_in_threadpool(
        store.audit,
        user.username,
        "review_reopened",
        benefit=case.benefit,
        subject_ref=case.subject_ref,
        detail=f"case {case.id}",
    )
    return RedirectResponse(f"/beoordeling/{case.id}?heropend=1", status_code=303)
