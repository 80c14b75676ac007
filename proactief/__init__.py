"""Proactief: grants a city's social benefits from registry data, without a form."""

import os

# Nothing here may send usage data anywhere: Prefect's server and client, and Great
# Expectations, report to their makers unless told not to. Set before they import.
for _name, _value in (
    ("DO_NOT_TRACK", "1"),
    ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
    ("GX_ANALYTICS_ENABLED", "False"),
):
    os.environ.setdefault(_name, _value)

# A run without a Prefect server starts a temporary one, which Prefect waits 20 s
# for: on a busy two-core machine that was seen to fail a run before it began.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

__version__ = "0.1.0"
