"""The `lez-renewal` flow: re-check Low Emission Zone grants before they end.

registrations and day-pass tariffs due → LEZ checks in chunks → extended, ending
or review → ending letters, once each → decisions file → summary.

Run monthly (POLICY.md section 4, "a renewal flow re-checks registrations before
they end"), as of its look-up date:

- every active free registration that ends within the renewal window (two
  months, a rule parameter) is checked again, for the card's own vehicle. Who
  still qualifies beyond the window is extended to the end the rule gives (five
  years at most, or the end of the card or the allowance);
- from the run whose window reaches 31 December on (5 November and 5 December),
  every day-pass social tariff granted for the year is checked again, and who
  still qualifies is granted the next year (reason `renewed`).

Ending is never automatic: a registration that no longer qualifies, or whose card
or allowance ends within the window, becomes `ending` with a review case
(`renewal_not_qualifying` or `renewal_status_ends`); a tariff likewise becomes a
review case for the next year. The citizen gets one letter per ending saying it
will end on its date unless they react; a registry that kept failing gives a
review case and nothing ends. A rerun extends nothing twice and writes no letter
twice. Logs, state messages and the artifact carry counts only.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

import proactief  # noqa: F401  (no-telemetry environment first)
from proactief.config import Settings
from proactief.run_report import StepClock
from proactief.store import Store
from rules import lez
from rules.outcomes import Outcome
from tasks.decisions import publish_summary, record_decisions, write_decisions_file
from tasks.lez import (
    DAY_PASS,
    NOT_QUALIFYING,
    STATUS_ENDS,
    check_day_pass_chunk,
    check_registration_chunk,
    decide_day_pass_renewals,
    look_up_ending_letters,
    read_renewal_cohort,
    record_registration_renewals,
    write_ending_letters,
)
from tasks.registry import RecordingRegistry
from tasks.stopped_runs import mark_stopped_flow_runs_crashed

BRUSSELS = ZoneInfo("Europe/Brussels")
RUN_BENEFIT = "lez"


@dataclass
class LezRenewalSummary:
    """What a renewal did, in counts only: safe for logs, artifacts and the terminal."""

    run_id: str
    as_of: date
    horizon: date
    day_pass_year: int | None = None
    registrations_due: int = 0
    registrations_extended: int = 0
    registrations_ending: int = 0
    registrations_review: int = 0
    day_passes_granted: int = 0
    day_passes_settled_before: int = 0
    day_passes_checked: int = 0
    day_pass_outcomes: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    review_opened: int = 0
    review_closed: int = 0
    registry_requests: int = 0
    registry_failures: int = 0
    letters_written: int = 0
    letters_held: int = 0
    letters_already_sent: int = 0
    letters_dir: str | None = None
    print_file: str | None = None
    decisions_file: str | None = None

    @property
    def day_passes_extended(self) -> int:
        return self.day_pass_outcomes["granted"]

    @property
    def day_passes_ending(self) -> int:
        """Tariffs the check no longer found entitled: a reviewer decides."""
        return sum(
            n
            for outcome, n in self.day_pass_outcomes.items()
            if outcome in (NOT_QUALIFYING, STATUS_ENDS)
        )

    @property
    def day_passes_review(self) -> int:
        return self.day_pass_outcomes["review"]

    def counts(self) -> dict[str, int]:
        return {
            "registrations_due": self.registrations_due,
            "registrations_extended": self.registrations_extended,
            "registrations_ending": self.registrations_ending,
            "registrations_review": self.registrations_review,
            "day_passes_granted": self.day_passes_granted,
            "day_passes_settled_before": self.day_passes_settled_before,
            "day_passes_checked": self.day_passes_checked,
            "day_passes_extended": self.day_passes_extended,
            "day_passes_ending": self.day_passes_ending,
            "day_passes_review": self.day_passes_review,
            "review_cases_opened": self.review_opened,
            "review_cases_closed": self.review_closed,
            "registry_requests": self.registry_requests,
            "registry_requests_failed": self.registry_failures,
            "letters_written": self.letters_written,
            "letters_held_for_review": self.letters_held,
            "letters_already_sent": self.letters_already_sent,
        }


def resolve_as_of(as_of: date | None) -> date:
    """A run's look-up date: from its schedule when scheduled, else today."""
    if as_of is not None:
        return as_of
    scheduled = flow_run.scheduled_start_time
    moment = scheduled if scheduled is not None else datetime.now(BRUSSELS)
    return moment.astimezone(BRUSSELS).date()


def day_passes_due(as_of: date) -> bool:
    """Whether the tariffs of the look-up year end within the renewal window."""
    return lez.social_tariff_end(as_of.year) <= lez.renewal_horizon(as_of)


async def _in_chunks(
    items: Sequence, check: Callable, *, chunk_size: int, parallel: int, **kwargs
) -> list:
    """`check` (a task) over the items, a task run per chunk, a few at once."""
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    gate = asyncio.Semaphore(parallel)

    async def run(number: int, chunk: Sequence) -> list:
        async with gate:
            return await check(
                quote(chunk), chunk_label=f"chunk {number}/{len(chunks)}", **kwargs
            )

    parts = await asyncio.gather(*(run(n, c) for n, c in enumerate(chunks, 1)))
    return [pair for part in parts for pair in part]


