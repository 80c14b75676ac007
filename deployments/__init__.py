"""Deployments: every flow with its schedules, in Europe/Brussels time.

Schedules run at 06:00 local time, away from the hours that daylight saving skips
or repeats. Parameters that depend on the run's date (year, look-up date) are left
empty: a scheduled run resolves them from the time it was scheduled for.
"""

import proactief  # noqa: F401  (sets the no-telemetry environment first)
