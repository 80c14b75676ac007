"""Schedules of the garbage-bag flow: the yearly run and the monthly catch-ups.

- yearly: 2 January, 06:00 Brussels time, the day after the reference date, so
  that the registries have the household of 1 January.
- catch-up: the 15th of February to August, 06:00 Brussels time; the last one falls
  on 15 August, the last day a catch-up may grant (POLICY.md section 1).
"""

from __future__ import annotations

from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from deployments.defaults import TIMEZONE, DeploymentDefaults
from flows.garbage_bags import garbage_bags_flow

YEARLY_CRON = "0 6 2 1 *"
CATCH_UP_CRON = "0 6 15 2-8 *"


def deployments(defaults: DeploymentDefaults | None = None) -> list[RunnerDeployment]:
    defaults = defaults or DeploymentDefaults.from_env()
    parameters = {
        "city": defaults.city,
        "registry": defaults.registry,
        "out": defaults.out_folder("garbage-bags"),
    }
    return [
        garbage_bags_flow.to_deployment(
            name="yearly",
            schedules=[Cron(YEARLY_CRON, timezone=TIMEZONE)],
            parameters=parameters,
            description="Yearly garbage-bag run for the households of 1 January.",
            tags=["garbage-bags"],
        ),
        garbage_bags_flow.to_deployment(
            name="catch-up",
            schedules=[Cron(CATCH_UP_CRON, timezone=TIMEZONE)],
            parameters=parameters,
            description=(
                "Monthly catch-up until 15 August: grants statuses that reached the"
                " registry late."
            ),
            tags=["garbage-bags"],
        ),
    ]
