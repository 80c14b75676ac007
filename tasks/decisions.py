"""Tasks every benefit shares: storing decisions, the decisions file, the summary."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from proactief.insz import pseudonym
from proactief.run_report import run_report_markdown
from proactief.store import REVIEWER_RULE_PREFIX, Store
from rules.outcomes import Outcome, RuleDecision

DECISIONS_HEADER = [
    "benefit",
    "period",
    "subject",
    "outcome",
    "category",
    "amount",
    "reasons",
    "rule_version",
]


def _cents(amount: Decimal | None) -> int | None:
    return None if amount is None else int(amount * 100)


@task(
    name="record_decisions",
    cache_policy=NO_CACHE,
    persist_result=False,
    retries=2,
    retry_delay_seconds=2,
)
def record_decisions(
    decided: Sequence[tuple[str, RuleDecision, str]],
    *,
    benefit: str,
    period: str,
    store_url: str,
    run_id: str,
    pseudonym_key: bytes,
) -> tuple[int, int]:
    """Store (subject, decision, evidence) triples and bring the review cases in
    line with them; returns the review cases (opened, closed)."""
    store = Store(store_url)
    rows, cases = [], {}
    for subject, decision, evidence in decided:
        ref = pseudonym(subject, pseudonym_key)
        reasons = ",".join(decision.reasons)
        rows.append(
            {
                "benefit": benefit,
                "period": period,
                "subject": subject,
                "subject_ref": ref,
                "outcome": decision.outcome.value,
                "category": decision.category,
                "amount_cents": _cents(decision.amount),
                "extra_credit_cents": _cents(decision.extra_credit),
                "reasons": reasons,
                "evidence": evidence,
                "rule_version": decision.rule_version,
                "run_id": run_id,
            }
        )
        cases[subject] = (
            {
                "subject": subject,
                "subject_ref": ref,
                "reasons": reasons,
                "evidence": evidence,
            }
            if decision.outcome is Outcome.REVIEW
            else None
        )
    # A reviewer's decision stands: the run neither replaces it nor opens its
    # case again (a grant is never replaced either, see Store.save_decisions).
    decided_by_reviewer = {
        subject
        for subject, decision in store.final_decisions(benefit, period, cases).items()
        if decision.rule_version.startswith(REVIEWER_RULE_PREFIX)
    }
    if decided_by_reviewer:
        rows = [r for r in rows if r["subject"] not in decided_by_reviewer]
        cases = {s: c for s, c in cases.items() if s not in decided_by_reviewer}
    store.save_decisions(rows)
    return store.sync_review_cases(benefit, period, run_id, cases)


@task(name="write_decisions_file", cache_policy=NO_CACHE, persist_result=False)
def write_decisions_file(
    store_url: str,
    benefit: str,
    period: str,
    subjects: Sequence[str],
    out_dir: str,
) -> str:
    """OUT/decisions.csv: the current decision of every subject of the cohort."""
    decisions = Store(store_url).decisions(benefit, period, subjects)
    path = Path(out_dir) / "decisions.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\n")
        writer.writerow(DECISIONS_HEADER)
        for subject in sorted(decisions):
            d = decisions[subject]
            amount = "" if d.amount_cents is None else f"{d.amount_cents / 100:.2f}"
            writer.writerow(
                [
                    d.benefit,
                    d.period,
                    d.subject,
                    d.outcome,
                    d.category or "",
                    amount,
                    d.reasons,
                    d.rule_version,
                ]
            )
    tmp.replace(path)
    return str(path)


@task(name="publish_summary", cache_policy=NO_CACHE, persist_result=False)
def publish_summary(
    *,
    key: str,
    title: str,
    description: str,
    counts: Mapping[str, int],
    reasons: Mapping[str, int],
    store_url: str,
    run_id: str,
    steps: Mapping[str, float] | None = None,
    files: Mapping[str, str | None] | None = None,
) -> None:
    """The run's artifacts (nothing personal) and its counts in the store.

    `key` holds a table of counts (what a dashboard compares run by run);
    `key-report` the operator's report: review cases by reference and reason,
    documents, registry consultations and time per step (`proactief.run_report`).
    """
    store = Store(store_url)
    table = [{"measure": k, "count": v} for k, v in counts.items()]
    table += [
        {"measure": f"reason {k}", "count": v} for k, v in sorted(reasons.items())
    ]
    create_table_artifact(key=key, table=table, description=description)
    create_markdown_artifact(
        key=f"{key}-report",
        markdown=run_report_markdown(
            store,
            run_id,
            title=title,
            counts=counts,
            reasons=reasons,
            steps=steps,
            files=files,
        ),
        description=f"{title}: what to act on. No personal data.",
    )
    store.finish_run(run_id, "completed", dict(counts))
    get_run_logger().info("summary: %s", dict(counts))
