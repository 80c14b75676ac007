"""`python -m proactief` is the same as the `proactief` command."""

from proactief.cli import app

if __name__ == "__main__":  # worker processes import this module too
    app()
