"""The store: runs, decisions, review cases, documents and registry consultations.

SQLModel over a SQLite file by default (WAL, synchronous=NORMAL), or PostgreSQL by
URL (`postgresql://...`, through psycopg 3). The schema is alembic's: the store
brings a database to the newest revision on first use (`proactief.migrations`).

What it keeps is what DESIGN.md allows: outcomes, reason codes, evidence without
amounts, rule versions, amounts granted in whole cents; never a raw income or a
status name. Subjects are stored by national number (the city's
decision register needs it) and by pseudonymous reference, which is what logs and
Prefect artifacts use.

One row per (benefit, period, subject) in `decision`; a later run may replace a
decision that was not yet a grant, never a grant (a grant is only ever changed by a
human, see POLICY.md). Documents are keyed by their idempotency key and recorded
before they are written, so that a rerun never sends one twice.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime

from sqlalchemy import Index, event, insert, text, update
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Field, Session, SQLModel, UniqueConstraint, create_engine, select

from proactief.errors import ReviewCaseStateError
from proactief.run_locks import RunLock, take_run_lock


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
    # one open case per subject, benefit and period, even when two writers open
    # one at the same moment (migration 0002)
    __table_args__ = (
        Index(
            "uq_review_case_open_subject",
            "benefit",
            "period",
            "subject",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )
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
    # The print file the document is joined into, recorded before it is rendered:
    # a rerun finds that file made (the document went out; it is only marked
    # written) or not (it is printed again). Null for documents without one.
    print_file: str | None = None


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


class AccountBase(SQLModel):
    """A person who signs in to the web app, with one role.

    Roles: desk (UiTPAS checks), reviewer (review queue), supervisor (review
    queue, reopening, audit log) and admin (every page). The password is kept only
    as an Argon2 hash; `failed_logins` counts wrong passwords in a row and
    `locked_until` is set when they reach the limit.
    """

    username: str = Field(unique=True, index=True)
    display_name: str
    role: str
    password_hash: str
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = None
    created_at: datetime = Field(default_factory=_now)


class Account(AccountBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class WebSessionBase(SQLModel):
    """A signed-in browser. Only a hash of the session token is kept."""

    token_hash: str = Field(unique=True, index=True)
    username: str = Field(index=True)
    csrf_token: str
    created_at: datetime = Field(default_factory=_now)
    last_seen_at: datetime = Field(default_factory=_now)
    expires_at: datetime


class WebSession(WebSessionBase, table=True):
    __tablename__ = "web_session"
    id: int | None = Field(default=None, primary_key=True)


class AuditEventBase(SQLModel):
    """One line of the audit log: who did what to which (pseudonymous) subject.

    `detail` is a short code or phrase without personal data: no national
    number, name, income or status name.
    """

    at: datetime = Field(default_factory=_now, index=True)
    actor: str = Field(index=True)
    action: str = Field(index=True)
    benefit: str | None = None
    subject_ref: str | None = None
    outcome: str | None = None
    detail: str = ""


class AuditEvent(AuditEventBase, table=True):
    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)


REVIEWER_RULE_PREFIX = "review:"
# Up to this many subjects are looked up with IN (...); more, and the period's
# decisions are read whole and filtered (one query, whatever the cohort's size).
_IN_LIMIT = 900


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # waiting first: another process may be switching the file to WAL right now
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def database_url(url: str) -> str:
    """`url` as SQLAlchemy is to open it: a plain postgresql:// URL gets the
    psycopg 3 driver (SQLAlchemy's default would be psycopg2, not installed)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def create_store_engine(url: str) -> Engine:
    """A new engine for `url` with the store's settings, without touching the
    schema (`make_engine` is what the store uses; this is for `proactief db`)."""
    url = database_url(url)
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    options: dict = {}
    if url.startswith("postgresql"):
        # a server restarted or a connection dropped by a firewall is found out
        # before a statement fails on it, not by the statement
        options["pool_pre_ping"] = True
    # Bound parameters hold national numbers: keep them out of error messages,
    # which end up in logs and in Prefect's state messages.
    engine = create_engine(url, hide_parameters=True, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "handle_error", _without_row_values)
    return engine


def _without_row_values(context: ExceptionContext) -> BaseException | None:
    """Drop all but the first line of a PostgreSQL error message.

    PostgreSQL names the values behind a failed constraint in the lines after
    the first ("DETAIL: Key (idempotency_key)=(...) already exists", "Failing
    row contains (...)"): national numbers, in a message that ends up in a log
    or a Prefect state. The first line names the constraint, which is enough to
    act on; the rest stays in the driver error's `diag` for code that needs it.
    """
    original = context.original_exception
    message = str(original)
    first_line = message.split("\n", 1)[0]
    if first_line == message:
        return None
    original.args = (first_line,)
    raised = context.sqlalchemy_exception
    if not isinstance(raised, DBAPIError):
        return None
    # SQLAlchemy's error copied the driver's message when it was made: make it
    # again from the shortened one, of the same class (IntegrityError stays one)
    return type(raised)(
        raised.statement,
        raised.params,
        original,
        hide_parameters=True,
        connection_invalidated=raised.connection_invalidated,
        code=raised.code,
        ismulti=raised.ismulti,
    )


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def make_engine(url: str) -> Engine:
    """The engine of `url`, one per process, its database brought to the newest
    schema revision on first use (see `proactief.migrations`)."""
    url = database_url(url)
    engine = _engines.get(url)
    if engine is None:
        with _engines_lock:
            engine = _engines.get(url)
            if engine is None:
                from proactief import migrations

                engine = create_store_engine(url)
                try:
                    migrations.upgrade(engine)
                except BaseException:
                    engine.dispose()
                    raise
                _engines[url] = engine
    return engine


def dispose_engine(url: str) -> None:
    """Close the pooled connections of `url`'s engine and forget it: the next
    use connects (and checks the schema) anew. For tests that drop their
    databases, and tools that are done with one."""
    with _engines_lock:
        engine = _engines.pop(database_url(url), None)
    if engine is not None:
        engine.dispose()


class Store:
    """The operations the flows need, each in its own short transaction."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._run_locks: dict[str, list[RunLock]] = {}
        self._interrupted: dict[str, list[str]] = {}

    # runs
    def start_run(
        self,
        benefit: str,
        period: str,
        as_of: date,
        flow_run_id: str | None = None,
        *,
        also_locks: Sequence[str] = (),
    ) -> str:
        """Record a new run of a benefit and period; returns its id.

        The run holds its benefit's lock (and those of `also_locks`: the benefits
        whose documents it sends) until its `running` block ends, or its process
        does; while another run holds one of them, `RunInProgress` is raised and
        nothing is recorded (`proactief.run_locks`).

        With the locks taken, a run of the same benefit and period still marked
        'running' was stopped without a word (killed, or its machine went down):
        it is marked 'interrupted' here rather than left 'running' for ever.
        """
        locks: list[RunLock] = []
        try:
            for name in sorted({benefit, *also_locks}):
                locks.append(take_run_lock(self.engine, name))
            run = Run(
                benefit=benefit, period=period, as_of=as_of, flow_run_id=flow_run_id
            )
            stopped = (
                Run.benefit == benefit,
                Run.period == period,
                Run.status == "running",
            )
            with Session(self.engine) as session:
                flow_runs = session.exec(select(Run.flow_run_id).where(*stopped)).all()
                session.execute(
                    update(Run)
                    .where(*stopped)
                    .values(status="interrupted", finished_at=_now())
                )
                session.add(run)
                session.commit()
                run_id = run.id
        except BaseException:
            for lock in locks:
                lock.release()
            raise
        self._run_locks[run_id] = locks
        self._interrupted[run_id] = [
            f for f in flow_runs if f is not None and f != flow_run_id
        ]
        return run_id

    def interrupted_flow_runs(self, run_id: str) -> list[str]:
        """The Prefect flow runs of the runs `start_run` marked 'interrupted' when it
        started `run_id` (not the run's own: a flow run retried from the UI keeps
        its id)."""
        return list(self._interrupted.get(run_id, []))

    @contextmanager
    def running(
        self, run_id: str, counts: Callable[[], dict[str, int]]
    ) -> Iterator[None]:
        """The body of a run: marks the run failed, with its counts so far, when
        the block raises, and lets go of the run's locks however it ends.

        Without it a run that stopped on bad input or was interrupted would stay
        'running' in the store for ever, and hold its benefit's lock.
        """
        try:
            yield
        except BaseException:
            self.finish_run(run_id, "failed", counts())
            raise
        finally:
            self.release_run_locks(run_id)

    def release_run_locks(self, run_id: str) -> None:
        """Let go of the locks `start_run` took for `run_id` (if this store took
        them); a second call does nothing."""
        for lock in self._run_locks.pop(run_id, []):
            lock.release()

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
        wanted = None if subjects is None else set(subjects)
        with Session(self.engine) as session:
            query = select(Decision).where(
                Decision.benefit == benefit, Decision.period == period
            )
            if wanted is not None and len(wanted) <= _IN_LIMIT:
                # a few subjects (a desk check, a chunk): ask for just those
                query = query.where(Decision.subject.in_(sorted(wanted)))
            rows = session.exec(query).all()
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
        """Insert or replace decisions; a stored grant, or a reviewer's decision,
        is never replaced by a run."""
        if not rows:
            return
        try:
            self._save_decisions(rows)
        except IntegrityError:
            # another writer (a desk check, an API call for the same person at
            # the same moment) inserted one of these subjects in between: read
            # again and replace or keep, by the same rule
            self._save_decisions(rows)

    def _save_decisions(self, rows: Sequence[dict]) -> None:
        benefit, period = rows[0]["benefit"], rows[0]["period"]
        existing = self.decisions(benefit, period, (r["subject"] for r in rows))
        fresh = [r for r in rows if r["subject"] not in existing]
        replace = [
            r
            for r in rows
            if r["subject"] in existing and not is_final(existing[r["subject"]])
        ]
        with Session(self.engine) as session:
            if fresh:
                session.execute(insert(Decision), fresh)
            for row in replace:
                # the check is repeated in the statement itself: a grant stored
                # by another writer since the read above is never overwritten
                session.execute(
                    update(Decision)
                    .where(
                        Decision.id == existing[row["subject"]].id,
                        Decision.outcome != "granted",
                        Decision.rule_version.not_like(f"{REVIEWER_RULE_PREFIX}%"),
                    )
                    .values(**row)
                )
            session.commit()

    def final_decisions(
        self, benefit: str, period: str, subjects: Iterable[str] | None = None
    ) -> dict[str, Decision]:
        """Decisions no run may change: grants, and whatever a reviewer decided."""
        return {
            s: d
            for s, d in self.decisions(benefit, period, subjects).items()
            if is_final(d)
        }

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
        try:
            return self._sync_review_cases(benefit, period, run_id, cases)
        except IntegrityError:
            # another writer (a desk check of the same citizen, a run at the same
            # moment) opened a case for one of these subjects since they were
            # read; the database keeps one open case per subject, so read again
            # and update that case instead
            return self._sync_review_cases(benefit, period, run_id, cases)

    def _sync_review_cases(
        self, benefit: str, period: str, run_id: str, cases: dict[str, dict | None]
    ) -> tuple[int, int]:
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

    def record_documents(
        self, rows: Sequence[dict], print_file: str | None = None
    ) -> None:
        """Record documents before they are written (status 'recorded').

        With `print_file`, they are recorded as going into that print file, and a
        document recorded before and not written yet (its earlier print file was
        never made) is moved to it, in the same transaction.
        """
        if not rows:
            return
        with Session(self.engine) as session:
            if print_file is None:
                session.execute(insert(Document), list(rows))
            else:
                keys = [row["idempotency_key"] for row in rows]
                known = set(
                    session.exec(
                        select(Document.idempotency_key).where(
                            Document.idempotency_key.in_(keys)
                        )
                    ).all()
                )
                new = [
                    {**row, "print_file": print_file}
                    for row in rows
                    if row["idempotency_key"] not in known
                ]
                if new:
                    session.execute(insert(Document), new)
                if known:
                    session.execute(
                        update(Document)
                        .where(
                            Document.idempotency_key.in_(sorted(known)),
                            Document.status == "recorded",
                        )
                        .values(print_file=print_file)
                    )
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
            # straight to the table, past the ORM: this runs every hundred
            # registry requests, in the event loop that sends them
            with self.engine.begin() as connection:
                connection.execute(Consultation.__table__.insert(), list(rows))

    def count(self, model: type[SQLModel], **where) -> int:
        from sqlalchemy import func

        with Session(self.engine) as session:
            query = select(func.count()).select_from(model)
            for column, value in where.items():
                query = query.where(getattr(model, column) == value)
            return session.exec(query).one()

    # review by a person
    def review_case(self, case_id: int) -> ReviewCase | None:
        with Session(self.engine) as session:
            return session.get(ReviewCase, case_id)

    def review_queue(
        self,
        *,
        status: str = "open",
        benefit: str | None = None,
        reason: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[ReviewCase], int]:
        """Cases in `status`, oldest first, optionally of one benefit and with
        one reason code among their reasons; with the total that match."""
        from sqlalchemy import func, or_

        query = select(ReviewCase).where(ReviewCase.status == status)
        if benefit:
            query = query.where(ReviewCase.benefit == benefit)
        if reason:
            query = query.where(
                or_(
                    ReviewCase.reasons == reason,
                    ReviewCase.reasons.startswith(f"{reason},"),
                    ReviewCase.reasons.endswith(f",{reason}"),
                    ReviewCase.reasons.contains(f",{reason},"),
                )
            )
        with Session(self.engine) as session:
            total = session.exec(
                select(func.count()).select_from(query.subquery())
            ).one()
            rows = session.exec(
                query.order_by(ReviewCase.created_at, ReviewCase.id)
                .offset(offset)
                .limit(limit)
            ).all()
        return list(rows), total

    def review_facets(self, status: str = "open") -> dict[str, dict[str, int]]:
        """Counts of the cases in `status` by benefit and by reason code."""
        from collections import Counter

        with Session(self.engine) as session:
            rows = session.exec(
                select(ReviewCase.benefit, ReviewCase.reasons).where(
                    ReviewCase.status == status
                )
            ).all()
        benefits, reasons = Counter(), Counter()
        for benefit, codes in rows:
            benefits[benefit] += 1
            reasons.update(c for c in codes.split(",") if c)
        return {"benefits": dict(benefits), "reasons": dict(reasons)}

    def decide_review_case(
        self,
        case_id: int,
        *,
        outcome: str,
        decided_by: str,
        motivation: str,
        category: str | None = None,
        amount_cents: int | None = None,
        extra_credit_cents: int | None = None,
        pseudonym_ref: str | None = None,
    ) -> ReviewCase:
        """Store a reviewer's decision on an open case, with who, when and why.

        `granted` and `not_granted` become the subject's decision for the case's
        benefit and period (a run never changes it afterwards); `handled` closes
        a case that decides nobody's benefit (a school file that matched no list).
        """
        if outcome not in ("granted", "not_granted", "handled"):
            raise ValueError(
                f"a reviewer decides granted, not_granted or handled, not {outcome!r}"
            )
        if not motivation.strip():
            raise ValueError("a reviewer's decision needs a written motivation")
        now = _now()
        with Session(self.engine) as session:
            case = session.get(ReviewCase, case_id)
            if case is None:
                raise ReviewCaseStateError(f"review case {case_id} does not exist")
            if case.status != "open":
                raise ReviewCaseStateError(
                    f"review case {case_id} is not open (it is {case.status})"
                )
            case.status = "decided"
            case.resolution = outcome
            case.decided_by = decided_by
            case.motivation = motivation.strip()
            case.closed_at = now
            session.add(case)
            if outcome != "handled":
                values = {
                    "outcome": outcome,
                    "category": category,
                    "amount_cents": amount_cents,
                    "extra_credit_cents": extra_credit_cents,
                    "reasons": case.reasons,
                    "evidence": case.evidence,
                    "rule_version": f"{REVIEWER_RULE_PREFIX}{case.id}",
                    "run_id": case.run_id,
                    "decided_at": now,
                }
                decision = session.exec(
                    select(Decision).where(
                        Decision.benefit == case.benefit,
                        Decision.period == case.period,
                        Decision.subject == case.subject,
                    )
                ).first()
                if decision is None:
                    session.add(
                        Decision(
                            benefit=case.benefit,
                            period=case.period,
                            subject=case.subject,
                            subject_ref=pseudonym_ref or case.subject_ref,
                            **values,
                        )
                    )
                else:
                    for field, value in values.items():
                        setattr(decision, field, value)
                    session.add(decision)
            session.commit()
            session.refresh(case)
            return case

    def reopen_review_case(self, case_id: int, note: str = "") -> ReviewCase:
        """Open a decided case again (a supervisor's step).

        Refused once the letter or invoice of a granted case went out: a sent
        document cannot be taken back, a correction is a new decision.
        """
        with Session(self.engine) as session:
            case = session.get(ReviewCase, case_id)
            if case is None:
                raise ReviewCaseStateError(f"review case {case_id} does not exist")
            if case.status != "decided":
                raise ReviewCaseStateError(
                    f"review case {case_id} was not decided by a reviewer"
                    f" (it is {case.status}): nothing to reopen"
                )
            sent = session.exec(
                select(Document).where(
                    Document.benefit == case.benefit,
                    Document.period == case.period,
                    Document.subject == case.subject,
                    Document.status == "written",
                )
            ).first()
            if sent is not None and case.resolution == "granted":
                raise ReviewCaseStateError(
                    f"review case {case_id}: its {sent.kind} was already sent"
                    f" ({sent.reference}); it cannot be reopened"
                )
            other = session.exec(
                select(ReviewCase.id).where(
                    ReviewCase.benefit == case.benefit,
                    ReviewCase.period == case.period,
                    ReviewCase.subject == case.subject,
                    ReviewCase.status == "open",
                )
            ).first()
            if other is not None:
                raise ReviewCaseStateError(_other_case_open(case_id, other))
            case.status = "open"
            case.resolution = None
            case.decided_by = None
            # why it was reopened, for the next reviewer; the audit log has who
            case.motivation = note.strip() or None
            case.closed_at = None
            session.add(case)
            decision = session.exec(
                select(Decision).where(
                    Decision.benefit == case.benefit,
                    Decision.period == case.period,
                    Decision.subject == case.subject,
                )
            ).first()
            if decision is not None and decision.rule_version.startswith(
                REVIEWER_RULE_PREFIX
            ):
                decision.outcome = "review"
                decision.category = None
                decision.amount_cents = None
                decision.extra_credit_cents = None
                decision.rule_version = f"reopened:{case.id}"
                session.add(decision)
            try:
                session.commit()
            except IntegrityError as exc:
                # a run or a desk check opened one since the check above
                raise ReviewCaseStateError(_other_case_open(case_id)) from exc
            session.refresh(case)
            return case

    def decided_review_cases(
        self, benefit: str | None = None, period: str | None = None
    ) -> list[ReviewCase]:
        """Cases a reviewer decided, oldest decision first."""
        query = select(ReviewCase).where(ReviewCase.status == "decided")
        if benefit:
            query = query.where(ReviewCase.benefit == benefit)
        if period:
            query = query.where(ReviewCase.period == period)
        with Session(self.engine) as session:
            return list(
                session.exec(query.order_by(ReviewCase.closed_at, ReviewCase.id)).all()
            )

    # audit
    def audit(self, actor: str, action: str, **fields) -> None:
        with Session(self.engine) as session:
            session.add(AuditEvent(actor=actor, action=action, **fields))
            session.commit()

    def audit_events(
        self,
        *,
        actor: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        action: str | None = None,
        limit: int | None = 200,
        offset: int = 0,
    ) -> tuple[list[AuditEvent], int]:
        """Audit events, newest first, with the total that match."""
        from sqlalchemy import func

        query = select(AuditEvent)
        if actor:
            query = query.where(AuditEvent.actor == actor)
        if action:
            query = query.where(AuditEvent.action == action)
        if since is not None:
            query = query.where(AuditEvent.at >= since)
        if until is not None:
            query = query.where(AuditEvent.at < until)
        with Session(self.engine) as session:
            total = session.exec(
                select(func.count()).select_from(query.subquery())
            ).one()
            query = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            if limit is not None:
                query = query.offset(offset).limit(limit)
            return list(session.exec(query).all()), total

    def count_audit_events(self, actor: str, action: str, since: datetime) -> int:
        from sqlalchemy import func

        with Session(self.engine) as session:
            return session.exec(
                select(func.count())
                .select_from(AuditEvent)
                .where(
                    AuditEvent.actor == actor,
                    AuditEvent.action == action,
                    AuditEvent.at >= since,
                )
            ).one()

    # held invoices (publish-reviewed; the model is HeldInvoice, at the end)
    def hold_invoices(self, rows: Sequence[dict]) -> None:
        """Keep what the invoices held for review need, one row per idempotency
        key; a rerun of the check brings its row up to date (a corrected file)."""
        if not rows:
            return
        keys = [row["idempotency_key"] for row in rows]
        with Session(self.engine) as session:
            known = set(
                session.exec(
                    select(HeldInvoice.idempotency_key).where(
                        HeldInvoice.idempotency_key.in_(keys)
                    )
                ).all()
            )
            fresh = [row for row in rows if row["idempotency_key"] not in known]
            if fresh:
                session.execute(insert(HeldInvoice), fresh)
            for row in rows:
                if row["idempotency_key"] in known:
                    session.execute(
                        update(HeldInvoice)
                        .where(HeldInvoice.idempotency_key == row["idempotency_key"])
                        .values(**row, held_at=_now())
                    )
            session.commit()

    def held_invoices(
        self, benefit: str, period: str, subjects: Iterable[str] | None = None
    ) -> list[HeldInvoice]:
        """The invoices held for review in a benefit and period, by key order."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(HeldInvoice)
                .where(HeldInvoice.benefit == benefit, HeldInvoice.period == period)
                .order_by(HeldInvoice.idempotency_key)
            ).all()
        wanted = None if subjects is None else set(subjects)
        return [row for row in rows if wanted is None or row.subject in wanted]

    # grants made on the spot (the desk, the API)
    def record_grants(self, rows: Sequence[dict], settled_by: str) -> None:
        """Store grants made on today's facts, in front of the citizen.

        Unlike a run's decisions, such a grant replaces any decision that is not
        a grant, a reviewer's refusal of an older situation included (the citizen
        was just told yes), and settles the subject's open review case of that
        benefit and period. A grant already stored stays as it was.
        """
        for row in rows:
            try:
                self._record_grant(row, settled_by)
            except IntegrityError:  # inserted at the same moment: go again
                self._record_grant(row, settled_by)

    def record_on_the_spot(self, row: dict, settled_by: str) -> None:
        """Store a decision made in front of the citizen (the desk, the API).

        A grant goes through `record_grants`. Any other outcome leaves a stored
        grant or a reviewer's decision as it is; otherwise it is stored, and the
        subject's review case is opened ("review") or settled (anything else).
        """
        if row["outcome"] == "granted":
            self.record_grants([row], settled_by)
            return
        benefit, period, subject = row["benefit"], row["period"], row["subject"]
        if subject in self.final_decisions(benefit, period, [subject]):
            return
        self.save_decisions([row])
        case = None
        if row["outcome"] == "review":
            case = {
                "subject": subject,
                "subject_ref": row["subject_ref"],
                "reasons": row["reasons"],
                "evidence": row["evidence"],
            }
        self.sync_review_cases(benefit, period, row["run_id"], {subject: case})

    def _record_grant(self, row: dict, settled_by: str) -> None:
        with Session(self.engine) as session:
            current = session.exec(
                select(Decision).where(
                    Decision.benefit == row["benefit"],
                    Decision.period == row["period"],
                    Decision.subject == row["subject"],
                )
            ).first()
            if current is None:
                session.add(Decision(**row))
            elif current.outcome != "granted":
                for field, value in row.items():
                    setattr(current, field, value)
                current.decided_at = _now()
                session.add(current)
            session.execute(
                update(ReviewCase)
                .where(
                    ReviewCase.benefit == row["benefit"],
                    ReviewCase.period == row["period"],
                    ReviewCase.subject == row["subject"],
                    ReviewCase.status == "open",
                )
                .values(
                    status="closed",
                    closed_at=_now(),
                    resolution=f"settled: {settled_by}",
                )
            )
            session.commit()

    # Low Emission Zone registrations
    def active_lez_registration(self, card_holder: str) -> LezRegistration | None:
        """The card holder's registration that is active or ending, if any."""
        with Session(self.engine) as session:
            return session.exec(
                select(LezRegistration).where(
                    LezRegistration.card_holder == card_holder,
                    LezRegistration.status.in_(["active", "ending"]),
                )
            ).first()

    def register_lez_vehicle(
        self,
        *,
        card_holder: str,
        card_holder_ref: str,
        plate: str,
        applicant_ref: str,
        client: str,
        valid_until: date,
    ) -> LezRegistration | None:
        """Register a plate free of charge on a card, or confirm it again.

        One registration per card: returns None, and changes nothing, when the
        card already carries another plate (two calls at once included: the
        check and the write are one transaction, one card holder at a time).
        """
        with Session(self.engine) as session:
            _one_writer_per(session, "lez-card", card_holder)
            current = session.exec(
                select(LezRegistration).where(
                    LezRegistration.card_holder == card_holder,
                    LezRegistration.status.in_(["active", "ending"]),
                )
            ).first()
            if current is not None and current.plate != plate:
                session.rollback()
                return None
            if current is None:
                current = LezRegistration(
                    card_holder=card_holder,
                    card_holder_ref=card_holder_ref,
                    plate=plate,
                    applicant_ref=applicant_ref,
                    client=client,
                    valid_until=valid_until,
                )
            else:
                current.valid_until = max(current.valid_until, valid_until)
                current.checked_at = _now()
                current.status = "active"
            session.add(current)
            session.commit()
            session.refresh(current)
            return current


