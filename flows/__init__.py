import proactief  # noqa: F401  (sets the no-telemetry environment first)
