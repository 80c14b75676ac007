"""A school's pupil list: files refused with a message for the school, lines rejected
with a reason, and the good lines kept."""

from __future__ import annotations

from datetime import date

import pytest

from proactief.errors import PupilFileError
from proactief.pupils import read_pupil_list

from .synthetic import (
    PUPIL_HEADER,
    assert_private,
    bis_number,
    magda_number,
    ordinary_number,
    pupil_line,
    write_file,
)

ZOE = magda_number(date(2016, 3, 14), 12)
CELIK = magda_number(date(2015, 11, 2), 31)
DHONDT = magda_number(date(2017, 6, 30), 44)
NAMES = ("Zoë", "Çelik", "D'Hondt", "Peeters", "An")


def _good_lines() -> list[str]:
    return [
        PUPIL_HEADER,
        pupil_line(ZOE, last="Çelik", first="Zoë", pupil_class="1A"),
        pupil_line(CELIK, last="Çelik", first="Emre", since="01/09/2024"),
        pupil_line(DHONDT, last="D'Hondt", first="Lotte", since="3.1.2026"),
    ]


def _read(path, schools, *, allow_test_numbers=True):
    return read_pupil_list(path, schools=schools, allow_test_numbers=allow_test_numbers)


def _refusal(path, schools, **kwargs) -> PupilFileError:
    with pytest.raises(PupilFileError) as caught:
        _read(path, schools, **kwargs)
    return caught.value


@pytest.mark.parametrize(
    ("bom", "newline"), [(True, "\r\n"), (False, "\n")], ids=["bom-crlf", "plain"]
)
def test_good_list_is_read_with_or_without_bom(tmp_path, schools, bom, newline):
    path = write_file(tmp_path, "lijst.csv", _good_lines(), bom=bom, newline=newline)
    pupils = _read(path, schools)
    assert pupils.school_id == "GENT-BSO-017"
    assert pupils.school_name == "Basisschool De Vlinder"
    assert pupils.rejected == []
    assert [p.line for p in pupils.pupils] == [2, 3, 4]
    zoe, _, dhondt = pupils.pupils
    assert (zoe.insz, zoe.first_name, zoe.last_name, zoe.pupil_class) == (
        ZOE,
        "Zoë",
        "Çelik",
        "1A",
    )
    assert dhondt.last_name == "D'Hondt"
    assert [p.since for p in pupils.pupils] == [
        date(2025, 9, 1),
        date(2024, 9, 1),
        date(2026, 1, 3),
    ]


def test_columns_in_another_order_extra_columns_and_blank_lines_are_read(
    tmp_path, schools
):
    lines = [
        "sep=;",
        "Pupil_INSZ;since;school_id;remark;last_name;first_name;class;school_name;;",
        f"{ZOE};2025-09-01;GENT-BSO-017;;Çelik;Zoë;1A;De Vlinder;;",
        ";;;;;;;;;",
        "",
        f"{CELIK};2025-09-01;gent-bso-017;x;Çelik;Emre;2A;De Vlinder",
    ]
    pupils = _read(write_file(tmp_path, "lijst.csv", lines), schools)
    assert pupils.rejected == []
    assert [(p.line, p.insz) for p in pupils.pupils] == [(3, ZOE), (6, CELIK)]


def test_numbers_typed_with_dots_and_dashes_are_kept_compact(tmp_path, schools):
    typed = f"{ZOE[:2]}.{ZOE[2:4]}.{ZOE[4:6]}-{ZOE[6:9]}.{ZOE[9:]}"
    path = write_file(tmp_path, "lijst.csv", [PUPIL_HEADER, pupil_line(typed)])
    assert _read(path, schools).pupils[0].insz == ZOE


def test_the_repr_of_a_pupil_shows_only_its_line(tmp_path, schools):
    pupils = _read(write_file(tmp_path, "lijst.csv", _good_lines()), schools)
    assert_private(repr(pupils), ZOE, *NAMES)
    assert_private(repr(pupils.pupils[0]), ZOE, *NAMES)


# --- files that cannot be read ----------------------------------------------------


@pytest.mark.parametrize(
    ("separator", "called"), [(",", "komma's"), ("\t", "tabs")], ids=["comma", "tab"]
)
def test_a_list_with_another_separator_is_refused(tmp_path, schools, separator, called):
    lines = [line.replace(";", separator) for line in _good_lines()]
    refusal = _refusal(write_file(tmp_path, "lijst.csv", lines), schools)
    assert refusal.reason == "wrong_separator"
    assert refusal.line == 1
    assert "Bestand lijst.csv, regel 1" in str(refusal)
    assert called in str(refusal) and "puntkomma" in str(refusal)


