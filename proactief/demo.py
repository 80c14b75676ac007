"""`proactief demo`: the batch benefits on a synthetic city, end to end.

Generates the default city once (kept in var/demo-city between runs), starts the
built-in registry simulator on a free 127.0.0.1 port, runs the `garbage-bags` flow
and check 1 of the school year's `school-tariffs` flow (the schools' pupil lists and
billing lines are written into the city folder first), stops the simulator, and
says what came out and where.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

DEMO_INHABITANTS = 20_000
DEMO_SEED = 2027
DEMO_YEAR = 2027
DEMO_AS_OF = date(2027, 1, 4)
DEMO_SCHOOL_YEAR = "2026-2027"  # the school year the demo city's 1 January lies in
DEMO_CHECK_1_AS_OF = date(2026, 9, 4)
MARKER = ".generated.json"


def ensure_city(city_dir: Path, inhabitants: int, seed: int, year: int) -> bool:
    """Generate the city unless the folder already holds this very city."""
    from proactief.city import generate_city, write_city

    wanted = {"inhabitants": inhabitants, "seed": seed, "year": year}
    marker = city_dir / MARKER
    if marker.is_file() and json.loads(marker.read_text()) == wanted:
        return False
    typer.echo(f"Generating a city of {inhabitants} inhabitants in {city_dir} ...")
    write_city(generate_city(inhabitants, seed, year=year), city_dir)
    marker.write_text(json.dumps(wanted))
    return True


def demo(
    inhabitants: Annotated[int, typer.Option(help="Size of the city.")] = (
        DEMO_INHABITANTS
    ),
    seed: Annotated[int, typer.Option(help="Seed of the city.")] = DEMO_SEED,
    city: Annotated[Path, typer.Option(help="Where the city is kept.")] = Path(
        "var/demo-city"
    ),
    out: Annotated[Path, typer.Option(help="Where decisions and letters go.")] = Path(
        "out/demo"
    ),
    as_of: Annotated[str, typer.Option("--as-of", help="Look-up date.")] = (
        DEMO_AS_OF.isoformat()
    ),
    latency_ms: Annotated[int, typer.Option(help="Simulated registry latency.")] = 20,
) -> None:
    """Run garbage bags and school-tariff check 1 on the demo city."""
    from flows.garbage_bags import garbage_bags_flow
    from flows.school_tariffs import school_tariffs_flow
    from proactief.city.schools import write_school_files
    from proactief.magda.simulator import running_simulator
    from proactief.runs import print_summary, print_tariff_summary

    os.environ.setdefault(
        "PROACTIEF_DATABASE_URL", f"sqlite:///{Path('var/demo.db').resolve()}"
    )
    look_up = date.fromisoformat(as_of)
    ensure_city(city, inhabitants, seed, DEMO_YEAR)
    log = Path("var/simulator.log").resolve()
    log.parent.mkdir(parents=True, exist_ok=True)
    school_files = write_school_files(
        city, DEMO_SCHOOL_YEAR, 1, city / "school-files" / "check1"
    )
    with running_simulator(city, latency_ms=latency_ms, log_path=log) as url:
        typer.echo(f"Registry simulator answering at {url} (log: {log})")
        summary = asyncio.run(
            garbage_bags_flow(
                city=str(city.resolve()),
                registry=url,
                out=str(out.resolve()),
                year=DEMO_YEAR,
                as_of=look_up,
            )
        )
        tariffs = asyncio.run(
            school_tariffs_flow(
                city=str(city.resolve()),
                registry=url,
                out=str((out / "school-tariffs").resolve()),
                check=1,
                school_year=DEMO_SCHOOL_YEAR,
                pupils=[str(p) for p in school_files if p.name.startswith("pupils-")],
                billing=[str(p) for p in school_files if p.name.startswith("billing-")],
                as_of=DEMO_CHECK_1_AS_OF,
            )
        )
    print_summary(summary)
    print_tariff_summary(tariffs)
    typer.echo(
        "\nRun `make demo` again: nothing is sent twice. To see the runs in the"
        " Prefect UI, see the README (Operations)."
    )
