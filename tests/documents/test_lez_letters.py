"""LEZ ending letters: what they print, and what they refuse to print."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from pypdf import PdfReader

from proactief.documents.lez_letters import (
    EndingLetter,
    EndingLetterRenderer,
    render_ending_letters,
)
from proactief.facts import Address

HOME = Address("Sleepstraat", "12", "3", "9000", "Gent")
SOURCES = ("Rijksregister (adres)",)


def _letter(**changes) -> EndingLetter:
    fields = {
        "recipient_first_name": "Zoë",
        "recipient_last_name": "D'Hondt",
        "address": HOME,
        "kind": "registration",
        "ends_on": date(2028, 1, 15),
        "plate": "2DEF456",
        "sources": SOURCES,
        "letter_date": date(2027, 12, 6),
        "reference": "LZ-2028-01-15-0123456789ab",
    }
    return EndingLetter(**{**fields, **changes})


def _text(pdf: bytes) -> str:
    reader = PdfReader(BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_a_registration_letter_says_which_vehicle_ends_when_unless_they_react():
    text = _text(EndingLetterRenderer().render(_letter()))
    assert "gratis registratie in de lage-emissiezone loopt af op 15 januari 2028" in (
        text
    )
    assert "nummerplaat 2DEF456" in text
    assert "tenzij u vóór die datum reageert" in text
    assert "Beste Zoë D'Hondt" in text and "Sleepstraat 12 bus 3" in text
    assert "Rijksregister (adres)" in text
    assert "LZ-2028-01-15-0123456789ab" in text


def test_a_day_pass_letter_names_no_plate_and_no_parking_card():
    letter = _letter(
        kind="day_pass",
        plate=None,
        ends_on=date(2027, 12, 31),
        reference="LD-2028-0123456789ab",
    )
    text = _text(EndingLetterRenderer().render(letter))
    assert "sociaal tarief voor dagpassen loopt af op 31 december 2027" in text
    assert "parkeerkaart" not in text and "nummerplaat" not in text


@pytest.mark.parametrize("kind", ["registration", "day_pass"])
def test_a_letter_fits_on_one_page(kind):
    pdf = EndingLetterRenderer().render(_letter(kind=kind))
    assert len(PdfReader(BytesIO(pdf)).pages) == 1


def test_the_repr_of_a_letter_carries_no_name_plate_or_address():
    shown = repr(_letter())
    assert "Zoë" not in shown and "Sleepstraat" not in shown and "2DEF456" not in shown
    assert "LZ-2028-01-15-0123456789ab" in shown


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"language": "fr"}, NotImplementedError),
        ({"kind": "parking"}, ValueError),
        ({"plate": None}, ValueError),
        ({"sources": ()}, ValueError),
        ({"reference": "85073003328"}, ValueError),
    ],
)
def test_a_letter_that_cannot_be_right_is_refused(changes, error):
    with pytest.raises(error):
        EndingLetterRenderer().render(_letter(**changes))


def test_letters_are_written_under_their_reference(tmp_path):
    paths = render_ending_letters([_letter()], tmp_path)
    assert [p.name for p in paths] == ["LZ-2028-01-15-0123456789ab.pdf"]
