"""Every deployment loads, and its next 400 runs fall where the policy wants them.

The intended days and local times are written out here, independently of the cron
strings in `deployments/`; Prefect's own schedule classes compute the runs, from
1 January 2026 in Brussels. 400 runs take the yearly schedules past 2400 and every
other schedule through several springs and autumns: each run must be on an
intended day at the intended local time, once, and no intended day may be missed.
"""

from __future__ import annotations

import asyncio
import importlib
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prefect import Flow
from prefect.server.schemas import schedules as server_schedules

# From the module, not the package: in a test session `deployments` and `flows`
# name the test folders (tests/deployments, tests/flows); their modules still load.
from deployments.catalog import all_deployments

BRUSSELS = ZoneInfo("Europe/Brussels")
START = datetime(2026, 1, 1, tzinfo=BRUSSELS)
RUNS = 400
EVERY_MONTH = frozenset(range(1, 13))
EVERY_WEEKDAY = frozenset(range(1, 8))  # ISO: Monday is 1


@dataclass(frozen=True)
class Intended:
    """The local days and time a deployment should run on."""

    at: time
    day: int | None = None  # day of the month; None: every day that fits
    months: frozenset[int] = EVERY_MONTH
    weekdays: frozenset[int] = field(default=EVERY_WEEKDAY)

    def runs(self, start: datetime) -> Iterator[datetime]:
        return (datetime.combine(d, self.at) for d in self._days(start.date()))

    def _days(self, first: date) -> Iterator[date]:
        if self.day is not None:
            year, month = first.year, first.month
            while True:
                candidate = date(year, month, self.day)
                if (
                    candidate >= first
                    and month in self.months
                    and candidate.isoweekday() in self.weekdays
                ):
                    yield candidate
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        day = first
        while True:
            if day.month in self.months and day.isoweekday() in self.weekdays:
                yield day
            day += timedelta(days=1)


SIX = time(6, 0)
INTENDED = {
    "garbage-bags/yearly": Intended(SIX, day=2, months=frozenset({1})),
    "garbage-bags/catch-up": Intended(SIX, day=15, months=frozenset(range(2, 9))),
    # checks 1 to 6: 3 September, November, January, March, May and June
    "school-tariffs/check-1": Intended(SIX, day=3, months=frozenset({9})),
    "school-tariffs/check-2": Intended(SIX, day=3, months=frozenset({11})),
    "school-tariffs/check-3": Intended(SIX, day=3, months=frozenset({1})),
    "school-tariffs/check-4": Intended(SIX, day=3, months=frozenset({3})),
    "school-tariffs/check-5": Intended(SIX, day=3, months=frozenset({5})),
    "school-tariffs/check-6": Intended(SIX, day=3, months=frozenset({6})),
    "publish-reviewed/working-days": Intended(
        time(7, 30), weekdays=frozenset(range(1, 6))
    ),
    "uitpas-renewal/yearly": Intended(SIX, day=1, months=frozenset({12})),
    "lez-renewal/monthly": Intended(SIX, day=5),
}
# the schedules with days in winter time and in summer time
WINTER_AND_SUMMER = {
    "garbage-bags/catch-up",
    "publish-reviewed/working-days",
    "lez-renewal/monthly",
}


@pytest.fixture(scope="module")
def loaded() -> dict:
    return {f"{d.flow_name}/{d.name}": d for d in all_deployments()}


def _scheduled_runs(deployment, n: int, start: datetime) -> list[datetime]:
    """The next `n` runs, as the Prefect server computes them from the schedule."""
    (scheduled,) = deployment.schedules
    client_side = scheduled.schedule
    server_class = getattr(server_schedules, type(client_side).__name__)
    server_side = server_class.model_validate(client_side.model_dump())
    return asyncio.run(server_side.get_dates(n=n, start=start))


def _flows() -> dict[str, Flow]:
    """Every flow in the flows folder, by name."""
    folder = Path(importlib.import_module("flows.garbage_bags").__file__).parent
    found = {}
    for path in sorted(folder.glob("[!_]*.py")):
        module = importlib.import_module(f"flows.{path.stem}")
        for value in vars(module).values():
            if isinstance(value, Flow):
                found[value.name] = value
    return found


