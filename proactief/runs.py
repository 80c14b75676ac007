"""`proactief run ...`: run a benefit's flow from the command line."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from proactief.errors import CityDataError, ProactiefError

app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)


def _check_city(city: Path, *readers) -> None:
    """Read the city's files before Prefect starts, so that a bad file gets one
    clear line instead of a run that fails after seconds with tracebacks."""
    for read in readers:
        try:
            read(city)
        except CityDataError as exc:
            raise _not_started(exc) from None


def _not_started(message: object) -> typer.Exit:
    typer.secho(f"The run did not start: {message}", fg="red", err=True)
    return typer.Exit(2)


def _require_file(city: Path, name: str) -> None:
    if not (city / name).is_file():
        raise typer.BadParameter(
            f"{str(city)!r} holds no {name}; generate a city with"
            " `proactief city generate` or point --city at one",
            param_hint="--city",
        )


def _check_dates(resolve, year: int | None, as_of: str | None) -> None:
    """Let the flow's own date check speak before Prefect starts."""
    if as_of is not None:
        try:
            resolve(year, _parse_date(as_of))
        except ProactiefError as exc:
            raise _not_started(exc) from None


def _run_flow(flow_run, errors: tuple[type[Exception], ...] = (ProactiefError,)):
    """Run a flow's coroutine; an error it raises on purpose is one red line."""
    try:
        return asyncio.run(flow_run)
    except errors as exc:
        typer.secho(f"The run stopped: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise typer.BadParameter(
            f"{str(out)!r} is a file; give a folder for the output", param_hint="--out"
        )


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
    from flows.garbage_bags import garbage_bags_flow, resolve_dates
    from proactief.city import read_residents, read_social_service

    _check_out(out)

    _require_file(city, "residents.csv")
    _check_city(city, read_residents, read_social_service)
    _check_dates(resolve_dates, year, as_of)
    summary = _run_flow(
        garbage_bags_flow(
            city=str(city.resolve()),
            registry=registry,
            out=str(out.resolve()),
            year=year,
            as_of=_parse_date(as_of),
            database=database,
        )
    )
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
    typer.echo(f"  letters held back for review: {summary.letters_held}")
    typer.echo(f"  letters written:              {summary.letters_written}")
    typer.echo(f"  letters already sent before:  {summary.letters_already_sent}")
    typer.echo(f"  decisions:   {summary.decisions_file}")
    typer.echo(f"  letters:     {summary.letters_dir}")
    if summary.print_file:
        typer.echo(f"  print files: {summary.print_file}")


@app.command("school-tariffs")
def school_tariffs(
    check: Annotated[int, typer.Option(help="Check 1 to 6 of the school year.")],
    pupils: Annotated[
        list[Path],
        typer.Option(
            exists=True, dir_okay=False, help="A pupil list as a school sends it."
        ),
    ],
    city: Annotated[Path, typer.Option(help="Folder of the city (schools.csv).")],
    registry: Annotated[str, typer.Option(help="Base URL of the registry gateway.")],
    out: Annotated[Path, typer.Option(help="Folder for decisions, lists, invoices.")],
    school_year: Annotated[
        str | None,
        typer.Option(help="School year, written 2026-2027; default: the current."),
    ] = None,
    billing: Annotated[
        list[Path] | None,
        typer.Option(exists=True, dir_okay=False, help="Billing lines of a school."),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Look-up date; default today.")
    ] = None,
    database: Annotated[
        str | None, typer.Option(help="Store URL; default from the settings.")
    ] = None,
) -> None:
    """Decide the school and childcare social tariff of one check, and write the
    school lists and the invoices of its period."""
    from flows.school_tariffs import school_tariffs_flow
    from proactief.city import read_schools
    from rules.school_tariffs import check_reference_date

    _check_out(out)
    _check_city(city, read_schools)
    if school_year is not None:
        try:
            reference = check_reference_date(school_year, check)
        except ValueError as exc:
            raise _not_started(exc) from None
        look_up = _parse_date(as_of)
        if look_up is not None and look_up < reference:
            typer.secho(
                f"The run did not start: the look-up date {look_up} lies before"
                f" check {check}'s reference date {reference}",
                fg="red",
                err=True,
            )
            raise typer.Exit(2)

    summary = _run_flow(
        school_tariffs_flow(
            school_year=school_year,
            check=check,
            pupils=[str(p.resolve()) for p in pupils],
            billing=[str(p.resolve()) for p in billing or []],
            city=str(city.resolve()),
            registry=registry,
            out=str(out.resolve()),
            as_of=_parse_date(as_of),
            database=database,
        ),
        errors=(ProactiefError, ValueError),
    )
    print_tariff_summary(summary)
    if summary.files_refused:
        # finished, but a school's file waits for a corrected copy: a scheduler
        # must be able to tell this from a clean run
        raise typer.Exit(3)


