"""The LEZ renewal deployment loads, and runs on the 5th of every month at 06:00."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from prefect.server.schemas.schedules import CronSchedule

from deployments.lez_renewal import deployments
from flows.lez_renewal import day_passes_due


def _next_runs(deployment, n: int) -> list[datetime]:
    (schedule,) = deployment.schedules
    server_side = CronSchedule(
        cron=schedule.schedule.cron, timezone=schedule.schedule.timezone
    )
    start = datetime(2027, 1, 1, tzinfo=UTC)
    return asyncio.run(server_side.get_dates(n=n, start=start))


def test_the_lez_renewal_deployment_loads_with_its_parameters_and_no_dates():
    (deployment,) = deployments()
    assert deployment.name == "monthly"
    assert deployment.flow_name == "lez-renewal"
    assert {"registry", "out"} <= set(deployment.parameters)
    # the look-up date is resolved when a run starts, never when this is built
    assert "as_of" not in deployment.parameters


def test_renewal_runs_on_the_fifth_of_every_month_at_six_brussels_time():
    (deployment,) = deployments()
    runs = _next_runs(deployment, 24)
    assert [(r.year, r.month, r.day) for r in runs[:2]] == [(2027, 1, 5), (2027, 2, 5)]
    assert all((r.day, r.hour, r.minute) == (5, 6, 0) for r in runs)
    assert all(str(r.tzinfo) == "Europe/Brussels" for r in runs)
    assert len({(r.year, r.month) for r in runs}) == 24  # once a month
    # both sides of the daylight-saving changes: still 06:00 local time
    assert {r.utcoffset().total_seconds() / 3600 for r in runs} == {1.0, 2.0}


def test_the_november_and_december_runs_renew_the_years_day_pass_tariffs():
    (deployment,) = deployments()
    runs = _next_runs(deployment, 12)
    renewing = [r.month for r in runs if day_passes_due(date(r.year, r.month, r.day))]
    assert renewing == [11, 12]
