"""The city-scale benchmark runs end to end and prints every figure it promises.

Not a timed test: the figures themselves depend on the machine. It runs the
script's --quick mode on a tiny city, so that a change in the flow, the renderer
or the publishing path that breaks the benchmark is caught by `make test`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from proactief.cohort import household_cohort

ROOT = Path(__file__).resolve().parents[2]
LETTERS = 40
BATCH = 10
NUMBER = r"[\d,.]+"


def test_city_scale_quick_prints_every_figure(tmp_path):
    city, work = tmp_path / "city", tmp_path / "work"
    # Print batches of 10, so that the 40 letters make four print files and the
    # memory growth is measured past the first two.
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PROACTIEF_RENDER_BATCH": str(BATCH),
    }
    env.pop("PROACTIEF_DATABASE_URL", None)
    finished = subprocess.run(
        [
            sys.executable,
            "bench/city_scale.py",
            "--quick",
            "--inhabitants",
            "2000",
            "--letters",
            str(LETTERS),
            "--sample-letters",
            "10",
            "--requests",
            "300",
            "--city-dir",
            str(city),
            "--work",
            str(work),
        ],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    out = finished.stdout
    table = out[out.index("\ncity 2,000 inhabitants") :]
    households = len(household_cohort(city))

    assert re.search(r"^machine: \d+ CPUs.*Python 3\.", out, re.MULTILINE)
    expected = {
        "bare look-ups": rf"{NUMBER} requests/s",
        "flow, households decided": (
            rf"{NUMBER} households/s \({households:,} of {households:,} in"
        ),
        "flow, registry requests while looking up": (
            rf"{NUMBER} requests/s \(\d+% of bare;.*\) +(PASS|FAIL)$"
        ),
        "flow, registry requests over the whole run": (
            rf"{NUMBER} requests/s \(\d+% of bare; CPU: .*this process .*(PASS|FAIL)$"
        ),
        "rule decisions": rf"{NUMBER} households/s \({households:,} households;",
        "bare WeasyPrint letters": rf"{NUMBER} letters/s",
        "render_many letters \\(same letters\\)": (
            rf"{NUMBER} letters/s \(\d+% of bare\) +(PASS|FAIL)$"
        ),
        "publishing path letters": (
            rf"{NUMBER} letters/s \(\d+% of bare; {LETTERS} letters, print file\)"
            r" +(PASS|FAIL)$"
        ),
        "peak memory": rf"this process {NUMBER} MB, largest finished child",
        "memory while publishing \\(publisher / largest worker\\)": (
            rf"letter 1: {NUMBER} / {NUMBER} MB; .*; letter {LETTERS}: "
        ),
        f"memory growth, letter {2 * BATCH} to {LETTERS}": (
            r"publisher [+-][\d,]+ MB, largest worker [+-][\d,]+ MB +(PASS|FAIL)$"
        ),
        "memory after the last letter \\(print file, store\\)": (
            rf"publisher peak {NUMBER} MB .* +(PASS|FAIL)$"
        ),
    }
    for measure, figure in expected.items():
        assert re.search(rf"^{measure} +{figure}", table, re.MULTILINE), measure
    # Every figure is in the table, and nothing printed is a national number.
    assert not re.search(r"(?<!\d)\d{11}(?!\d)", out + finished.stderr)
    # The letters and the store were kept in --work, each letter written once.
    assert len(list((work / "publish" / "letters").glob("GB-2027-*.pdf"))) == LETTERS
    prints = sorted((work / "publish" / "letters" / "print").glob("run-*.pdf"))
    assert [p.name[-8:] for p in prints] == [
        "-001.pdf",
        "-002.pdf",
        "-003.pdf",
        "-004.pdf",
    ]
