"""The garbage-bag deployments load, and their schedules fall on the intended days."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from prefect.server.schemas.schedules import CronSchedule

from deployments.garbage_bags import deployments


def _next_runs(deployment, n: int) -> list[datetime]:
    (schedule,) = deployment.schedules
    server_side = CronSchedule(
        cron=schedule.schedule.cron, timezone=schedule.schedule.timezone
    )
    start = datetime(2027, 1, 1, tzinfo=UTC)
    return asyncio.run(server_side.get_dates(n=n, start=start))


def test_every_garbage_bag_deployment_loads_with_its_parameters():
    loaded = {d.name: d for d in deployments()}
    assert set(loaded) == {"yearly", "catch-up"}
    for deployment in loaded.values():
        assert deployment.flow_name == "garbage-bags"
        assert {"city", "registry", "out"} <= set(deployment.parameters)
        # dates are resolved when a run starts, never when the deployment is built
        assert "year" not in deployment.parameters
        assert "as_of" not in deployment.parameters


def test_yearly_run_is_on_2_january_at_six_brussels_time():
    yearly = next(d for d in deployments() if d.name == "yearly")
    runs = _next_runs(yearly, 20)
    assert [(r.year, r.month, r.day, r.hour) for r in runs[:2]] == [
        (2027, 1, 2, 6),
        (2028, 1, 2, 6),
    ]
    assert all(str(r.tzinfo) == "Europe/Brussels" for r in runs)
    assert len({r.year for r in runs}) == 20  # once a year


def test_catch_up_runs_monthly_until_15_august_in_brussels_time():
    catch_up = next(d for d in deployments() if d.name == "catch-up")
    runs = _next_runs(catch_up, 7 * 30)
    assert [(r.month, r.day) for r in runs[:7]] == [(m, 15) for m in range(2, 9)]
    assert all((r.day, r.hour, r.minute) == (15, 6, 0) for r in runs)
    assert max(r.month for r in runs) == 8  # never after 15 August
    # both sides of the daylight-saving changes: still 06:00 local time
    assert {r.utcoffset().total_seconds() / 3600 for r in runs} == {1.0, 2.0}
