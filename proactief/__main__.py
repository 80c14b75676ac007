"""`python -m proactief` is the same as the `proactief` command."""

from proactief.cli import app

app()