def print_tariff_summary(summary) -> None:
    """Counts by outcome and category, and where the output is."""
    typer.echo(
        f"\nSchool tariffs {summary.school_year}, check {summary.check}"
        f" (look-up date {summary.as_of})"
    )
    typer.echo(f"  pupils decided:               {summary.pupils}")
    for category in ("social", "low_income_a", "low_income_b", "standard", "none"):
        if summary.categories.get(category):
            label = "review, no tariff yet" if category == "none" else category
            typer.echo(f"  {label + ':':<30}{summary.categories[category]}")
    typer.echo(f"  review cases opened:          {summary.review_opened}")
    typer.echo(f"  lines rejected in the files:  {summary.lines_rejected}")
    typer.echo(f"  billing lines not invoiced:   {summary.billing_lines_not_invoiced}")
    for message in summary.refusals:
        typer.echo(f"  file refused: {message}")
    typer.echo(f"  school lists written:         {summary.lists_written}")
    typer.echo(f"  invoices written:             {summary.invoices_written}")
    typer.echo(f"  invoices already sent before: {summary.invoices_already_sent}")
    typer.echo(f"  invoices held for review:     {summary.invoices_held}")
    typer.echo(f"  decisions:     {summary.decisions_file}")
    typer.echo(f"  school lists:  {summary.lists_dir}")
    typer.echo(f"  invoices:      {summary.invoices_dir}")


@app.command("publish-reviewed")
def publish_reviewed(
    registry: Annotated[str, typer.Option(help="Base URL of the registry gateway.")],
    out: Annotated[Path, typer.Option(help="Folder for the letters and invoices.")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Look-up date; default today.")
    ] = None,
    benefit: Annotated[
        list[str] | None,
        typer.Option(
            "--benefit",
            help="garbage-bags or school-tariffs; repeat for both; default: all.",
        ),
    ] = None,
    database: Annotated[
        str | None, typer.Option(help="Store URL; default from the settings.")
    ] = None,
) -> None:
    """Send the letters and invoices of the cases reviewers decided, once each."""
    from flows.publish_reviewed import publish_reviewed_flow
    from tasks.reviewed import check_benefits

    _check_out(out)
    look_up = _parse_date(as_of)
    try:
        benefits = list(check_benefits(benefit or None))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--benefit") from None
    if not registry.startswith(("http://", "https://")):
        raise typer.BadParameter(
            f"{registry!r} needs a scheme, for example http://127.0.0.1:8700",
            param_hint="--registry",
        )
    summary = _run_flow(
        publish_reviewed_flow(
            registry=registry,
            out=str(out.resolve()),
            database=database,
            as_of=look_up,
            benefits=benefits,
        )
    )
    print_reviewed_summary(summary)


def print_reviewed_summary(summary) -> None:
    """Counts of the documents sent for reviewed cases, and where they are."""
    typer.echo(f"\nReviewed cases published (look-up date {summary.as_of})")
    typer.echo(f"  letters written:              {summary.letters_written}")
    typer.echo(f"  invoices written:             {summary.invoices_written}")
    typer.echo(f"  already sent before:          {summary.already_sent}")
    typer.echo(f"  undeliverable, for review:    {summary.undeliverable}")
    typer.echo(f"  letters:   {summary.letters_dir}")
    typer.echo(f"  invoices:  {summary.invoices_dir}")


