"""Reading a rendered PDF back as a reader sees it: runs of text and where they sit."""

from __future__ import annotations

from dataclasses import dataclass

from pypdf import PdfReader

MM_PER_PT = 25.4 / 72


@dataclass(frozen=True)
class Run:
    """A run of text on one line: its page (from 0) and its start in mm from the
    sheet's left and top edges."""

    page: int
    text: str
    left: float
    top: float


def text_runs(reader: PdfReader) -> list[Run]:
    """Every run of text of every page, in the order of the pages and then top-down."""
    return [
        run
        for number, page in enumerate(reader.pages)
        for run in sorted(_page_runs(number, page), key=lambda r: (r.top, r.left))
    ]


def text_lines(reader: PdfReader) -> list[Run]:
    """The runs that share a baseline joined into one line each, left to right.

    A line of a table is one run in pypdf until the font changes (a bold cell);
    joined, it reads as the row does.
    """
    lines: list[Run] = []
    for run in text_runs(reader):
        last = lines[-1] if lines else None
        if last and last.page == run.page and abs(last.top - run.top) < 0.3:
            lines[-1] = Run(last.page, f"{last.text} {run.text}", last.left, last.top)
        else:
            lines.append(run)
    return lines


def _page_runs(number: int, page) -> list[Run]:
    height = float(page.mediabox.height)
    runs: list[Run] = []

    def visit(text, cm, tm, font_dict, font_size):
        if not text.strip():
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        runs.append(Run(number, text.strip(), x * MM_PER_PT, (height - y) * MM_PER_PT))

    page.extract_text(visitor_text=visit)
    return runs


def full_text(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)
