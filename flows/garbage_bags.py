"""The `garbage-bags` flow: voucher letters for free garbage bags, once a year.

cohort → look-ups in chunks → quality → decisions → letters → summary.

The same flow serves the yearly run (early January) and the monthly catch-up runs
until 15 August: a household granted in an earlier run of the year is not looked
up again, and every other household is decided anew as of the run's look-up date,
so a status that reached the registry late is granted by the next run.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import socket
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.runtime import flow_run
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from proactief.config import Settings
from proactief.documents.letters import VoucherLetter, render_many
from proactief.errors import CohortError
from proactief.households import LookedUpHousehold
from proactief.publishing import LetterToSend, PublishReport, publish_voucher_letters
from proactief.quality import QualityReport
from proactief.run_report import StepClock
from proactief.store import Store
from rules import garbage_bags
from rules.outcomes import Outcome, RuleDecision
from tasks.decisions import publish_summary, record_decisions, write_decisions_file
from tasks.households import check_households, read_household_cohort
from tasks.registry import (
    RecordingRegistry,
    look_up_household_chunk,
    look_up_recipients,
)
from tasks.stopped_runs import mark_stopped_flow_runs_crashed

BENEFIT = garbage_bags.BENEFIT
BRUSSELS = ZoneInfo("Europe/Brussels")


# Large inputs are passed to tasks inside `quote`: Prefect would otherwise walk every
# household of a city looking for futures to resolve, seconds per task at city size.


@dataclass
class RunSummary:
    """What a run did, in counts only: safe for logs, artifacts and the terminal."""

    run_id: str
    year: int
    as_of: date
    households: int = 0
    looked_up: int = 0
    already_granted: int = 0
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
    renderers: set[str] = field(default_factory=set)

    def counts(self) -> dict[str, int]:
        return {
            "households": self.households,
            "looked_up": self.looked_up,
            "already_granted": self.already_granted,
            "registry_requests": self.registry_requests,
            "registry_requests_failed": self.registry_failures,
            **{f"outcome_{k}": v for k, v in sorted(self.outcomes.items())},
            "review_cases_opened": self.review_opened,
            "review_cases_closed": self.review_closed,
            "letters_held_for_review": self.letters_held,
            "letters_written": self.letters_written,
            "letters_already_sent": self.letters_already_sent,
        }


def resolve_dates(year: int | None, as_of: date | None) -> tuple[int, date]:
    """A run's own dates: from its schedule when scheduled, else from today."""
    if as_of is None:
        scheduled = flow_run.scheduled_start_time
        moment = scheduled if scheduled is not None else datetime.now(BRUSSELS)
        as_of = moment.astimezone(BRUSSELS).date()
    if year is None:
        year = as_of.year
    reference = garbage_bags.reference_date(year)
    if as_of < reference:
        raise CohortError(
            f"the look-up date {as_of.isoformat()} lies before the reference date"
            f" {reference.isoformat()} of {year}: the households of that day are not"
            " known yet. Run on or after the reference date."
        )
    end = garbage_bags.catch_up_end(year)
    if as_of > end:
        raise CohortError(
            f"the catch-up period of {year} ended on {end.isoformat()}: no run of"
            f" that year may grant any more. Pass an --as-of date on or before it."
        )
    return year, as_of


@task(name="decide_households", cache_policy=NO_CACHE, persist_result=False)
def decide_households(
    looked: list[LookedUpHousehold], report: QualityReport, year: int
) -> list[tuple[LookedUpHousehold, RuleDecision]]:
    """Apply the rule to each household; quality failures become review decisions."""
    version = garbage_bags.rule_version(year)
    decided = []
    for household in looked:
        if household.failure:
            decision = RuleDecision(Outcome.REVIEW, (household.failure,), version)
        elif household.household in report.failures:
            reasons = tuple(report.failures[household.household])
            decision = RuleDecision(Outcome.REVIEW, reasons, version)
        else:
            decision = garbage_bags.decide(household.situation, year)
        decided.append((household, decision))
    return decided