def _one_writer_per(session: Session, topic: str, key: str) -> None:
    """Begin the session's transaction so that, until it ends, no other writer
    gets past this point for the same topic and key.

    SQLite has one writer at a time anyway: take its write lock now (BEGIN
    IMMEDIATE) rather than at the first write, after the reads. PostgreSQL
    takes a transaction-level advisory lock on a hash of topic and key (never
    the key itself: it may be a national number), so writers for other keys
    go on meanwhile.
    """
    dialect = session.bind.dialect.name
    if dialect == "sqlite":
        session.execute(text("BEGIN IMMEDIATE"))
    elif dialect == "postgresql":
        digest = hashlib.blake2b(f"{topic}:{key}".encode(), digest_size=8).digest()
        session.execute(
            text("SELECT pg_advisory_xact_lock(:lock)"),
            {"lock": int.from_bytes(digest, "big", signed=True)},
        )


def _other_case_open(case_id: int, other: int | None = None) -> str:
    which = f"case {other}" if other is not None else "another case"
    return (
        f"review case {case_id} cannot be reopened: {which} of the same subject,"
        " benefit and period is open; decide that one instead"
    )


def is_final(decision: Decision) -> bool:
    """Whether no run may change this decision: a grant, or a reviewer's word."""
    return decision.outcome == "granted" or decision.rule_version.startswith(
        REVIEWER_RULE_PREFIX
    )


