"""The `uitpas-renewal` flow: extend this year's UiTPAS opportunity tariffs to the next.

grants of the year in the store → desk checks in chunks → decisions for the next
year → a letter to everyone extended → decisions file → summary.

Run once a year before 31 December (POLICY.md section 3): everyone granted the
tariff for year Y (at the desk, or by an earlier renewal) is checked again as of
the run's look-up date, with the desk's own check. Who still qualifies is granted
for Y+1 (reason `renewed`, valid until 31 December Y+1) without a visit. Ending a
tariff is never automatic: who no longer qualifies becomes a review case
(`renewal_not_qualifying`) and keeps the tariff of Y meanwhile; a check that
cannot be answered (a registry that kept failing, a person who died, ...) becomes
a review case too, never a refusal. Everyone extended gets a
short letter saying until when, once (its idempotency key is benefit, period and
subject). A rerun does not check again who was extended already, and writes no
letter twice.
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
from proactief.uitpas import DeskAnswer
from rules import uitpas
from tasks.decisions import publish_summary, record_decisions, write_decisions_file
from tasks.registry import RecordingRegistry
from tasks.stopped_runs import mark_stopped_flow_runs_crashed
from tasks.uitpas import (
    BENEFIT,
    NOT_QUALIFYING,
    check_citizen_chunk,
    decide_renewals,
    look_up_letter_recipients,
    read_renewal_cohort,
    write_renewal_letters,
)

BRUSSELS = ZoneInfo("Europe/Brussels")


@dataclass
class RenewalSummary:
    """What a renewal did, in counts only: safe for logs, artifacts and the terminal."""

    run_id: str
    year: int
    as_of: date
    granted: int = 0
    already_extended: int = 0
    checked: int = 0
    outcomes: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    registry_requests: int = 0
    registry_failures: int = 0
    review_opened: int = 0
    review_closed: int = 0
    letters_written: int = 0
    letters_held: int = 0
    letters_already_sent: int = 0
    letters_dir: str | None = None
    print_file: str | None = None
    decisions_file: str | None = None

    @property
    def extended(self) -> int:
        return self.outcomes["granted"]

    @property
    def no_longer_qualifying(self) -> int:
        """Review cases of people the check no longer found entitled: a
        reviewer decides whether their tariff ends (never automatic)."""
        return self.reasons[NOT_QUALIFYING]

    @property
    def review(self) -> int:
        return self.outcomes["review"]

    def counts(self) -> dict[str, int]:
        return {
            "granted_this_year": self.granted,
            "extended_before": self.already_extended,
            "checked": self.checked,
            "extended": self.extended,
            "no_longer_qualifying": self.no_longer_qualifying,
            "review": self.review,
            "review_cases_opened": self.review_opened,
            "review_cases_closed": self.review_closed,
            "registry_requests": self.registry_requests,
            "registry_requests_failed": self.registry_failures,
            "letters_written": self.letters_written,
            "letters_held_for_review": self.letters_held,
            "letters_already_sent": self.letters_already_sent,
        }


def resolve_dates(year: int | None, as_of: date | None) -> tuple[int, date]:
    """A run's own dates: from its schedule when scheduled, else from today.

    The grants of `year` are renewed on a look-up date in that year's renewal
    window (from 1 November until 31 December, see the rule's parameters).
    """
    if as_of is None:
        scheduled = flow_run.scheduled_start_time
        moment = scheduled if scheduled is not None else datetime.now(BRUSSELS)
        as_of = moment.astimezone(BRUSSELS).date()
    if year is None:
        year = as_of.year
    first, last = uitpas.renewal_window(year)
    if not first <= as_of <= last:
        raise CohortError(
            f"the grants of {year} are renewed on a look-up date from"
            f" {first.isoformat()} until {last.isoformat()}; {as_of.isoformat()} is"
            " outside that window. Pass an --as-of date inside it, or the --year"
            " whose grants to renew."
        )
    return year, as_of


async def _check_in_chunks(
    todo: list[str],
    *,
    gateway: RecordingRegistry,
    as_of: date,
    measures: dict[str, frozenset[str]],
    store_url: str,
    chunk_size: int,
    parallel_chunks: int,
) -> list[tuple[str, DeskAnswer]]:
    """The desk check of every subject, a task per chunk, a few chunks at once."""
    chunks = [todo[i : i + chunk_size] for i in range(0, len(todo), chunk_size)]
    gate = asyncio.Semaphore(parallel_chunks)

    async def run_chunk(number: int, chunk: list[str]):
        async with gate:
            return await check_citizen_chunk(
                quote(chunk),
                chunk_label=f"chunk {number}/{len(chunks)}",
                registry=quote(gateway),
                as_of=as_of,
                measures=quote(measures),
                database_url=store_url,
            )

    parts = await asyncio.gather(
        *(run_chunk(n, c) for n, c in enumerate(chunks, start=1))
    )
    return [pair for part in parts for pair in part]


@flow(name="uitpas-renewal", log_prints=False, persist_result=False)
async def uitpas_renewal_flow(
    city: str,
    registry: str,
    out: str,
    year: int | None = None,
    as_of: date | None = None,
    database: str | None = None,
    chunk_size: int = 500,
    parallel_chunks: int = 4,
    max_in_flight: int = 64,
    registry_timeout_s: float | None = None,
    send_letters: bool = True,
) -> RenewalSummary:
    """Check everyone granted the UiTPAS opportunity tariff for `year` again, and
    extend it to the next year for those who still qualify."""
    logger = get_run_logger()
    settings = Settings.from_env()
    store_url = database or settings.database_url
    year, as_of = resolve_dates(year, as_of)
    period = str(year + 1)
    store = Store(store_url)
    run_id = store.start_run(BENEFIT, period, as_of, flow_run_id=flow_run.id)
    summary = RenewalSummary(run_id=run_id, year=year, as_of=as_of)
    clock = StepClock()
    with store.running(run_id, summary.counts):
        await mark_stopped_flow_runs_crashed(store.interrupted_flow_runs(run_id))
        logger.info(
            "uitpas renewal of %d into %d: look-up date %s", year, year + 1, as_of
        )
        granted, extended, measures = read_renewal_cohort(
            store_url=store_url, city_dir=city, year=year, as_of=as_of
        )
        summary.granted = len(granted)
        summary.already_extended = len(extended)
        done = set(extended)
        todo = [subject for subject in granted if subject not in done]
        clock.lap("cohort")

        checked: list[tuple[str, DeskAnswer]] = []
        letters = None
        if granted:
            async with RecordingRegistry(
                registry,
                run_id,
                max_in_flight,
                registry_timeout_s,
                store_url=store_url,
            ) as gateway:
                if todo:
                    await gateway.probe(todo, as_of)
                    checked = await _check_in_chunks(
                        todo,
                        gateway=gateway,
                        as_of=as_of,
                        measures=measures,
                        store_url=store_url,
                        chunk_size=chunk_size,
                        parallel_chunks=parallel_chunks,
                    )
                else:
                    logger.info("nothing to check: every grant of %d is extended", year)
                summary.checked = len(checked)
                clock.lap("registry look-ups")
                if checked:
                    decided = decide_renewals(quote(checked), year=year, as_of=as_of)
                    summary.review_opened, summary.review_closed = record_decisions(
                        quote(decided),
                        benefit=BENEFIT,
                        period=period,
                        store_url=store_url,
                        run_id=run_id,
                        pseudonym_key=settings.pseudonym_key,
                    )
                    for _, decision, _ in decided:
                        summary.outcomes[decision.outcome.value] += 1
                        summary.reasons.update(decision.reasons)
                clock.lap("decisions")
                if send_letters:
                    letters = await look_up_letter_recipients(
                        store_url=store_url,
                        registry=quote(gateway),
                        year=year,
                        as_of=as_of,
                        subjects=quote(granted),
                    )
                    clock.lap("recipients' addresses")
            summary.registry_requests = gateway.requests
            summary.registry_failures = gateway.failures
        else:
            logger.info("nothing to renew: nobody was granted the tariff for %d", year)

        if letters is not None:
            summary.letters_written, summary.print_file = write_renewal_letters(
                quote(letters),
                store_url=store_url,
                run_id=run_id,
                year=year,
                out_dir=out,
            )
            summary.letters_held = letters.held
            summary.letters_already_sent = letters.already_sent
            summary.letters_dir = str(Path(out) / "letters")
            clock.lap("letters")
        elif not send_letters:
            logger.warning(
                "letters skipped: this run was started with send_letters off"
            )
        summary.decisions_file = write_decisions_file(
            store_url, BENEFIT, period, quote(granted), out
        )
        clock.lap("decisions file")
        publish_summary(
            key=f"uitpas-renewal-{year + 1}",
            title=f"UiTPAS renewal of {year} into {year + 1}, look-up date {as_of}",
            description=(
                f"UiTPAS opportunity tariff: renewal of {year} into {year + 1}, look-up"
                f" date {as_of}. Counts only, no personal data."
            ),
            counts=summary.counts(),
            reasons=dict(summary.reasons),
            store_url=store_url,
            run_id=run_id,
            steps=clock.seconds,
            files={
                "decisions": summary.decisions_file,
                "print files": summary.print_file,
            },
        )
    return summary
