"""Benchmark of the UiTPAS desk check: 20 officers checking at once.

Builds (once, kept in var/) a synthetic city, serves it with the registry simulator
at 100 ms latency, starts the web app as `proactief web` would run in production
(its own process, uvicorn, SQLite store), signs in 20 desk officers and lets each
check citizens one after another, all at the same time, through the real pages
(form post with CSRF token, answer page back). Prints the median, 95th percentile
and slowest time of a check as the officer sees it, and the checks per second.

The 95th percentile must stay under one second (issue 4).

Usage: python bench/desk_check.py [--officers 20] [--checks 15] [--latency-ms 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
import psutil

from proactief.demo import ensure_city
from proactief.magda.simulator import running_simulator
from proactief.store import Store
from proactief.web.accounts import Accounts

PASSWORD = "benchmark wachtwoord 2026"
# BENCH_PROFILE=FILE runs the web app under cProfile, written to FILE at its end.
PROFILE = (
    ["-m", "cProfile", "-o", os.environ["BENCH_PROFILE"]]
    if os.environ.get("BENCH_PROFILE")
    else []
)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ANSWER = re.compile(r'<h2 id="antwoord"')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def _simulator_process(web_pid: int) -> psutil.Process:
    """The simulator: the child of this process that is not the web app."""
    for child in psutil.Process().children():
        if child.pid != web_pid:
            return child
    raise SystemExit("the registry simulator is not running")


def _wait_until_up(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"the web app stopped at start (exit {process.returncode})"
            )
        try:
            if httpx.get(f"{url}/aanmelden", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the web app did not answer within a minute")


async def officer(
    url: str, username: str, numbers: list[str], timings: list[float]
) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        form = await client.get("/aanmelden")
        signed = await client.post(
            "/aanmelden",
            data={
                "username": username,
                "password": PASSWORD,
                "csrf_token": CSRF.search(form.text).group(1),
            },
        )
        assert signed.status_code == 303, f"{username} could not sign in"
        page = await client.get("/balie")
        token = CSRF.search(page.text).group(1)
        for number in numbers:
            started = time.perf_counter()
            answer = await client.post(
                "/balie", data={"rijksregisternummer": number, "csrf_token": token}
            )
            timings.append(time.perf_counter() - started)
            assert answer.status_code == 200 and ANSWER.search(answer.text), (
                f"check failed with HTTP {answer.status_code}"
            )


async def all_officers(
    url: str, officers: int, batches: list[list[str]]
) -> list[float]:
    timings: list[float] = []
    await asyncio.gather(
        *(officer(url, f"balie{n:02d}", batches[n], timings) for n in range(officers))
    )
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=20)
    parser.add_argument("--checks", type=int, default=15, help="per officer")
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--inhabitants", type=int, default=20_000)
    args = parser.parse_args()

    year = date.today().year
    city = Path(f"var/bench-city-{args.inhabitants}-{year}")
    ensure_city(city, args.inhabitants, 2027, year)
    people = [json.loads(line) for line in (city / "population.jsonl").open()]
    numbers = [p["insz"] for p in people if p["address"] and not p["death_date"]]
    rng = random.Random(20)
    batches = [rng.sample(numbers, args.checks) for _ in range(args.officers)]

    with tempfile.TemporaryDirectory() as work:
        database = f"sqlite:///{Path(work) / 'desk.db'}"
        accounts = Accounts(Store(database))
        for n in range(args.officers):
            accounts.create(f"balie{n:02d}", "desk", PASSWORD)
        with running_simulator(city, latency_ms=args.latency_ms) as registry:
            port = _free_port()
            url = f"http://127.0.0.1:{port}"
            env = dict(os.environ, PROACTIEF_DATABASE_URL=database)
            log = (Path(work) / "web.log").open("w")
            web = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "proactief",
                    "web",
                    "--city",
                    str(city),
                    "--registry",
                    registry,
                    "--port",
                    str(port),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            try:
                _wait_until_up(url, web)
                processes = {
                    "web app": psutil.Process(web.pid),
                    "simulator": _simulator_process(web.pid),
                    "officers (this process)": psutil.Process(),
                }
                cpu_before = {k: _cpu(p) for k, p in processes.items()}
                started = time.perf_counter()
                timings = asyncio.run(all_officers(url, args.officers, batches))
                elapsed = time.perf_counter() - started
                cpu = {k: _cpu(p) - cpu_before[k] for k, p in processes.items()}
            except BaseException:
                print((Path(work) / "web.log").read_text()[-3000:], file=sys.stderr)
                raise
            finally:
                web.terminate()
                web.wait(timeout=30)

    timings.sort()
    p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
    print(
        f"desk check, {args.officers} officers at once, {len(timings)} checks,"
        f" registry at {args.latency_ms:g} ms"
    )
    print(f"  median  {statistics.median(timings) * 1000:7.0f} ms")
    print(f"  p95     {p95 * 1000:7.0f} ms   (goal: under 1000 ms)")
    print(f"  slowest {timings[-1] * 1000:7.0f} ms")
    print(f"  {len(timings) / elapsed:.1f} checks per second")
    print("  CPU time per check:")
    for name, seconds in cpu.items():
        print(f"    {name:<24} {seconds / len(timings) * 1000:6.1f} ms")
    if p95 >= 1.0:
        raise SystemExit("the 95th percentile is over one second")


if __name__ == "__main__":
    main()
