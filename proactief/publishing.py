"""Publishing letters once: each letter in exactly one print file.

Every letter has an idempotency key (benefit, period, subject). What goes to the
printing office is the print files in `letters/print/`, so a letter counts as sent
once it is in one of them. Letters are published in batches (`render_batch` of the
settings, `PROACTIEF_RENDER_BATCH`), each batch in four steps:

1. record the batch's documents in the store with the name of their print file
   (`<prefix>-<nnn>.pdf`), before anything is written;
2. render each letter to its own PDF (`letters/<reference>.pdf`);
3. join them into the print file, written under a temporary name and renamed, so
   that it exists whole or not at all;
4. mark the documents written.

A run killed at any moment leaves each document in one of three states, and the
next run settles each once:
- written: sent; skipped;
- recorded, and its print file exists (killed between 3 and 4): sent; only marked
  written, never printed again;
- recorded, and its print file does not exist (killed before 3): not sent; printed
  in a batch of this run, under the same reference and voucher code.

One run at a time per benefit and period is assumed: a second run started while
the first still renders would take the first one's unfinished batch for abandoned.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from proactief.config import Settings
from proactief.documents.letters import VoucherLetter, merge_pdfs, render_many
from proactief.documents.vouchers import make_voucher_code
from proactief.facts import Person
from proactief.store import Document, Store

logger = logging.getLogger(__name__)

SOURCES_GARBAGE_BAGS = (
    "Rijksregister (gezinssamenstelling en adres)",
    "Kruispuntbank van de Sociale Zekerheid (sociaal statuut)",
    "Sociale dienst van de stad (budgetbegeleiding en budgetbeheer)",
)

D = TypeVar("D")


@dataclass(frozen=True, slots=True)
class LetterToSend:
    subject: str
    subject_ref: str
    recipient: Person
    amount: Decimal
    extra_credit: Decimal


@dataclass
class PublishReport:
    """What one publishing call did.

    `already_sent` counts the letters asked for that an earlier run sent, including
    `printed_before`: those a killed run had put in a print file without marking
    them written. `print_files` are the files this call wrote, in order.
    """

    written: int = 0
    already_sent: int = 0
    printed_before: int = 0
    letters_dir: Path | None = None
    print_files: list[Path] = field(default_factory=list)

    @property
    def print_file(self) -> Path | None:
        """The folder of the print files when this call wrote any, else None.

        A run writes one print file per batch (`print_files` lists them), so one
        path can only name them all by their folder.
        """
        return self.print_files[0].parent if self.print_files else None


def idempotency_key(benefit: str, period: str, subject: str) -> str:
    return f"{benefit}:{period}:{subject}"


def document_reference(prefix: str, period: str, subject_ref: str) -> str:
    """A letter's printed reference and file name: pseudonymous, never an INSZ."""
    return f"{prefix}-{period}-{subject_ref.removeprefix('P-')}"


def settle_printed(store: Store, recorded: Mapping[str, Document]) -> set[str]:
    """Mark written every recorded document whose print file exists; their keys.

    Such a document went out in a run that was stopped between writing its print
    file and marking it written: printing it again would send it twice.
    """
    printed = sorted(
        key
        for key, doc in recorded.items()
        if doc.status != "written"
        and doc.print_file is not None
        and Path(doc.print_file).is_file()
    )
    store.mark_documents_written(printed)
    if printed:
        logger.warning(
            "%d documents were in a print file of an earlier run that stopped"
            " before marking them written: marked written, not printed again",
            len(printed),
        )
    return set(printed)


