"""The catalogue of deployments: every flow's deployments, built in one call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deployments.defaults import DeploymentDefaults

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment


def all_deployments(
    defaults: DeploymentDefaults | None = None,
) -> list[RunnerDeployment]:
    """Every deployment of every flow, built with `defaults` (by default, from the
    environment). Builds objects only: nothing is sent to a Prefect API."""
    # Imported here, not at the top: the flows bring in Prefect, Great Expectations
    # and WeasyPrint, seconds that importing the catalogue should not cost.
    from deployments import (
        garbage_bags,
        lez_renewal,
        publish_reviewed,
        school_tariffs,
        uitpas_renewal,
    )

    defaults = defaults or DeploymentDefaults.from_env()
    modules = (
        garbage_bags,
        school_tariffs,
        publish_reviewed,
        uitpas_renewal,
        lez_renewal,
    )
    return [
        deployment for module in modules for deployment in module.deployments(defaults)
    ]