# Held invoices: what publish-reviewed needs to send an invoice a reviewer released.


class LezRegistrationBase(SQLModel):
    """A vehicle registered free of charge in the Low Emission Zone on the
    strength of a disability parking card (POLICY.md section 4).

    One active registration per card, and so per card holder: a second plate
    for the same card is refused. `plate` is kept normalised (upper case, no
    spaces or dashes). `status` is `active`, `ending` (a renewal found the card
    or the allowance gone: the citizen was told, a reviewer confirms, and it
    ends on `valid_until`) or `ended`.
    """

    card_holder: str = Field(index=True)
    card_holder_ref: str
    plate: str = Field(index=True)
    applicant_ref: str
    client: str
    registered_at: datetime = Field(default_factory=_now)
    valid_until: date
    status: str = Field(default="active", index=True)
    checked_at: datetime = Field(default_factory=_now)
    ended_at: datetime | None = None
    end_reason: str | None = None


class LezRegistration(LezRegistrationBase, table=True):
    __tablename__ = "lez_registration"
    id: int | None = Field(default=None, primary_key=True)


class ApiClientBase(SQLModel):
    """A system allowed to call the API (the LEZ permit system), by key.

    Only a SHA-256 hash of the key is kept (the key is a long random token, so
    a slow password hash adds nothing); `prefix` is the key's first characters,
    to tell keys apart in a listing. A revoked key is refused at once.
    """

    name: str = Field(index=True)
    prefix: str
    key_hash: str = Field(unique=True, index=True)
    created_at: datetime = Field(default_factory=_now)
    revoked_at: datetime | None = None


