"""School lists: sorted by class and name, Dutch tariff names, whole rows, and a CSV
that Excel opens with its accents.

Lists are read back with pypdf and the csv module; every name and school here is
synthetic.
"""

from __future__ import annotations

import codecs
import csv
import itertools
from datetime import date

import pytest
from pypdf import PdfReader

from proactief.documents.school_lists import (
    SchoolList,
    SchoolListRow,
    render_school_list_pdf,
    sorted_rows,
    write_school_list_csv,
)

from .pdf_text import full_text, text_lines, text_runs

HEADER = "Klas Achternaam Voornaam Tarief"
# Below this, in mm from the sheet's top, is the page number, not the table.
PAGE_NUMBER_TOP = 279
CATEGORIES = ("social", "low_income_a", "low_income_b", "standard", "review")
LABELS = {
    "social": "Sociaal tarief",
    "low_income_a": "Kortingstarief A",
    "low_income_b": "Kortingstarief B",
    "standard": "Standaardtarief",
    "review": "In behandeling",
}
LAST_NAMES = (
    "D'Hondt",
    "Çelik",
    "Peeters",
    "De Smet",
    "Yılmaz",
    "Janssens",
    "El Amrani",
    "Öztürk",
    "Van den Broeck",
    "Wouters",
)
FIRST_NAMES = (
    "Zoë",
    "Emre",
    "An",
    "Lotte",
    "Mohamed",
    "Noor",
    "Marie-Thérèse",
    "Yusuf",
    "Eline",
    "Jan",
    "Aïcha",
    "Seppe",
    "Inès",
    "Wout",
    "Chloë",
    "Lars",
    "Fatma",
    "Rémi",
    "Hanne",
    "Bram",
)
# Far longer than any real name: it wraps over four lines or more in its column, so
# that a page break may fall inside its row and neither orphans nor widows, only
# the row's own break-inside, keep the row whole.
LONG_LAST_NAME = (
    "Vandenbroucke-Van de Velde-Van Den Bossche-De Schrijver-Vanderhaeghen-"
    "Van Hoorebeke-De Meulemeester-Verstraete-Van Landeghem-Vercruysse-"
    "De Clercq-Van Damme-Verhaeghe-Claeys"
)
CLASSES = ("1A", "2A", "2B", "3B", "10A")


def _list(rows) -> SchoolList:
    return SchoolList(
        school_id="GENT-BSO-017",
        school_name="Basisschool De Regenboog",
        school_year="2026-2027",
        check=2,
        reference_date=date(2026, 11, 1),
        rows=tuple(rows),
    )


