"""The audit log: who looked up whom and who decided what, for supervisors.

Filterable by officer and by day (Europe/Brussels), newest first, and exported
as CSV with the same filters. Subjects appear by pseudonymous reference only.
Officers who went over the desk's check rate are listed at the top.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from proactief.web import labels
from proactief.web.accounts import SignedIn
from proactief.web.security import SUPERVISE, require

router = APIRouter()
BRUSSELS = ZoneInfo("Europe/Brussels")
PAGE_SIZE = 100
CSV_HEADER = [
    "tijdstip",
    "medewerker",
    "actie",
    "voordeel",
    "referentie",
    "uitkomst",
    "detail",
]


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _bounds(van: str, tot: str) -> tuple[datetime | None, datetime | None, str | None]:
    """UTC bounds of the Brussels days from `van` up to and including `tot`."""
    start, end = _day(van), _day(tot)
    invalid = "Een datum is niet geldig; schrijf ze als JJJJ-MM-DD."
    if (van and start is None) or (tot and end is None):
        return None, None, invalid
    try:
        since = (
            datetime.combine(start, time(), BRUSSELS).astimezone(UTC) if start else None
        )
        until = (
            datetime.combine(end + timedelta(days=1), time(), BRUSSELS).astimezone(UTC)
            if end
            else None
        )
    except OverflowError:  # 0001-01-01 or 9999-12-31
        return None, None, invalid
    if since is not None and until is not None and since >= until:
        return None, None, "De begindag ligt na de einddag."
    return since, until, None


@router.get("/audit", response_class=HTMLResponse)
async def audit_log(
    request: Request,
    user: Annotated[SignedIn, Depends(require(SUPERVISE))],
    medewerker: str = "",
    van: str = "",
    tot: str = "",
    actie: str = "",
    pagina: int = 1,
) -> Response:
    from proactief.web.app import page

    store = request.app.state.store
    since, until, error = _bounds(van, tot)

    def page_of(number: int):
        return store.audit_events(
            actor=medewerker.strip() or None,
            since=since,
            until=until,
            action=actie or None,
            limit=PAGE_SIZE,
            offset=(number - 1) * PAGE_SIZE,
        )

    events, total = [], 0
    pagina = max(1, min(pagina, 100_000))
    if error is None:
        events, total = await run_in_threadpool(page_of, pagina)
    pages = max(1, -(-total // PAGE_SIZE))
    if total and pagina > pages:  # a page past the end shows the last one
        pagina = pages
        events, total = await run_in_threadpool(page_of, pagina)
    recent, _ = await run_in_threadpool(
        lambda: store.audit_events(
            action="desk_rate_exceeded",
            since=datetime.now(UTC) - timedelta(days=7),
            limit=None,
        )
    )
    alerts: dict[str, tuple[int, datetime]] = {}
    for event in recent:  # newest first: one line per officer
        count, last = alerts.get(event.actor, (0, event.at))
        alerts[event.actor] = (count + 1, last)
    officers = sorted({a.username for a in request.app.state.accounts.all()})
    return page(
        request,
        "audit.html",
        user,
        events=events,
        total=total,
        alerts=alerts,
        officers=officers,
        actions=labels.ACTIONS,
        medewerker=medewerker,
        van=van,
        tot=tot,
        actie=actie,
        error=error,
        pagina=pagina,
        pages=pages,
        query=request.url.query,
    )


@router.get("/audit.csv")
async def audit_export(
    request: Request,
    user: Annotated[SignedIn, Depends(require(SUPERVISE))],
    medewerker: str = "",
    van: str = "",
    tot: str = "",
    actie: str = "",
) -> Response:
    store = request.app.state.store
    since, until, error = _bounds(van, tot)
    if error:
        # never the whole log when a filter was meant: the page says what is wrong
        return await audit_log(request, user, medewerker, van, tot, actie, 1)
    events, total = await run_in_threadpool(
        lambda: store.audit_events(
            actor=medewerker.strip() or None,
            since=since,
            until=until,
            action=actie or None,
            limit=None,
        )
    )
    await run_in_threadpool(
        store.audit, user.username, "audit_exported", detail=f"{total} lines"
    )

    def rows():
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")
        buffer.write("\ufeff")  # so that a spreadsheet reads it as UTF-8
        writer.writerow(CSV_HEADER)
        for event in events:
            at = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)
            writer.writerow(
                [
                    at.astimezone(BRUSSELS).isoformat(timespec="seconds"),
                    event.actor,
                    event.action,
                    event.benefit or "",
                    event.subject_ref or "",
                    event.outcome or "",
                    event.detail,
                ]
            )
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    stamp = datetime.now(BRUSSELS).strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="auditlog-{stamp}.csv"'},
    )
