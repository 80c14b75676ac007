"""UiTPAS renewal letters: what they print, and what they refuse to print."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from pypdf import PdfReader

from proactief.documents.uitpas_letters import (
    RenewalLetter,
    RenewalLetterRenderer,
    render_renewal_letters,
)
from proactief.facts import Address

HOME = Address("Sleepstraat", "12", "3", "9000", "Gent")
SOURCES = ("Rijksregister (gezinssamenstelling en adres)",)


def _letter(**changes) -> RenewalLetter:
    fields = {
        "recipient_first_name": "Zoë",
        "recipient_last_name": "D'Hondt",
        "address": HOME,
        "year": 2027,
        "valid_until": date(2027, 12, 31),
        "sources": SOURCES,
        "letter_date": date(2026, 12, 1),
        "reference": "UP-2027-0123456789ab",
    }
    return RenewalLetter(**{**fields, **changes})


def _text(pdf: bytes) -> str:
    reader = PdfReader(BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_a_renewal_letter_says_until_when_to_whom_and_from_which_sources():
    text = _text(RenewalLetterRenderer().render(_letter()))
    assert "Uw UiTPAS met kansentarief loopt door in 2027" in text
    assert "tot en met 31 december 2027" in text
    assert "Beste Zoë D'Hondt" in text
    assert "Sleepstraat 12 bus 3" in text
    assert "Rijksregister (gezinssamenstelling en adres)" in text
    assert "UP-2027-0123456789ab" in text


def test_a_letter_fits_on_one_page():
    reader = PdfReader(BytesIO(RenewalLetterRenderer().render(_letter())))
    assert len(reader.pages) == 1


def test_the_repr_of_a_letter_carries_no_name_or_address():
    shown = repr(_letter())
    assert "Zoë" not in shown and "Sleepstraat" not in shown
    assert "UP-2027-0123456789ab" in shown


def test_a_reference_shaped_like_a_national_number_is_refused():
    with pytest.raises(ValueError, match="national number"):
        RenewalLetterRenderer().render(_letter(reference="85073003328"))


def test_a_letter_in_another_language_is_not_written_yet():
    with pytest.raises(NotImplementedError, match="only nl"):
        RenewalLetterRenderer().render(_letter(language="fr"))


def test_letters_are_written_under_their_reference(tmp_path):
    paths = render_renewal_letters(
        [_letter(), _letter(reference="UP-2027-ba9876543210")], tmp_path, processes=1
    )
    assert [p.name for p in paths] == [
        "UP-2027-0123456789ab.pdf",
        "UP-2027-ba9876543210.pdf",
    ]


def test_a_childs_letter_goes_to_the_parents_about_the_child():
    text = _text(RenewalLetterRenderer().render(_letter(minor=True)))
    assert "Aan de ouders van Zoë D'Hondt" in text
    assert "Beste ouders" in text
    assert "het kansentarief op de UiTPAS van Zoë loopt door" in text
    assert "uw kansentarief" not in text


@pytest.mark.parametrize(
    ("birth_date", "minor"),
    [
        ("2008-12-02", False),  # turns 18 on the letter date
        ("2008-12-03", True),  # turns 18 the day after
        ("2008-00-00", True),  # month unknown: counted from the end of the year
        ("1990-05-17", False),
        ("0000-00-00", False),
        (None, False),
    ],
)
def test_who_counts_as_a_child_on_the_letter_date(birth_date, minor):
    from tasks.uitpas import is_minor

    assert is_minor(birth_date, date(2026, 12, 2)) is minor
