"""The `proactief registry ...` and `proactief magda ...` commands.

- `proactief registry serve --city DIR --port P`: serve a synthetic city as the
  MAGDA gateway would (see `proactief.magda.simulator` for the endpoints, faults
  and refusal codes);
- `proactief magda parse FILE`: print, as JSON, the facts read from one MAGDA
  answer (a full SOAP envelope or the bare `...Response` element).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from proactief.errors import ProactiefError
from proactief.magda import messages

registry_app = typer.Typer(
    help="The built-in registry simulator.", no_args_is_help=True
)
magda_app = typer.Typer(help="Read MAGDA messages.", no_args_is_help=True)


@registry_app.callback()
def _registry() -> None:
    """Serve a synthetic city in MAGDA's message format."""


@magda_app.callback()
def _magda() -> None:
    """Read MAGDA messages."""


@registry_app.command("serve")
def serve_command(
    city: Annotated[
        Path, typer.Option("--city", help="City folder with population.jsonl.")
    ],
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="TCP port to listen on.")
    ] = 8088,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on.")
    ] = "127.0.0.1",
    latency_ms: Annotated[
        float, typer.Option("--latency-ms", help="Delay added to every answer.")
    ] = 0.0,
    fail_rate: Annotated[
        float, typer.Option("--fail-rate", help="Share of 99996 answers.")
    ] = 0.0,
    timeout_rate: Annotated[
        float,
        typer.Option("--timeout-rate", help="Share of answers held past time-out."),
    ] = 0.0,
    error500_rate: Annotated[
        float, typer.Option("--error500-rate", help="Share of HTTP 500 answers.")
    ] = 0.0,
    timeout_hold_s: Annotated[
        float,
        typer.Option("--timeout-hold-s", help="How long a time-out fault holds."),
    ] = 30.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the faults.")] = 0,
    consumer: Annotated[
        list[str] | None,
        typer.Option(
            "--consumer",
            help="Accepted consumer id (repeatable); default PROACTIEF_CONSUMER.",
        ),
    ] = None,
    purpose: Annotated[
        list[str] | None,
        typer.Option(
            "--purpose",
            help="Accepted capacity code (repeatable); default PROACTIEF_PURPOSE.",
        ),
    ] = None,
) -> None:
    """Serve a synthetic city as the MAGDA gateway would."""
    from proactief.magda.simulator import SimulatorConfig, serve

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        config = SimulatorConfig.from_settings(
            consumers=consumer or None,
            purposes=purpose or None,
            latency_ms=latency_ms,
            fail_rate=fail_rate,
            timeout_rate=timeout_rate,
            error500_rate=error500_rate,
            timeout_hold_s=timeout_hold_s,
            seed=seed,
        )
        serve(city, host=host, port=port, config=config)
    except (ProactiefError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc


def _jsonable(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


@magda_app.command("parse")
def parse_command(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="A MAGDA answer (XML)."),
    ],
) -> None:
    """Print the facts read from one MAGDA answer as JSON."""
    try:
        answer = messages.read_answer(file.read_bytes())
        facts = messages.parse_facts(answer)
    except ProactiefError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    document = {
        "service": answer.service,
        "version": answer.version,
        "result": answer.result_code,
        "facts": {"type": type(facts).__name__, **dataclasses.asdict(facts)},
    }
    typer.echo(json.dumps(document, default=_jsonable, ensure_ascii=False, indent=2))
