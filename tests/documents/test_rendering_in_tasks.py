"""Rendering inside a Prefect task leaves a process that exits cleanly.

WeasyPrint's font objects, kept alive in a task's worker thread until the
interpreter exits, used to crash the process after the run had finished (exit 139):
a batch job that "fails" after doing its work. This runs the real thing in a child
process and checks its exit status.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_a_flow_that_renders_in_a_task_thread_exits_with_status_zero(tmp_path):
    script = tmp_path / "render_in_task.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import asyncio
            from datetime import date
            from decimal import Decimal
            from prefect import flow, task
            from proactief.documents.letters import VoucherLetter, render_many
            from proactief.documents.vouchers import make_voucher_code
            from proactief.facts import Address

            @task
            def render_one():
                letter = VoucherLetter(
                    "Zoë", "D'Hondt",
                    Address("Sleepstraat", "12", "3", "9000", "Gent"),
                    2027, Decimal("42.00"), Decimal("21.00"),
                    make_voucher_code("garbage-bags:2027:x", b"k" * 16),
                    ("Rijksregister",), date(2027, 1, 4), "GB-2027-test",
                )
                render_many([letter], {str(tmp_path / "out")!r})

            @flow
            async def render_flow():
                render_one()

            if __name__ == "__main__":
                asyncio.run(render_flow())
            """
        ),
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"PREFECT_HOME": str(tmp_path / "prefect"), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "out" / "GB-2027-test.pdf").is_file()
