"""Schedule of the LEZ renewal: monthly, on the 5th.

The 5th of every month at 06:00 Brussels time (an hour daylight saving never
skips or repeats): what ends within the next two months is checked again, so
that every registration is checked twice before it ends and a citizen who no
longer qualifies hears of it at least a month ahead. The runs of 5 November and
5 December also renew the year's day-pass tariffs. The look-up date is resolved
when the run starts, from the time it was scheduled for.
"""

from __future__ import annotations

import os

from prefect.schedules import Cron

from deployments.garbage_bags import TIMEZONE
from flows.lez_renewal import lez_renewal_flow

MONTHLY_CRON = "0 6 5 * *"


def deployments() -> list:
    parameters = {
        "registry": os.environ.get("PROACTIEF_REGISTRY_URL", "http://127.0.0.1:8700"),
        "out": os.environ.get("PROACTIEF_LEZ_OUT", "out/lez-renewal"),
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
