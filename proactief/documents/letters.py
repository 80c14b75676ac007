"""Voucher letters of the free garbage-bag benefit: from a decided household to a PDF.

A `VoucherLetter` holds what one letter prints; a `LetterRenderer`, created once per
process, turns letters into PDFs with the template and the fonts shipped in this
package. It keeps one Fontconfig configuration and one parsed stylesheet for all its
letters: building them is most of the cost of a lone WeasyPrint call (DESIGN.md).
That machinery, and the Dutch formatting of amounts, dates and addresses, is shared
with the city's other documents: see `rendering` and `formatting`.

What a letter prints is the outcome, the amounts granted and the names of the sources
consulted, never what a source said: no status, no income. Nothing here logs a name,
a national number or an amount.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import segno
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from proactief.documents.formatting import (
    NBSP,
    address_block_size,
    format_address_lines,
    format_date,
    format_euro,
)
from proactief.documents.rendering import (
    FONTS_DIR,
    POOL_FROM,
    TEMPLATES_DIR,
    DocumentRenderer,
    checked_reference,
    merge_pdfs,
    render_files,
)
from proactief.documents.vouchers import (
    is_valid_voucher_code,
    make_voucher_code,
    normalize_voucher_code,
)
from proactief.facts import Address

# The formatting and file helpers live in `formatting` and `rendering`, shared with
# the other documents; the names this module exported before stay importable here.
__all__ = [
    "DEFAULT_SENDER",
    "FONTS_DIR",
    "NBSP",
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

TEMPLATE_NAME = "voucher_letter.html"
STYLESHEET_PATH = TEMPLATES_DIR / "letter.css"

SUPPORTED_LANGUAGES = ("nl",)


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


class LetterRenderer(DocumentRenderer[VoucherLetter]):
    """Renders voucher letters to PDF, reusing its fonts and stylesheet.

    Create one per process and keep it: it is not shared between threads (threads
    do not make WeasyPrint faster; processes do, see `render_many`).
    """

    template_name = TEMPLATE_NAME
    stylesheet_name = STYLESHEET_PATH.name

    def __init__(self, sender: LetterSender = DEFAULT_SENDER) -> None:
        self.sender = sender
        super().__init__()

    def template_context(self, letter: VoucherLetter) -> dict[str, Any]:
        """What the letter's template is given; raises when it must not go out."""
        return _context(letter, self.sender)


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
    return render_files(
        letters,
        out_dir,
        LetterRenderer,
        (sender,),
        processes=processes,
        pool_from=pool_from,
        noun="letters",
    )


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


def citizen_letter_context(letter: Any, sender: LetterSender) -> dict[str, Any]:
    """What every letter to a citizen prints: the sender, the address in the
    window, the date and reference, and the sources consulted.

    `letter` has `recipient_first_name`, `recipient_last_name`, `address`,
    `sources`, `letter_date`, `reference` and `language`. Raises when the letter
    must not go out: a language not written yet, no sources, no address.
    """
    if letter.language not in SUPPORTED_LANGUAGES:
        raise NotImplementedError(
            f"Letters in language {letter.language!r} are not written yet; only "
            f"{', '.join(SUPPORTED_LANGUAGES)} is. Send this citizen's letter in "
            "Dutch or to review."
        )
    if not letter.sources:
        raise ValueError(
            "A letter must say which sources were consulted; pass their names in "
            "`sources`."
        )
    address_lines = format_address_lines(
        letter.recipient_first_name, letter.recipient_last_name, letter.address
    )
    return {
        "sender": sender,
        "address_lines": address_lines,
        "address_size": address_block_size(address_lines),
        "salutation_name": address_lines[0],
        "letter_date": format_date(letter.letter_date),
        "created": letter.letter_date.isoformat(),
        "reference": checked_reference(letter.reference),
        "sources": letter.sources,
    }


def _context(letter: VoucherLetter, sender: LetterSender) -> dict[str, Any]:
    base = citizen_letter_context(letter, sender)
    if not is_valid_voucher_code(letter.voucher_code):
        raise ValueError(
            "The voucher code fails its check symbol; make it with make_voucher_code."
        )
    code = normalize_voucher_code(letter.voucher_code)
    deadline = letter.letter_date + timedelta(days=sender.objection_days)
    return {
        **base,
        "year": letter.year,
        "amount": format_euro(letter.amount),
        "extra_credit": format_euro(letter.extra_credit),
        "voucher_code": code,
        # The QR code holds the code exactly as printed, so that a scan and a typed
        # code are looked up the same way. Four pixels a module: sharp on paper
        # (printed without smoothing) and in a phone's viewer, which may smooth.
        "qr_data_uri": segno.make_qr(code).png_data_uri(scale=4, border=4),
        "objection": {
            "days": sender.objection_days,
            "deadline": format_date(deadline),
            "address": sender.objection_address,
            "email": sender.objection_email,
        },
    }
