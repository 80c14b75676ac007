"""Where a served deployment finds its city, registry, output and school inbox.

The deployments carry these as default parameters; `proactief serve` takes them
as options, and both fall back on the environment:

| variable | meaning | default |
|---|---|---|
| PROACTIEF_CITY | folder of the city (residents.csv, schools.csv) | var/demo-city |
| PROACTIEF_REGISTRY_URL | base URL of the registry gateway | http://127.0.0.1:8700 |
| PROACTIEF_OUT | output folder; each flow writes in a subfolder of its own | out |
| PROACTIEF_SCHOOL_INBOX | folder of the files schools send | var/school-inbox |

The store is not among them: a store URL may carry a password, and Prefect keeps
and shows a deployment's parameters. The flows read it from
PROACTIEF_DATABASE_URL (`proactief.config`), which their runs inherit from the
process that serves them.

No date is among them either: a run resolves its dates when it starts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TIMEZONE = "Europe/Brussels"

DEFAULT_CITY = "var/demo-city"
DEFAULT_REGISTRY_URL = "http://127.0.0.1:8700"
DEFAULT_OUT = "out"
DEFAULT_SCHOOL_INBOX = "var/school-inbox"


@dataclass(frozen=True)
class DeploymentDefaults:
    """The folders and URL every deployment's default parameters are made of."""

    city: str = DEFAULT_CITY
    registry: str = DEFAULT_REGISTRY_URL
    out: str = DEFAULT_OUT
    school_inbox: str = DEFAULT_SCHOOL_INBOX

    @classmethod
    def from_env(cls) -> DeploymentDefaults:
        return cls(
            city=os.environ.get("PROACTIEF_CITY", DEFAULT_CITY),
            registry=os.environ.get("PROACTIEF_REGISTRY_URL", DEFAULT_REGISTRY_URL),
            out=os.environ.get("PROACTIEF_OUT", DEFAULT_OUT),
            school_inbox=os.environ.get("PROACTIEF_SCHOOL_INBOX", DEFAULT_SCHOOL_INBOX),
        )

    def out_folder(self, flow: str) -> str:
        """The flow's own output folder, so that no two flows share a decisions.csv."""
        return str(Path(self.out) / flow)
