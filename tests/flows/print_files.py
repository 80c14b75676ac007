"""Reading a run's print files back, and leaving documents as a stopped run would."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import update
from sqlmodel import Session, select

from proactief.store import Document, Store


def printed_references(letters_dir: Path, reference: re.Pattern) -> Counter:
    """How often each letter's reference appears across every print file in
    `letters_dir/print`: what the printing office would send."""
    printed: Counter = Counter()
    for print_file in sorted((letters_dir / "print").glob("*.pdf")):
        for page in PdfReader(print_file).pages:
            printed.update(reference.findall(page.extract_text()))
    return printed


def set_back_to_recorded(database: str, print_file: Path) -> set[str]:
    """Leave the documents of one print file as a run stopped after writing (or
    before writing) that file, but before marking its batch written, leaves them:
    recorded, not written. Returns their references."""
    with Session(Store(database).engine) as session:
        references = set(
            session.exec(
                select(Document.reference).where(Document.print_file == str(print_file))
            ).all()
        )
        session.execute(
            update(Document)
            .where(Document.print_file == str(print_file))
            .values(status="recorded", written_at=None)
        )
        session.commit()
    return references
