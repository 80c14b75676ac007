"""The six school-tariff checks load, each on its own day, in Brussels time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from prefect.server.schemas.schedules import CronSchedule

from deployments.school_tariffs import deployments


def test_six_checks_each_on_the_third_of_its_month_at_six():
    loaded = {d.name: d for d in deployments()}
    assert set(loaded) == {f"check-{k}" for k in range(1, 7)}
    months = {}
    for name, deployment in loaded.items():
        assert deployment.flow_name == "school-tariffs"
        assert deployment.parameters["check"] == int(name[-1])
        assert "school_year" not in deployment.parameters
        (schedule,) = deployment.schedules
        cron = CronSchedule(
            cron=schedule.schedule.cron, timezone=schedule.schedule.timezone
        )
        runs = asyncio.run(cron.get_dates(n=10, start=datetime(2026, 8, 1, tzinfo=UTC)))
        assert all((r.day, r.hour, r.minute) == (3, 6, 0) for r in runs)
        assert all(str(r.tzinfo) == "Europe/Brussels" for r in runs)
        assert len({r.year for r in runs}) == 10  # once a year
        months[int(name[-1])] = runs[0].month
    assert months == {1: 9, 2: 11, 3: 1, 4: 3, 5: 5, 6: 6}
