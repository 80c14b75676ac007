"""Deployments: every flow with its schedules, in Europe/Brussels time.

Schedules run at 06:00 local time (publish-reviewed at 07:30), away from the hours
that daylight saving skips or repeats. Parameters that depend on the run's date
(year, school year, look-up date) are left empty: a scheduled run resolves them
from the time it was scheduled for, a run started by hand from the time it starts.

Importing this package builds nothing and talks to no server: `all_deployments()`
builds the deployments, `proactief serve` serves them.
"""

import proactief  # noqa: F401  (sets the no-telemetry environment first)
from deployments.catalog import all_deployments

__all__ = ["all_deployments"]
