"""The `school-tariffs` flow: the social tariff of schools and childcare, per check.

school files → pupil look-ups in chunks → decisions (never worse than an earlier
check of the year) → school lists and invoices → summary.

Six checks a school year (1 September, 1 November, 1 January, 1 March, 1 May,
1 June); each bills the period that starts on its reference date. A bad pupil list
or a bad line never stops the other schools: a file that cannot be read is refused
with its reason, a line that cannot be used becomes a review case.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

import proactief  # noqa: F401  (no-telemetry environment first)
from proactief.config import Settings
from proactief.errors import CohortError
from proactief.run_report import StepClock
from proactief.store import Store
from rules import school_tariffs
from tasks.decisions import publish_summary, record_decisions, write_decisions_file
from tasks.pupils import (
    BENEFIT,
    decide_tariffs,
    evidence,
    look_up_pupil_chunk,
    period_of,
    previous_categories,
    publish_school_documents,
    read_school_files_task,
    record_rejected_rows,
)
from tasks.registry import RecordingRegistry
from tasks.stopped_runs import mark_stopped_flow_runs_crashed

BRUSSELS = ZoneInfo("Europe/Brussels")


@dataclass
class TariffRunSummary:
    """What a check did, in counts only: safe for logs, artifacts and the terminal."""

    run_id: str
    school_year: str
    check: int
    as_of: date
    files_refused: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    billing_lines_not_invoiced: int = 0
    lines_rejected: int = 0
    pupils: int = 0
    outcomes: Counter = field(default_factory=Counter)
    categories: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    review_opened: int = 0
    registry_requests: int = 0
    registry_failures: int = 0
    lists_written: int = 0
    invoices_written: int = 0
    invoices_already_sent: int = 0
    invoices_held: int = 0
    lists_dir: str = ""
    invoices_dir: str = ""
    decisions_file: str = ""

    def counts(self) -> dict[str, int]:
        return {
            "files_refused": len(self.files_refused),
            "lines_rejected": self.lines_rejected,
            "pupils": self.pupils,
            **{f"outcome_{k}": v for k, v in sorted(self.outcomes.items())},
            **{f"category_{k}": v for k, v in sorted(self.categories.items())},
            "review_cases_opened": self.review_opened,
            "registry_requests": self.registry_requests,
            "registry_requests_failed": self.registry_failures,
            "school_lists_written": self.lists_written,
            "invoices_written": self.invoices_written,
            "invoices_already_sent": self.invoices_already_sent,
            "invoices_held_for_review": self.invoices_held,
            "billing_lines_not_invoiced": self.billing_lines_not_invoiced,
        }


def resolve_look_up_date(as_of: date | None) -> date:
    if as_of is not None:
        return as_of
    scheduled = flow_run.scheduled_start_time
    moment = scheduled if scheduled is not None else datetime.now(BRUSSELS)
    return moment.astimezone(BRUSSELS).date()


def school_year_of(day: date) -> str:
    """The school year a day falls in: 2026-2027 from 1 September 2026."""
    first = day.year if day.month >= 9 else day.year - 1
    return f"{first}-{first + 1}"


@flow(name="school-tariffs", log_prints=False, persist_result=False)
async def school_tariffs_flow(
    city: str,
    registry: str,
    out: str,
    check: int,
    school_year: str | None = None,
    pupils: list[str] | None = None,
    billing: list[str] | None = None,
    inbox: str | None = None,
    as_of: date | None = None,
    database: str | None = None,
    chunk_size: int = 500,
    parallel_chunks: int = 4,
    max_in_flight: int = 64,
    registry_timeout_s: float | None = None,
) -> TariffRunSummary:
    """Decide the social tariff of every pupil the schools sent, and publish the
    school lists and the invoices of the period."""
    logger = get_run_logger()
    settings = Settings.from_env()
    store_url = database or settings.database_url
    as_of = resolve_look_up_date(as_of)
    school_year = school_year or school_year_of(as_of)
    on = school_tariffs.check_reference_date(school_year, check)
    pupils, billing = list(pupils or []), list(billing or [])
    if inbox:
        pupils += sorted(str(p) for p in Path(inbox).glob("pupils-*.csv"))
        billing += sorted(str(p) for p in Path(inbox).glob("billing-*.csv"))
    if as_of < on:
        raise CohortError(
            f"the look-up date {as_of} lies before check {check}'s reference date"
            f" {on}: run the check on or after that day"
        )
    period = period_of(school_year, check)
    income_year = school_tariffs.income_year(school_year)
    store = Store(store_url)
    run_id = store.start_run(BENEFIT, period, as_of, flow_run_id=flow_run.id)
    summary = TariffRunSummary(run_id, school_year, check, as_of)
    clock = StepClock()
    with store.running(run_id, summary.counts):
        await mark_stopped_flow_runs_crashed(store.interrupted_flow_runs(run_id))
        logger.info(
            "school tariffs %s check %d: reference date %s, look-up date %s",
            school_year,
            check,
            on,
            as_of,
        )

        files = read_school_files_task(city, pupils, billing)
        summary.files_refused = [Path(r.path).name for r in files.refused]
        summary.refusals = [r.message for r in files.refused]
        summary.lines_rejected = sum(
            len(f.rejected) for f in [*files.pupil_lists, *files.billing_files]
        )
        summary.review_opened += record_rejected_rows(
            quote(files),
            period=period,
            store_url=store_url,
            run_id=run_id,
            key=settings.pseudonym_key,
        )
        cohort = sorted({p.insz for f in files.pupil_lists for p in f.pupils})
        summary.pupils = len(cohort)
        clock.lap("school files")
        if not cohort:
            raise CohortError(
                "no pupil list could be used: "
                + (
                    "; ".join(r.message for r in files.refused)
                    if files.refused
                    else "no pupil list was given"
                )
            )

        chunks = [cohort[i : i + chunk_size] for i in range(0, len(cohort), chunk_size)]
        gate = asyncio.Semaphore(parallel_chunks)
        async with RecordingRegistry(
            registry,
            run_id,
            max_in_flight,
            registry_timeout_s,
            store_url=store_url,
        ) as gateway:
            await gateway.probe(cohort, as_of)

            async def run_chunk(number: int, chunk: list[str]):
                async with gate:
                    return await look_up_pupil_chunk(
                        quote(chunk),
                        chunk_label=f"chunk {number}/{len(chunks)}",
                        registry=quote(gateway),
                        on=on,
                        as_of=as_of,
                        income_year=income_year,
                        database_url=store_url,
                    )

            looked = [
                pupil
                for part in await asyncio.gather(
                    *(run_chunk(n, c) for n, c in enumerate(chunks, start=1))
                )
                for pupil in part
            ]
        summary.registry_requests = gateway.requests
        summary.registry_failures = gateway.failures
        clock.lap("registry look-ups")

        decided = decide_tariffs(
            quote(looked),
            school_year=school_year,
            check=check,
            previous=quote(previous_categories(store, school_year, check)),
        )
        on_evidence = {
            p.pupil: evidence(
                on,
                as_of,
                income_year,
                school_tariffs.income_band(
                    school_tariffs.household_income(p.situation), on
                )
                if p.situation
                else None,
            )
            for p in looked
        }
        opened, _ = record_decisions(
            quote([(d.pupil, d.decision, on_evidence[d.pupil]) for d in decided]),
            benefit=BENEFIT,
            period=period,
            store_url=store_url,
            run_id=run_id,
            pseudonym_key=settings.pseudonym_key,
        )
        summary.review_opened += opened
        for d in decided:
            summary.outcomes[d.decision.outcome.value] += 1
            summary.categories[d.decision.category or "none"] += 1
            summary.reasons.update(d.decision.reasons)
        clock.lap("decisions")

        published = publish_school_documents(
            quote(files),
            quote(decided),
            quote({p.pupil: p.person for p in looked if p.person}),
            school_year=school_year,
            check=check,
            store_url=store_url,
            run_id=run_id,
            out_dir=out,
            issue_date=as_of,
            key=settings.pseudonym_key,
        )
        summary.lists_written = published.lists_written
        summary.invoices_written = published.invoices_written
        summary.invoices_already_sent = published.invoices_already_sent
        summary.invoices_held = published.invoices_held_for_review
        summary.billing_lines_not_invoiced = published.billing_unmatched
        summary.lists_dir = published.lists_dir
        summary.invoices_dir = published.invoices_dir
        clock.lap("school lists and invoices")
        summary.decisions_file = write_decisions_file(
            store_url, BENEFIT, period, quote(cohort), out
        )
        clock.lap("decisions file")
        publish_summary(
            key=f"school-tariffs-{school_year}-check{check}",
            title=f"School tariffs {school_year}, check {check}, look-up date {as_of}",
            description=(
                f"School tariffs {school_year}, check {check}, look-up date {as_of}:"
                " counts by outcome, category and reason. No personal data."
            ),
            counts=summary.counts(),
            reasons=dict(summary.reasons),
            store_url=store_url,
            run_id=run_id,
            steps=clock.seconds,
            files={
                "decisions": summary.decisions_file,
                "school lists": summary.lists_dir,
                "invoices": summary.invoices_dir,
            },
        )
    return summary
