"""`python -m proactief.city` is the same as `proactief city`."""

from proactief.city.cli import app

app()
