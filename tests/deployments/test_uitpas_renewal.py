"""The UiTPAS renewal deployment loads, and its schedule falls on 1 December."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from prefect.server.schemas.schedules import CronSchedule

from deployments.uitpas_renewal import deployments
from rules import uitpas


def _next_runs(deployment, n: int) -> list[datetime]:
    (schedule,) = deployment.schedules
    server_side = CronSchedule(
        cron=schedule.schedule.cron, timezone=schedule.schedule.timezone
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return asyncio.run(server_side.get_dates(n=n, start=start))


def test_the_uitpas_renewal_deployment_loads_with_its_parameters():
    (deployment,) = deployments()
    assert deployment.name == "yearly"
    assert deployment.flow_name == "uitpas-renewal"
    assert {"city", "registry", "out"} <= set(deployment.parameters)
    # dates are resolved when a run starts, never when the deployment is built
    assert "year" not in deployment.parameters
    assert "as_of" not in deployment.parameters


def test_renewal_runs_once_a_year_on_1_december_at_six_brussels_time():
    (deployment,) = deployments()
    runs = _next_runs(deployment, 10)
    assert [(r.year, r.month, r.day, r.hour, r.minute) for r in runs[:2]] == [
        (2026, 12, 1, 6, 0),
        (2027, 12, 1, 6, 0),
    ]
    assert all((r.month, r.day, r.hour, r.minute) == (12, 1, 6, 0) for r in runs)
    assert all(str(r.tzinfo) == "Europe/Brussels" for r in runs)
    assert len({r.year for r in runs}) == 10  # once a year
    assert {r.utcoffset().total_seconds() / 3600 for r in runs} == {1.0}  # winter time


def test_every_scheduled_run_falls_inside_its_years_renewal_window():
    (deployment,) = deployments()
    for run in _next_runs(deployment, 10):
        first, last = uitpas.renewal_window(run.year)
        assert first <= date(run.year, run.month, run.day) < last
