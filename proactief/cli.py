"""The `proactief` command line: one entry point, a subcommand per task."""

from __future__ import annotations

import typer

from proactief.city.cli import app as city_app
from proactief.demo import demo
from proactief.magda.cli import magda_app, registry_app
from proactief.migrations.cli import db_app
from proactief.runs import app as run_app
from proactief.serve import serve
from proactief.web.cli import accounts_app, api_clients_app, web

app = typer.Typer(
    help="Proactief: social benefits granted from registry data, without a form.",
    no_args_is_help=True,
    # A traceback's local variables may hold national numbers or names.
    pretty_exceptions_show_locals=False,
)
app.add_typer(city_app, name="city", help="Synthetic cities for the demo and tests.")
app.add_typer(registry_app, name="registry", help="The built-in registry simulator.")
app.add_typer(magda_app, name="magda", help="Read MAGDA messages.")

app.add_typer(run_app, name="run", help="Run a benefit's flow.")
app.command("serve")(serve)
app.command("demo")(demo)
app.command("web")(web)
app.add_typer(accounts_app, name="accounts", help="Accounts of the web app.")
app.add_typer(api_clients_app, name="api-clients", help="API keys of client systems.")
app.add_typer(db_app, name="db", help="The store's database: schema revision, upgrade.")
