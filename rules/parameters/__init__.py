"""Dated rule parameters, read from the YAML files beside this module.

Each file holds the parameters of one benefit. Each parameter has a description, a
unit, a source and a list of values with the date from which each is in force;
`value_on` picks the one in force on a date. A value may carry a `note` such as
"(est.)" for a figure the city has not published, so it can be corrected in the file
without touching code.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from proactief.errors import RuleParameterError

PARAMETER_DIR = Path(__file__).parent


@dataclass(frozen=True)
class ParameterFile:
    benefit: str
    parameters: dict[str, Any]
    digest: str

    def value_on(self, name: str, on: date) -> Any:
        """The value of parameter `name` in force on `on`."""
        try:
            values = self.parameters[name]["values"]
        except KeyError as exc:
            raise RuleParameterError(
                f"the parameters of {self.benefit!r} have no {name!r}; add it to"
                f" rules/parameters/{self.benefit.replace('-', '_')}.yaml"
            ) from exc
        in_force = [v for v in values if _as_date(v["from"]) <= on]
        if not in_force:
            raise RuleParameterError(
                f"parameter {name!r} of {self.benefit!r} has no value in force on"
                f" {on.isoformat()}; add one with a 'from' date on or before it"
            )
        return max(in_force, key=lambda v: _as_date(v["from"]))

    def in_force_since(self, name: str, on: date) -> date:
        return _as_date(self.value_on(name, on)["from"])


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@cache
def load(benefit: str) -> ParameterFile:
    """Read `<benefit>.yaml` (dashes become underscores) from this folder."""
    path = PARAMETER_DIR / f"{benefit.replace('-', '_')}.yaml"
    raw = path.read_bytes()
    content = yaml.safe_load(raw)
    return ParameterFile(
        benefit=content["benefit"],
        parameters=content["parameters"],
        digest=hashlib.sha256(raw).hexdigest()[:8],
    )
