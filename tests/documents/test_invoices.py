"""Invoices of the school and childcare social tariff: what they say, how they page.

Invoices are read back with pypdf, as a parent's PDF reader would; every name,
address, school and account here is synthetic.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from stdnum import iban as iban_numbers
from stdnum.be import ogm_vcs

from proactief.documents.invoices import (
    DEFAULT_ISSUER,
    Invoice,
    InvoiceLine,
    InvoiceRenderer,
    render_invoices,
    structured_communication,
)
from proactief.documents.rendering import FONTS_DIR
from proactief.facts import Address

from .pdf_text import full_text, text_runs

NBSP = "\u00a0"
HEADER = "Omschrijving Aantal Prijs per eenheid Korting Bedrag"
ITEMS = ("care_hours", "meals", "activity")
# Left-window DL and C5 envelopes: the window in mm from the sheet's left and top.
WINDOW_LEFT, WINDOW_RIGHT = 20, 110
WINDOW_TOP, WINDOW_BOTTOM = 45, 90


def _line(item: str, quantity: str, unit_price: str, discount: str) -> InvoiceLine:
    quantity, unit_price, discount = map(Decimal, (quantity, unit_price, discount))
    amount = (quantity * unit_price * (1 - discount)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    return InvoiceLine(item, quantity, unit_price, discount, amount)


LINES = (
    _line("care_hours", "24.5", "1.85", "0.625"),
    _line("meals", "18", "3.40", "0.25"),
    _line("activity", "2", "7.50", "0"),
)
PRINTED_LINES = (
    "Opvanguren 24,5 € 1,85 62,5 % € 17,00",
    "Maaltijden 18 € 3,40 25 % € 45,90",
    "Activiteiten 2 € 7,50 0 % € 15,00",
)


def _invoice(**changes) -> Invoice:
    lines = changes.pop("lines", LINES)
    invoice = Invoice(
        reference="ST-2026-1-7c1e9a",
        school_name="Basisschool De Regenboog",
        school_id="GENT-BSO-017",
        pupil_first_name="Zoë",
        pupil_last_name="D'Hondt",
        pupil_class="3B",
        address=Address("Voorbeeldstraat", "12", "3", "9000", "Gent"),
        school_year="2026-2027",
        check=1,
        period_label="september - oktober 2026",
        category="low_income_a",
        family_discount=True,
        lines=lines,
        total=changes.pop("total", sum((line.amount for line in lines), Decimal(0))),
        invoice_date=date(2026, 11, 3),
        due_date=date(2026, 12, 3),
    )
    return replace(invoice, **changes)


def _long_lines(count: int) -> tuple[InvoiceLine, ...]:
    # Each line has its own quantity, so that every printed row is told apart.
    return tuple(
        _line(ITEMS[n % 3], str(n + 1), "2.50", ("0", "0.5", "0.25")[n % 3])
        for n in range(count)
    )


def _printed(line: InvoiceLine) -> str:
    label = {"care_hours": "Opvanguren", "meals": "Maaltijden"}.get(
        line.item, "Activiteiten"
    )
    percentage = {"0": "0", "0.5": "50", "0.25": "25"}[str(line.discount)]
    return (
        f"{label} {line.quantity} € {line.unit_price:.2f} {percentage} % "
        f"€ {line.amount:.2f}"
    ).replace(".", ",")


def _euro(printed: str) -> Decimal:
    return Decimal(printed.removeprefix("€ ").replace(".", "").replace(",", "."))


def _read(renderer: InvoiceRenderer, invoice: Invoice) -> PdfReader:
    return PdfReader(io.BytesIO(renderer.render(invoice)))


def _plain(text: str) -> str:
    return text.replace(NBSP, " ")


@pytest.fixture(scope="module")
def renderer() -> InvoiceRenderer:
    return InvoiceRenderer()


@pytest.fixture(scope="module")
def pdf(renderer) -> PdfReader:
    return _read(renderer, _invoice())


@pytest.fixture(scope="module")
def long_pdf(renderer) -> PdfReader:
    return _read(renderer, _invoice(lines=_long_lines(80)))


def test_invoice_prints_pupil_school_period_and_tariff(pdf):
    text = _plain(full_text(pdf))
    assert "Leerling Zoë D'Hondt" in text
    assert "Klas 3B" in text
    assert "School Basisschool De Regenboog" in text
    assert "Schooljaar 2026-2027" in text
    assert "september - oktober 2026" in text
    assert "Uw tarief Kortingstarief A met gezinskorting" in text
    assert "3 november 2026" in text
    assert "ST-2026-1-7c1e9a" in text


def test_invoice_prints_each_line_with_its_dutch_item_name(pdf):
    rows = [_plain(run.text) for run in text_runs(pdf)]
    for printed in PRINTED_LINES:
        assert printed in rows


def test_invoice_writes_euro_and_percent_with_no_break_spaces(pdf):
    text = full_text(pdf)
    assert f"€{NBSP}17,00" in text
    assert f"62,5{NBSP}%" in text


def test_invoice_total_is_the_sum_of_its_printed_lines(pdf):
    rows = [_plain(run.text) for run in text_runs(pdf)]
    lines = [row for row in rows if row.startswith(("Opvang", "Maalt", "Activ"))]
    assert lines == list(PRINTED_LINES)
    (total_row,) = [row for row in rows if row.startswith("Totaal")]
    assert total_row == "Totaal € 77,90"
    printed = [_euro("€ " + row.rsplit(" € ", 1)[1]) for row in lines]
    assert sum(printed) == _euro(total_row.removeprefix("Totaal "))
    assert "Te betalen € 77,90\n" in _plain(full_text(pdf))


def test_invoice_is_addressed_to_the_parents_in_the_envelope_window(pdf):
    lines = [
        run.text
        for run in text_runs(pdf)
        if WINDOW_LEFT <= run.left <= WINDOW_RIGHT
        and WINDOW_TOP <= run.top <= WINDOW_BOTTOM
    ]
    assert lines == [
        "Aan de ouders van Zoë D'Hondt",
        "Voorbeeldstraat 12 bus 3",
        "9000 Gent",
    ]


def test_invoice_without_address_goes_to_the_parents_through_the_school(renderer):
    reader = _read(renderer, _invoice(address=None))
    window = [
        run.text
        for run in text_runs(reader)
        if WINDOW_LEFT <= run.left <= WINDOW_RIGHT
        and WINDOW_TOP <= run.top <= WINDOW_BOTTOM
    ]
    assert window == [
        "Aan de ouders van Zoë D'Hondt",
        "Klas 3B",
        "Basisschool De Regenboog",
    ]


def test_long_name_goes_on_a_line_of_its_own_in_the_window(renderer):
    invoice = _invoice(
        pupil_first_name="Marie-Thérèse",
        pupil_last_name="Vandenbroucke-Van de Velde",
        address=Address(
            "Burgemeester Maurice Vander Haeghenstraat",
            "123A",
            "45",
            "9032",
            "Wondelgem",
        ),
    )
    window = [
        run
        for run in text_runs(_read(renderer, invoice))
        if WINDOW_LEFT <= run.left <= WINDOW_RIGHT
        and WINDOW_TOP <= run.top <= WINDOW_BOTTOM
    ]
    assert [run.text for run in window] == [
        "Aan de ouders van",
        "Marie-Thérèse Vandenbroucke-Van de Velde",
        "Burgemeester Maurice Vander Haeghenstraat 123A bus 45",
        "9032 Wondelgem",
    ]
    assert all(run.top <= WINDOW_BOTTOM - 3 for run in window)


def test_invoice_with_dutch_and_turkish_characters(renderer):
    reader = _read(
        renderer,
        _invoice(
            pupil_first_name="Emre",
            pupil_last_name="Çelik",
            school_name="Sint-Barbaraschool Zoë's klas",
        ),
    )
    text = full_text(reader)
    assert "Aan de ouders van Emre Çelik" in text
    assert "Sint-Barbaraschool Zoë's klas" in text


def test_invoice_never_prints_an_income_a_status_or_a_category_code(pdf):
    text = full_text(pdf).lower()
    for word in (
        "inkomen",
        "leefloon",
        "integratie",
        "verhoogde tegemoetkoming",
        "bim",
        "23.000",
        "low_income",
        "insz",
        "rijksregisternummer",
    ):
        assert word not in text


@pytest.mark.parametrize(
    ("category", "family_discount", "label"),
    [
        ("social", False, "Sociaal tarief"),
        ("low_income_a", False, "Kortingstarief A"),
        ("low_income_b", True, "Kortingstarief B met gezinskorting"),
        ("standard", False, "Standaardtarief"),
        ("standard", True, "Standaardtarief met gezinskorting"),
    ],
)
def test_invoice_names_the_tariff_in_dutch(renderer, category, family_discount, label):
    invoice = _invoice(category=category, family_discount=family_discount)
    text = full_text(_read(renderer, invoice))
    assert f"Uw tarief {label}\n" in text


def test_invoice_prints_an_account_that_passes_the_iban_check(pdf):
    assert iban_numbers.is_valid(DEFAULT_ISSUER.iban)
    (printed,) = re.findall(r"BE\d\d(?: \d{4}){3}", full_text(pdf))
    assert iban_numbers.is_valid(printed)
    assert iban_numbers.compact(printed) == iban_numbers.compact(DEFAULT_ISSUER.iban)


def test_invoice_prints_the_structured_communication_of_its_reference(pdf):
    communication = structured_communication("ST-2026-1-7c1e9a")
    assert re.fullmatch(r"\+\+\+\d{3}/\d{4}/\d{5}\+\+\+", communication)
    assert ogm_vcs.is_valid(communication)
    assert f"Met mededeling {communication}" in full_text(pdf)


def test_structured_communication_is_derived_from_the_reference_alone():
    first = structured_communication("ST-2026-1-7c1e9a")
    assert structured_communication("ST-2026-1-7c1e9a") == first
    assert structured_communication("ST-2026-1-7c1e9b") != first
    communications = {
        structured_communication(f"ST-2026-1-{n:06d}") for n in range(2000)
    }
    assert len(communications) == 2000
    assert all(ogm_vcs.is_valid(c) for c in communications)


def test_structured_communication_check_digits_are_the_banks_mod_97():
    # The form from the brief, checked the way Belgian banks check it.
    assert ogm_vcs.is_valid("+++123/4567/89002+++")
    assert 1234567890 % 97 == 2


def test_structured_communication_refuses_a_national_number():
    with pytest.raises(ValueError, match="national number"):
        structured_communication("85073003328")


def test_invoice_with_nothing_to_pay_says_so_and_asks_for_no_payment(renderer):
    lines = (_line("care_hours", "12", "1.85", "1"), _line("activity", "1", "0", "0"))
    text = _plain(
        full_text(
            _read(
                renderer,
                _invoice(category="social", lines=lines, family_discount=False),
            )
        )
    )
    assert "Totaal € 0,00" in text
    assert "U hoeft voor deze periode niets te betalen." in text
    assert "mededeling" not in text
    assert "BE26" not in text


def test_unit_price_finer_than_a_cent_is_printed_as_priced(renderer):
    lines = (_line("care_hours", "10", "1.125", "0.5"),)
    rows = [
        _plain(run.text) for run in text_runs(_read(renderer, _invoice(lines=lines)))
    ]
    assert "Opvanguren 10 € 1,125 50 % € 5,63" in rows


def test_wrong_total_is_refused():
    with pytest.raises(ValueError, match="not the sum of its lines") as excinfo:
        _invoice(total=Decimal("77.91"))
    # The message names the invoice, never an amount.
    assert "77" not in str(excinfo.value)
    assert "ST-2026-1-7c1e9a" in str(excinfo.value)


def test_total_as_a_float_is_refused():
    with pytest.raises(ValueError, match="not the sum of its lines"):
        _invoice(total=77.90)


def test_line_whose_amount_does_not_follow_from_its_price_is_refused():
    with pytest.raises(ValueError, match="rounded half-up") as excinfo:
        InvoiceLine(
            "meals", Decimal(3), Decimal("2.35"), Decimal("0.25"), Decimal("5.28")
        )
    assert "5.28" not in str(excinfo.value)
    # 3 x 2.35 x 0.75 = 5.2875, which rounds half-up to 5.29.
    assert _line("meals", "3", "2.35", "0.25").amount == Decimal("5.29")


@pytest.mark.parametrize(
    "arguments",
    [
        ("snacks", Decimal(1), Decimal(1), Decimal(0), Decimal(1)),
        ("meals", 3.0, Decimal(1), Decimal(0), Decimal(3)),
        ("meals", Decimal(1), Decimal(1), Decimal("1.5"), Decimal(0)),
        ("meals", Decimal(-1), Decimal(1), Decimal(0), Decimal(-1)),
        ("meals", Decimal("NaN"), Decimal(1), Decimal(0), Decimal(0)),
    ],
    ids=["unknown item", "float", "discount over 1", "negative quantity", "NaN"],
)
def test_line_that_cannot_be_billed_is_refused(arguments):
    with pytest.raises(ValueError):
        InvoiceLine(*arguments)


@pytest.mark.parametrize(
    "changes",
    [
        {"category": "low_income_c"},
        {"category": "review"},
        {"category": "social", "family_discount": True},
        {"lines": ()},
        {"due_date": date(2026, 11, 2)},
        {"reference": "85.07.30-033.28"},
        {"reference": "../elsewhere"},
        {"pupil_first_name": " ", "pupil_last_name": ""},
    ],
    ids=[
        "unknown category",
        "in review",
        "family discount with social",
        "no lines",
        "due before dated",
        "national number",
        "path",
        "no name",
    ],
)
def test_invoice_that_must_not_go_out_is_refused(changes):
    with pytest.raises(ValueError):
        _invoice(**changes)


def test_refusal_never_quotes_a_national_number():
    with pytest.raises(ValueError) as excinfo:
        _invoice(reference="85073003328")
    assert "85073003328" not in str(excinfo.value)


def test_issuer_with_an_iban_that_fails_its_check_is_refused():
    with pytest.raises(ValueError, match="check digits"):
        InvoiceRenderer(replace(DEFAULT_ISSUER, iban="BE27 0910 0000 0029"))


def test_invoice_repr_carries_no_name_address_or_amount():
    invoice = _invoice()
    assert repr(invoice) == (
        "Invoice(reference='ST-2026-1-7c1e9a', school_year='2026-2027', check=1)"
    )
    assert repr(invoice.lines[0]) == "InvoiceLine(item='care_hours')"


def test_long_invoice_never_splits_a_line_over_two_pages(long_pdf):
    expected = [_printed(line) for line in _long_lines(80)]
    runs = text_runs(long_pdf)
    assert len(long_pdf.pages) >= 3
    rows = [run for run in runs if run.text.startswith(("Opvang", "Maalt", "Activ"))]
    # Each line is read back whole, as one run of text on one page, in order:
    # a line whose cells were spread over two pages would come back in pieces.
    assert [_plain(run.text) for run in rows] == expected
    pages_of = {_plain(run.text): run.page for run in rows}
    assert len(set(pages_of.values())) == len(long_pdf.pages)


def test_long_invoice_repeats_the_column_headings_on_every_page(long_pdf):
    runs = text_runs(long_pdf)
    for page in range(len(long_pdf.pages)):
        on_page = [run for run in runs if run.page == page]
        headers = [run for run in on_page if run.text == HEADER]
        assert len(headers) == 1, f"page {page + 1} has no column headings"
        lines = [
            run for run in on_page if run.text.startswith(("Opvang", "Maalt", "Activ"))
        ]
        assert lines
        assert all(headers[0].top < run.top for run in lines)


def test_long_invoice_keeps_the_total_with_its_last_line(long_pdf):
    runs = text_runs(long_pdf)
    (total,) = [run for run in runs if run.text.startswith("Totaal")]
    last_line = [
        run for run in runs if run.text.startswith(("Opvang", "Maalt", "Activ"))
    ][-1]
    assert total.page == last_line.page
    printed = [
        _euro("€ " + _plain(run.text).rsplit(" € ", 1)[1])
        for run in runs
        if run.text.startswith(("Opvang", "Maalt", "Activ"))
    ]
    assert sum(printed) == _euro(_plain(total.text).removeprefix("Totaal "))


def test_long_invoice_numbers_its_pages_and_names_itself_on_each(long_pdf):
    pages = len(long_pdf.pages)
    for number, page in enumerate(long_pdf.pages, start=1):
        text = page.extract_text()
        assert f"pagina {number} van {pages}" in text
        assert "Factuur ST-2026-1-7c1e9a" in text


def test_invoice_embeds_only_the_shipped_fonts(long_pdf):
    shipped = {TTFont(path)["name"].getDebugName(1) for path in FONTS_DIR.glob("*.ttf")}
    for page in long_pdf.pages:
        for font in page["/Resources"]["/Font"].values():
            for descendant in font.get_object()["/DescendantFonts"]:
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                program = TTFont(
                    io.BytesIO(descriptor["/FontFile2"].get_object().get_data())
                )
                assert program["name"].getDebugName(1) in shipped


@pytest.mark.parametrize("pool_from", [2, 100], ids=["worker processes", "in process"])
def test_render_invoices_writes_one_file_per_invoice(tmp_path, pool_from):
    invoices = [_invoice(reference=f"ST-2026-1-{n:04d}") for n in range(4)]
    paths = render_invoices(invoices, tmp_path, processes=2, pool_from=pool_from)
    assert paths == [tmp_path / f"ST-2026-1-{n:04d}.pdf" for n in range(4)]
    for path, invoice in zip(paths, invoices, strict=True):
        assert invoice.reference in PdfReader(path).pages[0].extract_text()


def test_render_invoices_refuses_two_invoices_with_one_reference(tmp_path):
    with pytest.raises(ValueError, match="share a reference"):
        render_invoices([_invoice(), _invoice()], tmp_path)


def test_render_to_replaces_a_file_whole(renderer, tmp_path):
    target = tmp_path / "invoice.pdf"
    target.write_bytes(b"half an invoice")
    renderer.render_to(_invoice(), target)
    assert target.read_bytes().startswith(b"%PDF")
    assert list(tmp_path.iterdir()) == [target]


def test_rendering_twice_gives_the_same_pdf(renderer):
    assert renderer.render(_invoice()) == renderer.render(_invoice())