def test_a_missing_column_is_named(tmp_path, schools):
    lines = [
        "school_id;school_name;pupil_insz;last_name;first_name",
        f"GENT-BSO-017;De Vlinder;{ZOE};Çelik;Zoë",
    ]
    refusal = _refusal(write_file(tmp_path, "lijst.csv", lines), schools)
    assert refusal.reason == "missing_columns"
    assert "de kolommen class, since ontbreken" in str(refusal)
    assert "school_id;school_name;pupil_insz;last_name;first_name;class;since" in str(
        refusal
    )


def test_a_list_without_its_header_line_is_refused_without_repeating_it(
    tmp_path, schools
):
    path = write_file(tmp_path, "lijst.csv", _good_lines()[1:])
    refusal = _refusal(path, schools)
    assert refusal.reason == "missing_columns"
    assert "de eerste regel bevat niet de kolomnamen" in str(refusal)
    assert_private(str(refusal), ZOE, CELIK, *NAMES)


@pytest.mark.parametrize(
    "content", [b"", b"\xef\xbb\xbf", b"\r\n\n  \n", b";;;;\n"], ids=str
)
def test_an_empty_file_is_refused(tmp_path, schools, content):
    path = tmp_path / "leeg.csv"
    path.write_bytes(content)
    refusal = _refusal(path, schools)
    assert refusal.reason == "empty_file"
    assert str(refusal).startswith("Bestand leeg.csv: het bestand is leeg")
    assert PUPIL_HEADER in str(refusal)


def test_a_header_only_file_is_refused(tmp_path, schools):
    refusal = _refusal(write_file(tmp_path, "lijst.csv", [PUPIL_HEADER, ""]), schools)
    assert refusal.reason == "no_rows"
    assert "alleen de kolomnamen" in str(refusal)


def test_a_latin1_file_is_refused_at_its_first_accented_letter(tmp_path, schools):
    path = write_file(tmp_path, "lijst.csv", _good_lines(), encoding="latin-1")
    refusal = _refusal(path, schools)
    first_bad = _good_lines()[1]
    column = min(first_bad.index("Ç"), first_bad.index("ë")) + 1
    assert (refusal.reason, refusal.line, refusal.column) == ("not_utf8", 2, column)
    message = str(refusal)
    assert message.startswith(f"Bestand lijst.csv, regel 2, kolom {column}: ")
    assert "Windows-1252 of Latin-1" in message
    assert "CSV UTF-8" in message
    assert_private(message, ZOE, *NAMES)


def test_a_utf16_file_is_refused(tmp_path, schools):
    path = write_file(tmp_path, "lijst.csv", _good_lines(), encoding="utf-16")
    refusal = _refusal(path, schools)
    assert refusal.reason == "not_utf8"
    assert "UTF-16" in str(refusal)


def test_an_excel_workbook_is_refused(tmp_path, schools):
    path = tmp_path / "lijst.xlsx"
    path.write_bytes(b"PK\x03\x04" + bytes(64))
    assert _refusal(path, schools).reason == "excel_workbook"


def test_a_file_that_is_not_there_is_refused(tmp_path, schools):
    refusal = _refusal(tmp_path / "weg.csv", schools)
    assert refusal.reason == "file_unreadable"
    assert "bestaat niet" in str(refusal)


def test_a_ragged_line_is_refused_with_its_line_number(tmp_path, schools):
    lines = _good_lines()
    lines[2] = pupil_line(CELIK, last="Çelik; Emre", first="Emre")
    lines.append(f"GENT-BSO-017;De Vlinder;{DHONDT};D'Hondt")
    refusal = _refusal(write_file(tmp_path, "lijst.csv", lines), schools)
    assert (refusal.reason, refusal.line) == ("ragged_line", 3)
    message = str(refusal)
    assert message.startswith("Bestand lijst.csv, regel 3: deze regel heeft 8 velden")
    assert "(ook regel 5)" in message
    assert_private(message, CELIK, DHONDT, *NAMES, "Emre")


def test_a_name_with_a_semicolon_between_quotes_is_read(tmp_path, schools):
    lines = [PUPIL_HEADER, pupil_line(ZOE, last='"Çelik; Yılmaz"')]
    pupils = _read(write_file(tmp_path, "lijst.csv", lines), schools)
    assert pupils.pupils[0].last_name == "Çelik; Yılmaz"


