"""Voucher letters: what the PDF says, where it says it, and with which fonts.

Letters are read back with pypdf, as a citizen's PDF reader would; every name and
address here is synthetic.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
import segno
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from proactief.documents.letters import (
    FONTS_DIR,
    LetterRenderer,
    VoucherLetter,
    format_address_lines,
    format_date,
    format_euro,
    merge_pdfs,
    render_many,
)
from proactief.documents.vouchers import make_voucher_code
from proactief.facts import Address

NBSP = "\u00a0"
MM_PER_PT = 25.4 / 72
SECRET = b"synthetic-test-secret-0123456789"
SOURCES = (
    "Rijksregister (gezinssamenstelling)",
    "Kruispuntbank van de Sociale Zekerheid (sociaal statuut)",
    "Sociale dienst van de stad",
)
# Left-window DL and C5 envelopes: the window in mm from the sheet's left and top.
WINDOW_LEFT, WINDOW_RIGHT = 20, 110
WINDOW_TOP, WINDOW_BOTTOM = 45, 90


def _letter(**changes) -> VoucherLetter:
    letter = VoucherLetter(
        recipient_first_name="Zoë",
        recipient_last_name="D'Hondt",
        address=Address("Voorbeeldstraat", "12", "3", "9000", "Gent"),
        year=2026,
        amount=Decimal(63),
        extra_credit=Decimal("31.50"),
        voucher_code=make_voucher_code("garbage_bags:2026:H0000123", SECRET),
        sources=SOURCES,
        letter_date=date(2026, 2, 10),
        reference="GB-2026-P-3f9a0c1d2e4b",
    )
    return replace(letter, **changes)


@pytest.fixture(scope="module")
def renderer() -> LetterRenderer:
    return LetterRenderer()


@pytest.fixture(scope="module")
def letter() -> VoucherLetter:
    return _letter()


@pytest.fixture(scope="module")
def pdf(renderer, letter) -> PdfReader:
    return PdfReader(io.BytesIO(renderer.render(letter)))


def _text(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def _lines_with_position(reader: PdfReader) -> list[tuple[str, float, float]]:
    """Each run of text with its start in mm from the sheet's left and top edges."""
    page = reader.pages[0]
    height = float(page.mediabox.height)
    runs = []

    def visit(text, cm, tm, font_dict, font_size):
        if not text.strip():
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        runs.append((text.strip(), x * MM_PER_PT, (height - y) * MM_PER_PT))

    page.extract_text(visitor_text=visit)
    return runs


def _window_lines(reader: PdfReader) -> list[tuple[str, float, float]]:
    return [
        run
        for run in _lines_with_position(reader)
        if WINDOW_LEFT <= run[1] <= WINDOW_RIGHT
        and WINDOW_TOP <= run[2] <= WINDOW_BOTTOM
    ]


def test_letter_prints_name_address_amounts_and_code(pdf, letter):
    text = _text(pdf)
    assert "Zoë D'Hondt" in text
    assert "Voorbeeldstraat 12 bus 3" in text
    assert "9000 Gent" in text
    assert f"€{NBSP}63,00" in text
    assert f"€{NBSP}31,50" in text
    assert letter.voucher_code in text
    assert "10 februari 2026" in text
    assert letter.reference in text


def test_letter_names_the_sources_and_how_to_object(pdf):
    text = _text(pdf)
    for source in SOURCES:
        assert source in text
    assert "bezwaar" in text
    assert "12 maart 2026" in text  # 30 days after the letter's date
    assert "@example.gent" in text


def test_letter_never_prints_a_status_or_an_income(pdf):
    text = _text(pdf).lower()
    for word in ("bim", "verhoogde tegemoetkoming", "inkomen", "leefloon"):
        assert word not in text


def test_letter_fits_on_one_page(pdf):
    assert len(pdf.pages) == 1


def test_address_block_sits_in_the_envelope_window(pdf):
    lines = _window_lines(pdf)
    assert [text for text, _, _ in lines] == [
        "Zoë D'Hondt",
        "Voorbeeldstraat 12 bus 3",
        "9000 Gent",
    ]
    # Clear of the window's edges, so that it stays readable when the sheet shifts.
    assert all(x >= WINDOW_LEFT + 3 and top >= WINDOW_TOP + 3 for _, x, top in lines)


def test_address_block_without_box_has_no_bus_and_no_empty_line(renderer):
    letter = _letter(
        recipient_first_name="Emre",
        recipient_last_name="Çelik",
        address=Address("Sleepstraat", "7", None, "9000", "Gent"),
    )
    reader = PdfReader(io.BytesIO(renderer.render(letter)))
    lines = _window_lines(reader)
    assert [text for text, _, _ in lines] == [
        "Emre Çelik",
        "Sleepstraat 7",
        "9000 Gent",
    ]
    # An empty line would show as a double gap between two printed lines.
    gaps = [b[2] - a[2] for a, b in itertools.pairwise(lines)]
    assert max(gaps) - min(gaps) < 0.5
    assert "bus" not in "".join(text for text, _, _ in lines)


