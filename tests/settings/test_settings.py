"""Settings read from the environment: a bad value is one clear error naming the
variable, never a crash deep inside a run."""

from __future__ import annotations

import pytest

from proactief.config import Settings
from proactief.errors import SettingsError


def test_the_registry_time_out_defaults_to_ten_seconds(monkeypatch):
    monkeypatch.delenv("PROACTIEF_REGISTRY_TIMEOUT_S", raising=False)
    assert Settings.from_env().registry_timeout_s == 10.0


def test_the_registry_time_out_is_read_in_seconds(monkeypatch):
    monkeypatch.setenv("PROACTIEF_REGISTRY_TIMEOUT_S", "2.5")
    assert Settings.from_env().registry_timeout_s == 2.5


@pytest.mark.parametrize("value", ["abc", "0", "-3", "601", "nan", "inf"])
def test_an_unusable_registry_time_out_is_refused_by_name(monkeypatch, value):
    monkeypatch.setenv("PROACTIEF_REGISTRY_TIMEOUT_S", value)
    with pytest.raises(SettingsError, match="PROACTIEF_REGISTRY_TIMEOUT_S"):
        Settings.from_env()
