"""Schedules of the school-tariffs flow: the six checks of every school year.

Each check runs at 06:00 Brussels time on the third day of its month, after its
reference date (1 September, 1 November, 1 January, 1 March, 1 May, 1 June), so that
the schools' pupil lists and billing lines have reached the inbox. The school year
is resolved when the run starts, from the time it was scheduled for.
"""

from __future__ import annotations

import os

from prefect.schedules import Cron

from deployments.garbage_bags import TIMEZONE
from flows.school_tariffs import school_tariffs_flow

CHECK_MONTHS = {1: 9, 2: 11, 3: 1, 4: 3, 5: 5, 6: 6}
RUN_DAY = 3


def cron_of(check: int) -> str:
    return f"0 6 {RUN_DAY} {CHECK_MONTHS[check]} *"


def deployments() -> list:
    parameters = {
        "city": os.environ.get("PROACTIEF_CITY", "var/demo-city"),
        "registry": os.environ.get("PROACTIEF_REGISTRY_URL", "http://127.0.0.1:8700"),
        "out": os.environ.get("PROACTIEF_SCHOOL_OUT", "out/school-tariffs"),
        "inbox": os.environ.get("PROACTIEF_SCHOOL_INBOX", "var/school-inbox"),
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
