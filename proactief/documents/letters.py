"""Voucher letters of the free garbage-bag benefit: from a decided household to a PDF.

A `VoucherLetter` holds what one letter prints; a `LetterRenderer`, created once per
process, turns letters into PDFs with the template and the fonts shipped in this
package. It keeps one Fontconfig configuration and one parsed stylesheet for all its
letters: building them is most of the cost of a lone WeasyPrint call (DESIGN.md).

What a letter prints is the outcome, the amounts granted and the names of the sources
consulted, never what a source said: no status, no income. Nothing here logs a name,
a national number or an amount.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import IO

import jinja2
import segno
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from proactief.documents.vouchers import (
    is_valid_voucher_code,
    make_voucher_code,
    normalize_voucher_code,
)
from proactief.facts import Address

__all__ = [
    "DEFAULT_SENDER",
    "LetterRenderer",
    "LetterSender",
    "VoucherLetter",
    "bare_render",
    "format_address_lines",
    "format_date",
    "format_euro",
    "is_valid_voucher_code",
    "make_voucher_code",
    "merge_pdfs",
    "render_many",
]

logger = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
FONTS_DIR = PACKAGE_DIR / "fonts"
TEMPLATE_NAME = "voucher_letter.html"
STYLESHEET_PATH = TEMPLATES_DIR / "letter.css"

SUPPORTED_LANGUAGES = ("nl",)
NBSP = "\u00a0"
_CENT = Decimal("0.01")
_DUTCH_MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
# A reference names the letter's file, so it may only hold what is safe in one.
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_NATIONAL_NUMBER_SHAPE = re.compile(
    r"\d{2}[.\-\s]?\d{2}[.\-\s]?\d{2}[.\-\s]?\d{3}[.\-\s]?\d{2}"
)
_WHITESPACE = re.compile(r"\s+")
# The address block is set smaller when its longest line would not fit the window's
# 80 mm of text width at the normal size, so that a long street keeps its number
# and box on its line, which is where the post's sorting machines read them. The
# limits are in characters of Liberation Sans: 11 pt fits about 40, 9.5 pt about 46.
_ADDRESS_SIZES = ((36, ""), (44, "compact"))
_SMALLEST_ADDRESS_SIZE = "compact smallest"
# Below this many letters, starting worker processes (about a second) costs more
# than it saves on this kind of machine (about 50 ms a letter, 2 cores).
POOL_FROM = 48


@dataclass(frozen=True)
class LetterSender:
    """Who sends the letter and where a citizen objects: printed on every letter."""

    name: str
    service: str
    address_lines: tuple[str, ...]
    email: str
    website: str
    signature: str
    objection_address: str
    objection_email: str
    objection_days: int = 30


# Fictitious service addresses on the example.gent domain, for the demo and the
# tests; a city installation passes its own.
DEFAULT_SENDER = LetterSender(
    name="Stad Gent",
    service="Dienst Proactieve Dienstverlening",
    address_lines=("Voorbeeldlaan 1", "9000 Gent"),
    email="huisvuilzakken@example.gent",
    website="www.example.gent/huisvuilzakken",
    signature="Dienst Proactieve Dienstverlening, Stad Gent",
    objection_address=(
        "Stad Gent, Dienst Proactieve Dienstverlening, Bezwaren huisvuilzakken, "
        "Voorbeeldlaan 1, 9000 Gent"
    ),
    objection_email="bezwaar.huisvuilzakken@example.gent",
)


@dataclass(frozen=True, repr=False)
class VoucherLetter:
    """What one voucher letter prints, for the reference person of one household.

    `reference` is the letter's pseudonymous document reference (never an INSZ);
    it is printed on the letter and names the letter's file. `sources` are the names
    of the sources consulted, as the citizen should read them. Its repr shows only
    the reference and the year, so that a letter in a log line or a Prefect state
    message carries no name, address or amount.
    """

    recipient_first_name: str
    recipient_last_name: str
    address: Address
    year: int
    amount: Decimal
    extra_credit: Decimal
    voucher_code: str
    sources: tuple[str, ...]
    letter_date: date
    reference: str
    language: str = "nl"

    def __repr__(self) -> str:
        return f"VoucherLetter(reference={self.reference!r}, year={self.year})"


def format_euro(amount: Decimal) -> str:
    """An amount the Belgian way: `€ 1.234,50`, with a no-break space after the sign.

    Rounded half-up to the cent; a negative amount reads `-€ 5,00`.
    """
    # The value is not quoted in the message: it is an amount, which stays out
    # of logs and state messages.
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValueError(
            f"A {type(amount).__name__} that is not a finite Decimal cannot be "
            "printed as an amount; pass a Decimal, never a float."
        )
    cents = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    sign = "-" if cents < 0 else ""
    whole, fraction = f"{abs(cents):.2f}".split(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return f"{sign}€{NBSP}{grouped},{fraction}"


def format_date(day: date) -> str:
    """A date as a Dutch letter writes it: `3 februari 2026`."""
    return f"{day.day} {_DUTCH_MONTHS[day.month - 1]} {day.year}"


def format_address_lines(first: str, last: str, address: Address | None) -> list[str]:
    """The recipient block the Belgian way: name, street and number, postcode and place.

    `Zoë D'Hondt` / `Voorbeeldstraat 12 bus 3` / `9000 Gent`. A part that is missing
    prints nothing: no `bus` without a box, never an empty line.
    """
    if address is None:
        raise ValueError(
            "The recipient has no address: a letter cannot be sent; the household "
            "goes to review (POLICY.md, free garbage bags)."
        )
    name = _join(first, last)
    if not name or not _clean(address.street) or not _clean(address.postcode):
        raise ValueError(
            "The recipient has no name, street or postcode: the letter could not be "
            "delivered; correct the data or send the household to review."
        )
    street = _join(address.street, address.number)
    if _clean(address.box):
        street = f"{street} bus {_clean(address.box)}"
    return [name, street, _join(address.postcode, address.municipality)]


class LetterRenderer:
    """Renders voucher letters to PDF, reusing its fonts and stylesheet.

    Create one per process and keep it: it is not shared between threads (threads
    do not make WeasyPrint faster; processes do, see `render_many`).
    """

    def __init__(self, sender: LetterSender = DEFAULT_SENDER) -> None:
        self.sender = sender
        # Letters only read the package's own files and inline data: a template
        # mistake can never make the renderer fetch something over the network.
        self._url_fetcher = URLFetcher(allowed_protocols={"file", "data"})
        self._font_config = FontConfiguration()
        self._stylesheet = CSS(
            filename=str(STYLESHEET_PATH),
            font_config=self._font_config,
            url_fetcher=self._url_fetcher,
        )
        environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self._template = environment.get_template(TEMPLATE_NAME)

    def html(self, letter: VoucherLetter) -> str:
        """The letter as HTML, before layout: what `render` turns into a PDF."""
        return self._template.render(_context(letter, self.sender))

    def render(self, letter: VoucherLetter) -> bytes:
        """The letter as a PDF."""
        return self._document(letter).write_pdf()

    def render_to(self, letter: VoucherLetter, path: str | os.PathLike[str]) -> Path:
        """Writes the letter's PDF to `path`, whole or not at all, and returns it."""
        path = Path(path)
        _write_atomically(path, self.render(letter))
        return path

    def render_merged(
        self, letters: Iterable[VoucherLetter], path: str | os.PathLike[str]
    ) -> Path:
        """Writes the letters as one PDF, each letter starting on a new sheet.

        The fonts are embedded once for the whole file. Every page stays in memory
        until the file is written: use it for print batches of hundreds of letters,
        and `merge_pdfs` for a whole run.
        """
        documents = [self._document(letter) for letter in letters]
        if not documents:
            raise ValueError("No letters to merge: pass at least one letter.")
        pages = [page for document in documents for page in document.pages]
        path = Path(path)
        _write_atomically(path, documents[0].copy(pages).write_pdf())
        return path

    def _document(self, letter: VoucherLetter):
        page = HTML(
            string=self.html(letter),
            base_url=TEMPLATES_DIR.as_uri() + "/",
            url_fetcher=self._url_fetcher,
        )
        return page.render(
            font_config=self._font_config, stylesheets=[self._stylesheet]
        )


