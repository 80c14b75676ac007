"""Schedule of the LEZ renewal: monthly, on the 5th.

The 5th of every month at 06:00 Brussels time (an hour daylight saving never
skips or repeats): what ends within the next two months is checked again, so
that every registration is checked twice before it ends and a citizen who no
longer qualifies hears of it at least a month ahead. The runs of 5 November and
5 December also renew the year's day-pass tariffs. The look-up date is resolved
when the run starts, from the time it was scheduled for.
"""

from __future__ import annotations

from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from deployments.defaults import TIMEZONE, DeploymentDefaults
from flows.lez_renewal import lez_renewal_flow

MONTHLY_CRON = "0 6 5 * *"


def deployments(defaults: DeploymentDefaults | None = None) -> list[RunnerDeployment]:
    defaults = defaults or DeploymentDefaults.from_env()
    parameters = {
        "registry": defaults.registry,
        "out": defaults.out_folder("lez-renewal"),
    }
    return [
        lez_renewal_flow.to_deployment(
            name="monthly",
            schedules=[Cron(MONTHLY_CRON, timezone=TIMEZONE)],
            parameters=parameters,
            description=(
                "Monthly LEZ renewal: extends the free registrations and day-pass"
                " tariffs that end soon where they still qualify; the others get a"
                " review case and a letter."
            ),
            tags=["lez"],
        )
    ]