def test_an_unclosed_quote_is_refused(tmp_path, schools):
    lines = [*_good_lines(), pupil_line(ZOE, last='"Çelik"x', first="Zoë")]
    refusal = _refusal(write_file(tmp_path, "lijst.csv", lines), schools)
    assert (refusal.reason, refusal.line) == ("malformed_csv", 5)
    assert_private(str(refusal), ZOE, *NAMES)


def test_a_list_that_names_no_school_of_the_city_is_refused(tmp_path, schools):
    lines = [PUPIL_HEADER, pupil_line(ZOE, school="GENT-BSO-999")]
    refusal = _refusal(write_file(tmp_path, "lijst.csv", lines), schools)
    assert (refusal.reason, refusal.column) == ("no_known_school", "school_id")
    assert "Bestand lijst.csv, kolom school_id" in str(refusal)


# --- lines that are wrong ---------------------------------------------------------


def _rejections(pupils) -> list[tuple[int, str]]:
    return [(row.line, row.reason) for row in pupils.rejected]


def test_invalid_national_numbers_are_rejected_with_what_is_wrong(tmp_path, schools):
    wrong_check = ZOE[:9] + f"{(int(ZOE[9:]) + 1) % 100:02d}"
    lines = [
        PUPIL_HEADER,
        pupil_line(wrong_check),
        pupil_line(CELIK[1:]),
        pupil_line(CELIK[:5] + "x" + CELIK[6:]),
        pupil_line("5,06140E+10"),
        pupil_line(""),
        pupil_line(DHONDT),
    ]
    pupils = _read(write_file(tmp_path, "lijst.csv", lines), schools)
    assert _rejections(pupils) == [
        (2, "insz_invalid"),
        (3, "insz_invalid"),
        (4, "insz_invalid"),
        (5, "insz_invalid"),
        (6, "insz_missing"),
    ]
    messages = [row.message for row in pupils.rejected]
    assert "controlecijfers" in messages[0]
    assert "nul vooraan" in messages[1]
    assert "andere tekens dan cijfers" in messages[2]
    assert "als getal opgeslagen" in messages[3]
    for row, message in zip(pupils.rejected, messages, strict=True):
        assert message.startswith(f"Regel {row.line}, kolom pupil_insz: ")
        assert_private(message, wrong_check, CELIK, CELIK[1:], *NAMES)
    assert [p.insz for p in pupils.pupils] == [DHONDT]


def test_numbers_of_pupils_born_in_2000_or_later_are_valid(tmp_path, schools):
    born_2010 = magda_number(date(2010, 4, 5))
    born_2007 = ordinary_number(date(2007, 1, 9))
    assert born_2007.startswith("0")
    lines = [PUPIL_HEADER, pupil_line(born_2010), pupil_line(born_2007)]
    pupils = _read(write_file(tmp_path, "lijst.csv", lines), schools)
    assert pupils.rejected == []
    assert [p.insz for p in pupils.pupils] == [born_2010, born_2007]


def test_bis_numbers_are_valid(tmp_path, schools):
    lines = [
        PUPIL_HEADER,
        pupil_line(bis_number(date(2012, 8, 20))),
        pupil_line(bis_number(date(1999, 8, 20), 995)),
    ]
    pupils = _read(write_file(tmp_path, "lijst.csv", lines), schools)
    assert pupils.rejected == []
    assert len(pupils.pupils) == 2


def test_test_numbers_are_rejected_when_the_configuration_does_not_allow_them(
    tmp_path, schools
):
    real_style = ordinary_number(date(2014, 2, 3))
    lines = [PUPIL_HEADER, pupil_line(ZOE), pupil_line(real_style)]
    path = write_file(tmp_path, "lijst.csv", lines)
    strict = _read(path, schools, allow_test_numbers=False)
    assert _rejections(strict) == [(2, "insz_test_number")]
    assert "testnummer" in strict.rejected[0].message
    assert [p.insz for p in strict.pupils] == [real_style]


def test_allowing_test_numbers_still_accepts_ordinary_numbers(tmp_path, schools):
    real_style = ordinary_number(date(2014, 2, 3))
    lines = [PUPIL_HEADER, pupil_line(ZOE), pupil_line(real_style)]
    pupils = _read(write_file(tmp_path, "lijst.csv", lines), schools)
    assert [p.insz for p in pupils.pupils] == [ZOE, real_style]


