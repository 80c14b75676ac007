"""Schedules of the school-tariffs flow: the six checks of every school year.

Each check runs at 06:00 Brussels time on the third day of its month, after its
reference date (1 September, 1 November, 1 January, 1 March, 1 May, 1 June), so that
the schools' pupil lists and billing lines have reached the inbox. The school year
is resolved when the run starts, from the time it was scheduled for.
"""

from __future__ import annotations

from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from deployments.defaults import TIMEZONE, DeploymentDefaults
from flows.school_tariffs import school_tariffs_flow

CHECK_MONTHS = {1: 9, 2: 11, 3: 1, 4: 3, 5: 5, 6: 6}
RUN_DAY = 3


def cron_of(check: int) -> str:
    return f"0 6 {RUN_DAY} {CHECK_MONTHS[check]} *"


def deployments(defaults: DeploymentDefaults | None = None) -> list[RunnerDeployment]:
    defaults = defaults or DeploymentDefaults.from_env()
    parameters = {
        "city": defaults.city,
        "registry": defaults.registry,
        "out": defaults.out_folder("school-tariffs"),
        "inbox": defaults.school_inbox,
    }
    return [
        school_tariffs_flow.to_deployment(
            name=f"check-{check}",
            schedules=[Cron(cron_of(check), timezone=TIMEZONE)],
            parameters={**parameters, "check": check},
            description=f"Check {check} of the school year's social tariff.",
            tags=["school-tariffs"],
        )
        for check in CHECK_MONTHS
    ]
