"""Publishing letters once: record, render, mark written.

Every letter has an idempotency key (benefit, period, subject). It is recorded in the
store before the PDF is written and marked written after, so that:
- a rerun skips every letter already written: nothing is sent twice;
- a letter recorded but never written (a run that died while rendering) is written
  by the next run, under the same reference and voucher code.
The letters of one run are also joined into one print-ready PDF beside them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from proactief.documents.letters import VoucherLetter, merge_pdfs, render_many
from proactief.documents.vouchers import make_voucher_code
from proactief.facts import Person
from proactief.store import Store

logger = logging.getLogger(__name__)

RENDER_BATCH = 500
SOURCES_GARBAGE_BAGS = (
    "Rijksregister (gezinssamenstelling en adres)",
    "Kruispuntbank van de Sociale Zekerheid (sociaal statuut)",
    "Sociale dienst van de stad (budgetbegeleiding en budgetbeheer)",
)


@dataclass(frozen=True, slots=True)
class LetterToSend:
    subject: str
    subject_ref: str
    recipient: Person
    amount: Decimal
    extra_credit: Decimal


@dataclass
class PublishReport:
    written: int = 0
    already_sent: int = 0
    print_file: Path | None = None
    letters_dir: Path | None = None


def idempotency_key(benefit: str, period: str, subject: str) -> str:
    return f"{benefit}:{period}:{subject}"


def document_reference(prefix: str, period: str, subject_ref: str) -> str:
    """A letter's printed reference and file name: pseudonymous, never an INSZ."""
    return f"{prefix}-{period}-{subject_ref.removeprefix('P-')}"


def publish_voucher_letters(
    store: Store,
    *,
    run_id: str,
    benefit: str,
    period: str,
    year: int,
    letters: Sequence[LetterToSend],
    out_dir: Path,
    letter_date: date,
    voucher_key: bytes,
    processes: int | None = None,
    print_name: str | None = None,
) -> PublishReport:
    """Write each letter not yet written, once; join this run's letters for print.

    The print file is `letters/print/run-<run id>.pdf`, or `print_name` for a run
    that publishes more than one period into the same folder.
    """
    letters_dir = out_dir / "letters"
    report = PublishReport(letters_dir=letters_dir)
    recorded = store.documents(benefit, period)
    to_record, to_render = [], []
    for item in letters:
        key = idempotency_key(benefit, period, item.subject)
        doc = recorded.get(key)
        if doc is not None and doc.status == "written":
            report.already_sent += 1
            continue
        reference = document_reference("GB", period, item.subject_ref)
        letter = VoucherLetter(
            recipient_first_name=item.recipient.first_name,
            recipient_last_name=item.recipient.last_name,
            address=item.recipient.address,
            year=year,
            amount=item.amount,
            extra_credit=item.extra_credit,
            voucher_code=make_voucher_code(key, voucher_key),
            sources=SOURCES_GARBAGE_BAGS,
            letter_date=letter_date,
            reference=reference,
        )
        if doc is None:
            to_record.append(
                {
                    "idempotency_key": key,
                    "benefit": benefit,
                    "period": period,
                    "subject": item.subject,
                    "kind": "voucher_letter",
                    "reference": reference,
                    "path": str(letters_dir / f"{reference}.pdf"),
                    "run_id": run_id,
                }
            )
        to_render.append((key, letter))
    if not to_render:
        return report

    store.record_documents(to_record)
    paths: list[Path] = []
    # Marked written batch by batch, so that a run that dies while rendering
    # leaves little for the next run to write again.
    for start in range(0, len(to_render), RENDER_BATCH):
        batch = to_render[start : start + RENDER_BATCH]
        paths += render_many(
            [letter for _, letter in batch], letters_dir, processes=processes
        )
        store.mark_documents_written([key for key, _ in batch])
        logger.info("letters written: %d of %d", len(paths), len(to_render))
    report.written = len(paths)
    print_dir = letters_dir / "print"
    print_dir.mkdir(parents=True, exist_ok=True)
    report.print_file = merge_pdfs(
        paths, print_dir / (print_name or f"run-{run_id[:12]}.pdf")
    )
    return report
