"""A garbage-bag run killed with SIGKILL, then started again, sends each letter once.

The real command (`proactief run garbage-bags`) runs as a subprocess in its own
process group, against the registry simulator over HTTP and a SQLite store file.
The test watches the store (read-only queries) and the output folder, kills the
whole group at one moment of the run, starts the same command again, lets it
finish, and checks that the two runs together did what one uninterrupted run
does: every household decided once, as the oracle decides; every granted
household's letter written once and in exactly one print file; no letter for a
refused or review household.

The kill points: during the households' look-ups; after every household is
decided and before any letter is recorded; while the worker processes render the
first batch of letters; and between two batches, when the second batch's print
file is made and its letters are not yet marked written. Two of these moments are
too short to hit by watching (one store commit, or the recipients' look-ups). To
kill the run there, the test holds the store's write lock for a moment, writing
nothing: the run goes on to its next store write, waits there, and is killed
waiting. Nothing else of the run is slowed or changed.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest
from pypdf import PdfReader

from proactief.city import generate_city, write_city
from proactief.documents.rendering import POOL_FROM
from proactief.magda.simulator import running_simulator
from proactief.publishing import document_reference
from tasks.registry import RecordingRegistry

from .conftest import SEED, YEAR
from .oracle import expected_decisions, read_decisions

JANUARY = date(2027, 1, 4)
# the command installed beside the Python running the tests (.venv/bin)
PROACTIEF = Path(sys.executable).parent / "proactief"
# 318 households, 52 of them granted: more than one batch of POOL_FROM (48)
# letters, rendered by worker processes, which the kill must end too.
INHABITANTS = 700
# The look-ups of a run make about 1,400 requests; the kill comes after this many.
LOOK_UPS_BEFORE_KILL = 300
LETTER_REFERENCE = re.compile(rf"GB-{YEAR}-[0-9a-f]+")
RUN_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def small_city(tmp_path_factory) -> Path:
    """A city smaller than the session's, so that the eight runs stay quick."""
    folder = tmp_path_factory.mktemp("kill-city")
    write_city(generate_city(INHABITANTS, SEED, year=YEAR), folder)
    return folder