def _is_unambiguous(local: datetime) -> bool:
    """Neither skipped (spring) nor repeated (autumn) by daylight saving."""
    first = local.replace(tzinfo=BRUSSELS, fold=0)
    second = local.replace(tzinfo=BRUSSELS, fold=1)
    return first.utcoffset() == second.utcoffset()


def test_every_flow_has_deployments_and_every_deployment_an_intended_schedule(
    loaded,
):
    assert set(loaded) == set(INTENDED)
    assert {d.flow_name for d in loaded.values()} == set(_flows())
    for name, deployment in loaded.items():
        (scheduled,) = deployment.schedules
        assert scheduled.active, name
        assert scheduled.schedule.timezone == "Europe/Brussels", name


@pytest.mark.parametrize("name", sorted(INTENDED))
def test_the_next_400_runs_fall_once_on_each_intended_day_at_its_local_time(
    loaded, name
):
    intended = list(islice(INTENDED[name].runs(START), RUNS))
    runs = _scheduled_runs(loaded[name], RUNS, START)

    # on the intended local days and time, in order: none missing, none extra
    assert [r.astimezone(BRUSSELS).replace(tzinfo=None) for r in runs] == intended
    # at the instant that local time has that day, summer or winter time
    assert [r.astimezone(UTC) for r in runs] == [
        local.replace(tzinfo=BRUSSELS).astimezone(UTC) for local in intended
    ]
    assert len({r.astimezone(UTC) for r in runs}) == RUNS  # once each
    assert all(_is_unambiguous(local) for local in intended)


@pytest.mark.parametrize("name", sorted(INTENDED))
def test_the_local_time_holds_across_both_daylight_saving_changes(loaded, name):
    runs = _scheduled_runs(loaded[name], RUNS, START)
    assert {r.astimezone(BRUSSELS).time() for r in runs} == {INTENDED[name].at}
    offsets = {r.astimezone(BRUSSELS).utcoffset() for r in runs}
    if name in WINTER_AND_SUMMER:
        assert offsets == {timedelta(hours=1), timedelta(hours=2)}
    else:
        assert len(offsets) == 1  # a yearly run, always on the same side


def test_working_days_around_the_2026_clock_changes_keep_half_past_seven():
    (deployment,) = [d for d in all_deployments() if d.flow_name == "publish-reviewed"]
    start = datetime(2026, 3, 26, tzinfo=BRUSSELS)
    spring = _scheduled_runs(deployment, 3, start)
    # clocks go forward on Sunday 29 March 2026
    assert [r.astimezone(UTC).replace(tzinfo=None) for r in spring] == [
        datetime(2026, 3, 26, 6, 30),
        datetime(2026, 3, 27, 6, 30),
        datetime(2026, 3, 30, 5, 30),
    ]
    start = datetime(2026, 10, 22, tzinfo=BRUSSELS)
    autumn = _scheduled_runs(deployment, 3, start)
    # clocks go back on Sunday 25 October 2026
    assert [r.astimezone(UTC).replace(tzinfo=None) for r in autumn] == [
        datetime(2026, 10, 22, 5, 30),
        datetime(2026, 10, 23, 5, 30),
        datetime(2026, 10, 26, 6, 30),
    ]


def _date_parameters(flow: Flow) -> set[str]:
    """The flow's parameters that hold a date, a year or a school year."""
    hints = typing.get_type_hints(flow.fn)
    dated = {"year", "school_year"}
    for name, hint in hints.items():
        if {date, datetime} & {hint, *typing.get_args(hint)}:
            dated.add(name)
    return dated & set(flow.parameters.properties)


def _looks_like_a_date(value: object) -> bool:
    if isinstance(value, date):  # datetime is a date too
        return True
    if isinstance(value, str):
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return True
    return False


def test_default_parameters_carry_no_date_so_that_each_run_resolves_its_own(loaded):
    known_flows = _flows()
    for name, deployment in loaded.items():
        dated = _date_parameters(known_flows[deployment.flow_name])
        assert dated, f"{name}: the flow has no date parameter to leave empty"
        assert not dated & set(deployment.parameters), name
        assert not any(_looks_like_a_date(v) for v in deployment.parameters.values())
        (scheduled,) = deployment.schedules
        assert not scheduled.parameters, f"{name}: a schedule overrides parameters"
