"""Schedule of the UiTPAS renewal: once a year, in December.

1 December, 06:00 Brussels time: the year's grants are checked again a month
before they end on 31 December (POLICY.md section 3), which leaves a reviewer
the rest of December for the cases that could not be answered. The year whose
grants are renewed and the look-up date are resolved when the run starts, from
the time it was scheduled for.
"""

from __future__ import annotations

import os

from prefect.schedules import Cron

from deployments.garbage_bags import TIMEZONE
from flows.uitpas_renewal import uitpas_renewal_flow

YEARLY_CRON = "0 6 1 12 *"


def deployments() -> list:
    parameters = {
        "city": os.environ.get("PROACTIEF_CITY", "var/demo-city"),
        "registry": os.environ.get("PROACTIEF_REGISTRY_URL", "http://127.0.0.1:8700"),
        "out": os.environ.get("PROACTIEF_UITPAS_OUT", "out/uitpas-renewal"),
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
