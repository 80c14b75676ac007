"""Settings of the web app, from the command line and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from proactief.config import Settings
from proactief.web.accounts import LoginPolicy, SessionPolicy


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return default if raw in (None, "") else float(raw)


@dataclass(frozen=True)
class WebSettings:
    """What `proactief web` needs to serve.

    | variable | meaning | default |
    |---|---|---|
    | PROACTIEF_DESK_RATE_LIMIT | desk checks an officer may do per window | 30 |
    | PROACTIEF_DESK_RATE_WINDOW_MINUTES | that window | 10 |
    | PROACTIEF_DESK_SLOWDOWN_SECONDS | wait added to each check over the limit | 5 |
    | PROACTIEF_SESSION_IDLE_MINUTES | a session ends after this long unused | 30 |
    | PROACTIEF_SESSION_MAX_HOURS | and in any case after this long | 10 |
    | PROACTIEF_LOCK_MINUTES | lock after five wrong passwords in a row | 15 |
    | PROACTIEF_SECURE_COOKIES | cookies only over HTTPS (set behind TLS) | 0 |
    """

    registry_url: str
    city_dir: Path
    core: Settings = field(default_factory=Settings.from_env)
    desk_rate_limit: int = 30
    desk_rate_window_minutes: float = 10.0
    desk_slowdown_seconds: float = 5.0
    login: LoginPolicy = field(default_factory=LoginPolicy)
    sessions: SessionPolicy = field(default_factory=SessionPolicy)
    secure_cookies: bool = False
    registry_timeout_s: float = 3.0
    registry_retries: int = 1

    @classmethod
    def from_env(cls, registry_url: str, city_dir: Path, **overrides) -> WebSettings:
        values = {
            "desk_rate_limit": int(_number("PROACTIEF_DESK_RATE_LIMIT", 30)),
            "desk_rate_window_minutes": _number(
                "PROACTIEF_DESK_RATE_WINDOW_MINUTES", 10
            ),
            "desk_slowdown_seconds": _number("PROACTIEF_DESK_SLOWDOWN_SECONDS", 5),
            "login": LoginPolicy(lock_minutes=_number("PROACTIEF_LOCK_MINUTES", 15)),
            "sessions": SessionPolicy(
                idle_minutes=_number("PROACTIEF_SESSION_IDLE_MINUTES", 30),
                max_hours=_number("PROACTIEF_SESSION_MAX_HOURS", 10),
            ),
            "secure_cookies": os.environ.get("PROACTIEF_SECURE_COOKIES", "0").lower()
            in {"1", "true", "yes", "on"},
        }
        values.update(overrides)
        return cls(registry_url=registry_url, city_dir=Path(city_dir), **values)
