"""What a run does about the run of its benefit that was stopped without a word.

A process killed with SIGKILL, or a machine that went down, cannot tell Prefect its
flow run ended: the UI would show it "Running" for ever. The next run of the same
benefit and period knows better: it holds the benefit's lock, so the run the store
still had as 'running' is gone (`Store.start_run` marks it 'interrupted'). It sets
that run's Prefect flow run to Crashed, with a message that says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import httpx
from prefect import get_client, get_run_logger
from prefect.exceptions import ObjectNotFound
from prefect.states import Crashed

MESSAGE = (
    "Stopped without ending (killed, or its machine went down); marked crashed by"
    " the next run of the same benefit and period, which takes over its work."
)


async def mark_stopped_flow_runs_crashed(flow_run_ids: Sequence[str]) -> int:
    """Set each of `flow_run_ids` that Prefect still has as running to Crashed;
    returns how many were. A flow run this Prefect server does not know (the
    stopped run used another one) is left alone, and so is a failure to reach
    the server: the run goes on either way."""
    if not flow_run_ids:
        return 0
    logger = get_run_logger()
    marked = 0
    async with get_client() as client:
        for flow_run_id in flow_run_ids:
            try:
                flow_run = await client.read_flow_run(UUID(flow_run_id))
                if flow_run.state is None or not flow_run.state.is_running():
                    continue
                await client.set_flow_run_state(
                    flow_run.id, Crashed(message=MESSAGE), force=True
                )
                marked += 1
            except (ObjectNotFound, ValueError):
                continue
            except httpx.HTTPError as exc:
                logger.warning(
                    "could not mark a stopped flow run crashed in Prefect (%s)",
                    type(exc).__name__,
                )
    if marked:
        logger.warning(
            "%d flow run(s) of this benefit and period had stopped without ending:"
            " marked crashed; this run takes over their work",
            marked,
        )
    return marked
