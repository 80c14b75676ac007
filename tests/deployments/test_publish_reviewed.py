"""The publish-reviewed deployment loads and runs on working days at 07:30."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from prefect.server.schemas.schedules import CronSchedule

from deployments.publish_reviewed import deployments


def test_publish_reviewed_loads_with_its_parameters_and_no_dates():
    (deployment,) = deployments()
    assert deployment.name == "working-days"
    assert deployment.flow_name == "publish-reviewed"
    assert {"registry", "out"} <= set(deployment.parameters)
    # the look-up date is resolved when a run starts, never when this is built
    assert "as_of" not in deployment.parameters
    assert "benefits" not in deployment.parameters  # all benefits by default


def test_publish_reviewed_runs_monday_to_friday_at_half_past_seven_brussels_time():
    (deployment,) = deployments()
    (schedule,) = deployment.schedules
    cron = CronSchedule(
        cron=schedule.schedule.cron, timezone=schedule.schedule.timezone
    )
    runs = asyncio.run(cron.get_dates(n=300, start=datetime(2027, 1, 1, tzinfo=UTC)))
    assert all(str(r.tzinfo) == "Europe/Brussels" for r in runs)
    assert all((r.hour, r.minute) == (7, 30) for r in runs)
    assert {r.isoweekday() for r in runs} == {1, 2, 3, 4, 5}
    # Friday 1 January 2027 first, then Monday 4 January: no weekend run
    assert [(r.month, r.day) for r in runs[:2]] == [(1, 1), (1, 4)]
    # both sides of the daylight-saving changes: still 07:30 local time
    assert {r.utcoffset().total_seconds() / 3600 for r in runs} == {1.0, 2.0}
