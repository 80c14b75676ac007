"""Run-time settings, read from the environment with safe defaults for the demo.

| variable | meaning | default |
|---|---|---|
| PROACTIEF_DATABASE_URL | the store | sqlite:///var/proactief.db |
| PROACTIEF_ALLOW_TEST_NUMBERS | accept MAGDA test numbers (month + 60) | 1 |
| PROACTIEF_PSEUDONYM_KEY | key of the pseudonymous references in logs | a demo key |
| PROACTIEF_VOUCHER_KEY | secret from which voucher codes are derived | a demo key |
| PROACTIEF_CONSUMER | our identification towards the gateway | gent.be/proactief |
| PROACTIEF_PURPOSE | our capacity code (Hoedanigheid) towards the gateway | 1300 |
| PROACTIEF_REGISTRY_TIMEOUT_S | seconds a registry request may take before it is retried | 10 |
| PROACTIEF_RENDER_BATCH | letters rendered, joined into one print file and marked written together | 500 |

A production installation sets its own pseudonym key and turns test numbers off.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from proactief.errors import SettingsError

DEMO_PSEUDONYM_KEY = "proactief-demo-key-not-for-production"
DEMO_VOUCHER_KEY = "proactief-demo-voucher-key-not-for-production"


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value <= 600:
        raise SettingsError(
            f"{name} must be a number of seconds above 0 and at most 600, got {raw!r}"
        )
    return value


def _count(name: str, default: int, most: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 0 < value <= most:
        raise ValueError(f"{name} must be a whole number from 1 to {most}, got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str
    allow_test_numbers: bool
    pseudonym_key: bytes
    voucher_key: bytes
    consumer: str
    purpose: str
    registry_timeout_s: float = 10.0
    render_batch: int = 500

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get(
                "PROACTIEF_DATABASE_URL",
                f"sqlite:///{Path('var/proactief.db').resolve()}",
            ),
            allow_test_numbers=_flag("PROACTIEF_ALLOW_TEST_NUMBERS", True),
            pseudonym_key=os.environ.get(
                "PROACTIEF_PSEUDONYM_KEY", DEMO_PSEUDONYM_KEY
            ).encode(),
            voucher_key=os.environ.get(
                "PROACTIEF_VOUCHER_KEY", DEMO_VOUCHER_KEY
            ).encode(),
            consumer=os.environ.get("PROACTIEF_CONSUMER", "gent.be/proactief"),
            purpose=os.environ.get("PROACTIEF_PURPOSE", "1300"),
            registry_timeout_s=_seconds("PROACTIEF_REGISTRY_TIMEOUT_S", 10.0),
            render_batch=_count("PROACTIEF_RENDER_BATCH", 500, most=5000),
        )
