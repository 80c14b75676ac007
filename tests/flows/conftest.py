"""Fixtures of the flow tests: a generated city, the real simulator, Prefect."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect.testing.utilities import prefect_test_harness

from proactief.city import generate_city, write_city
from proactief.magda.simulator import running_simulator

YEAR = 2027
INHABITANTS = 3_000
SEED = 3


@pytest.fixture(scope="session", autouse=True)
def prefect_backend():
    """One temporary Prefect server for the whole session (it takes seconds to start)."""
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def city(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("city")
    write_city(generate_city(INHABITANTS, SEED, year=YEAR), folder)
    return folder


@pytest.fixture(scope="session")
def registry(city, tmp_path_factory) -> str:
    log = tmp_path_factory.mktemp("simulator") / "simulator.log"
    with running_simulator(city, latency_ms=2, log_path=log) as url:
        yield url
