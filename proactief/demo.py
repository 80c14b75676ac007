"""`proactief demo`: the garbage-bag run on a synthetic city, end to end.

Generates the default city once (kept in var/demo-city between runs), starts the
built-in registry simulator on a free 127.0.0.1 port, runs the `garbage-bags` flow,
stops the simulator, and says what came out and where.
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
    """Run the garbage-bag benefit on the demo city, against the simulator."""
    from flows.garbage_bags import garbage_bags_flow
    from proactief.magda.simulator import running_simulator
    from proactief.runs import print_summary

    os.environ.setdefault(
        "PROACTIEF_DATABASE_URL", f"sqlite:///{Path('var/demo.db').resolve()}"
    )
    look_up = date.fromisoformat(as_of)
    ensure_city(city, inhabitants, seed, DEMO_YEAR)
    log = Path("var/simulator.log").resolve()
    log.parent.mkdir(parents=True, exist_ok=True)
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
    print_summary(summary)
    typer.echo(
        "\nRun `make demo` again: nothing is sent twice. To see the runs in the"
        " Prefect UI, see the README (Operations)."
    )
