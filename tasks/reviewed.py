"""Tasks of publish-reviewed: the letters and invoices of cases reviewers decided.

A reviewer's decision is data (DESIGN.md): it waits in the store, as the decision of
its subject, until these tasks publish it, once, under the same idempotency key as
the benefit's own flow would use, so that whichever flow writes a document first,
the other finds it written.

- garbage bags: the voucher letter of every household a reviewer granted;
- school tariffs: every invoice the school-tariffs flow held for the pupil (see
  `HeldInvoice`), at the tariff the reviewer gave, with the family discount as the
  flow computed it.

The recipient is read from the registry again just before sending: a reviewer saw
the reference address and accepted it, but a recipient who died, is no longer in
the registry, or whom the registry kept failing on gets a new review case instead
of a document. A refused household gets no letter (the garbage-bag flow sends no
refusals); a pupil refused at the standard tariff gets the held invoice at that
tariff, as the school-tariffs flow bills its own standard pupils.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from proactief.documents.invoices import render_invoices
from proactief.facts import Person
from proactief.publishing import LetterToSend, idempotency_key, publish_voucher_letters
from proactief.store import HeldInvoice, Store
from rules import garbage_bags, school_tariffs
from tasks.pupils import invoice_reference, school_invoice
from tasks.registry import undeliverable

GARBAGE_BAGS = garbage_bags.BENEFIT
SCHOOL_TARIFFS = school_tariffs.BENEFIT
BENEFITS = (GARBAGE_BAGS, SCHOOL_TARIFFS)
RESOLUTIONS = ("granted", "not_granted")
RENDER_BATCH = 500
SENT = "written"


@dataclass(frozen=True, slots=True)
class PendingLetter:
    """A voucher letter a reviewer's grant calls for, not written yet."""

    period: str
    subject: str
    subject_ref: str
    amount_cents: int
    extra_credit_cents: int
    evidence: str


@dataclass(frozen=True, slots=True)
class PendingInvoice:
    """An invoice held for review whose pupil a reviewer gave a tariff."""

    held: HeldInvoice
    category: str

    @property
    def subject(self) -> str:
        return self.held.subject


@dataclass
class ReviewedWork:
    """What the decided cases call for, and counts of what they do not."""

    letters: list[PendingLetter] = field(default_factory=list)
    invoices: list[PendingInvoice] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)

    def subjects(self) -> list[str]:
        """Everyone to read from the registry, once each."""
        return sorted(
            {item.subject for item in self.letters}
            | {item.subject for item in self.invoices}
        )


def check_benefits(benefits: Sequence[str] | None) -> tuple[str, ...]:
    """The benefits to publish, all by default; an unknown one is refused."""
    if benefits is None:
        return BENEFITS
    unknown = [b for b in benefits if b not in BENEFITS]
    if unknown or not benefits:
        raise ValueError(
            f"benefit {(unknown or [''])[0]!r} has no reviewed documents to publish;"
            f" use one of {', '.join(BENEFITS)}"
        )
    return tuple(dict.fromkeys(benefits))


def _decided_by_period(store: Store, benefit: str) -> dict[str, set[str]]:
    """Subjects whose case a reviewer granted or refused, by period."""
    subjects: dict[str, set[str]] = defaultdict(set)
    for case in store.decided_review_cases(benefit):
        if case.resolution in RESOLUTIONS:
            subjects[case.period].add(case.subject)
    return subjects


