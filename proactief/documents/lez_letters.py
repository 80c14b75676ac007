"""Letters of the Low Emission Zone renewal: a grant that will end unless the citizen reacts.

An `EndingLetter` tells a card holder that their free registration of a vehicle
(`kind="registration"`) or their social tariff on day passes (`kind="day_pass"`)
will end on its date, because the renewal could no longer confirm it, and how to
react before then (POLICY.md: ending a grant is never automatic, and the citizen
is told before it takes effect). It is rendered with the machinery every document
shares (`rendering`), the letters' stylesheet, letterhead and address window, and
its own template. It prints the end date, the plate of a registration and the
names of the sources consulted: never a status, a reason code or an income.
Nothing here logs a name, a national number, a plate or an address.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from proactief.documents.formatting import (
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

TEMPLATE_NAME = "lez_ending_letter.html"
KINDS = ("registration", "day_pass")

# Fictitious service addresses on the example.gent domain, for the demo and the
# tests; a city installation passes its own.
LEZ_SENDER = LetterSender(
    name="Stad Gent",
    service="Dienst Mobiliteit, lage-emissiezone",
    address_lines=("Voorbeeldlaan 1", "9000 Gent"),
    email="lez@example.gent",
    website="www.example.gent/lez",
    signature="Dienst Mobiliteit, Stad Gent",
    objection_address="Stad Gent, Dienst Mobiliteit, LEZ, Voorbeeldlaan 1, 9000 Gent",
    objection_email="lez@example.gent",
)


@dataclass(frozen=True, repr=False)
class EndingLetter:
    """What one ending letter prints.

    `plate` is the registered vehicle's plate (a registration only). `reference`
    is the letter's pseudonymous document reference (never an INSZ); it is
    printed on the letter and names its file. Its repr shows only the reference
    and the kind, so that a letter in a log line carries no name, plate or address.
    """

    recipient_first_name: str
    recipient_last_name: str
    address: Address
    kind: str
    ends_on: date
    sources: tuple[str, ...]
    letter_date: date
    reference: str
    plate: str | None = None
    language: str = "nl"

    def __repr__(self) -> str:
        return f"EndingLetter(reference={self.reference!r}, kind={self.kind!r})"


class EndingLetterRenderer(DocumentRenderer[EndingLetter]):
    """Renders ending letters to PDF, reusing its fonts and stylesheet."""

    template_name = TEMPLATE_NAME
    stylesheet_name = STYLESHEET_PATH.name

    def __init__(self, sender: LetterSender = LEZ_SENDER) -> None:
        self.sender = sender
        super().__init__()

    def template_context(self, letter: EndingLetter) -> dict[str, Any]:
        if letter.kind not in KINDS:
            raise ValueError(
                f"An ending letter is about one of {KINDS}, not {letter.kind!r}."
            )
        if letter.kind == "registration" and not letter.plate:
            raise ValueError("A registration's ending letter needs the plate.")
        return {
            **citizen_letter_context(letter, self.sender),
            "kind": letter.kind,
            "plate": letter.plate,
            "ends_on": format_date(letter.ends_on),
        }


def render_ending_letters(
    letters: Sequence[EndingLetter],
    out_dir: str | os.PathLike[str],
    *,
    processes: int | None = None,
    sender: LetterSender = LEZ_SENDER,
    pool_from: int = POOL_FROM,
) -> list[Path]:
    """Renders each letter to `<out_dir>/<reference>.pdf`; returns the paths in order."""
    return render_files(
        letters,
        out_dir,
        EndingLetterRenderer,
        (sender,),
        processes=processes,
        pool_from=pool_from,
        noun="LEZ ending letters",
    )
