"""The `proactief` command line: one entry point, a subcommand per task."""

from __future__ import annotations

import typer

from proactief.city.cli import app as city_app
from proactief.magda.cli import magda_app, registry_app

app = typer.Typer(
    help="Proactief: social benefits granted from registry data, without a form.",
    no_args_is_help=True,
)
app.add_typer(city_app, name="city", help="Synthetic cities for the demo and tests.")
app.add_typer(registry_app, name="registry", help="The built-in registry simulator.")
app.add_typer(magda_app, name="magda", help="Read MAGDA messages.")

try:  # the run commands pull in Prefect; keep `proactief city ...` light
    from proactief.runs import app as run_app
except ImportError:  # pragma: no cover - only while the package is half built
    run_app = None
if run_app is not None:
    app.add_typer(run_app, name="run", help="Run a benefit's flow.")