@task(name="find_reviewed_documents", cache_policy=NO_CACHE, persist_result=False)
def find_reviewed_documents(store_url: str, benefits: Sequence[str]) -> ReviewedWork:
    """Every letter and invoice that decided review cases call for and that was not
    written yet, by this flow or by the benefit's own.

    The subject's decision in the store is what counts, not the case's resolution:
    a later reviewer's decision on the same subject replaces an earlier one.
    """
    store = Store(store_url)
    work = ReviewedWork()
    counts = work.counts
    if GARBAGE_BAGS in benefits:
        for period, subjects in sorted(_decided_by_period(store, GARBAGE_BAGS).items()):
            decisions = store.decisions(GARBAGE_BAGS, period, subjects)
            documents = store.documents(GARBAGE_BAGS, period)
            for subject in sorted(subjects):
                decision = decisions.get(subject)
                if decision is None or decision.outcome != "granted":
                    counts["garbage_bags_refused_no_letter"] += 1
                    continue
                counts["garbage_bags_granted"] += 1
                key = idempotency_key(GARBAGE_BAGS, period, subject)
                document = documents.get(key)
                if document is not None and document.status == SENT:
                    counts["garbage_bags_letters_already_sent"] += 1
                elif decision.amount_cents is None:
                    counts["garbage_bags_granted_without_amount"] += 1
                else:
                    work.letters.append(
                        PendingLetter(
                            period=period,
                            subject=subject,
                            subject_ref=decision.subject_ref,
                            amount_cents=decision.amount_cents,
                            extra_credit_cents=decision.extra_credit_cents or 0,
                            evidence=decision.evidence,
                        )
                    )
    if SCHOOL_TARIFFS in benefits:
        for period, subjects in sorted(
            _decided_by_period(store, SCHOOL_TARIFFS).items()
        ):
            decisions = store.decisions(SCHOOL_TARIFFS, period, subjects)
            documents = store.documents(SCHOOL_TARIFFS, period)
            held: dict[str, list[HeldInvoice]] = defaultdict(list)
            for row in store.held_invoices(SCHOOL_TARIFFS, period, subjects):
                held[row.subject].append(row)
            for subject in sorted(subjects):
                decision = decisions.get(subject)
                if decision is None or decision.category is None:
                    counts["school_tariffs_decided_without_tariff"] += 1
                    continue
                counts["school_tariffs_decided_with_tariff"] += 1
                if not held[subject]:
                    # no billing lines, or invoiced at an earlier check's tariff
                    counts["school_tariffs_no_invoice_held"] += 1
                for row in held[subject]:
                    document = documents.get(row.idempotency_key)
                    if document is not None and document.status == SENT:
                        counts["school_tariffs_invoices_already_sent"] += 1
                    else:
                        work.invoices.append(PendingInvoice(row, decision.category))
    get_run_logger().info(
        "decided cases: %d letters and %d invoices to send",
        len(work.letters),
        len(work.invoices),
    )
    return work


def _case(subject: str, subject_ref: str, reason: str, evidence: str) -> dict:
    return {
        "subject": subject,
        "subject_ref": subject_ref,
        "reasons": reason,
        "evidence": evidence,
    }


def _settles(store: Store, benefit: str, period: str, subjects: set[str]) -> dict:
    """Subjects now sent whose open case only said the document could not go out
    earlier: sending settles it (mapped to None for `sync_review_cases`)."""
    return {
        subject: None
        for subject, case in store.open_review_cases(benefit, period).items()
        if subject in subjects
        and all(code.endswith("_before_sending") for code in case.reasons.split(","))
    }


@task(name="publish_reviewed_letters", cache_policy=NO_CACHE, persist_result=False)
def publish_reviewed_letters(
    letters: Sequence[PendingLetter],
    people: Mapping[str, Person | Exception],
    *,
    store_url: str,
    run_id: str,
    out_dir: str,
    letter_date: date,
    voucher_key: bytes,
) -> Counter:
    """Write the voucher letter of every household a reviewer granted, once, with
    the regular flow's publishing code; one print file per year."""
    store = Store(store_url)
    counts: Counter = Counter()
    by_period: dict[str, list[PendingLetter]] = defaultdict(list)
    for letter in letters:
        by_period[letter.period].append(letter)
    for period, pending in sorted(by_period.items()):
        to_send, cases = [], {}
        for item in pending:
            reason = undeliverable(people[item.subject], reference_address_ok=True)
            if reason:
                cases[item.subject] = _case(
                    item.subject, item.subject_ref, reason, item.evidence
                )
                continue
            to_send.append(
                LetterToSend(
                    subject=item.subject,
                    subject_ref=item.subject_ref,
                    recipient=people[item.subject],
                    amount=Decimal(item.amount_cents) / 100,
                    extra_credit=Decimal(item.extra_credit_cents) / 100,
                )
            )
        cases |= _settles(
            store, GARBAGE_BAGS, period, {letter.subject for letter in to_send}
        )
        opened, _ = store.sync_review_cases(GARBAGE_BAGS, period, run_id, cases)
        report = publish_voucher_letters(
            store,
            run_id=run_id,
            benefit=GARBAGE_BAGS,
            period=period,
            year=int(period),
            letters=to_send,
            out_dir=Path(out_dir),
            letter_date=letter_date,
            voucher_key=voucher_key,
            print_name=f"run-{run_id[:12]}-{period}.pdf",
        )
        counts["garbage_bags_letters_written"] += report.written
        counts["garbage_bags_letters_already_sent"] += report.already_sent
        counts["garbage_bags_undeliverable"] += sum(1 for c in cases.values() if c)
        counts["garbage_bags_review_cases_opened"] += opened
    get_run_logger().info(
        "reviewed letters: %d written, %d undeliverable (%d new review cases)",
        counts["garbage_bags_letters_written"],
        counts["garbage_bags_undeliverable"],
        counts["garbage_bags_review_cases_opened"],
    )
    return counts