def test_long_name_and_street_stay_in_the_window(renderer):
    letter = _letter(
        recipient_first_name="Marie-Thérèse",
        recipient_last_name="Vandenbroucke-Van de Velde",
        address=Address(
            "Burgemeester Maurice Vander Haeghenstraat",
            "123A",
            "45",
            "9032",
            "Wondelgem",
        ),
    )
    reader = PdfReader(io.BytesIO(renderer.render(letter)))
    assert len(reader.pages) == 1
    lines = _window_lines(reader)
    # Three lines: the street keeps its number and box on its line.
    assert [text for text, _, _ in lines] == [
        "Marie-Thérèse Vandenbroucke-Van de Velde",
        "Burgemeester Maurice Vander Haeghenstraat 123A bus 45",
        "9032 Wondelgem",
    ]
    assert all(top <= WINDOW_BOTTOM - 3 for _, _, top in lines)


def test_pdf_embeds_only_the_shipped_fonts(pdf):
    shipped = {TTFont(path)["name"].getDebugName(1) for path in FONTS_DIR.glob("*.ttf")}
    fonts = pdf.pages[0]["/Resources"]["/Font"]
    assert fonts
    for font in fonts.values():
        font = font.get_object()
        for descendant in font["/DescendantFonts"]:
            descriptor = descendant.get_object()["/FontDescriptor"].get_object()
            assert descriptor["/FontFamily"] == "Proactief Sans"
            program = TTFont(
                io.BytesIO(descriptor["/FontFile2"].get_object().get_data())
            )
            assert program["name"].getDebugName(1) in shipped


def test_qr_code_holds_the_voucher_code(pdf, letter):
    images = pdf.pages[0].images
    assert len(images) == 1
    picture = images[0].image.convert("L")
    expected = segno.make_qr(letter.voucher_code)
    matrix = tuple(expected.matrix_iter(border=4))
    modules = len(matrix)
    size = picture.width / modules
    # Read each module at its centre: the printed pattern is the code's pattern.
    printed = tuple(
        tuple(
            picture.getpixel((int((col + 0.5) * size), int((row + 0.5) * size))) < 128
            for col in range(modules)
        )
        for row in range(modules)
    )
    assert printed == tuple(tuple(bool(m) for m in row) for row in matrix)


def test_qr_code_is_printed_without_smoothing(pdf):
    image = next(iter(pdf.pages[0]["/Resources"]["/XObject"].values())).get_object()
    assert image["/Interpolate"].value is False


def test_merged_pdf_has_every_letter_page(renderer, tmp_path):
    paths = [
        renderer.render_to(
            _letter(reference=f"GB-2026-P-{n:04d}"), tmp_path / f"{n}.pdf"
        )
        for n in range(3)
    ]
    merged = merge_pdfs(paths, tmp_path / "print.pdf")
    reader = PdfReader(merged)
    assert len(reader.pages) == sum(len(PdfReader(p).pages) for p in paths) == 3
    assert [page.extract_text().count("GB-2026-P-000") for page in reader.pages] == [
        1,
        1,
        1,
    ]