class ApiClient(ApiClientBase, table=True):
    __tablename__ = "api_client"
    id: int | None = Field(default=None, primary_key=True)


class HeldInvoiceBase(SQLModel):
    """An invoice the school-tariffs flow held because the pupil had no tariff yet.

    Keyed by the idempotency key the invoice gets when it is sent (its Document's
    key), it keeps what the invoice needs besides the reviewer's tariff: the school,
    the pupil's class, the billing lines as JSON (`item`, `quantity`, `unit_price`,
    decimals as strings) and whether the family discount applies to a tariff it
    combines with. No name or address (read from the registry when the invoice is
    sent), no income, no status.
    """

    idempotency_key: str = Field(unique=True)
    benefit: str
    period: str = Field(index=True)
    subject: str
    subject_ref: str
    school_year: str
    check: int
    school_id: str
    school_name: str
    pupil_class: str
    family_discount: bool = False
    lines: str = "[]"
    run_id: str
    held_at: datetime = Field(default_factory=_now)


class HeldInvoice(HeldInvoiceBase, table=True):
    __tablename__ = "held_invoice"
    id: int | None = Field(default=None, primary_key=True)


# ---------------------------------------------------------------------------
# LEZ renewal (flows/lez_renewal.py): the registrations it re-checks, and what it
# records of them. Functions of a `Store`, kept apart from the class.