def render_many(
    letters: Sequence[VoucherLetter],
    out_dir: str | os.PathLike[str],
    *,
    processes: int | None = None,
    sender: LetterSender = DEFAULT_SENDER,
    pool_from: int = POOL_FROM,
) -> list[Path]:
    """Renders each letter to `<out_dir>/<reference>.pdf`; returns the paths in order.

    From `pool_from` letters on, and with more than one process (`processes`
    defaults to the number of CPUs), the letters are shared among worker processes,
    one renderer each. Fewer letters are rendered in this process, by a renderer
    kept for the next call: starting the workers costs about a second. The workers
    start from a fork server, which imports the calling script again: a script
    that calls this must do so under `if __name__ == "__main__":`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = [
        out_dir / f"{_checked_reference(letter.reference)}.pdf" for letter in letters
    ]
    if len(set(targets)) != len(targets):
        raise ValueError(
            "Two letters share a reference; give every letter its own reference."
        )
    workers = processes or os.cpu_count() or 1
    if workers == 1 or len(letters) < pool_from:
        renderer = _renderer_for(sender)
        paths = [
            renderer.render_to(letter, target)
            for letter, target in zip(letters, targets, strict=True)
        ]
        logger.info("Rendered %d letters in this process", len(paths))
        return paths
    chunksize = max(1, len(letters) // (workers * 8))
    # Workers come from a fork server, not from forking this process: the caller
    # may be a Prefect task with threads, and a fork copies their held locks.
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=_start_worker,
        initargs=(sender,),
    ) as pool:
        paths = list(pool.map(_render_in_worker, letters, targets, chunksize=chunksize))
    logger.info("Rendered %d letters with %d processes", len(paths), workers)
    return paths


def merge_pdfs(
    paths: Iterable[str | os.PathLike[str]], out_path: str | os.PathLike[str]
) -> Path:
    """Joins the PDFs, in order, into one print file; returns its path.

    Needs pypdf at run time. Every letter keeps its own font subset, so the file
    grows by one letter's size per letter.
    """
    try:
        from pypdf import PdfWriter
    except ImportError as exc:
        raise RuntimeError(
            "Merging letters needs pypdf: install it with `pip install pypdf`, or "
            "use LetterRenderer.render_merged for a batch rendered in one go."
        ) from exc
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("No PDFs to merge: pass at least one path.")
    writer = PdfWriter()
    for path in paths:
        writer.append(path)
    out_path = Path(out_path)
    with _replacing(out_path) as target:
        writer.write(target)
    logger.info("Merged %d PDFs into one print file", len(paths))
    return out_path


def bare_render(html: str) -> bytes:
    """Renders letter HTML with a fresh font configuration and stylesheet.

    What one WeasyPrint call costs without reuse: the baseline `LetterRenderer` is
    measured against.
    """
    url_fetcher = URLFetcher(allowed_protocols={"file", "data"})
    font_config = FontConfiguration()
    stylesheet = CSS(
        filename=str(STYLESHEET_PATH), font_config=font_config, url_fetcher=url_fetcher
    )
    return HTML(
        string=html, base_url=TEMPLATES_DIR.as_uri() + "/", url_fetcher=url_fetcher
    ).write_pdf(stylesheets=[stylesheet], font_config=font_config)


def _context(letter: VoucherLetter, sender: LetterSender) -> dict[str, object]:
    if letter.language not in SUPPORTED_LANGUAGES:
        raise NotImplementedError(
            f"Letters in language {letter.language!r} are not written yet; only "
            f"{', '.join(SUPPORTED_LANGUAGES)} is. Send this household's letter in "
            "Dutch or to review."
        )
    if not letter.sources:
        raise ValueError(
            "A letter must say which sources were consulted; pass their names in "
            "`sources`."
        )
    if not is_valid_voucher_code(letter.voucher_code):
        raise ValueError(
            "The voucher code fails its check symbol; make it with make_voucher_code."
        )
    code = normalize_voucher_code(letter.voucher_code)
    address_lines = format_address_lines(
        letter.recipient_first_name, letter.recipient_last_name, letter.address
    )
    deadline = letter.letter_date + timedelta(days=sender.objection_days)
    return {
        "year": letter.year,
        "sender": sender,
        "address_lines": address_lines,
        "address_size": _address_size(address_lines),
        "salutation_name": address_lines[0],
        "letter_date": format_date(letter.letter_date),
        "created": letter.letter_date.isoformat(),
        "reference": _checked_reference(letter.reference),
        "amount": format_euro(letter.amount),
        "extra_credit": format_euro(letter.extra_credit),
        "voucher_code": code,
        # The QR code holds the code exactly as printed, so that a scan and a typed
        # code are looked up the same way. Four pixels a module: sharp on paper
        # (printed without smoothing) and in a phone's viewer, which may smooth.
        "qr_data_uri": segno.make_qr(code).png_data_uri(scale=4, border=4),
        "sources": letter.sources,
        "objection": {
            "days": sender.objection_days,
            "deadline": format_date(deadline),
            "address": sender.objection_address,
            "email": sender.objection_email,
        },
    }


def _address_size(lines: list[str]) -> str:
    longest = max(map(len, lines))
    for limit, size in _ADDRESS_SIZES:
        if longest <= limit:
            return size
    return _SMALLEST_ADDRESS_SIZE


def _checked_reference(reference: str) -> str:
    # The value is not quoted in the messages: it might be the national number
    # this check is there to keep off the letter.
    if _NATIONAL_NUMBER_SHAPE.fullmatch(reference or ""):
        raise ValueError(
            "The document reference has the shape of a national number; pass the "
            "letter's pseudonymous reference, never an INSZ."
        )
    if not _REFERENCE.fullmatch(reference or ""):
        raise ValueError(
            "The document reference is not 1-64 letters, digits, dots, dashes or "
            "underscores; pass the letter's pseudonymous reference."
        )
    return reference


def _clean(part: str | None) -> str:
    return _WHITESPACE.sub(" ", part or "").strip()


def _join(*parts: str | None) -> str:
    return " ".join(cleaned for part in parts if (cleaned := _clean(part)))


def _write_atomically(path: Path, content: bytes) -> None:
    with _replacing(path) as target:
        target.write(content)


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[IO[bytes]]:
    # A crash mid-write must not leave half a letter that a rerun takes for done:
    # the file appears under its name only once it is whole.
    with tempfile.NamedTemporaryFile(
        dir=path.parent, prefix=".tmp-", delete=False
    ) as tmp:
        try:
            yield tmp
        except BaseException:
            tmp.close()
            os.unlink(tmp.name)
            raise
    os.replace(tmp.name, path)


_worker_renderer: LetterRenderer | None = None
# One renderer per thread: a renderer is not safe to share between threads, and a
# Prefect task runner may call render_many from several at once.
_local = threading.local()


def _renderer_for(sender: LetterSender) -> LetterRenderer:
    renderers = _local.__dict__.setdefault("renderers", {})
    if sender not in renderers:
        renderers[sender] = LetterRenderer(sender)
    return renderers[sender]


def _start_worker(sender: LetterSender) -> None:
    global _worker_renderer
    _worker_renderer = LetterRenderer(sender)


def _render_in_worker(letter: VoucherLetter, target: Path) -> Path:
    if _worker_renderer is None:
        raise RuntimeError("The worker has no renderer: start it with _start_worker.")
    return _worker_renderer.render_to(letter, target)
