"""Benefit rules: pure functions of registry facts, a reference date and parameters.

Nothing in this package does I/O beyond reading its own parameter files: no Prefect,
no HTTP, no database. Every decision names the rule version that made it.
"""