def print_in_batches(
    store: Store,
    documents: Sequence[tuple[dict, D]],
    *,
    render: Callable[[list[D]], list[Path]],
    print_dir: Path,
    prefix: str,
    batch_size: int,
    taken: Sequence[str] = (),
    render_all: Callable[[list[list[D]]], Iterator[list[Path]]] | None = None,
) -> list[Path]:
    """Record, render, print and mark written each batch of `documents`.

    Each item is the document's store row (as `Store.record_documents` takes it,
    without `print_file`) and what `render` turns into its PDF. Print files are
    named `<prefix>-<nnn>.pdf`, numbered after the ones that exist in `print_dir`
    or are named in `taken` (print files recorded before): a name is never used
    twice. Returns the print files written.

    `render_all`, when given, renders all batches at once (on a Prefect task
    runner that spreads them over a cluster, say) and yields their paths batch by
    batch, in order: every batch is then recorded before the first is rendered,
    and each is printed and marked written as its paths arrive. The states a
    kill can leave are the same as batch by batch.
    """
    if not documents:
        return []
    print_dir.mkdir(parents=True, exist_ok=True)
    number = _last_number(prefix, [p.name for p in print_dir.iterdir()] + [*taken])
    batches = [
        (
            documents[start : start + batch_size],
            print_dir / f"{prefix}-{number + count:03d}.pdf",
        )
        for count, start in enumerate(range(0, len(documents), batch_size), start=1)
    ]

    def record(batch, print_file: Path) -> None:
        store.record_documents([row for row, _ in batch], print_file=str(print_file))

    def one_by_one() -> Iterator[list[Path]]:
        for batch, print_file in batches:
            record(batch, print_file)
            yield render([document for _, document in batch])

    if render_all is None:
        rendered = one_by_one()
    else:
        for batch, print_file in batches:
            record(batch, print_file)
        rendered = render_all([[d for _, d in batch] for batch, _ in batches])

    done = 0
    for (batch, print_file), paths in zip(batches, rendered, strict=True):
        merge_pdfs(paths, print_file)
        store.mark_documents_written([row["idempotency_key"] for row, _ in batch])
        done += len(batch)
        logger.info(
            "print file %s: %d documents; %d of %d written",
            print_file.name,
            len(batch),
            done,
            len(documents),
        )
    return [print_file for _, print_file in batches]


def _last_number(prefix: str, names: Sequence[str]) -> int:
    pattern = re.compile(rf"{re.escape(prefix)}-(\d+)\.pdf")
    numbers = [int(m.group(1)) for name in names if (m := pattern.fullmatch(name))]
    return max(numbers, default=0)


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
    batch_size: int | None = None,
    render_all: Callable[[list[list[VoucherLetter]]], Iterator[list[Path]]]
    | None = None,
) -> PublishReport:
    """Write each letter not yet sent, once, in this run's print files.

    The print files are `letters/print/run-<run id>-<nnn>.pdf`; with `print_name`
    (for a run that publishes more than one period into the same folder) they
    are `<print_name without .pdf>-<nnn>.pdf`. `batch_size` defaults to the
    settings' `render_batch`. `render_all` renders the batches elsewhere (see
    `print_in_batches`); by default they are rendered here, one after another.
    """
    letters_dir = out_dir / "letters"
    print_dir = letters_dir / "print"
    report = PublishReport(letters_dir=letters_dir)
    recorded = store.documents(benefit, period)
    printed_before = settle_printed(store, recorded)
    to_print: list[tuple[dict, VoucherLetter]] = []
    for item in letters:
        key = idempotency_key(benefit, period, item.subject)
        doc = recorded.get(key)
        if key in printed_before:
            report.printed_before += 1
            report.already_sent += 1
            continue
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
        row = {
            "idempotency_key": key,
            "benefit": benefit,
            "period": period,
            "subject": item.subject,
            "kind": "voucher_letter",
            "reference": reference,
            "path": str(letters_dir / f"{reference}.pdf"),
            "run_id": run_id,
        }
        to_print.append((row, letter))

    prefix = print_name.removesuffix(".pdf") if print_name else f"run-{run_id[:12]}"
    report.print_files = print_in_batches(
        store,
        to_print,
        render=lambda batch: render_many(batch, letters_dir, processes=processes),
        print_dir=print_dir,
        prefix=prefix,
        batch_size=batch_size or Settings.from_env().render_batch,
        taken=[Path(d.print_file).name for d in recorded.values() if d.print_file],
        render_all=render_all,
    )
    report.written = len(to_print)
    return report
