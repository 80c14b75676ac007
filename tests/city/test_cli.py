"""`proactief city generate` on the command line."""

from __future__ import annotations

import filecmp
import json
import re
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from proactief.city import generate_city, write_city
from proactief.city.cli import app
from proactief.city.folder import CITY_FILES
from proactief.insz import check_digits, is_test_number

REPO = Path(__file__).resolve().parents[2]


def test_generate_through_the_main_command_matches_the_library(tmp_path):
    out = tmp_path / "city"
    result = subprocess.run(
        [sys.executable, "-m", "proactief", "city", "generate"]
        + ["--inhabitants", "400", "--seed", "9", "--out", str(out)],
        cwd=REPO,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    summary = result.stdout.strip().splitlines()
    assert len(summary) == 1
    assert "400 persons" in summary[0] and "households" in summary[0]
    assert "population.jsonl, residents.csv, social_service.csv" in summary[0]
    # the summary and any progress carry no national number
    assert not re.search(r"\d{11}", result.stdout + result.stderr)
    # another process, same seed: the same bytes
    write_city(generate_city(400, 9), tmp_path / "library")
    for name in CITY_FILES:
        assert filecmp.cmp(out / name, tmp_path / "library" / name, shallow=False)


def test_year_option_moves_the_reference_date(tmp_path):
    result = CliRunner().invoke(
        app,
        ["generate", "--inhabitants", "50", "--seed", "2", "--year", "2026"]
        + ["--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert "as of 2026-01-01" in result.output
    lines = (tmp_path / "population.jsonl").read_text(encoding="utf-8").splitlines()
    years = {
        income["income_year"]
        for line in lines
        for income in json.loads(line)["incomes"]
    }
    assert years <= {2023, 2024}


def test_real_style_numbers_use_ordinary_months(tmp_path):
    result = CliRunner().invoke(
        app,
        ["generate", "--inhabitants", "300", "--seed", "2", "--real-style-numbers"]
        + ["--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    for line in (
        (tmp_path / "population.jsonl").read_text(encoding="utf-8").splitlines()
    ):
        person = json.loads(line)
        number = person["insz"]
        assert not is_test_number(number)
        assert number[2:4] == person["birth_date"][5:7]
        later = person["birth_date"] >= "2000"
        assert number[9:] == check_digits(number[:9], born_2000_or_later=later)


def test_a_city_without_inhabitants_is_refused(tmp_path):
    result = CliRunner().invoke(
        app, ["generate", "--inhabitants", "0", "--out", str(tmp_path)]
    )
    assert result.exit_code != 0
    assert not (tmp_path / "population.jsonl").exists()
