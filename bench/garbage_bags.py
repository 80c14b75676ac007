"""Benchmark of the garbage-bag flow against bare registry look-ups.

Builds (once, kept in var/) a synthetic city, serves it with the simulator at 20 ms
latency, and prints, on the same machine in one run:

- bare look-ups per second: a plain aiohttp loop sending GeefPersoon requests with
  the same limit on requests in flight as the flow (the rate the registry and the
  machine allow);
- RegistryClient look-ups per second: the same requests through Proactief's client
  (message building, parsing into facts, retries, consultation records);
- the flow: households decided per second, and the registry requests per second it
  reached while looking up, from cohort to decisions.csv (letters are not part of
  this figure: `send_letters` is off).

Usage: python bench/garbage_bags.py [--inhabitants 100000] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import date
from pathlib import Path

import aiohttp

from proactief.city import load_population
from proactief.config import Settings
from proactief.demo import ensure_city
from proactief.magda import messages as m
from proactief.magda.client import RegistryClient
from proactief.magda.simulator import running_simulator

IN_FLIGHT = 64
AS_OF = date(2027, 1, 4)


async def bare_lookups(url: str, numbers: list[str], in_flight: int) -> float:
    """Requests per second of a plain aiohttp loop, no parsing."""
    settings = Settings.from_env()
    gate = asyncio.Semaphore(in_flight)
    bodies = [
        m.person_request(
            n,
            as_of=AS_OF,
            consumer=settings.consumer,
            purpose=settings.purpose,
            reference=str(i),
        )
        for i, n in enumerate(numbers)
    ]
    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(body: bytes) -> None:
            async with (
                gate,
                session.post(
                    f"{url}/GeefPersoon-02.02",
                    data=body,
                    headers={"Content-Type": "text/xml; charset=utf-8"},
                ) as answer,
            ):
                await answer.read()

        start = time.perf_counter()
        await asyncio.gather(*(one(b) for b in bodies))
        return len(bodies) / (time.perf_counter() - start)


async def client_lookups(url: str, numbers: list[str], in_flight: int) -> float:
    """Requests per second through RegistryClient, parsed into facts."""
    async with RegistryClient(url, max_in_flight=in_flight) as client:
        start = time.perf_counter()
        await asyncio.gather(
            *(client.get_person(n, as_of=AS_OF) for n in numbers),
            return_exceptions=True,  # people born after AS_OF are unknown: 30003
        )
        return len(numbers) / (time.perf_counter() - start)


def run_flow(city: Path, url: str, work: Path):
    from flows.garbage_bags import garbage_bags_flow

    return asyncio.run(
        garbage_bags_flow(
            city=str(city),
            registry=url,
            out=str(work / "out"),
            year=2027,
            as_of=AS_OF,
            database=f"sqlite:///{work / 'bench.db'}",
            send_letters=False,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inhabitants", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args()

    city = Path(f"var/bench-city-{args.inhabitants}-{args.seed}")
    ensure_city(city, args.inhabitants, args.seed, 2027)
    numbers = [p["insz"] for p in load_population(city)][: args.requests]
    work = Path(tempfile.mkdtemp(prefix="proactief-bench-"))
    os.environ["PROACTIEF_DATABASE_URL"] = f"sqlite:///{work / 'bench.db'}"

    with running_simulator(city, latency_ms=args.latency_ms) as url:
        asyncio.run(bare_lookups(url, numbers[:500], IN_FLIGHT))  # warm up
        bare = asyncio.run(bare_lookups(url, numbers, IN_FLIGHT))
        client = asyncio.run(client_lookups(url, numbers, IN_FLIGHT))
        start = time.perf_counter()
        summary = run_flow(city, url, work)
        elapsed = time.perf_counter() - start
        from proactief.store import Consultation, Store

        requests = Store(f"sqlite:///{work / 'bench.db'}").count(Consultation)

    decided = sum(summary.outcomes.values())
    print()
    print(
        f"city: {args.inhabitants} inhabitants, {summary.households} households;"
        f" simulator latency {args.latency_ms} ms; {IN_FLIGHT} requests in flight"
    )
    print(f"bare aiohttp look-ups:        {bare:8.0f} requests/s")
    print(
        f"RegistryClient look-ups:      {client:8.0f} requests/s"
        f"  ({client / bare:.0%} of bare)"
    )
    print(
        f"flow, registry requests:      {requests / elapsed:8.0f} requests/s"
        f"  ({requests / elapsed / bare:.0%} of bare; {requests} requests)"
    )
    print(
        f"flow, households decided:     {decided / elapsed:8.0f} households/s"
        f"  ({decided} in {elapsed:.1f} s, letters not included)"
    )


if __name__ == "__main__":
    main()
