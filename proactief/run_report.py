"""What a run leaves for the operations team in the Prefect UI: nothing personal.

A run's report is one Markdown artifact with what an operator acts on:

- outcomes and reasons, in counts;
- the review cases this run opened or changed, by pseudonymous reference and the
  reasons a human must look (the reviewer finds them under the same reference in
  the review queue, with every reason);
- the documents this run recorded, by kind and state, and its print files;
- the registry consultations by service and result, with retries and durations;
- the time each step took.

References are pseudonyms and reasons are codes: the report holds no national
number, name, address, income or status name.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import case, func
from sqlmodel import Session, select

from proactief.magda.client import ANSWERED_RESULT_CODES
from proactief.store import Consultation, Document, ReviewCase, Store

# A table longer than this is cut, with a line saying how many rows were left out.
MAX_CASE_ROWS = 500
# Reason codes with one of these words name a social status, a social-service
# measure or an income band (`vt_member`, `budget_guidance`,
# `household_income_below_limit_a`, ...). Reviewers see them in the review queue;
# the report, read by operations staff, shows a case only with the reasons a
# human must look for (the aggregate counts keep every code).
PERSONAL_REASON_WORDS = frozenset({"vt", "income", "budget", "parking", "disability"})


@dataclass
class StepClock:
    """Wall-clock seconds per step of a run, taken as laps.

    `lap("look-ups")` closes the step that ran since the previous lap (or since
    the clock started) under that name; a name used twice adds up.
    """

    seconds: dict[str, float] = field(default_factory=dict)
    _last: float = field(default_factory=time.perf_counter)

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step] = self.seconds.get(step, 0.0) + now - self._last
        self._last = now

    def total(self) -> float:
        return sum(self.seconds.values())


@dataclass(frozen=True)
class ConsultationRow:
    """Requests of one service that ended with one result code."""

    service: str
    result_code: str
    requests: int
    retries: int
    mean_ms: int
    max_ms: int

    @property
    def answered(self) -> bool:
        return self.result_code in ANSWERED_RESULT_CODES


def run_review_cases(store: Store, run_id: str) -> list[ReviewCase]:
    """The open review cases this run opened or last changed, oldest first."""
    with Session(store.engine) as session:
        return list(
            session.exec(
                select(ReviewCase)
                .where(ReviewCase.run_id == run_id, ReviewCase.status == "open")
                .order_by(ReviewCase.id)
            )
        )


def run_documents(store: Store, run_id: str) -> Counter[tuple[str, str]]:
    """Documents this run recorded, by (kind, state)."""
    with Session(store.engine) as session:
        rows = session.exec(
            select(Document.kind, Document.status, func.count())
            .where(Document.run_id == run_id)
            .group_by(Document.kind, Document.status)
        )
        return Counter({(kind, state): n for kind, state, n in rows})


def run_consultations(store: Store, run_id: str) -> list[ConsultationRow]:
    """This run's registry requests by service and result code."""
    with Session(store.engine) as session:
        rows = session.exec(
            select(
                Consultation.service,
                Consultation.result_code,
                func.count(),
                func.sum(case((Consultation.attempt > 1, 1), else_=0)),
                func.avg(Consultation.duration_ms),
                func.max(Consultation.duration_ms),
            )
            .where(Consultation.run_id == run_id)
            .group_by(Consultation.service, Consultation.result_code)
            .order_by(Consultation.service, Consultation.result_code)
        )
        return [
            ConsultationRow(
                service, code, n, int(retries or 0), round(mean or 0), int(slowest or 0)
            )
            for service, code, n, retries, mean, slowest in rows
        ]


def operational_reasons(reasons: str) -> str:
    """A case's reasons without those that say something about the person's
    statuses or income; "-" when none is left."""
    kept = [
        code
        for code in reasons.split(",")
        if code and not PERSONAL_REASON_WORDS & set(code.split("_"))
    ]
    return ",".join(kept) or "-"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def run_report_markdown(
    store: Store,
    run_id: str,
    *,
    title: str,
    counts: Mapping[str, int],
    reasons: Mapping[str, int],
    steps: Mapping[str, float] | None = None,
    files: Mapping[str, str | None] | None = None,
) -> str:
    """The run's report as Markdown, from its counts and what the store holds
    under its run id."""
    lines = [f"# {title}", "", f"Run `{run_id[:12]}`.", ""]

    outcomes = [(k.removeprefix("outcome_"), v) for k, v in counts.items()]
    lines += ["## Counts", ""]
    lines += _table(("measure", "count"), outcomes)
    if reasons:
        lines += ["", "## Reasons", ""]
        lines += _table(("reason", "decisions"), sorted(reasons.items()))

    cases = run_review_cases(store, run_id)
    lines += ["", f"## Review cases opened or changed by this run: {len(cases)}", ""]
    if cases:
        lines += [
            "Open them in the review queue (`/beoordeling`) by reference.",
            "",
        ]
        lines += _table(
            ("reference", "benefit", "reasons"),
            [
                (c.subject_ref, c.benefit, operational_reasons(c.reasons))
                for c in cases[:MAX_CASE_ROWS]
            ],
        )
        if len(cases) > MAX_CASE_ROWS:
            lines += ["", f"... and {len(cases) - MAX_CASE_ROWS} more."]
    else:
        lines += ["None."]

    documents = run_documents(store, run_id)
    lines += ["", "## Documents recorded by this run", ""]
    if documents:
        lines += _table(
            ("kind", "state", "documents"),
            [(kind, state, n) for (kind, state), n in sorted(documents.items())],
        )
    else:
        lines += ["None."]
    written = {name: path for name, path in (files or {}).items() if path}
    if written:
        lines += ["", "Files:", ""]
        lines += [f"- {name}: `{path}`" for name, path in written.items()]

    consultations = run_consultations(store, run_id)
    lines += ["", "## Registry consultations", ""]
    if consultations:
        failed = sum(row.requests for row in consultations if not row.answered)
        total = sum(row.requests for row in consultations)
        lines += [f"{total} requests, {failed} of them not answered.", ""]
        lines += _table(
            ("service", "result", "requests", "retries", "mean ms", "slowest ms"),
            [
                (
                    row.service,
                    row.result_code,
                    row.requests,
                    row.retries,
                    row.mean_ms,
                    row.max_ms,
                )
                for row in consultations
            ],
        )
    else:
        lines += ["None."]

    if steps:
        lines += ["", "## Time per step", ""]
        lines += _table(
            ("step", "seconds"),
            [(name, f"{seconds:.1f}") for name, seconds in steps.items()]
            + [("total", f"{sum(steps.values()):.1f}")],
        )
    return "\n".join(lines) + "\n"
