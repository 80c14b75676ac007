"""`proactief magda parse` prints the facts of one MAGDA answer as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from proactief.cli import app

runner = CliRunner()


def test_parse_prints_an_income_in_euro_as_a_string(magda_dir: Path) -> None:
    sample = (
        magda_dir
        / "responses/Inkomen/GeefAanslagbiljetPersonenbelasting/02.00.0000"
        / "62691699717.xml"
    )
    result = runner.invoke(app, ["magda", "parse", str(sample)])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["service"] == "GeefAanslagbiljetPersonenbelasting"
    assert document["facts"] == {
        "type": "Income",
        "insz": "62691699717",
        "income_year": 2022,
        "taxable_income": "37586.45",
    }


def test_parse_prints_dates_in_iso_format(magda_dir: Path) -> None:
    sample = magda_dir / "responses/Persoon/GeefPersoon/02.02.0000/00630300188.xml"
    result = runner.invoke(app, ["magda", "parse", str(sample)])
    assert result.exit_code == 0, result.output
    facts = json.loads(result.stdout)["facts"]
    assert facts["type"] == "Person"
    assert facts["death_date"] == "2009-05-05"
    assert facts["address"]["since"] == "2000-03-03"


def test_parse_of_an_error_answer_exits_with_the_reason(magda_dir: Path) -> None:
    sample = (
        magda_dir
        / "responses/Inkomen/GeefAanslagbiljetPersonenbelasting/02.00.0000"
        / "91610100176.xml"
    )
    result = runner.invoke(app, ["magda", "parse", str(sample)])
    assert result.exit_code == 1
    assert "99996" in result.output


def test_parse_of_something_else_than_magda_exits_1(tmp_path: Path) -> None:
    other = tmp_path / "other.xml"
    other.write_text("<html/>")
    result = runner.invoke(app, ["magda", "parse", str(other)])
    assert result.exit_code == 1
    assert "root element" in result.output
