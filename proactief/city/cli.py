"""`proactief city ...`: make a synthetic city folder, and its schools' files.

- `proactief city generate --inhabitants N --seed S --out DIR` writes a city folder;
- `proactief city school-files --city DIR --school-year 2026-2027 --check K --out DIR`
  writes what each school of that city sends for check K: its pupil list and its
  billing lines (`proactief.city.schools`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from proactief.city.enrolment import CHECK_DAYS, SchoolYear
from proactief.city.folder import write_city
from proactief.city.generator import DEFAULT_YEAR, City, ProgressHook, generate_city
from proactief.city.schools import write_school_files
from proactief.errors import CityDataError

logger = logging.getLogger(__name__)

# Below this size a city is made in about a second: a progress bar would only flicker.
PROGRESS_FROM = 50_000

_PHASES = {
    "households": "drawing households",
    "incomes": "drawing incomes",
    "numbers": "issuing national numbers",
    "writing": "writing files",
}

app = typer.Typer(no_args_is_help=True)


@app.callback()
def city() -> None:
    """Synthetic cities for the demo and the tests."""


@app.command()
def generate(
    inhabitants: Annotated[
        int, typer.Option("--inhabitants", min=1, help="Number of people in the city.")
    ],
    out: Annotated[
        Path,
        typer.Option("--out", file_okay=False, help="Folder to write the city into."),
    ],
    seed: Annotated[
        int,
        typer.Option(
            "--seed", help="The same seed gives the same files, byte for byte."
        ),
    ] = 0,
    year: Annotated[
        int,
        typer.Option(
            "--year",
            min=1950,
            max=2090,
            help="The city stands as of 1 January of this year.",
        ),
    ] = DEFAULT_YEAR,
    real_style_numbers: Annotated[
        bool,
        typer.Option(
            "--real-style-numbers",
            help="Ordinary birth months in national numbers instead of MAGDA test"
            " numbers (month + 60). Only for checking code paths, never for data"
            " that leaves this machine.",
        ),
    ] = False,
) -> None:
    """Write population.jsonl, residents.csv, social_service.csv and schools.csv."""
    console = Console(stderr=True)
    try:
        if inhabitants >= PROGRESS_FROM:
            with _ProgressBar(console) as report:
                city, written = _make(
                    inhabitants, seed, year, real_style_numbers, out, report
                )
        else:
            city, written = _make(
                inhabitants, seed, year, real_style_numbers, out, None
            )
    except CityDataError as exc:
        console.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(code=1) from exc
    except OSError as exc:
        console.print(
            f"error: cannot write the city to {str(out)!r}: {exc.strerror}; choose"
            " a folder you can write to",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(code=1) from None
    households = len(city.households)
    # a city of 900 or more holds the school tariff's case households as well
    persons = sum(len(household.members) for household in city.households)
    logger.info(
        "city generated: %d persons, %d households, %d files",
        persons,
        households,
        len(written),
    )
    typer.echo(
        f"city of {persons} persons in {households} households"
        f" (as of {city.reference_date.isoformat()}, seed {seed}) written to {out}:"
        f" {', '.join(path.name for path in written)}"
    )


@app.command("school-files")
def school_files(
    city_dir: Annotated[
        Path,
        typer.Option(
            "--city", file_okay=False, help="The city folder the schools belong to."
        ),
    ],
    school_year: Annotated[
        str,
        typer.Option(
            "--school-year", help="The city's school year, for example 2026-2027."
        ),
    ],
    check: Annotated[
        int,
        typer.Option(
            "--check",
            min=1,
            max=len(CHECK_DAYS),
            help="The check: 1=1 Sep, 2=1 Nov, 3=1 Jan, 4=1 Mar, 5=1 May, 6=1 Jun.",
        ),
    ],
    out: Annotated[
        Path,
        typer.Option("--out", file_okay=False, help="Folder to write the files into."),
    ],
) -> None:
    """Write each school's pupil list and billing lines for one check."""
    console = Console(stderr=True)
    try:
        year = SchoolYear.parse(school_year)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--school-year") from exc
    try:
        written = write_school_files(city_dir, year, check, out)
    except (CityDataError, ValueError) as exc:
        console.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(code=1) from exc
    day = year.check_date(check)
    logger.info(
        "school files written: school year %s, check %d, %d files",
        year,
        check,
        len(written),
    )
    lists = sum(path.name.startswith("pupils-") for path in written)
    typer.echo(
        f"pupil lists and billing lines of {lists} schools for school year {year},"
        f" check {check} ({day.isoformat()}), written to {out}"
    )


def _make(
    inhabitants: int,
    seed: int,
    year: int,
    real_style_numbers: bool,
    out: Path,
    report: ProgressHook | None,
) -> tuple[City, list[Path]]:
    city = generate_city(
        inhabitants,
        seed,
        year=year,
        real_style_numbers=real_style_numbers,
        progress=report,
    )
    return city, write_city(city, out, progress=report)


class _ProgressBar:
    """A rich progress bar on stderr, with one task per phase of the generator."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description:<26}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> ProgressHook:
        self._progress.__enter__()
        return self.report

    def __exit__(self, *exc_info: object) -> None:
        self._progress.__exit__(*exc_info)

    def report(self, phase: str, done: int, total: int) -> None:
        if phase not in self._tasks:
            self._tasks[phase] = self._progress.add_task(
                _PHASES.get(phase, phase), total=total
            )
        self._progress.update(self._tasks[phase], completed=done)
