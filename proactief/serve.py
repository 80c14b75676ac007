"""`proactief serve`: every flow's schedules, served from this machine.

The deployments of `deployments/` are registered with the Prefect API the
environment configures (PREFECT_API_URL, or the active Prefect profile), and their
runs, scheduled or started by hand, execute here as subprocesses of this command
until it stops. Stopping it pauses the schedules, so that runs do not pile up
while nothing serves them.

Without a Prefect API, Prefect would start a temporary server that forgets every
schedule when this command ends; so the command refuses to start unless the
configured API answers its health check first.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from deployments.defaults import (
    DEFAULT_CITY,
    DEFAULT_OUT,
    DEFAULT_REGISTRY_URL,
    DEFAULT_SCHOOL_INBOX,
    DeploymentDefaults,
)
from proactief.errors import ProactiefError

PROBE_TIMEOUT_S = 3.0
UI_API_URL = "http://127.0.0.1:4200/api"  # the server `make ui` starts


def check_prefect_api(api_url: str | None, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Ask the configured Prefect API for its health, and nothing else.

    The probe goes straight to `api_url` (proxy variables are not followed) and
    waits at most `timeout_s`. Raises `ProactiefError` with the remedy when no API
    is configured, or it does not answer `true` as a Prefect API's health check
    does (a URL without its `/api` reaches the UI's server, which answers 404).
    """
    import httpx

    if not api_url:
        raise ProactiefError(
            "no Prefect API is configured: start one with `make ui` and set"
            f" PREFECT_API_URL={UI_API_URL}"
        )
    health_url = f"{api_url.rstrip('/')}/health"
    try:
        response = httpx.get(health_url, timeout=timeout_s, trust_env=False)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol):
        raise ProactiefError(
            f"the Prefect API URL {api_url!r} is not an http(s) URL: set"
            f" PREFECT_API_URL to one such as {UI_API_URL}"
        ) from None
    except httpx.TimeoutException:
        reason = f"no answer within {timeout_s:g} s"
    except httpx.TransportError as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
    else:
        if response.is_success and _answers_true(response):
            return
        raise ProactiefError(
            f"{health_url!r} answered HTTP {response.status_code}, not a Prefect"
            " API's health: set PREFECT_API_URL to the API's URL, which for"
            f" `make ui` is {UI_API_URL} (with /api)"
        )
    raise ProactiefError(
        f"the Prefect API at {api_url!r} does not answer ({reason}): start it"
        f" (`make ui` serves {UI_API_URL}) or set PREFECT_API_URL to one that runs"
    )


def _answers_true(response) -> bool:
    try:
        return response.json() is True
    except ValueError:
        return False


def serve(
    city: Annotated[
        Path,
        typer.Option(envvar="PROACTIEF_CITY", help="Folder of the city."),
    ] = Path(DEFAULT_CITY),
    registry: Annotated[
        str,
        typer.Option(
            envvar="PROACTIEF_REGISTRY_URL", help="Base URL of the registry gateway."
        ),
    ] = DEFAULT_REGISTRY_URL,
    out: Annotated[
        Path,
        typer.Option(
            envvar="PROACTIEF_OUT",
            help="Output folder; each flow writes in a subfolder named after it.",
        ),
    ] = Path(DEFAULT_OUT),
    school_inbox: Annotated[
        Path,
        typer.Option(
            envvar="PROACTIEF_SCHOOL_INBOX",
            help="Folder where the schools' pupil lists and billing lines arrive.",
        ),
    ] = Path(DEFAULT_SCHOOL_INBOX),
    database: Annotated[
        str | None,
        typer.Option(
            envvar="PROACTIEF_DATABASE_URL",
            show_default="sqlite:///var/proactief.db",
            help="Store URL, handed to the runs through their environment.",
        ),
    ] = None,
    limit: Annotated[
        int,
        typer.Option(min=1, help="Flow runs at a time; the others wait their turn."),
    ] = 1,
) -> None:
    """Serve every flow's schedules (garbage bags, school tariffs, publish-reviewed,
    UiTPAS and LEZ renewal) against the configured Prefect API, until stopped."""
    from prefect.settings import get_current_settings

    api_url = get_current_settings().api.url
    try:
        check_prefect_api(api_url)
    except ProactiefError as exc:
        typer.secho(f"Not serving: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None

    from prefect import serve as serve_deployments

    from deployments.catalog import all_deployments
    from proactief.config import Settings

    # The runs are subprocesses of this one and inherit its environment: the store
    # URL travels that way instead of as a parameter Prefect would keep and show.
    os.environ["PROACTIEF_DATABASE_URL"] = database or Settings.from_env().database_url
    defaults = DeploymentDefaults(
        city=str(city.resolve()),
        registry=registry,
        out=str(out.resolve()),
        school_inbox=str(school_inbox.resolve()),
    )
    served = all_deployments(defaults)
    typer.echo(
        f"Serving {len(served)} deployments against the Prefect API at {api_url};"
        f" city {defaults.city}, output under {defaults.out}."
    )
    serve_deployments(*served, limit=limit)
