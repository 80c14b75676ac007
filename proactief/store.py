"""The store: runs, decisions, review cases, documents and registry consultations.

SQLModel over a SQLite file by default (WAL, synchronous=NORMAL), or any database
SQLAlchemy reaches by URL. What it keeps is what DESIGN.md allows: outcomes, reason
codes, evidence without amounts, rule versions, amounts granted in whole cents; never
a raw income or a status name. Subjects are stored by national number (the city's
decision register needs it) and by pseudonymous reference, which is what logs and
Prefect artifacts use.

One row per (benefit, period, subject) in `decision`; a later run may replace a
decision that was not yet a grant, never a grant (a grant is only ever changed by a
human, see POLICY.md). Documents are keyed by their idempotency key and recorded
before they are written, so that a rerun never sends one twice.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import cache

from sqlalchemy import event, insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, UniqueConstraint, create_engine, select


def _now() -> datetime:
    return datetime.now(UTC)


class RunBase(SQLModel):
    benefit: str = Field(index=True)
    period: str
    as_of: date
    started_at: datetime = Field(default_factory=_now)
    finished_at: datetime | None = None
    status: str = "running"
    counts: str = "{}"
    flow_run_id: str | None = None


class Run(RunBase, table=True):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex, primary_key=True)


class DecisionBase(SQLModel):
    benefit: str
    period: str
    subject: str
    subject_ref: str = Field(index=True)
    outcome: str
    category: str | None = None
    amount_cents: int | None = None
    extra_credit_cents: int | None = None
    reasons: str = ""
    evidence: str = "[]"
    rule_version: str
    run_id: str
    decided_at: datetime = Field(default_factory=_now)


class Decision(DecisionBase, table=True):
    __table_args__ = (UniqueConstraint("benefit", "period", "subject"),)
    id: int | None = Field(default=None, primary_key=True)


class ReviewCaseBase(SQLModel):
    benefit: str = Field(index=True)
    period: str
    subject: str
    subject_ref: str = Field(index=True)
    reasons: str
    evidence: str = "[]"
    status: str = Field(default="open", index=True)
    run_id: str
    created_at: datetime = Field(default_factory=_now)
    closed_at: datetime | None = None
    resolution: str | None = None
    decided_by: str | None = None
    motivation: str | None = None


class ReviewCase(ReviewCaseBase, table=True):
    __tablename__ = "review_case"
    id: int | None = Field(default=None, primary_key=True)


class DocumentBase(SQLModel):
    idempotency_key: str = Field(unique=True)
    benefit: str
    period: str
    subject: str
    kind: str
    reference: str
    path: str
    status: str = "recorded"
    run_id: str
    recorded_at: datetime = Field(default_factory=_now)
    written_at: datetime | None = None


class Document(DocumentBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class ConsultationBase(SQLModel):
    run_id: str | None = Field(default=None, index=True)
    service: str
    consumer: str
    purpose: str
    subject_ref: str
    at: datetime
    result_code: str
    duration_ms: int
    attempt: int = 1


class Consultation(ConsultationBase, table=True):
    __tablename__ = "registry_consultation"
    id: int | None = Field(default=None, primary_key=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@cache
def make_engine(url: str) -> Engine:
    """An engine for `url`, with the tables created on first use."""
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # Bound parameters hold national numbers: keep them out of error messages,
    # which end up in logs and in Prefect's state messages.
    engine = create_engine(url, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    SQLModel.metadata.create_all(engine)
    return engine


class Store:
    """The operations the flows need, each in its own short transaction."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)

    # runs
    def start_run(
        self, benefit: str, period: str, as_of: date, flow_run_id: str | None = None
    ) -> str:
        run = Run(benefit=benefit, period=period, as_of=as_of, flow_run_id=flow_run_id)
        with Session(self.engine) as session:
            session.add(run)
            session.commit()
            return run.id

    @contextmanager
    def run_failure_recorded(
        self, run_id: str, counts: Callable[[], dict[str, int]]
    ) -> Iterator[None]:
        """Mark the run failed, with its counts so far, when the block raises.

        Without it a run that stopped on bad input or was interrupted would stay
        'running' in the store for ever.
        """
        try:
            yield
        except BaseException:
            self.finish_run(run_id, "failed", counts())
            raise

    def finish_run(self, run_id: str, status: str, counts: dict[str, int]) -> None:
        with Session(self.engine) as session:
            session.execute(
                update(Run)
                .where(Run.id == run_id)
                .values(status=status, counts=json.dumps(counts), finished_at=_now())
            )
            session.commit()

    # decisions
    def decisions(
        self, benefit: str, period: str, subjects: Iterable[str] | None = None
    ) -> dict[str, Decision]:
        """Current decisions of a benefit and period, by subject."""
        with Session(self.engine) as session:
            query = select(Decision).where(
                Decision.benefit == benefit, Decision.period == period
            )
            rows = session.exec(query).all()
        wanted = None if subjects is None else set(subjects)
        return {d.subject: d for d in rows if wanted is None or d.subject in wanted}

    def decisions_in(self, benefit: str, periods: Sequence[str]) -> list[Decision]:
        """Every decision of a benefit in any of the given periods."""
        if not periods:
            return []
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(Decision).where(
                        Decision.benefit == benefit,
                        Decision.period.in_(list(periods)),
                    )
                ).all()
            )

    def save_decisions(self, rows: Sequence[dict]) -> None:
        """Insert or replace decisions; a stored grant is never replaced."""
        if not rows:
            return
        benefit, period = rows[0]["benefit"], rows[0]["period"]
        existing = self.decisions(benefit, period, (r["subject"] for r in rows))
        fresh = [r for r in rows if r["subject"] not in existing]
        replace = [
            r
            for r in rows
            if r["subject"] in existing and existing[r["subject"]].outcome != "granted"
        ]
        with Session(self.engine) as session:
            if fresh:
                session.execute(insert(Decision), fresh)
            for row in replace:
                session.execute(
                    update(Decision)
                    .where(Decision.id == existing[row["subject"]].id)
                    .values(**row)
                )
            session.commit()

    # review cases
    def open_review_cases(self, benefit: str, period: str) -> dict[str, ReviewCase]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(ReviewCase).where(
                    ReviewCase.benefit == benefit,
                    ReviewCase.period == period,
                    ReviewCase.status == "open",
                )
            ).all()
        return {case.subject: case for case in rows}

    def sync_review_cases(
        self, benefit: str, period: str, run_id: str, cases: dict[str, dict | None]
    ) -> tuple[int, int]:
        """Bring the open review cases in line with what a run found.

        `cases` maps subjects decided in this run to the fields of the case they
        need, or to None when they need none. A subject without an open case gets
        one; an open case whose reasons changed is updated (one case per subject,
        never two); the open case of a subject that needs none is closed as settled
        by the run. Returns (opened, closed).
        """
        open_cases = self.open_review_cases(benefit, period)
        new, changed, settled = [], [], []
        for subject, fields in cases.items():
            case = open_cases.get(subject)
            if fields is None:
                if case is not None:
                    settled.append(case.id)
            elif case is None:
                new.append(
                    {"benefit": benefit, "period": period, "run_id": run_id, **fields}
                )
            elif case.reasons != fields["reasons"]:
                changed.append((case.id, fields))
        with Session(self.engine) as session:
            if new:
                session.execute(insert(ReviewCase), new)
            for case_id, fields in changed:
                session.execute(
                    update(ReviewCase)
                    .where(ReviewCase.id == case_id)
                    .values(
                        reasons=fields["reasons"],
                        evidence=fields.get("evidence", "[]"),
                        run_id=run_id,
                    )
                )
            if settled:
                session.execute(
                    update(ReviewCase)
                    .where(ReviewCase.id.in_(settled))
                    .values(
                        status="closed",
                        closed_at=_now(),
                        resolution=f"settled by run {run_id}",
                    )
                )
            session.commit()
        return len(new), len(settled)

    # documents
    def documents(self, benefit: str, period: str) -> dict[str, Document]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(Document).where(
                    Document.benefit == benefit, Document.period == period
                )
            ).all()
        return {doc.idempotency_key: doc for doc in rows}

    def record_documents(self, rows: Sequence[dict]) -> None:
        """Record documents before they are written (status 'recorded')."""
        if rows:
            with Session(self.engine) as session:
                session.execute(insert(Document), list(rows))
                session.commit()

    def mark_documents_written(self, keys: Sequence[str]) -> None:
        if keys:
            with Session(self.engine) as session:
                session.execute(
                    update(Document)
                    .where(Document.idempotency_key.in_(list(keys)))
                    .values(status="written", written_at=_now())
                )
                session.commit()

    # registry consultations
    def record_consultations(self, rows: Sequence[dict]) -> None:
        if rows:
            with Session(self.engine) as session:
                session.execute(insert(Consultation), list(rows))
                session.commit()

    def count(self, model: type[SQLModel], **where) -> int:
        from sqlalchemy import func

        with Session(self.engine) as session:
            query = select(func.count()).select_from(model)
            for column, value in where.items():
                query = query.where(getattr(model, column) == value)
            return session.exec(query).one()
