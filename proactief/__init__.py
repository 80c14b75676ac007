"""Proactief: grants a city's social benefits from registry data, without a form."""

__version__ = "0.1.0"
