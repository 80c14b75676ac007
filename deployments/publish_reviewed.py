"""Schedule of the publish-reviewed flow: every working day, before office hours.

Monday to Friday at 07:30 Brussels time (an hour daylight saving never skips or
repeats), so that what reviewers decided one day goes out the next morning. The
look-up date is resolved when the run starts, from the time it was scheduled for.
"""

from __future__ import annotations

from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from deployments.defaults import TIMEZONE, DeploymentDefaults
from flows.publish_reviewed import publish_reviewed_flow

WORKING_DAYS_CRON = "30 7 * * 1-5"


def deployments(defaults: DeploymentDefaults | None = None) -> list[RunnerDeployment]:
    defaults = defaults or DeploymentDefaults.from_env()
    parameters = {
        "registry": defaults.registry,
        "out": defaults.out_folder("reviewed"),
    }
    return [
        publish_reviewed_flow.to_deployment(
            name="working-days",
            schedules=[Cron(WORKING_DAYS_CRON, timezone=TIMEZONE)],
            parameters=parameters,
            description=(
                "Letters and invoices of the cases reviewers decided, once each,"
                " every working day."
            ),
            tags=["publish-reviewed"],
        )
    ]
