"""Schedule of the UiTPAS renewal: once a year, in December.

1 December, 06:00 Brussels time: the year's grants are checked again a month
before they end on 31 December (POLICY.md section 3), which leaves a reviewer
the rest of December for the cases that could not be answered. The year whose
grants are renewed and the look-up date are resolved when the run starts, from
the time it was scheduled for.
"""

from __future__ import annotations

from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from deployments.defaults import TIMEZONE, DeploymentDefaults
from flows.uitpas_renewal import uitpas_renewal_flow

YEARLY_CRON = "0 6 1 12 *"


def deployments(defaults: DeploymentDefaults | None = None) -> list[RunnerDeployment]:
    defaults = defaults or DeploymentDefaults.from_env()
    parameters = {
        "city": defaults.city,
        "registry": defaults.registry,
        "out": defaults.out_folder("uitpas-renewal"),
    }
    return [
        uitpas_renewal_flow.to_deployment(
            name="yearly",
            schedules=[Cron(YEARLY_CRON, timezone=TIMEZONE)],
            parameters=parameters,
            description=(
                "Yearly UiTPAS renewal: extends this year's opportunity tariffs to"
                " next year where they still qualify."
            ),
            tags=["uitpas"],
        )
    ]
