"""Renewal letters of the UiTPAS opportunity tariff: from an extended grant to a PDF.

A `RenewalLetter` tells one citizen that their tariff runs until the end of the
next year, without a visit. It is rendered with the machinery every document
shares (`rendering`), the voucher letters' stylesheet and letterhead, and its own
template. What it prints is the outcome, the end date and the names of the
sources consulted: never a status or an income. Nothing here logs a name, a
national number or an address.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from proactief.documents.formatting import (
    address_block_size,
    format_date,
)
from proactief.documents.letters import (
    STYLESHEET_PATH,
    LetterSender,
    citizen_letter_context,
)
from proactief.documents.rendering import (
    POOL_FROM,
    DocumentRenderer,
    render_files,
)
from proactief.facts import Address

TEMPLATE_NAME = "uitpas_renewal_letter.html"

# Fictitious service addresses on the example.gent domain, for the demo and the
# tests; a city installation passes its own.
UITPAS_SENDER = LetterSender(
    name="Stad Gent",
    service="Dienst Proactieve Dienstverlening",
    address_lines=("Voorbeeldlaan 1", "9000 Gent"),
    email="uitpas@example.gent",
    website="www.example.gent/uitpas",
    signature="Dienst Proactieve Dienstverlening, Stad Gent",
    objection_address=(
        "Stad Gent, Dienst Proactieve Dienstverlening, UiTPAS, Voorbeeldlaan 1,"
        " 9000 Gent"
    ),
    objection_email="uitpas@example.gent",
)


@dataclass(frozen=True, repr=False)
class RenewalLetter:
    """What one renewal letter prints, for the citizen whose tariff was extended.

    `reference` is the letter's pseudonymous document reference (never an INSZ);
    it is printed on the letter and names its file. Its repr shows only the
    reference and the year, so that a letter in a log line carries no name or
    address.
    """

    recipient_first_name: str
    recipient_last_name: str
    address: Address
    year: int
    valid_until: date
    sources: tuple[str, ...]
    letter_date: date
    reference: str
    language: str = "nl"
    # A child's letter goes to its parents, about the child.
    minor: bool = False

    def __repr__(self) -> str:
        return f"RenewalLetter(reference={self.reference!r}, year={self.year})"


class RenewalLetterRenderer(DocumentRenderer[RenewalLetter]):
    """Renders renewal letters to PDF, reusing its fonts and stylesheet."""

    template_name = TEMPLATE_NAME
    stylesheet_name = STYLESHEET_PATH.name

    def __init__(self, sender: LetterSender = UITPAS_SENDER) -> None:
        self.sender = sender
        super().__init__()

    def template_context(self, letter: RenewalLetter) -> dict[str, Any]:
        context = citizen_letter_context(letter, self.sender)
        if letter.minor:  # a child's letter goes to its parents, about the child
            lines = context["address_lines"]
            context["address_lines"] = [f"Aan de ouders van {lines[0]}", *lines[1:]]
            context["address_size"] = address_block_size(context["address_lines"])
            context["salutation_name"] = "ouders"
        return {
            **context,
            "minor": letter.minor,
            "child": letter.recipient_first_name,
            "year": letter.year,
            "valid_until": format_date(letter.valid_until),
        }


def render_renewal_letters(
    letters: Sequence[RenewalLetter],
    out_dir: str | os.PathLike[str],
    *,
    processes: int | None = None,
    sender: LetterSender = UITPAS_SENDER,
    pool_from: int = POOL_FROM,
) -> list[Path]:
    """Renders each letter to `<out_dir>/<reference>.pdf`; returns the paths in order."""
    return render_files(
        letters,
        out_dir,
        RenewalLetterRenderer,
        (sender,),
        processes=processes,
        pool_from=pool_from,
        noun="renewal letters",
    )
