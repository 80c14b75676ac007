"""The city's schools by id, and the periods the six checks of a school year bill."""

from __future__ import annotations

from pathlib import Path

from proactief import city

# What each check bills: the period that starts on its reference date.
PERIOD_LABELS = {
    1: "september - oktober",
    2: "november - december",
    3: "januari - februari",
    4: "maart - april",
    5: "mei",
    6: "juni",
}


def read_schools(city_dir: Path) -> dict[str, str]:
    """school_id → school name, from the city's schools.csv."""
    return {school.id: school.name for school in city.read_schools(Path(city_dir))}


def period_label(school_year: str, check: int) -> str:
    """'september - oktober 2026' for check 1 of 2026-2027."""
    first, second = (int(y) for y in school_year.split("-"))
    return f"{PERIOD_LABELS[check]} {first if check <= 2 else second}"
