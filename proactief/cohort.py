"""Cohorts: who a batch run decides on, drawn from the city's own files.

The household cohort comes from the city's extract of its population register
(`residents.csv`): one entry per registered household, decided for its reference
person (position 01). Where the extract names no reference person or several, the
first member stands in as subject, and the registry's answer decides what happens
(the quality checks send such a household to a reviewer).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from proactief.city import read_residents, read_social_service

REFERENCE_PERSON = "01"


@dataclass(frozen=True, slots=True)
class CohortHousehold:
    household: str
    subject: str


def household_cohort(city_dir: Path) -> list[CohortHousehold]:
    """One entry per household of residents.csv, in a stable order."""
    members: dict[str, list] = defaultdict(list)
    for resident in read_residents(city_dir):
        members[resident.household].append(resident)
    cohort = []
    for household in sorted(members):
        people = sorted(members[household], key=lambda r: (r.position, r.insz))
        heads = [r for r in people if r.position == REFERENCE_PERSON]
        cohort.append(CohortHousehold(household, (heads or people)[0].insz))
    return cohort


def social_service_measures(city_dir: Path, on: date) -> dict[str, frozenset[str]]:
    """The social-service measures active on `on`, by national number."""
    measures: dict[str, frozenset[str]] = {}
    for insz, record in read_social_service(city_dir).items():
        if record.since is not None and record.since > on:
            continue
        active = {
            name
            for name in ("budget_guidance", "budget_management", "debt_mediation")
            if getattr(record, name)
        }
        if active:
            measures[insz] = frozenset(active)
    return measures