def lez_registrations_due(store: Store, until: date) -> list[LezRegistration]:
    """Active registrations that end on or before `until`, oldest end first."""
    with Session(store.engine) as session:
        return list(
            session.exec(
                select(LezRegistration)
                .where(
                    LezRegistration.status == "active",
                    LezRegistration.valid_until <= until,
                )
                .order_by(LezRegistration.valid_until, LezRegistration.id)
            ).all()
        )


def lez_registrations_ending(store: Store) -> list[LezRegistration]:
    """Registrations a renewal found no longer qualifying: status `ending`, with
    the renewal's reasons in `end_reason`, oldest end first."""
    with Session(store.engine) as session:
        return list(
            session.exec(
                select(LezRegistration)
                .where(
                    LezRegistration.status == "ending",
                    LezRegistration.end_reason.is_not(None),
                )
                .order_by(LezRegistration.valid_until, LezRegistration.id)
            ).all()
        )


def renew_lez_registration(
    store: Store,
    registration_id: int,
    *,
    valid_until: date,
    ending_reasons: str | None = None,
) -> bool:
    """Record a renewal's verdict on an active registration, once.

    Extends `valid_until` to the later of the two dates and notes the check; with
    `ending_reasons`, also marks the registration `ending` (a reviewer confirms
    the end; the citizen is told). Returns False, changing nothing, when the
    registration is no longer active (a rerun, or the permit system got there
    first).
    """
    values: dict = {"checked_at": _now()}
    if ending_reasons:
        values.update(status="ending", end_reason=ending_reasons)
    with Session(store.engine) as session:
        current = session.get(LezRegistration, registration_id)
        if current is None or current.status != "active":
            return False
        values["valid_until"] = max(current.valid_until, valid_until)
        session.execute(
            update(LezRegistration)
            .where(
                LezRegistration.id == registration_id,
                LezRegistration.status == "active",
            )
            .values(**values)
        )
        session.commit()
    return True
