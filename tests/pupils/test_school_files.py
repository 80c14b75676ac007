"""Reading a batch of school files: a file that cannot be read is refused and the
others are read all the same."""

from __future__ import annotations

import logging
from datetime import date

from proactief.pupils import read_school_files

from .synthetic import (
    BILLING_HEADER,
    PUPIL_HEADER,
    assert_private,
    magda_number,
    pupil_line,
    write_file,
)

ZOE = magda_number(date(2016, 3, 14), 12)
EMRE = magda_number(date(2015, 11, 2), 31)
LOTTE = magda_number(date(2017, 6, 30), 44)


def test_one_bad_file_is_refused_and_the_others_are_read(tmp_path, schools, caplog):
    first = write_file(
        tmp_path,
        "vlinder.csv",
        [PUPIL_HEADER, pupil_line(ZOE, last="Çelik", first="Zoë")],
        bom=True,
    )
    latin1 = write_file(
        tmp_path,
        "rabot.csv",
        [PUPIL_HEADER, pupil_line(EMRE, school="GENT-BSO-023", last="Çelik")],
        encoding="latin-1",
    )
    third = write_file(
        tmp_path,
        "nest.csv",
        [
            PUPIL_HEADER,
            pupil_line(LOTTE, school="GENT-KDV-004", last="D'Hondt", first="Lotte"),
            pupil_line(ZOE[:10], school="GENT-KDV-004"),
        ],
    )
    billing = write_file(
        tmp_path, "facturen.csv", [BILLING_HEADER, f"{ZOE};meals;2;3,5"]
    )
    with caplog.at_level(logging.INFO, logger="proactief.pupils"):
        files = read_school_files(
            [first, latin1, third],
            [billing, tmp_path / "ontbreekt.csv"],
            schools=schools,
            allow_test_numbers=True,
        )
    assert [p.school_id for p in files.pupil_lists] == ["GENT-BSO-017", "GENT-KDV-004"]
    assert [len(p.pupils) for p in files.pupil_lists] == [1, 1]
    assert [row.reason for row in files.pupil_lists[1].rejected] == ["insz_invalid"]
    assert [b.path for b in files.billing_files] == [billing]
    assert [(r.path, r.reason) for r in files.refused] == [
        (latin1, "not_utf8"),
        (tmp_path / "ontbreekt.csv", "file_unreadable"),
    ]
    column = pupil_line(EMRE, school="GENT-BSO-023", last="Çelik").index("Ç") + 1
    assert files.refused[0].message.startswith(
        f"Bestand rabot.csv, regel 2, kolom {column}: "
    )
    assert "CSV UTF-8" in files.refused[0].message
    for text in [r.message for r in files.refused] + [caplog.text]:
        assert_private(text, ZOE, EMRE, LOTTE, ZOE[:10], "Zoë", "Çelik", "D'Hondt")
    assert "refused rabot.csv (not_utf8, line 2)" in caplog.text


def test_nothing_to_read_is_an_empty_result(schools):
    files = read_school_files([], [], schools=schools, allow_test_numbers=True)
    assert (files.pupil_lists, files.billing_files, files.refused) == ([], [], [])
