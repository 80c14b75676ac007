"""One run at a time per benefit, on SQLite and on PostgreSQL: a second run is
refused while the first goes on, and a run that ends, fails or is killed lets go."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date

import pytest
from sqlmodel import Session, select

from proactief.errors import RunInProgress
from proactief.store import Run, Store

JANUARY = date(2027, 1, 4)


def _statuses(store: Store) -> list[tuple[str, str, str]]:
    with Session(store.engine) as session:
        runs = session.exec(select(Run).order_by(Run.started_at)).all()
    return [(r.benefit, r.period, r.status) for r in runs]


def test_a_second_run_of_a_benefit_is_refused_while_the_first_goes_on(database_url):
    first, second = Store(database_url), Store(database_url)
    run_id = first.start_run("garbage-bags", "2027", JANUARY)
    with first.running(run_id, dict):
        with pytest.raises(RunInProgress) as refused:
            second.start_run("garbage-bags", "2027", date(2027, 6, 1))
        assert "another run of garbage-bags is still going" in str(refused.value)
        # another period of the same benefit waits too: both send its letters
        with pytest.raises(RunInProgress):
            second.start_run("garbage-bags", "2026", JANUARY)
        # another benefit does not wait
        other = second.start_run("school-tariffs", "2026-2027-check1", JANUARY)
        second.release_run_locks(other)
        # the refused runs recorded nothing, and the first is not marked stopped
        assert _statuses(first) == [
            ("garbage-bags", "2027", "running"),
            ("school-tariffs", "2026-2027-check1", "running"),
        ]
        first.finish_run(run_id, "completed", {})
    after = second.start_run("garbage-bags", "2027", date(2027, 6, 1))
    second.release_run_locks(after)
    assert _statuses(first)[-1] == ("garbage-bags", "2027", "running")


def test_a_failed_run_lets_go_of_its_lock(database_url):
    store = Store(database_url)
    run_id = store.start_run("lez", "2027-01-04", JANUARY)
    with pytest.raises(ValueError), store.running(run_id, lambda: {"done": 3}):
        raise ValueError("bad input")
    again = Store(database_url).start_run("lez", "2027-01-05", JANUARY)
    assert [s for _, _, s in _statuses(store)] == ["failed", "running"]
    assert again


def test_publishing_reviewed_cases_waits_for_the_benefits_it_publishes(database_url):
    holder, publisher = Store(database_url), Store(database_url)
    school = holder.start_run("school-tariffs", "2026-2027-check1", JANUARY)
    with pytest.raises(RunInProgress, match="school-tariffs"):
        publisher.start_run(
            "publish-reviewed",
            "2027-01-04",
            JANUARY,
            also_locks=("garbage-bags", "school-tariffs"),
        )
    # the locks it had taken before the refusal were let go of
    garbage = holder.start_run("garbage-bags", "2027", JANUARY)
    holder.release_run_locks(school)
    holder.release_run_locks(garbage)
    publishing = publisher.start_run(
        "publish-reviewed",
        "2027-01-04",
        JANUARY,
        also_locks=("garbage-bags", "school-tariffs"),
    )
    with pytest.raises(RunInProgress, match="garbage-bags"):
        holder.start_run("garbage-bags", "2027", JANUARY)
    publisher.release_run_locks(publishing)


HOLDER = """
import sys, time
from datetime import date
from proactief.store import Store
store = Store(sys.argv[1])
store.start_run("garbage-bags", "2027", date(2027, 1, 4))
print("started", flush=True)
time.sleep(600)
"""


def test_a_killed_run_lets_go_of_its_lock_at_once(database_url):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, database_url],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    try:
        assert holder.stdout.readline().strip() == "started"
        store = Store(database_url)
        with pytest.raises(RunInProgress):
            store.start_run("garbage-bags", "2027", JANUARY)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    # no time-out to wait for: the rerun starts as soon as the server has seen
    # the killed process's connection close
    deadline = time.monotonic() + 10
    while True:
        try:
            rerun = store.start_run("garbage-bags", "2027", JANUARY)
            break
        except RunInProgress:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    store.release_run_locks(rerun)
    assert _statuses(store) == [
        ("garbage-bags", "2027", "interrupted"),
        ("garbage-bags", "2027", "running"),
    ]


def test_a_run_names_the_flow_runs_it_found_stopped_but_never_its_own(database_url):
    store = Store(database_url)
    first = store.start_run("garbage-bags", "2027", JANUARY, "flow-run-a")
    store.release_run_locks(first)  # as a killed process would
    # the same flow run retried from the UI: the stopped row is its own
    retried = store.start_run("garbage-bags", "2027", JANUARY, "flow-run-a")
    assert store.interrupted_flow_runs(retried) == []
    store.release_run_locks(retried)
    other = store.start_run("garbage-bags", "2027", JANUARY, "flow-run-b")
    assert store.interrupted_flow_runs(other) == ["flow-run-a"]
    store.release_run_locks(other)
    # another period's stopped run is not this one's to mark
    later = store.start_run("garbage-bags", "2028", JANUARY, "flow-run-c")
    assert store.interrupted_flow_runs(later) == []
    store.release_run_locks(later)
