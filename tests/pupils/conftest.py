"""Fixtures of the tests of pupil lists and billing lines."""

from __future__ import annotations

import pytest

from .synthetic import SCHOOLS


@pytest.fixture
def schools() -> dict[str, str]:
    return dict(SCHOOLS)