@asynccontextmanager
async def _collector_held_back() -> AsyncIterator[None]:
    """Freezes what exists now out of the cyclic collector's reach (a later
    `gc.freeze()` adds to it) and always unfreezes on the way out."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _evidence(on: date, as_of: date) -> str:
    """The sources a decision used and their dates: never what they said."""
    return json.dumps(
        [
            f"GeefGezinssamenstelling 02.02 on {on} as of {as_of}",
            f"GeefPersoon 02.02 as of {as_of}",
            f"GeefSociaalStatuut 03.00 on {on} as of {as_of}",
            f"social_service.csv on {on}",
        ]
    )


@dataclass(frozen=True)
class RenderedBatch:
    paths: list[str]
    renderer: str  # host:process that rendered the batch


@task(
    name="render_letter_batch",
    cache_policy=NO_CACHE,
    persist_result=False,
    retries=1,
)
def render_letter_batch(
    letters: list[VoucherLetter], letters_dir: str
) -> RenderedBatch:
    """Render one batch of letters in whichever process the flow's task runner
    gives it (a Dask worker, say); rendering again overwrites the same files."""
    paths = render_many(letters, letters_dir, processes=1)
    return RenderedBatch(
        [str(path) for path in paths], f"{socket.gethostname()}:{os.getpid()}"
    )


def task_runner_renders() -> bool:
    """Whether the flow runs on a task runner other than Prefect's default thread
    pool (a Dask cluster, say): its letter batches are then rendered as tasks on
    that runner, rather than by a process pool of this machine."""
    context = FlowRunContext.get()
    return context is not None and not isinstance(
        context.task_runner, ThreadPoolTaskRunner
    )


def on_task_runner(
    letters_dir: str, renderers: set[str]
) -> Callable[[list[list[VoucherLetter]]], Iterator[list[Path]]]:
    """Render all batches at once as `render_letter_batch` tasks; yield their
    paths in order, noting which processes rendered them."""

    def render_all(batches: list[list[VoucherLetter]]) -> Iterator[list[Path]]:
        # Not wrapped in `quote`: a batch is small, and a quoted argument reached
        # a Dask worker still wrapped.
        futures = [render_letter_batch.submit(batch, letters_dir) for batch in batches]
        for future in futures:
            rendered = future.result()
            renderers.add(rendered.renderer)
            yield [Path(path) for path in rendered.paths]

    return render_all


@task(name="render_letters", cache_policy=NO_CACHE, persist_result=False)
def render_letters(
    letters: list[LetterToSend],
    *,
    store_url: str,
    run_id: str,
    year: int,
    out_dir: str,
    letter_date: date,
    voucher_key: bytes,
    render_all: Callable[[list[list[VoucherLetter]]], Iterator[list[Path]]]
    | None = None,
) -> PublishReport:
    """Write every granted household's letter that was not written before.

    Batch by batch in this task by default; with `render_all` (see
    `on_task_runner`), called as a plain function from the flow so that its
    batches become tasks of the flow's task runner.
    """
    report = publish_voucher_letters(
        Store(store_url),
        run_id=run_id,
        benefit=BENEFIT,
        period=str(year),
        year=year,
        letters=letters,
        out_dir=Path(out_dir),
        letter_date=letter_date,
        voucher_key=voucher_key,
        render_all=render_all,
    )
    get_run_logger().info(
        "letters: %d written, %d already sent before",
        report.written,
        report.already_sent,
    )
    return report


@flow(name="garbage-bags", log_prints=False, persist_result=False)
async def garbage_bags_flow(
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
) -> RunSummary:
    """Decide the garbage-bag benefit for every household of the city, and send
    the voucher letters of the households granted."""
    logger = get_run_logger()
    settings = Settings.from_env()
    store_url = database or settings.database_url
    year, as_of = resolve_dates(year, as_of)
    on = garbage_bags.reference_date(year)
    period = str(year)
    store = Store(store_url)
    run_id = store.start_run(BENEFIT, period, as_of, flow_run_id=flow_run.id)
    summary = RunSummary(run_id=run_id, year=year, as_of=as_of)
    clock = StepClock()
    with store.running(run_id, summary.counts):
        await mark_stopped_flow_runs_crashed(store.interrupted_flow_runs(run_id))
        logger.info(
            "garbage bags %s: reference date %s, look-up date %s", year, on, as_of
        )

        cohort, measures = read_household_cohort(city, on)
        clock.lap("cohort")
        summary.households = len(cohort)
        if not cohort:
            raise CohortError(
                "the city's residents.csv holds no households: nothing to decide."
                " Check the --city folder."
            )
        # granted by an earlier run, or decided by a reviewer: not looked up again
        granted_before = set(store.final_decisions(BENEFIT, period))
        todo = [h for h in cohort if h.subject not in granted_before]
        summary.already_granted = len(cohort) - len(todo)

        # What the run holds for good (the cohort, then each chunk's answers) is
        # put out of the cyclic collector's reach as it comes: at city scale,
        # scanning it again at every full collection cost a third of the CPU of
        # the look-ups. Unfrozen when the registry closes, however the run ends.
        async with (
            _collector_held_back(),
            RecordingRegistry(
                registry,
                run_id,
                max_in_flight,
                registry_timeout_s,
                store_url=store_url,
            ) as gateway,
        ):
            await gateway.probe((h.subject for h in cohort), as_of)
            chunks = [todo[i : i + chunk_size] for i in range(0, len(todo), chunk_size)]
            gate = asyncio.Semaphore(parallel_chunks)

            async def run_chunk(number: int, chunk):
                async with gate:
                    looked = await look_up_household_chunk(
                        quote(chunk),
                        chunk_label=f"chunk {number}/{len(chunks)}",
                        registry=quote(gateway),
                        on=on,
                        as_of=as_of,
                        measures=quote(measures),
                        database_url=store_url,
                    )
                    gc.freeze()
                    return looked

            looked: list[LookedUpHousehold] = []
            for part in await asyncio.gather(
                *(run_chunk(n, c) for n, c in enumerate(chunks, start=1))
            ):
                looked.extend(part)
            summary.looked_up = len(looked)
            clock.lap("registry look-ups")

            if looked:
                report = check_households(quote(looked))
                clock.lap("quality checks")
                decided = decide_households(quote(looked), report, year)
                evidence = _evidence(on, as_of)
                summary.review_opened, summary.review_closed = record_decisions(
                    quote([(h.subject, d, evidence) for h, d in decided]),
                    benefit=BENEFIT,
                    period=period,
                    store_url=store_url,
                    run_id=run_id,
                    pseudonym_key=settings.pseudonym_key,
                )
                for _, decision in decided:
                    summary.outcomes[decision.outcome.value] += 1
                    summary.reasons.update(decision.reasons)
                clock.lap("decisions")

            subjects = sorted({h.subject for h in cohort} | {h.subject for h in looked})
            if send_letters:
                letters, already_sent, held = await look_up_recipients(
                    store_url=store_url,
                    registry=quote(gateway),
                    benefit=BENEFIT,
                    period=period,
                    as_of=as_of,
                    subjects=quote(subjects),
                )
                clock.lap("recipients' addresses")

        summary.registry_requests = gateway.requests
        summary.registry_failures = gateway.failures
        if send_letters:
            arguments = {
                "store_url": store_url,
                "run_id": run_id,
                "year": year,
                "out_dir": out,
                "letter_date": as_of,
                "voucher_key": settings.voucher_key,
            }
            if task_runner_renders():
                letters_dir = str(Path(out) / "letters")
                publish = render_letters.fn(
                    letters,
                    **arguments,
                    render_all=on_task_runner(letters_dir, summary.renderers),
                )
            else:
                publish = render_letters(quote(letters), **arguments)
            summary.letters_written = publish.written
            summary.letters_held = held
            summary.letters_already_sent = already_sent + publish.already_sent
            summary.letters_dir = str(publish.letters_dir)
            summary.print_file = str(publish.print_file) if publish.print_file else None
            clock.lap("letters")
        else:
            logger.warning(
                "letters skipped: this run was started with send_letters off"
            )
        summary.decisions_file = write_decisions_file(
            store_url, BENEFIT, period, quote(subjects), out
        )
        clock.lap("decisions file")
        publish_summary(
            key=f"garbage-bags-{year}",
            title=f"Garbage bags {year}, look-up date {as_of}",
            description=(
                f"Garbage bags {year}, look-up date {as_of}: counts by outcome and"
                " reason, registry requests and letters. No personal data."
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