@app.command("uitpas-renewal")
def uitpas_renewal(
    city: Annotated[
        Path, typer.Option(help="Folder of the city (social_service.csv).")
    ],
    registry: Annotated[str, typer.Option(help="Base URL of the registry gateway.")],
    out: Annotated[Path, typer.Option(help="Folder for decisions.csv.")],
    year: Annotated[
        int | None,
        typer.Option(help="Year whose grants to renew; default: the look-up year."),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Look-up date; default today.")
    ] = None,
    database: Annotated[
        str | None, typer.Option(help="Store URL; default from the settings.")
    ] = None,
) -> None:
    """Check everyone granted the UiTPAS opportunity tariff this year again, and
    extend it to next year for those who still qualify."""
    from flows.uitpas_renewal import resolve_dates, uitpas_renewal_flow
    from proactief.city import read_social_service

    _check_out(out)
    _require_file(city, "social_service.csv")
    _check_city(city, read_social_service)
    _check_dates(resolve_dates, year, as_of)
    summary = _run_flow(
        uitpas_renewal_flow(
            city=str(city.resolve()),
            registry=registry,
            out=str(out.resolve()),
            year=year,
            as_of=_parse_date(as_of),
            database=database,
        )
    )
    print_renewal_summary(summary)


def print_renewal_summary(summary) -> None:
    """Counts of the renewal and where the output is: no personal data."""
    typer.echo(
        f"\nUiTPAS opportunity tariff: renewal of {summary.year} into"
        f" {summary.year + 1} (look-up date {summary.as_of})"
    )
    granted = f"granted for {summary.year}:"
    typer.echo(f"  {granted:<30}{summary.granted}")
    typer.echo(f"  extended in an earlier run:   {summary.already_extended}")
    typer.echo(f"  extended in this run:         {summary.extended}")
    typer.echo(f"  no longer qualifying (review): {summary.no_longer_qualifying}")
    typer.echo(f"  review in this run:           {summary.review}")
    typer.echo(f"  review cases opened:          {summary.review_opened}")
    typer.echo(f"  letters held back for review: {summary.letters_held}")
    typer.echo(f"  letters written:              {summary.letters_written}")
    typer.echo(f"  letters already sent before:  {summary.letters_already_sent}")
    typer.echo(f"  decisions:   {summary.decisions_file}")
    if summary.letters_dir:
        typer.echo(f"  letters:     {summary.letters_dir}")


@app.command("lez-renewal")
def lez_renewal(
    registry: Annotated[str, typer.Option(help="Base URL of the registry gateway.")],
    out: Annotated[Path, typer.Option(help="Folder for decisions.csv and letters.")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Look-up date; default today.")
    ] = None,
    database: Annotated[
        str | None, typer.Option(help="Store URL; default from the settings.")
    ] = None,
) -> None:
    """Check the LEZ registrations and day-pass tariffs that end within two months
    again: extend who still qualifies, tell the others before anything ends."""
    from flows.lez_renewal import lez_renewal_flow

    _check_out(out)
    look_up = _parse_date(as_of)
    if not registry.startswith(("http://", "https://")):
        raise typer.BadParameter(
            f"{registry!r} needs a scheme, for example http://127.0.0.1:8700",
            param_hint="--registry",
        )
    summary = _run_flow(
        lez_renewal_flow(
            registry=registry,
            out=str(out.resolve()),
            database=database,
            as_of=look_up,
        )
    )
    print_lez_renewal_summary(summary)


def print_lez_renewal_summary(summary) -> None:
    """Counts of the LEZ renewal and where the output is: no personal data."""
    typer.echo(
        f"\nLow Emission Zone renewal (look-up date {summary.as_of}, what ends by"
        f" {summary.horizon})"
    )
    typer.echo(f"  registrations due:            {summary.registrations_due}")
    typer.echo(f"  registrations extended:       {summary.registrations_extended}")
    typer.echo(f"  registrations ending (review): {summary.registrations_ending}")
    typer.echo(f"  registrations for review:     {summary.registrations_review}")
    if summary.day_pass_year is None:
        typer.echo("  day-pass tariffs:             not due yet")
    else:
        typer.echo(f"  day-pass tariffs checked:     {summary.day_passes_checked}")
        typer.echo(f"  day-pass tariffs extended:    {summary.day_passes_extended}")
        typer.echo(f"  day-pass tariffs ending:      {summary.day_passes_ending}")
        typer.echo(f"  day-pass tariffs for review:  {summary.day_passes_review}")
    typer.echo(f"  review cases opened:          {summary.review_opened}")
    typer.echo(f"  letters held back for review: {summary.letters_held}")
    typer.echo(f"  letters written:              {summary.letters_written}")
    typer.echo(f"  letters already sent before:  {summary.letters_already_sent}")
    if summary.decisions_file:
        typer.echo(f"  decisions:   {summary.decisions_file}")
    if summary.letters_dir:
        typer.echo(f"  letters:     {summary.letters_dir}")