@task(name="publish_reviewed_invoices", cache_policy=NO_CACHE, persist_result=False)
def publish_reviewed_invoices(
    invoices: Sequence[PendingInvoice],
    people: Mapping[str, Person | Exception],
    *,
    store_url: str,
    run_id: str,
    out_dir: str,
    issue_date: date,
    key: bytes,
) -> Counter:
    """Write every held invoice of a pupil a reviewer gave a tariff, once: recorded
    before it is written and marked written after, like the school-tariffs flow.

    The pupil's name and address are read from the registry now; a pupil without a
    registered address gets the invoice through the school, as in that flow.
    """
    store = Store(store_url)
    counts: Counter = Counter()
    invoices_dir = Path(out_dir) / "invoices"
    by_period: dict[str, list[PendingInvoice]] = defaultdict(list)
    for pending in invoices:
        by_period[pending.held.period].append(pending)
    to_render, to_record = [], []
    for period, pending_invoices in sorted(by_period.items()):
        recorded = store.documents(SCHOOL_TARIFFS, period)
        cases, sent = {}, set()
        for pending in pending_invoices:
            row, person = pending.held, people[pending.subject]
            reason = undeliverable(
                person, reference_address_ok=True, address_required=False
            )
            if reason:
                cases[row.subject] = _case(
                    row.subject,
                    row.subject_ref,
                    reason,
                    json.dumps([f"GeefPersoon 02.02 as of {issue_date}"]),
                )
                continue
            reference = invoice_reference(
                row.school_year, row.check, row.school_id, row.subject, key
            )
            invoice = school_invoice(
                reference=reference,
                school_id=row.school_id,
                school_name=row.school_name,
                first_name=person.first_name,
                last_name=person.last_name,
                pupil_class=row.pupil_class,
                address=person.address,
                school_year=row.school_year,
                check=row.check,
                category=pending.category,
                family_discount=row.family_discount,
                lines=[
                    (
                        line["item"],
                        Decimal(line["quantity"]),
                        Decimal(line["unit_price"]),
                    )
                    for line in json.loads(row.lines)
                ],
                issue_date=issue_date,
            )
            to_render.append((row.idempotency_key, invoice))
            sent.add(row.subject)
            if row.idempotency_key not in recorded:
                to_record.append(
                    {
                        "idempotency_key": row.idempotency_key,
                        "benefit": SCHOOL_TARIFFS,
                        "period": period,
                        "subject": row.subject,
                        "kind": "invoice",
                        "reference": reference,
                        "path": str(invoices_dir / f"{reference}.pdf"),
                        "run_id": run_id,
                    }
                )
        # a pupil with two invoices (school and after-school care) has one case
        undelivered = {s for s, c in cases.items() if c}
        cases |= _settles(store, SCHOOL_TARIFFS, period, sent - undelivered)
        opened, _ = store.sync_review_cases(SCHOOL_TARIFFS, period, run_id, cases)
        counts["school_tariffs_undeliverable"] += sum(
            1 for p in pending_invoices if p.subject in undelivered
        )
        counts["school_tariffs_review_cases_opened"] += opened
    store.record_documents(to_record)
    for start in range(0, len(to_render), RENDER_BATCH):
        batch = to_render[start : start + RENDER_BATCH]
        render_invoices([invoice for _, invoice in batch], invoices_dir)
        store.mark_documents_written([key for key, _ in batch])
        counts["school_tariffs_invoices_written"] += len(batch)
    get_run_logger().info(
        "reviewed invoices: %d written, %d undeliverable (%d new review cases)",
        counts["school_tariffs_invoices_written"],
        counts["school_tariffs_undeliverable"],
        counts["school_tariffs_review_cases_opened"],
    )
    return counts
