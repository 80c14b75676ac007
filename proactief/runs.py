"""`proactief run ...`: run a benefit's flow from the command line."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from proactief.errors import ProactiefError

app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2027-01-04"
        ) from None


@app.command("garbage-bags")
def garbage_bags(
    city: Annotated[Path, typer.Option(help="Folder of the city (residents.csv).")],
    registry: Annotated[str, typer.Option(help="Base URL of the registry gateway.")],
    out: Annotated[Path, typer.Option(help="Folder for decisions.csv and letters.")],
    year: Annotated[
        int | None, typer.Option(help="Benefit year; default: the look-up year.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Look-up date; default today.")
    ] = None,
    database: Annotated[
        str | None, typer.Option(help="Store URL; default from the settings.")
    ] = None,
) -> None:
    """Decide free garbage bags for every household and write the letters."""
    from flows.garbage_bags import garbage_bags_flow

    if not (city / "residents.csv").is_file():
        raise typer.BadParameter(
            f"{str(city)!r} holds no residents.csv; generate a city with"
            " `proactief city generate` or point --city at one",
            param_hint="--city",
        )
    try:
        summary = asyncio.run(
            garbage_bags_flow(
                city=str(city.resolve()),
                registry=registry,
                out=str(out.resolve()),
                year=year,
                as_of=_parse_date(as_of),
                database=database,
            )
        )
    except ProactiefError as exc:
        typer.secho(f"The run stopped: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None
    print_summary(summary)


def print_summary(summary) -> None:
    """Counts by outcome and where the output is: no personal data."""
    typer.echo(f"\nGarbage bags {summary.year} (look-up date {summary.as_of})")
    typer.echo(f"  households in the city:       {summary.households}")
    typer.echo(f"  granted in an earlier run:    {summary.already_granted}")
    for outcome in ("granted", "not_granted", "review"):
        typer.echo(
            f"  {outcome + ' in this run:':<30}{summary.outcomes.get(outcome, 0)}"
        )
    typer.echo(f"  review cases opened:          {summary.review_opened}")
    typer.echo(f"  letters written:              {summary.letters_written}")
    typer.echo(f"  letters already sent before:  {summary.letters_already_sent}")
    typer.echo(f"  decisions:   {summary.decisions_file}")
    typer.echo(f"  letters:     {summary.letters_dir}")
    if summary.print_file:
        typer.echo(f"  print file:  {summary.print_file}")