@flow(name="lez-renewal", log_prints=False, persist_result=False)
async def lez_renewal_flow(
    registry: str,
    out: str,
    database: str | None = None,
    as_of: date | None = None,
    chunk_size: int = 500,
    parallel_chunks: int = 4,
    max_in_flight: int = 64,
    registry_timeout_s: float | None = None,
    send_letters: bool = True,
) -> LezRenewalSummary:
    """Check the LEZ registrations and day-pass tariffs that end soon again;
    extend who still qualifies, and tell who does not before anything ends."""
    logger = get_run_logger()
    settings = Settings.from_env()
    store_url = database or settings.database_url
    as_of = resolve_as_of(as_of)
    horizon = lez.renewal_horizon(as_of)
    year = as_of.year
    with_day_passes = day_passes_due(as_of)
    store = Store(store_url)
    run_id = store.start_run(
        RUN_BENEFIT, as_of.isoformat(), as_of, flow_run_id=flow_run.id
    )
    summary = LezRenewalSummary(
        run_id=run_id,
        as_of=as_of,
        horizon=horizon,
        day_pass_year=year if with_day_passes else None,
    )
    clock = StepClock()
    with store.running(run_id, summary.counts):
        await mark_stopped_flow_runs_crashed(store.interrupted_flow_runs(run_id))
        logger.info(
            "lez renewal: look-up date %s, what ends by %s; day-pass tariffs of %d %s",
            as_of,
            horizon,
            year,
            "included" if with_day_passes else "not yet due",
        )
        cohort = read_renewal_cohort(
            store_url=store_url, horizon=horizon, year=year, day_passes=with_day_passes
        )
        summary.registrations_due = len(cohort.registrations)
        summary.day_passes_granted = cohort.day_passes_granted
        summary.day_passes_settled_before = cohort.day_passes_extended_before
        subjects = [r.card_holder for r in cohort.registrations] + cohort.day_passes
        clock.lap("cohort")
        letters = None
        async with RecordingRegistry(
            registry,
            run_id,
            max_in_flight,
            registry_timeout_s,
            store_url=store_url,
        ) as gateway:
            if subjects:
                await gateway.probe(subjects, as_of)
                options = {
                    "chunk_size": chunk_size,
                    "parallel": parallel_chunks,
                    "registry": quote(gateway),
                    "as_of": as_of,
                    "database_url": store_url,
                }
                registrations, day_passes = await asyncio.gather(
                    _in_chunks(
                        cohort.registrations, check_registration_chunk, **options
                    ),
                    _in_chunks(
                        cohort.day_passes, check_day_pass_chunk, year=year, **options
                    ),
                )
                clock.lap("registry look-ups")
                if registrations:
                    counts = record_registration_renewals(
                        quote(registrations),
                        store_url=store_url,
                        run_id=run_id,
                        as_of=as_of,
                        horizon=horizon,
                    )
                    summary.registrations_extended = counts.extended
                    summary.registrations_ending = counts.ending
                    summary.registrations_review = counts.review
                    summary.reasons.update(counts.reasons)
                    summary.review_opened += counts.review_opened
                    summary.review_closed += counts.review_closed
                if day_passes:
                    summary.day_passes_checked = len(day_passes)
                    decided = decide_day_pass_renewals(
                        quote(day_passes), year=year, as_of=as_of
                    )
                    opened, closed = record_decisions(
                        quote(decided),
                        benefit=DAY_PASS,
                        period=str(year + 1),
                        store_url=store_url,
                        run_id=run_id,
                        pseudonym_key=settings.pseudonym_key,
                    )
                    summary.review_opened += opened
                    summary.review_closed += closed
                    for _, decision, _ in decided:
                        first = decision.reasons[0] if decision.reasons else ""
                        kind = (
                            first
                            if first in (NOT_QUALIFYING, STATUS_ENDS)
                            else decision.outcome.value
                        )
                        summary.day_pass_outcomes[kind] += 1
                        if decision.outcome is not Outcome.GRANTED:
                            summary.reasons.update(decision.reasons)
                clock.lap("decisions")
            else:
                logger.info("nothing to check: no registration or tariff ends soon")
            if send_letters:
                letters = await look_up_ending_letters(
                    store_url=store_url,
                    registry=quote(gateway),
                    as_of=as_of,
                    year=year,
                    day_passes=with_day_passes,
                )
                clock.lap("recipients' addresses")
            summary.registry_requests = gateway.requests
            summary.registry_failures = gateway.failures

        if letters is not None:
            summary.letters_written, summary.print_file = write_ending_letters(
                quote(letters), store_url=store_url, run_id=run_id, out_dir=out
            )
            summary.letters_held = letters.held
            summary.letters_already_sent = letters.already_sent
            summary.letters_dir = str(Path(out) / "letters")
            clock.lap("letters")
        else:
            logger.warning(
                "letters skipped: this run was started with send_letters off"
            )
        if with_day_passes:
            summary.decisions_file = write_decisions_file(
                store_url,
                DAY_PASS,
                str(year + 1),
                quote(cohort.day_passes_of_year),
                out,
            )
            clock.lap("decisions file")
        publish_summary(
            key=f"lez-renewal-{as_of.isoformat()}",
            title=f"Low Emission Zone renewal, look-up date {as_of}",
            description=(
                f"Low Emission Zone renewal, look-up date {as_of}: registrations"
                f" ending by {horizon}"
                + (f" and day-pass tariffs of {year}" if with_day_passes else "")
                + ". Counts only, no personal data."
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
