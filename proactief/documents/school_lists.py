"""School lists of the school and childcare social tariff: one school, one check.

After each check a school gets the list of its pupils with the tariff each one is
billed at from that check's period on, as a PDF to read and print and as a CSV to
load into its own billing software (POLICY.md section 2). A pupil whose case waits
for a reviewer is listed as `In behandeling`. The list names the tariff, never why
it applies: no income, no status, no national number.

Both are sorted the same way, by class and then by name, and written whole or not at
all. Nothing here logs a name or a national number.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from proactief.documents.formatting import clean_text, format_date, join_text
from proactief.documents.rendering import (
    DocumentRenderer,
    scoped_renderer,
    write_atomically,
)
from proactief.documents.tariff_labels import (
    CATEGORY_LABELS,
    REVIEW,
    category_label,
)

__all__ = [
    "CSV_HEADER",
    "SchoolList",
    "SchoolListRenderer",
    "SchoolListRow",
    "render_school_list_pdf",
    "sorted_rows",
    "write_school_list_csv",
]

logger = logging.getLogger(__name__)

CSV_HEADER = ("klas", "achternaam", "voornaam", "tarief")
_DIGITS = re.compile(r"(\d+)")
# A spreadsheet reads a cell that starts with one of these as a formula; a quote in
# front makes it text (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, repr=False)
class SchoolListRow:
    """One pupil on a school's list: class, name and tariff category.

    `category` is a tariff code (`social`, `low_income_a`, `low_income_b`,
    `standard`) or `review`. Its repr shows only the class and category, so that
    a row in a log line carries no name.
    """

    last_name: str
    first_name: str
    pupil_class: str
    category: str

    def __post_init__(self) -> None:
        category_label(self.category)
        if not join_text(self.first_name, self.last_name):
            raise ValueError(
                "A row of a school list has no pupil name; pass the pupil's first "
                "and last name as the school knows them."
            )

    def __repr__(self) -> str:
        return (
            f"SchoolListRow(pupil_class={self.pupil_class!r}, "
            f"category={self.category!r})"
        )


@dataclass(frozen=True, repr=False)
class SchoolList:
    """The list of one school's pupils and their tariffs after one check."""

    school_id: str
    school_name: str
    school_year: str
    check: int
    reference_date: date
    rows: tuple[SchoolListRow, ...]

    def __post_init__(self) -> None:
        if not all(isinstance(row, SchoolListRow) for row in self.rows):
            raise ValueError(
                f"The rows of the list of school {self.school_id!r} are not "
                "SchoolListRows; make each row with SchoolListRow."
            )

    def __repr__(self) -> str:
        return (
            f"SchoolList(school_id={self.school_id!r}, "
            f"school_year={self.school_year!r}, check={self.check}, "
            f"rows={len(self.rows)})"
        )


class SchoolListRenderer(DocumentRenderer[SchoolList]):
    """Renders school lists to PDF, reusing its fonts and stylesheet.

    Create one per process and keep it; `render_school_list_pdf` keeps one per
    thread.
    """

    template_name = "school_list.html"
    stylesheet_name = "school_list.css"

    def template_context(self, school_list: SchoolList) -> dict[str, Any]:
        """What the school list's template is given."""
        rows = sorted_rows(school_list.rows)
        counts = Counter(row.category for row in rows)
        return {
            "school_id": school_list.school_id,
            "school_name": clean_text(school_list.school_name),
            "school_year": school_list.school_year,
            "check": school_list.check,
            "reference_date": format_date(school_list.reference_date),
            "created": school_list.reference_date.isoformat(),
            "rows": [
                {
                    "pupil_class": clean_text(row.pupil_class),
                    "last_name": clean_text(row.last_name),
                    "first_name": clean_text(row.first_name),
                    "tariff": category_label(row.category),
                    "in_review": row.category == REVIEW,
                }
                for row in rows
            ],
            "counts": [
                (category_label(category), counts[category])
                for category in (*CATEGORY_LABELS, REVIEW)
                if counts[category]
            ],
        }


def render_school_list_pdf(
    school_list: SchoolList, path: str | os.PathLike[str]
) -> Path:
    """Writes the school list as a PDF to `path`, whole or not at all; returns it."""
    with scoped_renderer(SchoolListRenderer) as renderer:
        path = renderer.render_to(school_list, path)
    logger.info(
        "Wrote the PDF list of school %s, check %d: %d pupils",
        school_list.school_id,
        school_list.check,
        len(school_list.rows),
    )
    return path


def write_school_list_csv(
    school_list: SchoolList, path: str | os.PathLike[str]
) -> Path:
    """Writes the school list as CSV to `path`, whole or not at all; returns it.

    `;`-separated with a header `klas;achternaam;voornaam;tarief`, the tariff as
    the PDF names it, in UTF-8 with a byte order mark so that Excel opens the
    names with their accents, sorted as the PDF is.
    """
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in sorted_rows(school_list.rows):
        writer.writerow(
            _as_text_cell(value)
            for value in (
                clean_text(row.pupil_class),
                clean_text(row.last_name),
                clean_text(row.first_name),
                category_label(row.category),
            )
        )
    path = Path(path)
    write_atomically(path, text.getvalue().encode("utf-8-sig"))
    logger.info(
        "Wrote the CSV list of school %s, check %d: %d pupils",
        school_list.school_id,
        school_list.check,
        len(school_list.rows),
    )
    return path


def sorted_rows(rows: tuple[SchoolListRow, ...]) -> list[SchoolListRow]:
    """The rows by class (2A before 10A), then by last and first name.

    Names sort as a reader looks them up: `Çelik` with the C's, `D'Hondt` with the
    D's, whatever the accents, apostrophes and capitals.
    """
    return sorted(
        rows,
        key=lambda row: (
            _class_key(row.pupil_class),
            _name_key(row.last_name),
            _name_key(row.first_name),
            (row.pupil_class, row.last_name, row.first_name),
        ),
    )


def _class_key(pupil_class: str) -> tuple[tuple[int, int | str], ...]:
    # Numbers compare as numbers, so that class 2A comes before class 10A.
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part)
        for part in _DIGITS.split(clean_text(pupil_class).casefold())
        if part
    )


def _name_key(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", clean_text(name).casefold())
    # Accents, apostrophes and other marks do not count; a hyphen counts as a space.
    return "".join(
        " " if c == "-" else c for c in decomposed if c.isalnum() or c in " -"
    )


def _as_text_cell(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value
