"""The `publish-reviewed` flow: the letters and invoices of cases reviewers decided.

decided cases → what is not sent yet → recipients read again (chunks) → letters and
invoices, once each → summary.

Review is data, not a paused flow (DESIGN.md): a reviewer's decision waits in the
store until this flow runs, every working day. Each document keeps the idempotency
key the benefit's own flow gives it, so neither flow ever writes one the other has
written. Output goes where the benefits' flows put theirs: `OUT/letters/` (with a
print files per year in `OUT/letters/print/`) and `OUT/invoices/`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

import proactief  # noqa: F401  (no-telemetry environment first)
from flows.school_tariffs import resolve_look_up_date
from proactief.config import Settings
from proactief.run_report import StepClock
from proactief.store import Store
from tasks.decisions import publish_summary
from tasks.registry import RecordingRegistry, look_up_people
from tasks.reviewed import (
    check_benefits,
    find_reviewed_documents,
    publish_reviewed_invoices,
    publish_reviewed_letters,
)
from tasks.stopped_runs import mark_stopped_flow_runs_crashed

FLOW = "publish-reviewed"


@dataclass
class ReviewedRunSummary:
    """What a run did, in counts only: safe for logs, artifacts and the terminal."""

    run_id: str
    as_of: date
    benefits: tuple[str, ...]
    by_benefit: Counter = field(default_factory=Counter)
    recipients_looked_up: int = 0
    registry_requests: int = 0
    registry_failures: int = 0
    letters_dir: str = ""
    invoices_dir: str = ""

    @property
    def letters_written(self) -> int:
        return self.by_benefit["garbage_bags_letters_written"]

    @property
    def invoices_written(self) -> int:
        return self.by_benefit["school_tariffs_invoices_written"]

    @property
    def already_sent(self) -> int:
        return (
            self.by_benefit["garbage_bags_letters_already_sent"]
            + self.by_benefit["school_tariffs_invoices_already_sent"]
        )

    @property
    def undeliverable(self) -> int:
        return (
            self.by_benefit["garbage_bags_undeliverable"]
            + self.by_benefit["school_tariffs_undeliverable"]
        )

    def counts(self) -> dict[str, int]:
        return {
            "letters_written": self.letters_written,
            "invoices_written": self.invoices_written,
            "already_sent": self.already_sent,
            "undeliverable": self.undeliverable,
            "recipients_looked_up": self.recipients_looked_up,
            "registry_requests": self.registry_requests,
            "registry_requests_failed": self.registry_failures,
            **dict(sorted(self.by_benefit.items())),
        }


@flow(name=FLOW, log_prints=False, persist_result=False)
async def publish_reviewed_flow(
    registry: str,
    out: str,
    database: str | None = None,
    as_of: date | None = None,
    benefits: list[str] | None = None,
    chunk_size: int = 500,
    parallel_chunks: int = 4,
    max_in_flight: int = 64,
    registry_timeout_s: float | None = None,
) -> ReviewedRunSummary:
    """Send the voucher letters and invoices of the cases reviewers decided, once
    each, to recipients read from the registry as of the run's date."""
    logger = get_run_logger()
    settings = Settings.from_env()
    store_url = database or settings.database_url
    chosen = check_benefits(benefits)
    as_of = resolve_look_up_date(as_of)
    store = Store(store_url)
    # the benefits' own runs send documents of the same cases: not at the same time
    run_id = store.start_run(
        FLOW, as_of.isoformat(), as_of, flow_run_id=flow_run.id, also_locks=chosen
    )
    summary = ReviewedRunSummary(
        run_id=run_id,
        as_of=as_of,
        benefits=chosen,
        letters_dir=str(Path(out) / "letters"),
        invoices_dir=str(Path(out) / "invoices"),
    )
    clock = StepClock()
    with store.running(run_id, summary.counts):
        await mark_stopped_flow_runs_crashed(store.interrupted_flow_runs(run_id))
        logger.info("publish reviewed %s: look-up date %s", ", ".join(chosen), as_of)
        work = find_reviewed_documents(store_url, chosen)
        clock.lap("reviewed cases")
        summary.by_benefit.update(work.counts)
        subjects = work.subjects()
        people: dict = {}
        if subjects:
            async with RecordingRegistry(
                registry,
                run_id,
                max_in_flight,
                registry_timeout_s,
                store_url=store_url,
            ) as gateway:
                await gateway.probe(subjects, as_of)
                chunks = [
                    subjects[i : i + chunk_size]
                    for i in range(0, len(subjects), chunk_size)
                ]
                gate = asyncio.Semaphore(parallel_chunks)

                async def run_chunk(number: int, chunk: list[str]):
                    async with gate:
                        return await look_up_people(
                            quote(chunk),
                            chunk_label=f"chunk {number}/{len(chunks)}",
                            registry=quote(gateway),
                            as_of=as_of,
                            database_url=store_url,
                        )

                for part in await asyncio.gather(
                    *(run_chunk(n, c) for n, c in enumerate(chunks, start=1))
                ):
                    people.update(part)
                store.record_consultations(gateway.drain())
            summary.recipients_looked_up = len(people)
            summary.registry_requests = gateway.requests
            summary.registry_failures = gateway.failures
        clock.lap("recipients' addresses")

        if work.letters:
            summary.by_benefit.update(
                publish_reviewed_letters(
                    quote(work.letters),
                    quote(people),
                    store_url=store_url,
                    run_id=run_id,
                    out_dir=out,
                    letter_date=as_of,
                    voucher_key=settings.voucher_key,
                )
            )
        clock.lap("letters")
        if work.invoices:
            summary.by_benefit.update(
                publish_reviewed_invoices(
                    quote(work.invoices),
                    quote(people),
                    store_url=store_url,
                    run_id=run_id,
                    out_dir=out,
                    issue_date=as_of,
                    key=settings.pseudonym_key,
                )
            )
        clock.lap("invoices")
        publish_summary(
            key=FLOW,
            title=f"Documents of reviewed cases, look-up date {as_of}",
            description=(
                f"Documents of reviewed cases ({', '.join(chosen)}), look-up date"
                f" {as_of}: letters and invoices written, already sent, undeliverable."
                " No personal data."
            ),
            counts=summary.counts(),
            reasons={},
            store_url=store_url,
            run_id=run_id,
            steps=clock.seconds,
            files={
                "letters": summary.letters_dir,
                "invoices": summary.invoices_dir,
            },
        )
    return summary