def test_a_pupil_on_two_lines_counts_once_from_the_first(tmp_path, schools):
    lines = [
        PUPIL_HEADER,
        pupil_line(ZOE, pupil_class="1A"),
        pupil_line(CELIK),
        pupil_line(ZOE, pupil_class="1B"),
        pupil_line(ZOE, pupil_class="1A"),
    ]
    pupils = _read(write_file(tmp_path, "lijst.csv", lines), schools)
    assert _rejections(pupils) == [(4, "duplicate_pupil"), (5, "duplicate_pupil")]
    assert "staat al op regel 2" in pupils.rejected[0].message
    assert [(p.line, p.pupil_class) for p in pupils.pupils] == [(2, "1A"), (3, "3B")]


def test_a_wrong_first_line_does_not_cost_the_pupil_its_check(tmp_path, schools):
    lines = [
        PUPIL_HEADER,
        pupil_line(ZOE, since="1/9/25"),
        pupil_line(ZOE),
    ]
    pupils = _read(write_file(tmp_path, "lijst.csv", lines), schools)
    assert _rejections(pupils) == [(2, "since_invalid")]
    assert [p.line for p in pupils.pupils] == [3]


def test_lines_of_an_unknown_or_another_school_are_rejected(tmp_path, schools):
    lines = [
        PUPIL_HEADER,
        pupil_line(ZOE, school="GENT-BSO-023"),
        pupil_line(CELIK),
        pupil_line(DHONDT),
        pupil_line(magda_number(date(2016, 1, 1)), school="GENT-BSO-99"),
        pupil_line(magda_number(date(2016, 1, 2)), school=""),
    ]
    pupils = _read(write_file(tmp_path, "lijst.csv", lines), schools)
    assert pupils.school_id == "GENT-BSO-017"
    assert _rejections(pupils) == [
        (2, "school_mismatch"),
        (5, "school_unknown"),
        (6, "school_missing"),
    ]
    assert all(
        row.message.startswith(f"Regel {row.line}, kolom school_id: ")
        for row in pupils.rejected
    )
    assert "GENT-BSO-017" in pupils.rejected[0].message
    assert [p.line for p in pupils.pupils] == [3, 4]


@pytest.mark.parametrize(
    ("since", "reason"),
    [
        ("", "since_missing"),
        ("2025-02-30", "since_invalid"),
        ("09/2025", "since_invalid"),
        ("1/9/25", "since_invalid"),
        ("september", "since_invalid"),
    ],
)
def test_a_since_that_is_not_a_date_is_rejected(tmp_path, schools, since, reason):
    lines = [PUPIL_HEADER, pupil_line(ZOE, since=since), pupil_line(CELIK)]
    pupils = _read(write_file(tmp_path, "lijst.csv", lines), schools)
    assert _rejections(pupils) == [(2, reason)]
    assert pupils.rejected[0].message.startswith("Regel 2, kolom since: ")


def test_a_mix_of_good_and_bad_lines_keeps_the_good_ones(tmp_path, schools):
    good = [magda_number(date(2015, 5, day)) for day in range(1, 5)]
    lines = [
        PUPIL_HEADER,
        pupil_line(good[0]),
        pupil_line(good[1][:-1] + str((int(good[1][-1]) + 1) % 10), since="x"),
        pupil_line(good[2], last="Çelik", first="Zoë"),
        pupil_line(good[0]),
        pupil_line(good[3], school="ELDERS-1"),
    ]
    pupils = _read(write_file(tmp_path, "lijst.csv", lines), schools)
    assert [p.insz for p in pupils.pupils] == [good[0], good[2]]
    assert _rejections(pupils) == [
        (3, "insz_invalid"),
        (3, "since_invalid"),
        (5, "duplicate_pupil"),
        (6, "school_unknown"),
    ]


def test_a_list_where_every_line_is_wrong_is_still_read_line_by_line(tmp_path, schools):
    lines = [PUPIL_HEADER] + [
        pupil_line(magda_number(date(2015, 5, day))[:10], since="morgen")
        for day in range(1, 21)
    ]
    pupils = _read(write_file(tmp_path, "lijst.csv", lines), schools)
    assert pupils.pupils == []
    assert len(pupils.rejected) == 40
    assert {row.reason for row in pupils.rejected} == {"insz_invalid", "since_invalid"}