def _pupils(count: int) -> list[SchoolListRow]:
    # Every pupil has a name of their own; every ninth has a name that wraps.
    names = itertools.product(LAST_NAMES, FIRST_NAMES)
    rows = []
    for n, (last, first) in zip(range(count), names, strict=False):
        rows.append(
            SchoolListRow(
                last_name=LONG_LAST_NAME if n % 9 == 4 else last,
                first_name=first,
                pupil_class=CLASSES[n % len(CLASSES)],
                category=CATEGORIES[(n // 2) % len(CATEGORIES)],
            )
        )
    return rows


SMALL = _list(
    [
        SchoolListRow("Peeters", "An", "10A", "standard"),
        SchoolListRow("Çelik", "Emre", "2A", "low_income_a"),
        SchoolListRow("D'Hondt", "Zoë", "2A", "social"),
        SchoolListRow("Dewulf", "Lotte", "2A", "review"),
        SchoolListRow("Celis", "Noor", "2A", "low_income_b"),
        SchoolListRow("Aerts", "Jan", "2B", "standard"),
    ]
)
SMALL_ORDER = [
    ("2A", "Çelik", "Emre", "Kortingstarief A"),
    ("2A", "Celis", "Noor", "Kortingstarief B"),
    ("2A", "Dewulf", "Lotte", "In behandeling"),
    ("2A", "D'Hondt", "Zoë", "Sociaal tarief"),
    ("2B", "Aerts", "Jan", "Standaardtarief"),
    ("10A", "Peeters", "An", "Standaardtarief"),
]


@pytest.fixture(scope="module")
def small_pdf(tmp_path_factory) -> PdfReader:
    path = tmp_path_factory.mktemp("lists") / "small.pdf"
    return PdfReader(render_school_list_pdf(SMALL, path))


@pytest.fixture(scope="module")
def long_list() -> SchoolList:
    return _list(_pupils(200))


@pytest.fixture(scope="module")
def long_pdf(tmp_path_factory, long_list) -> PdfReader:
    path = tmp_path_factory.mktemp("lists") / "long.pdf"
    return PdfReader(render_school_list_pdf(long_list, path))


def test_rows_sort_by_class_then_by_name_whatever_the_accents():
    assert [
        (row.pupil_class, row.last_name, row.first_name)
        for row in sorted_rows(SMALL.rows)
    ] == [order[:3] for order in SMALL_ORDER]


def test_pdf_lists_each_pupil_in_order_with_the_tariff_in_dutch(small_pdf):
    runs = [run.text for run in text_lines(small_pdf)]
    start = runs.index(HEADER)
    assert runs[start + 1 : start + 1 + len(SMALL_ORDER)] == [
        " ".join(row) for row in SMALL_ORDER
    ]


def test_pdf_names_the_school_the_check_and_its_date(small_pdf):
    text = full_text(small_pdf)
    assert "Basisschool De Regenboog" in text
    assert "GENT-BSO-017" in text
    assert "2026-2027" in text
    assert "2, toestand op 1 november 2026" in text
    assert "Leerlingen 6" in text


def test_pdf_never_prints_a_code_an_income_a_status_or_a_national_number(small_pdf):
    text = full_text(small_pdf).lower()
    for word in (
        "low_income",
        "review",
        "social",
        "inkomen",
        "leefloon",
        "integratie",
        "verhoogde tegemoetkoming",
        "insz",
        "rijksregisternummer",
    ):
        assert word not in text


def test_long_list_never_splits_a_row_over_two_pages(long_pdf, long_list):
    runs = text_lines(long_pdf)
    assert len(long_pdf.pages) >= 4
    starts = []
    for page in range(len(long_pdf.pages)):
        on_page = [run for run in runs if run.page == page]
        (header,) = [run for run in on_page if run.text == HEADER]
        # The table's lines: below the column headings, above the page number.
        body = [run for run in on_page if header.top < run.top < PAGE_NUMBER_TOP]
        # A row starts in the class column, at the table's left edge; the lines a
        # long name wraps onto start further right. A row split over two pages
        # would put the rest of its name at the top of the next page.
        assert body[0].left == pytest.approx(header.left, abs=0.5), (
            f"page {page + 1} starts in the middle of a row"
        )
        starts += [
            run.text for run in body if run.left == pytest.approx(header.left, abs=0.5)
        ]
    expected = [
        f"{row.pupil_class} {row.last_name} {row.first_name} {LABELS[row.category]}"
        for row in sorted_rows(long_list.rows)
    ]
    assert len(starts) == len(expected) == 200
    for start, row in zip(starts, expected, strict=True):
        if LONG_LAST_NAME in row:
            assert start.startswith(row.split(" ", 1)[0] + " Vandenbroucke-")
        else:
            assert start == row


def test_long_list_has_rows_of_four_lines_or_more(long_pdf):
    runs = text_runs(long_pdf)
    # The long names do wrap: each of their rows has three lines or more that do
    # not start at the table's edge, besides the first.
    wrapped = [run for run in runs if "Claeys" in run.text]
    assert len(wrapped) == sum(LONG_LAST_NAME in row.last_name for row in _pupils(200))
    lines_of_first = [
        run
        for run in runs
        if run.page == wrapped[0].page
        and 0 < wrapped[0].top - run.top < 20
        and run.left > 30
    ]
    assert len(lines_of_first) >= 2


def test_long_list_repeats_the_column_headings_on_every_page(long_pdf):
    runs = text_runs(long_pdf)
    for page in range(len(long_pdf.pages)):
        headers = [run for run in runs if run.page == page and run.text == HEADER]
        assert len(headers) == 1, f"page {page + 1} has no column headings"


def test_long_list_numbers_its_pages_and_names_its_school_on_each(long_pdf):
    pages = len(long_pdf.pages)
    for number, page in enumerate(long_pdf.pages, start=1):
        text = page.extract_text()
        assert f"pagina {number} van {pages}" in text
        assert "Basisschool De Regenboog" in text
        assert "Schooljaar 2026-2027, controle 2" in text


def test_csv_round_trip_with_byte_order_mark(tmp_path):
    path = write_school_list_csv(SMALL, tmp_path / "list.csv")
    raw = path.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    assert b"\r\n" in raw
    with path.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream, delimiter=";"))
    assert rows[0] == ["klas", "achternaam", "voornaam", "tarief"]
    assert [tuple(row) for row in rows[1:]] == SMALL_ORDER


