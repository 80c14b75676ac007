"""Cities shared by the tests of the generator: made once per session, in tmp dirs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from proactief.city import generate_city, write_city

SMALL = 2_000
LARGE = 20_000
YEAR = 2027


def _make(tmp_path_factory: pytest.TempPathFactory, name: str, size: int, seed: int):
    out = tmp_path_factory.mktemp(name)
    write_city(generate_city(size, seed, year=YEAR), out)
    return out


@pytest.fixture(scope="session")
def small_city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make(tmp_path_factory, "small_city", SMALL, seed=11)


@pytest.fixture(scope="session")
def large_city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make(tmp_path_factory, "large_city", LARGE, seed=5)


@pytest.fixture(scope="session")
def small_people(small_city: Path) -> list[dict]:
    with (small_city / "population.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope="session")
def large_people(large_city: Path) -> list[dict]:
    with (large_city / "population.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]
