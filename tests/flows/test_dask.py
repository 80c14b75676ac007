"""The garbage-bag flow with a local Dask cluster as its task runner: the letter
batches are rendered by the cluster's worker processes, each letter once, in exactly
one print file, and the decisions are those of a run without Dask."""

from __future__ import annotations

import asyncio
import os
import re
from collections import Counter
from datetime import date

import pytest
from prefect_dask import DaskTaskRunner
from pypdf import PdfReader

from flows.garbage_bags import garbage_bags_flow
from proactief.store import Document, Store

from .conftest import YEAR
from .oracle import expected_decisions, read_decisions

JANUARY = date(2027, 1, 4)
BATCH = 60


@pytest.fixture(scope="module")
def database_backend() -> str:
    return "sqlite"  # the cluster renders; the store is the flow's, as without Dask


def test_a_local_dask_cluster_renders_the_letters_once_each(
    city, registry, database_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("PROACTIEF_RENDER_BATCH", str(BATCH))
    runner = DaskTaskRunner(
        cluster_kwargs={
            "n_workers": 2,
            "threads_per_worker": 1,
            "processes": True,
            "host": "127.0.0.1",
            "dashboard_address": None,
        }
    )
    out = tmp_path / "out"
    summary = asyncio.run(
        garbage_bags_flow.with_options(task_runner=runner)(
            city=str(city),
            registry=registry,
            out=str(out),
            year=YEAR,
            as_of=JANUARY,
            database=database_url,
        )
    )

    # the decisions are those of any run
    expected = expected_decisions(city, YEAR, JANUARY)
    actual = read_decisions(out / "decisions.csv")
    assert {e.subject: e.outcome for e in expected.values()} == {
        s: d["outcome"] for s, d in actual.items()
    }
    granted = {s for s, d in actual.items() if d["outcome"] == "granted"}

    # rendered by the cluster's two worker processes, not by this one
    assert len(summary.renderers) == 2, summary.renderers
    assert all(not r.endswith(f":{os.getpid()}") for r in summary.renderers)

    # every granted household's letter once: one document, one print file entry
    store = Store(database_url)
    assert summary.letters_written == store.count(Document, status="written")
    assert summary.letters_written + summary.letters_held == len(granted)
    print_files = sorted((out / "letters" / "print").glob("*.pdf"))
    assert len(print_files) == -(-summary.letters_written // BATCH)  # ceiling
    references = Counter(
        match
        for path in print_files
        for page in PdfReader(path).pages
        for match in re.findall(r"GB-2027-[0-9a-f]+", page.extract_text())
    )
    assert len(references) == summary.letters_written
    assert set(references.values()) == {1}