def test_csv_of_a_long_list_has_every_pupil_in_the_pdfs_order(tmp_path, long_list):
    path = write_school_list_csv(long_list, tmp_path / "list.csv")
    with path.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream, delimiter=";"))
    assert [(row["klas"], row["achternaam"], row["voornaam"]) for row in rows] == [
        (row.pupil_class, row.last_name, row.first_name)
        for row in sorted_rows(long_list.rows)
    ]
    assert {row["tarief"] for row in rows} == set(LABELS.values())


def test_csv_has_no_national_number_column_or_category_code(tmp_path, long_list):
    text = write_school_list_csv(long_list, tmp_path / "list.csv").read_text(
        encoding="utf-8-sig"
    )
    assert "insz" not in text.lower()
    assert "low_income" not in text
    assert not any(
        character.isdigit()
        for line in text.splitlines()[1:]
        for character in line.split(";", 1)[1]
    )


def test_csv_cell_a_spreadsheet_would_read_as_a_formula_is_kept_as_text(tmp_path):
    school_list = _list([SchoolListRow("=HYPERLINK(1)", "An", "1A", "standard")])
    path = write_school_list_csv(school_list, tmp_path / "list.csv")
    with path.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream, delimiter=";"))
    assert rows[1][1] == "'=HYPERLINK(1)"


def test_empty_list_says_there_are_no_pupils(tmp_path):
    reader = PdfReader(render_school_list_pdf(_list([]), tmp_path / "empty.pdf"))
    assert "Geen leerlingen op deze lijst." in full_text(reader)
    path = write_school_list_csv(_list([]), tmp_path / "empty.csv")
    assert path.read_bytes() == codecs.BOM_UTF8 + b"klas;achternaam;voornaam;tarief\r\n"


def test_writing_leaves_only_the_finished_files(tmp_path):
    render_school_list_pdf(SMALL, tmp_path / "list.pdf")
    write_school_list_csv(SMALL, tmp_path / "list.csv")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["list.csv", "list.pdf"]


@pytest.mark.parametrize(
    "row",
    [
        ("Peeters", "An", "1A", "low_income_c"),
        ("Peeters", "An", "1A", "granted"),
        (" ", "", "1A", "standard"),
    ],
    ids=["unknown category", "an outcome, not a category", "no name"],
)
def test_row_that_cannot_be_listed_is_refused(row):
    with pytest.raises(ValueError):
        SchoolListRow(*row)


def test_list_and_row_reprs_carry_no_names():
    assert (
        repr(SMALL.rows[0]) == "SchoolListRow(pupil_class='10A', category='standard')"
    )
    assert repr(SMALL) == (
        "SchoolList(school_id='GENT-BSO-017', school_year='2026-2027', check=2, rows=6)"
    )
