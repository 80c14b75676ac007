"""Household cohort, quality and decision tasks of the household benefits."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from proactief.cohort import CohortHousehold, household_cohort, social_service_measures
from proactief.households import LookedUpHousehold
from proactief.quality import QualityReport, check_rows


@task(name="read_household_cohort", cache_policy=NO_CACHE, persist_result=False)
def read_household_cohort(
    city_dir: str, on: date
) -> tuple[list[CohortHousehold], dict[str, frozenset[str]]]:
    """The households of the city's register and the social service's measures."""
    cohort = household_cohort(Path(city_dir))
    measures = social_service_measures(Path(city_dir), on)
    get_run_logger().info(
        "cohort: %d households; %d people with social-service guidance",
        len(cohort),
        len(measures),
    )
    return cohort, measures


@task(name="check_households", cache_policy=NO_CACHE, persist_result=False)
def check_households(looked: list[LookedUpHousehold]) -> QualityReport:
    """Run the household suite; a cohort that mostly fails stops the run here."""
    rows = [h.quality_row() for h in looked if not h.failure]
    report = check_rows(
        "household_lookup",
        rows,
        what="households",
        already_failed=sum(1 for h in looked if h.failure),
    )
    get_run_logger().info(
        "quality: %d households checked, %d failed %s",
        report.rows,
        report.failed,
        report.reason_counts() or "",
    )
    return report
