"""Schedule of the publish-reviewed flow: every working day, before office hours.

Monday to Friday at 07:30 Brussels time (an hour daylight saving never skips or
repeats), so that what reviewers decided one day goes out the next morning. The
look-up date is resolved when the run starts, from the time it was scheduled for.
"""

from __future__ import annotations

import os

from prefect.schedules import Cron

from deployments.garbage_bags import TIMEZONE
from flows.publish_reviewed import publish_reviewed_flow

WORKING_DAYS_CRON = "30 7 * * 1-5"


def deployments() -> list:
    parameters = {
        "registry": os.environ.get("PROACTIEF_REGISTRY_URL", "http://127.0.0.1:8700"),
        "out": os.environ.get("PROACTIEF_REVIEWED_OUT", "out/reviewed"),
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