@pytest.fixture(scope="module")
def simulator(small_city, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The simulator on the small city, 5 ms a request, and its log (one line a
    request: the test counts the look-ups answered)."""
    log = tmp_path_factory.mktemp("kill-simulator") / "simulator.log"
    with running_simulator(small_city, latency_ms=5, log_path=log) as url:
        yield url, log


# ------------------------------------------------------------ watching the run


@dataclass(frozen=True)
class Snapshot:
    """What the store and the output folder hold at one moment."""

    consultations: int = 0
    decisions: int = 0
    documents: int = 0
    written: int = 0
    unwritten_printed: int = 0
    letter_files: int = 0
    print_files: int = 0


class Watch:
    """Read-only looks at one run's store file and output folder."""

    def __init__(self, database: Path, out: Path) -> None:
        self.database = database
        self.out = out

    def rows(self, query: str, *params) -> list[tuple]:
        if not self.database.exists():
            return []
        uri = f"file:{self.database}?mode=ro"
        connection = sqlite3.connect(uri, uri=True, timeout=30)
        try:
            return connection.execute(query, params).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []  # the run has not created the store yet
            raise
        finally:
            connection.close()

    def count(self, query: str, *params) -> int:
        found = self.rows(query, *params)
        return found[0][0] if found else 0

    def snapshot(self) -> Snapshot:
        documents = self.rows("SELECT status, print_file FROM document")
        return Snapshot(
            consultations=self.count("SELECT count(*) FROM registry_consultation"),
            decisions=self.count("SELECT count(*) FROM decision"),
            documents=len(documents),
            written=sum(1 for status, _ in documents if status == "written"),
            unwritten_printed=sum(
                1
                for status, print_file in documents
                if status != "written" and print_file and Path(print_file).is_file()
            ),
            letter_files=len(list((self.out / "letters").glob(f"GB-{YEAR}-*.pdf"))),
            print_files=len(list((self.out / "letters" / "print").glob("*.pdf"))),
        )


@contextmanager
def store_write_lock(database: Path) -> Iterator[None]:
    """Hold the store's write lock (writing nothing) until the block ends."""
    connection = sqlite3.connect(database, timeout=60, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()


class Command:
    """`proactief run garbage-bags` in its own process group, output to a file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as handle:
            self.process = subprocess.Popen(
                args,
                stdout=handle,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )

    @property
    def group(self) -> int:
        return self.process.pid  # a new session: its group id is its pid

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> int:
        """SIGKILL to every process of the group, then wait until none is left;
        returns how many there were."""
        members = len(_group_members(self.group))
        try:
            os.killpg(self.group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _group_members(self.group) and time.monotonic() < deadline:
            time.sleep(0.05)
        return members

    def finish(self) -> str:
        try:
            self.process.wait(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"the rerun did not finish in {RUN_TIMEOUT_S} s")
        output = self.output()
        assert self.process.returncode == 0, output[-3000:]
        return output


def _group_members(group: int) -> list[int]:
    """Processes of the group still alive (zombies waiting to be reaped are not)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        state, process_group = fields[0], int(fields[2])
        if process_group == group and state != "Z":
            alive.append(int(stat.parent.name))
    return alive


def _wait_until(
    what: str, ready: Callable[[], bool], command: Command, timeout: float = 240
) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if command.process.poll() is not None:
            pytest.fail(
                f"the run ended before the kill point ({what}):\n"
                + command.output()[-3000:]
            )
        if time.monotonic() > deadline:
            command.kill()
            pytest.fail(f"the kill point ({what}) was not reached in {timeout} s")
        time.sleep(0.05)


def _answered(simulator_log: Path, since: int) -> int:
    """Requests the simulator answered after byte `since` of its log."""
    with simulator_log.open("rb") as handle:
        handle.seek(since)
        return handle.read().count(b" service=")


# ------------------------------------------------------------ the kill points


def kill_during_look_ups(watch: Watch, command: Command, simulator_log: Path) -> None:
    """The simulator has answered part of the households' look-ups; nothing is
    decided yet."""
    since = simulator_log.stat().st_size
    _wait_until(
        f"{LOOK_UPS_BEFORE_KILL} look-ups answered",
        lambda: _answered(simulator_log, since) >= LOOK_UPS_BEFORE_KILL,
        command,
    )
    command.kill()
    state = watch.snapshot()
    assert state.decisions == 0 and state.documents == 0, state
    # look-ups were under way, and their record was kept as they went: the
    # consultations are stored every FLUSH_EVERY requests, so the kill lost the
    # record of at most that many plus the requests in flight
    answered = _answered(simulator_log, since)
    assert state.consultations > 0
    assert answered - state.consultations <= RecordingRegistry.FLUSH_EVERY + 64


def kill_before_letters(watch: Watch, command: Command, households: int) -> None:
    """Every household decided, no letter recorded: while the recipients' addresses
    are read, held at the run's next store write."""
    _wait_until(
        "every household decided",
        lambda: watch.snapshot().decisions == households,
        command,
    )
    with store_write_lock(watch.database):
        command.kill()
    state = watch.snapshot()
    assert state.decisions == households and state.documents == 0, state


def kill_while_rendering(watch: Watch, command: Command, batch: int) -> None:
    """The first batch recorded and partly rendered by the worker processes; no
    print file, nothing written."""
    _wait_until(
        "the first letters rendered",
        lambda: watch.snapshot().letter_files > 0,
        command,
    )
    processes = command.kill()
    state = watch.snapshot()
    assert state.documents == batch and state.written == 0, state
    assert state.print_files == 0 and state.letter_files > 0, state
    assert processes > 1  # the worker processes were killed with the command


def kill_between_batches(watch: Watch, command: Command, batch: int) -> None:
    """The first batch printed and marked written; the second one's print file
    made, its letters not yet marked written (the run is held at marking them);
    the rest not recorded yet."""

    def second_batch_recorded() -> bool:
        state = watch.snapshot()
        return state.written == batch and state.documents > state.written

    _wait_until("a second batch recorded", second_batch_recorded, command)
    with store_write_lock(watch.database):
        _wait_until(
            "the second batch's print file made",
            lambda: watch.snapshot().unwritten_printed > 0,
            command,
        )
        command.kill()
    state = watch.snapshot()
    assert state.written == batch and state.print_files == 2, state
    assert state.unwritten_printed == state.documents - batch == batch, state


# ------------------------------------------------------------ the scenarios


@dataclass
class Scenario:
    point: str
    watch: Watch
    killed: Snapshot
    killed_run_id: str
    rerun_output: str


# Each kill point, and the render batch of its runs (PROACTIEF_RENDER_BATCH):
# letters are rendered in this process up to POOL_FROM a batch, by worker
# processes from there (which take seconds to start on a busy machine).
KILL_POINTS = {
    "look-ups": 20,
    "before-letters": 20,
    "rendering": POOL_FROM,
    "between-batches": 20,
}


@pytest.fixture(scope="module", params=list(KILL_POINTS))
def scenario(request, small_city, simulator, tmp_path_factory) -> Scenario:
    """One run killed at the kill point, then the same command run to the end."""
    from prefect.settings import PREFECT_API_URL

    point, batch = request.param, KILL_POINTS[request.param]
    url, simulator_log = simulator
    work = tmp_path_factory.mktemp(f"kill-{point}")
    database, out = work / "store.db", work / "out"
    env = {
        **os.environ,
        # the session's Prefect server: no temporary server to start per run
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "PREFECT_HOME": str(work / "prefect"),
        "PROACTIEF_RENDER_BATCH": str(batch),
    }
    args = [
        str(PROACTIEF),
        "run",
        "garbage-bags",
        "--year",
        str(YEAR),
        "--as-of",
        JANUARY.isoformat(),
        "--city",
        str(small_city),
        "--registry",
        url,
        "--out",
        str(out),
        "--database",
        f"sqlite:///{database}",
    ]
    watch = Watch(database, out)
    households = len(expected_decisions(small_city, YEAR, JANUARY))

    killed = Command(args, env, work / "killed.log")
    try:
        if point == "look-ups":
            kill_during_look_ups(watch, killed, simulator_log)
        elif point == "before-letters":
            kill_before_letters(watch, killed, households)
        elif point == "rendering":
            kill_while_rendering(watch, killed, batch)
        else:
            kill_between_batches(watch, killed, batch)
    finally:
        killed.kill()
    assert _group_members(killed.group) == []  # nothing of the killed run is left
    state = watch.snapshot()
    (killed_run_id,) = watch.rows("SELECT id FROM run")[0]

    rerun = Command(args, env, work / "rerun.log")
    try:
        output = rerun.finish()
    finally:
        rerun.kill()
    assert _group_members(rerun.group) == []
    return Scenario(point, watch, state, killed_run_id, output)


def _summary_count(output: str, label: str) -> int:
    found = re.search(rf"^\s*{re.escape(label)}:\s+(\d+)\s*$", output, re.MULTILINE)
    assert found, f"no {label!r} line in the command's output"
    return int(found.group(1))


def test_a_killed_run_started_again_sends_every_letter_exactly_once(
    scenario, small_city
):
    watch = scenario.watch
    expected = expected_decisions(small_city, YEAR, JANUARY)

    # every household decided once, as one uninterrupted run decides
    per_subject = Counter(
        subject for (subject,) in watch.rows("SELECT subject FROM decision")
    )
    assert len(per_subject) == len(expected)
    assert set(per_subject.values()) == {1}
    actual = read_decisions(watch.out / "decisions.csv")
    wrong = []  # by household id: a failure message carries no national number
    for household, want in expected.items():
        got = actual.get(want.subject)
        row = None if got is None else (got["outcome"], got["amount"], got["reasons"])
        if row != (want.outcome, want.amount, want.reasons):
            wrong.append((household, row, (want.outcome, want.amount, want.reasons)))
    assert wrong == []

    granted = {e.subject for e in expected.values() if e.outcome == "granted"}
    references = {
        subject: document_reference("GB", str(YEAR), subject_ref)
        for subject, subject_ref in watch.rows(
            "SELECT subject, subject_ref FROM decision"
        )
    }
    wanted = Counter(references[subject] for subject in granted)
    assert len(wanted) == len(granted) > KILL_POINTS[scenario.point]  # two batches

    # one document per granted household, written, in a print file that exists
    documents = watch.rows("SELECT reference, status, print_file FROM document")
    assert Counter(reference for reference, _, _ in documents) == wanted
    assert {status for _, status, _ in documents} == {"written"}
    assert all(Path(print_file).is_file() for _, _, print_file in documents)

    # one letter file per granted household, and nobody else
    letters = watch.out / "letters"
    assert Counter(p.stem for p in letters.glob("*.pdf")) == wanted

    # across every print file, each granted household's letter exactly once
    printed: Counter = Counter()
    for print_file in sorted((letters / "print").glob("*.pdf")):
        for page in PdfReader(print_file).pages:
            printed.update(LETTER_REFERENCE.findall(page.extract_text()))
    assert printed == wanted

    # the rerun wrote what had not gone out, and counted what had
    went_out = scenario.killed.written + scenario.killed.unwritten_printed
    assert _summary_count(scenario.rerun_output, "letters already sent before") == (
        went_out
    )
    assert _summary_count(scenario.rerun_output, "letters written") == (
        len(granted) - went_out
    )


def test_the_rerun_marks_the_killed_run_interrupted_and_crashed_in_prefect(scenario):
    """A run killed by SIGKILL cannot mark itself; the next run of the same
    benefit and period does, in the store and in the Prefect UI, instead of
    leaving it 'running' for ever."""
    from prefect import get_client
    from prefect.client.schemas.objects import StateType

    ((status, flow_run_id),) = scenario.watch.rows(
        "SELECT status, flow_run_id FROM run WHERE id = ?", scenario.killed_run_id
    )
    assert status == "interrupted"
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(UUID(flow_run_id)).state
    assert state.type == StateType.CRASHED
    assert "marked crashed by the next run" in state.message