def test_render_merged_embeds_the_fonts_once(renderer, tmp_path):
    letters = [_letter(reference=f"GB-2026-P-{n:04d}") for n in range(3)]
    path = renderer.render_merged(letters, tmp_path / "batch.pdf")
    reader = PdfReader(path)
    assert len(reader.pages) == 3
    programs = {
        font.idnum
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert len(programs) == 2  # regular and bold, shared by every page


@pytest.mark.parametrize("pool_from", [2, 100], ids=["worker processes", "in process"])
def test_render_many_writes_one_file_per_letter(tmp_path, pool_from):
    letters = [_letter(reference=f"GB-2026-P-{n:04d}") for n in range(4)]
    paths = render_many(letters, tmp_path, processes=2, pool_from=pool_from)
    assert paths == [tmp_path / f"GB-2026-P-{n:04d}.pdf" for n in range(4)]
    assert all(len(PdfReader(path).pages) == 1 for path in paths)


def test_render_many_refuses_two_letters_with_one_reference(tmp_path):
    with pytest.raises(ValueError, match="share a reference"):
        render_many([_letter(), _letter()], tmp_path)


def test_render_to_replaces_a_file_whole(renderer, tmp_path):
    target = tmp_path / "letter.pdf"
    target.write_bytes(b"half a letter")
    renderer.render_to(_letter(), target)
    assert target.read_bytes().startswith(b"%PDF")
    assert list(tmp_path.iterdir()) == [target]


def test_rendering_twice_gives_the_same_pdf(renderer, letter):
    assert renderer.render(letter) == renderer.render(letter)


def test_letter_repr_carries_no_name_address_or_amount(letter):
    shown = repr(letter)
    assert shown == "VoucherLetter(reference='GB-2026-P-3f9a0c1d2e4b', year=2026)"


def test_render_to_leaves_no_file_when_rendering_fails(renderer, tmp_path):
    with pytest.raises(NotImplementedError):
        renderer.render_to(_letter(language="fr"), tmp_path / "letter.pdf")
    assert list(tmp_path.iterdir()) == []


def test_letter_in_french_is_not_written_yet(renderer):
    with pytest.raises(NotImplementedError, match="'fr'"):
        renderer.render(_letter(language="fr"))


@pytest.mark.parametrize(
    "changes",
    [
        {"sources": ()},
        {"voucher_code": "AAAA-AAAA-AAAA"},
        {"reference": "85.07.30-033.28"},
        {"reference": "../elsewhere"},
        {"address": None},
    ],
    ids=["no sources", "bad check symbol", "national number", "path", "no address"],
)
def test_letter_that_cannot_be_sent_is_refused(renderer, changes):
    with pytest.raises(ValueError):
        renderer.render(_letter(**changes))


def test_refusal_never_quotes_a_national_number(renderer):
    with pytest.raises(ValueError) as excinfo:
        renderer.render(_letter(reference="85073003328"))
    assert "85073003328" not in str(excinfo.value)


@pytest.mark.parametrize(
    ("amount", "printed"),
    [
        (Decimal(63), "€ 63,00"),
        (Decimal("31.5"), "€ 31,50"),
        (Decimal(0), "€ 0,00"),
        (Decimal("1234.5"), "€ 1.234,50"),
        (Decimal("1234567.891"), "€ 1.234.567,89"),
        (Decimal("0.005"), "€ 0,01"),
        (Decimal(-5), "-€ 5,00"),
    ],
)
def test_format_euro_the_belgian_way(amount, printed):
    assert format_euro(amount) == printed.replace(" ", NBSP)


@pytest.mark.parametrize("amount", [63.0, Decimal("NaN"), Decimal("Infinity")])
def test_format_euro_refuses_what_is_not_an_amount(amount):
    with pytest.raises(ValueError):
        format_euro(amount)


@pytest.mark.parametrize(
    ("first", "last", "address", "lines"),
    [
        (
            "Zoë",
            "D'Hondt",
            Address("Voorbeeldstraat", "12", "3", "9000", "Gent"),
            ["Zoë D'Hondt", "Voorbeeldstraat 12 bus 3", "9000 Gent"],
        ),
        (
            "Emre",
            "Çelik",
            Address("Sleepstraat", "7", None, "9000", "Gent"),
            ["Emre Çelik", "Sleepstraat 7", "9000 Gent"],
        ),
        (
            "An",
            "Peeters",
            Address("Kortrijksesteenweg", "101", "  ", "9000", "Gent"),
            ["An Peeters", "Kortrijksesteenweg 101", "9000 Gent"],
        ),
        (
            " Jan  Pieter ",
            "De  Smet",
            Address(" Brugsesteenweg ", "5B", "0.1", "9032", "Wondelgem"),
            ["Jan Pieter De Smet", "Brugsesteenweg 5B bus 0.1", "9032 Wondelgem"],
        ),
        (
            "",
            "Yilmaz",
            Address("Dampoortstraat", "", None, "9000", ""),
            ["Yilmaz", "Dampoortstraat", "9000"],
        ),
    ],
    ids=["with box", "no box", "blank box", "extra spaces", "missing parts"],
)
def test_format_address_lines(first, last, address, lines):
    assert format_address_lines(first, last, address) == lines


@pytest.mark.parametrize(
    ("first", "last", "address"),
    [
        ("An", "Peeters", None),
        ("An", "Peeters", Address("", "12", None, "9000", "Gent")),
        ("An", "Peeters", Address("Veldstraat", "12", None, "", "Gent")),
        ("", " ", Address("Veldstraat", "12", None, "9000", "Gent")),
    ],
    ids=["no address", "no street", "no postcode", "no name"],
)
def test_format_address_lines_refuses_an_undeliverable_address(first, last, address):
    with pytest.raises(ValueError):
        format_address_lines(first, last, address)


def test_format_date_in_dutch():
    assert format_date(date(2026, 3, 1)) == "1 maart 2026"
    assert format_date(date(2026, 12, 31)) == "31 december 2026"


def test_shipped_fonts_come_with_their_license():
    assert {path.name for path in FONTS_DIR.iterdir()} >= {
        "LiberationSans-Regular.ttf",
        "LiberationSans-Bold.ttf",
        "LICENSE-LiberationSans.txt",
    }
    assert (
        "SIL OPEN FONT LICENSE"
        in (FONTS_DIR / "LICENSE-LiberationSans.txt").read_text()
    )
