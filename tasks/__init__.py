"""Prefect tasks: thin wrappers over the plain Python core, shared by the flows.

Tasks take and return chunks, never one citizen each (DESIGN.md: Prefect records a
task run at 20 KB; a city has hundreds of thousands of subjects). None of them
caches on its inputs: the inputs are personal data, and nothing of them may be
hashed into Prefect's database.
"""

import proactief  # noqa: F401  (sets the no-telemetry environment first)
