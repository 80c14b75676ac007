"""Benchmark at city scale: does Proactief hold for a city of 300,000 inhabitants?

Builds (once, kept in var/) a synthetic city, and prints in one run on one machine:

1. bare look-ups per second: a plain aiohttp loop against the registry simulator
   (20 ms latency), with as many requests in flight as the flow and the flow's mix
   of services: the rate the registry and the machine allow;
2. the garbage-bag flow without letters: households decided per second, and the
   registry requests per second it reached, against the bare rate (target: 80 %);
   beside it, Proactief's registry client on its own (the flow's look-ups with no
   Prefect, store or rule around them), to show where a gap comes from;
3. letters per second through Proactief's publishing path, against bare
   WeasyPrint (a fresh call per letter, `bare_render`) on the same letters with the
   same number of processes (target: 80 %);
4. rule decisions per second, without any I/O, over situations built from the
   city's own files;
5. peak memory of this process and of its children;
6. whether memory stays flat while the publishing path writes every letter: the
   resident memory of the process that publishes and of the largest rendering
   worker, sampled every second and taken window by window (every thirtieth of
   the letters), and what the publishing process holds after the last letter.

The figures are a machine's, not a promise: other work on the machine lowers
them, so the header and the table say how busy it was. The letters and the store
go to a folder in var/ that is removed at the end (unless --work or --keep).
Nothing printed carries a name, a national number or an amount.

The full run takes about half an hour on two idle cores: the 30,000 letters
(about 55 ms of CPU each) and the flow's look-ups take most of it.

Usage: python bench/city_scale.py [--inhabitants 300000] [--latency-ms 20]
       [--letters 30000] [--seed 7] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import resource
import shutil
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import aiohttp
import psutil

from proactief.city import load_population, read_residents
from proactief.cohort import household_cohort, social_service_measures
from proactief.config import Settings
from proactief.demo import ensure_city
from proactief.documents.letters import (
    LetterRenderer,
    VoucherLetter,
    bare_render,
    render_many,
)
from proactief.documents.rendering import write_atomically
from proactief.documents.vouchers import make_voucher_code
from proactief.facts import Address, Person
from proactief.households import look_up_households
from proactief.insz import pseudonym
from proactief.magda import messages as m
from proactief.magda.client import RegistryClient
from proactief.magda.simulator import running_simulator
from proactief.publishing import (
    SOURCES_GARBAGE_BAGS,
    LetterToSend,
    document_reference,
    idempotency_key,
    publish_voucher_letters,
)
from rules import garbage_bags
from rules.garbage_bags import HouseholdSituation, Member

YEAR = 2027
AS_OF = date(2027, 1, 4)
IN_FLIGHT = 64  # the flow's max_in_flight, passed to it explicitly
TARGET = 0.80
MEMORY_GROWTH_LIMIT_MB = 50
SAMPLE_EVERY_S = 1.0
# What --quick changes, unless the option is given too.
FULL = {"inhabitants": 300_000, "letters": 30_000, "requests": 20_000, "sample": 1_000}
QUICK = {"inhabitants": 20_000, "letters": 2_000, "requests": 5_000, "sample": 200}
MB = 1024 * 1024


# -- memory ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemorySample:
    """Resident memory of this process and its children at one moment, in MB.

    `render_*` are the processes of Python's fork server and the rendering
    workers it starts; `other` is the simulator and Prefect's temporary server.
    """

    at: float
    letters: int
    main: float
    render_sum: float
    render_max: float
    other: float

    @property
    def total(self) -> float:
        return self.main + self.render_sum + self.other


class MemorySampler(threading.Thread):
    """Samples the resident memory of this process tree every second.

    `count_letters`, when set, is read at each sample, so that a sample says how
    far the letters had come.
    """

    def __init__(self) -> None:
        super().__init__(name="memory-sampler", daemon=True)
        self.samples: list[MemorySample] = []
        self.count_letters: Callable[[], int] | None = None
        self._me = psutil.Process()
        self._roles: dict[int, str] = {}
        self._halt = threading.Event()
        self._lock = threading.Lock()

    def run(self) -> None:
        while not self._halt.wait(SAMPLE_EVERY_S):
            self.sample()

    def stop(self) -> None:
        """Stop sampling; a second call does nothing."""
        self._halt.set()
        if self.is_alive():
            self.join()

    def sample(self) -> MemorySample:
        with self._lock:
            letters = self.count_letters() if self.count_letters else 0
            render: list[float] = []
            other = 0.0
            for child in self._me.children(recursive=True):
                try:
                    rss = child.memory_info().rss / MB
                    role = self.role(child)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                if role == "render":
                    render.append(rss)
                else:
                    other += rss
            sample = MemorySample(
                at=time.perf_counter(),
                letters=letters,
                main=self._me.memory_info().rss / MB,
                render_sum=sum(render),
                render_max=max(render, default=0.0),
                other=other,
            )
            self.samples.append(sample)
            return sample

    def role(self, child: psutil.Process) -> str:
        """What a child process is: `render`, `simulator`, `prefect` or `other`."""
        if child.pid not in self._roles:
            command = " ".join(child.cmdline())
            if "multiprocessing" in command:
                # render_many's workers and the bare pool's: from the fork server
                role = "render"
            elif "registry serve" in command:
                role = "simulator"
            elif "prefect" in command:
                role = "prefect"
            else:
                role = "other"
            self._roles[child.pid] = role
        return self._roles[child.pid]

    def cpu_seconds(self) -> Counter:
        """CPU seconds so far of this process and of its living children, by role."""
        with self._lock:
            times = self._me.cpu_times()
            seconds = Counter({"benchmark": times.user + times.system})
            for child in self._me.children(recursive=True):
                try:
                    role = self.role(child)
                    times = child.cpu_times()
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                seconds[role] += times.user + times.system
            return seconds


def count_pdfs(folder: Path) -> Callable[[], int]:
    """How many letters are whole in `folder` (a file being written is `.tmp-*`)."""

    def count() -> int:
        try:
            with os.scandir(folder) as entries:
                return sum(
                    1
                    for e in entries
                    if e.name.endswith(".pdf") and not e.name.startswith(".tmp-")
                )
        except FileNotFoundError:
            return 0

    return count


@dataclass
class MemoryWindow:
    """The highest figures of the samples taken while the letters after the
    previous window's `end`, up to this `end`, were written."""

    end: int
    main: float
    render_max: float


def memory_windows(
    samples: Sequence[MemorySample], total: int, every: int
) -> list[MemoryWindow]:
    """The peak memory of each stretch of `every` letters, up to the last letter.

    A stretch that no sample fell in takes the first sample after it. The samples
    taken once every letter was whole are left out: `after_last_letter_peak`
    reports them.
    """
    rendering = [s for s in samples if s.letters < total]
    done = [s for s in samples if s.letters >= total]
    if done:
        rendering.append(done[0])  # the moment the last letter became whole
    windows = []
    previous = 0
    for end in [*range(every, total, every), total]:
        inside = [s for s in rendering if previous < s.letters <= end]
        if not inside:
            later = [s for s in rendering if s.letters > end] or rendering[-1:]
            inside = later[:1]
        windows.append(
            MemoryWindow(
                end=end,
                main=max(s.main for s in inside),
                render_max=max(s.render_max for s in inside),
            )
        )
        previous = end
    return windows


def after_last_letter_peak(samples: Sequence[MemorySample], total: int) -> float:
    """The publishing process's peak memory once its last letter was whole: what
    joining the (last) print file and marking the letters written cost."""
    return max((s.main for s in samples if s.letters >= total), default=0.0)


# -- 1. bare look-ups -------------------------------------------------------------


def flow_mix(city: Path, requests: int) -> list[tuple[str, bytes]]:
    """Request bodies in the flow's own mix of services, for whole households.

    Per household, as the flow asks them: the household on the reference date
    (GeefHistoriekGezinssamenstelling), the reference person (GeefPersoon) and
    every member's statuses (GeefSociaalStatuut). Built before the clock starts.
    """
    settings = Settings.from_env()
    on = garbage_bags.reference_date(YEAR)
    names = garbage_bags.status_names(on)
    sender = {"consumer": settings.consumer, "purpose": settings.purpose}
    households: dict[str, list] = defaultdict(list)
    for resident in read_residents(city):
        households[resident.household].append(resident)
    history = m.SERVICES[m.GEEF_HISTORIEK_GEZINSSAMENSTELLING].path
    person = m.SERVICES[m.GEEF_PERSOON].path
    status = m.SERVICES[m.GEEF_SOCIAAL_STATUUT].path
    bodies: list[tuple[str, bytes]] = []
    for number, household in enumerate(sorted(households)):
        members = sorted(households[household], key=lambda r: (r.position, r.insz))
        head = members[0].insz
        ref = str(number)
        bodies.append(
            (
                history,
                m.household_history_request(
                    head, on=on, as_of=AS_OF, reference=ref, **sender
                ),
            )
        )
        bodies.append(
            (person, m.person_request(head, as_of=AS_OF, reference=ref, **sender))
        )
        for member in members:
            bodies.append(
                (
                    status,
                    m.social_status_request(
                        member.insz, names, on=on, as_of=AS_OF, reference=ref, **sender
                    ),
                )
            )
        if len(bodies) >= requests:
            break
    return bodies[:requests]


async def bare_lookups(url: str, bodies: Sequence[tuple[str, bytes]]) -> float:
    """Requests per second of a plain aiohttp loop: send, read the answer, no more."""
    gate = asyncio.Semaphore(IN_FLIGHT)
    connector = aiohttp.TCPConnector(limit=IN_FLIGHT)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(path: str, body: bytes) -> None:
            async with (
                gate,
                session.post(
                    url + path,
                    data=body,
                    headers={"Content-Type": m.SOAP_MEDIA_TYPE},
                ) as answer,
            ):
                await answer.read()

        start = time.perf_counter()
        await asyncio.gather(*(one(path, body) for path, body in bodies))
        return len(bodies) / (time.perf_counter() - start)


def client_lookups(city: Path, url: str, households: int) -> tuple[float, int]:
    """Requests per second of Proactief's registry client on its own: the flow's
    look-ups (`look_up_households`) of the city's first `households` households,
    the same limit in flight, no Prefect, store or rule around them. Returns the
    rate and the number of requests."""
    on = garbage_bags.reference_date(YEAR)
    entries = household_cohort(city)[: households + 100]
    measures = social_service_measures(city, on)
    requests = 0

    def count(consultation: object) -> None:
        nonlocal requests
        requests += 1

    async def look_up(part: Sequence) -> None:
        async with RegistryClient(
            url, max_in_flight=IN_FLIGHT, on_consultation=count
        ) as client:
            await look_up_households(
                client,
                part,
                on=on,
                as_of=AS_OF,
                status_names=garbage_bags.status_names(on),
                measures=measures,
                may_qualify=lambda s, m: garbage_bags.may_qualify(s, m, on),
            )

    asyncio.run(look_up(entries[:100]))  # warm up
    requests = 0
    start = time.perf_counter()
    asyncio.run(look_up(entries[100:]))
    return requests / (time.perf_counter() - start), requests


# -- 2. the flow ------------------------------------------------------------------


@dataclass
class FlowFigures:
    households: int
    decided: int
    seconds: float
    requests: int
    lookup_seconds: float
    services: Counter


def run_flow(city: Path, url: str, work: Path, database: str) -> FlowFigures:
    """The garbage-bag flow on the whole city, letters off, timed from start to end.

    A trivial flow runs first, so that starting Prefect's temporary server (5-10 s,
    once per process) is not counted.
    """
    from prefect import flow
    from sqlmodel import Session, func, select

    from flows.garbage_bags import garbage_bags_flow
    from proactief.store import Consultation, Store

    @flow(name="bench-warm-up", persist_result=False)
    async def warm_up() -> None:
        return None

    asyncio.run(warm_up())
    start = time.perf_counter()
    summary = asyncio.run(
        garbage_bags_flow(
            city=str(city.resolve()),
            registry=url,
            out=str(work / "flow"),
            year=YEAR,
            as_of=AS_OF,
            database=database,
            max_in_flight=IN_FLIGHT,
            send_letters=False,
        )
    )
    seconds = time.perf_counter() - start
    with Session(Store(database).engine) as session:
        rows = session.exec(
            select(Consultation.service, func.count())
            .where(Consultation.run_id == summary.run_id)
            .group_by(Consultation.service)
        ).all()
        first, last = session.exec(
            select(func.min(Consultation.at), func.max(Consultation.at)).where(
                Consultation.run_id == summary.run_id
            )
        ).one()
    services = Counter({service: count for service, count in rows})
    return FlowFigures(
        households=summary.households,
        decided=sum(summary.outcomes.values()),
        seconds=seconds,
        requests=sum(services.values()),
        lookup_seconds=(last - first).total_seconds(),
        services=services,
    )


# -- 4. the rule, and the letters' recipients, from the city's own files ------------


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None  # a date with an unknown month or day


def _address(raw: dict | None) -> Address | None:
    if not raw:
        return None
    return Address(
        street=raw["street"],
        number=raw["number"],
        box=raw.get("box"),
        postcode=raw["postcode"],
        municipality=raw["municipality"],
        since=_day(raw.get("since")),
        reference_address=bool(raw.get("reference_address")),
    )


def _statuses(record: dict, names: Sequence[str], on: date) -> dict[str, bool]:
    """Which asked statuses apply on `on`, as the registry would say on AS_OF."""
    applies = dict.fromkeys(names, False)
    for spell in record["statuses"] or ():
        start, end = _day(spell.get("from")), _day(spell.get("to"))
        registered = _day(spell.get("registered_on"))
        if (
            spell["name"] in applies
            and (start is None or start <= on)
            and (end is None or end >= on)
            and (registered is None or registered <= AS_OF)
        ):
            applies[spell["name"]] = True
    return applies


def build_situations(city: Path) -> tuple[list[HouseholdSituation], list[dict]]:
    """Every household of the cohort as the rule sees it, and the reference
    persons to write to.

    Built from the city's files, without the registry: what the look-ups would
    bring, as of the run's dates.
    """
    on = garbage_bags.reference_date(YEAR)
    names = garbage_bags.status_names(on)
    measures = social_service_measures(city, on)
    cohort = {entry.household for entry in household_cohort(city)}
    households: dict[str, list[dict]] = defaultdict(list)
    for record in load_population(city):
        if record["household"] in cohort:
            households[record["household"]].append(record)
    situations, heads = [], []
    for household in sorted(households):
        people = sorted(households[household], key=lambda p: p["position"] or "")
        head = next((p for p in people if p["position"] == "01"), None)
        situations.append(
            HouseholdSituation(
                subject=(head or people[0])["insz"],
                members=tuple(
                    Member(
                        insz=p["insz"],
                        position=p["position"],
                        death_date=_day(p["death_date"]),
                        statuses=_statuses(p, names, on),
                        social_service=measures.get(p["insz"], frozenset()),
                    )
                    for p in people
                ),
                address=_address(head["address"]) if head else None,
            )
        )
        if head and head["address"] and not head["death_date"]:
            heads.append({**head, "other_members": len(people) - 1})
    return situations, heads


def time_decisions(situations: Sequence[HouseholdSituation]) -> tuple[float, Counter]:
    start = time.perf_counter()
    outcomes = Counter(garbage_bags.decide(s, YEAR).outcome.value for s in situations)
    return len(situations) / (time.perf_counter() - start), outcomes


# -- 3. and 6. letters --------------------------------------------------------------


def letters_to_send(heads: Sequence[dict], count: int) -> list[LetterToSend]:
    """One voucher letter for each of the first `count` reference persons."""
    if len(heads) < count:
        raise SystemExit(
            f"--letters {count} needs as many households with an address; this city"
            f" has {len(heads)}: pass a larger --inhabitants or fewer --letters"
        )
    settings = Settings.from_env()
    on = garbage_bags.reference_date(YEAR)
    letters = []
    for head in heads[:count]:
        amount, credit = garbage_bags.voucher_amount(head["other_members"], on)
        letters.append(
            LetterToSend(
                subject=head["insz"],
                subject_ref=pseudonym(head["insz"], settings.pseudonym_key),
                recipient=Person(
                    insz=head["insz"],
                    first_name=head["first_name"],
                    last_name=head["last_name"],
                    birth_date=head["birth_date"],
                    address=_address(head["address"]),
                    household_position="01",
                ),
                amount=amount,
                extra_credit=credit,
            )
        )
    return letters


def voucher_letters(letters: Sequence[LetterToSend]) -> list[VoucherLetter]:
    """The same letters as the publishing path prints them, for the renderers."""
    key = Settings.from_env().voucher_key
    period = str(YEAR)
    return [
        VoucherLetter(
            recipient_first_name=item.recipient.first_name,
            recipient_last_name=item.recipient.last_name,
            address=item.recipient.address,
            year=YEAR,
            amount=item.amount,
            extra_credit=item.extra_credit,
            voucher_code=make_voucher_code(
                idempotency_key(garbage_bags.BENEFIT, period, item.subject), key
            ),
            sources=SOURCES_GARBAGE_BAGS,
            letter_date=AS_OF,
            reference=document_reference("GB", period, item.subject_ref),
        )
        for item in letters
    ]


_bare_worker: LetterRenderer | None = None


def _start_bare_worker() -> None:
    global _bare_worker
    _bare_worker = LetterRenderer()  # for its template only: .html()


def _render_bare(letter: VoucherLetter, target: Path) -> Path:
    """One letter with a fresh WeasyPrint call: HTML from the same template, a new
    font configuration and stylesheet, the file written the same way."""
    write_atomically(target, bare_render(_bare_worker.html(letter)))
    return target


def time_bare_letters(
    letters: Sequence[VoucherLetter], out_dir: Path, processes: int
) -> float:
    """Letters per second with bare WeasyPrint, shared among `processes` processes
    the way `render_many` shares them (fork server, same chunks)."""
    out_dir.mkdir(parents=True)
    targets = [out_dir / f"{letter.reference}.pdf" for letter in letters]
    start = time.perf_counter()
    with ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=_start_bare_worker,
    ) as pool:
        chunksize = max(1, len(letters) // (processes * 8))
        list(pool.map(_render_bare, letters, targets, chunksize=chunksize))
    return len(letters) / (time.perf_counter() - start)


def time_render_many(
    letters: Sequence[VoucherLetter], out_dir: Path, processes: int
) -> float:
    start = time.perf_counter()
    render_many(letters, out_dir, processes=processes, pool_from=1)
    return len(letters) / (time.perf_counter() - start)


def time_publishing(
    letters: Sequence[LetterToSend],
    out_dir: Path,
    database: str,
    processes: int,
    sampler: MemorySampler,
) -> tuple[float, bool]:
    """Letters per second through `publish_voucher_letters`, from the records in
    the store to the print file, with the memory sampler counting the letters."""
    from proactief.store import Store

    store = Store(database)
    run_id = store.start_run(garbage_bags.BENEFIT, str(YEAR), AS_OF)
    sampler.count_letters = count_pdfs(out_dir / "letters")
    sampler.sample()
    start = time.perf_counter()
    with store.running(run_id, dict):
        report = publish_voucher_letters(
            store,
            run_id=run_id,
            benefit=garbage_bags.BENEFIT,
            period=str(YEAR),
            year=YEAR,
            letters=letters,
            out_dir=out_dir,
            letter_date=AS_OF,
            voucher_key=Settings.from_env().voucher_key,
            processes=processes,
        )
    seconds = time.perf_counter() - start
    sampler.sample()
    sampler.count_letters = None
    if report.written != len(letters):
        raise SystemExit(
            f"the publishing path wrote {report.written} of {len(letters)} letters"
        )
    return len(letters) / seconds, report.print_file is not None


# -- the run --------------------------------------------------------------------


@dataclass
class Figures:
    rows: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, measure: str, value: str, verdict: str = "") -> None:
        self.rows.append((measure, value, verdict))
        print(f"  {measure}: {value} {verdict}".rstrip(), flush=True)


def cpu_use(sampler: MemorySampler, before: Counter) -> str:
    """CPU seconds spent since `before`, by process, largest first."""
    spent = sampler.cpu_seconds()
    spent.subtract(before)
    names = {"benchmark": "this process", "prefect": "Prefect server"}
    return ", ".join(
        f"{names.get(role, role)} {seconds:,.1f} s"
        for role, seconds in spent.most_common()
        if seconds >= 0.05
    )


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def machine_header() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0))
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {cpus} CPUs{f' ({model})' if model else ''},"
        f" {psutil.virtual_memory().total / 2**30:.1f} GiB memory;"
        f" Python {platform.python_version()} on {platform.system()}"
        f" {platform.release()}; load average at start {load}"
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inhabitants", type=int, help="default 300000 (quick 20000)")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--letters", type=int, help="default 30000 (quick 2000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--requests", type=int, help="bare look-ups; default 20000 (quick 5000)"
    )
    parser.add_argument(
        "--sample-letters",
        type=int,
        help="letters rendered bare and by render_many; default 1000 (quick 200)",
    )
    parser.add_argument(
        "--processes", type=int, default=os.cpu_count() or 1, help="default all CPUs"
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--city-dir", type=Path, help="default var/bench-city-N-SEED")
    parser.add_argument(
        "--work", type=Path, help="where letters go (default: a folder in var/)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the letters and the store"
    )
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    args.inhabitants = args.inhabitants or defaults["inhabitants"]
    args.letters = args.letters or defaults["letters"]
    args.requests = args.requests or defaults["requests"]
    args.sample_letters = min(args.sample_letters or defaults["sample"], args.letters)
    args.city_dir = args.city_dir or Path(
        f"var/bench-city-{args.inhabitants}-{args.seed}"
    )
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    began = time.perf_counter()
    print(machine_header(), flush=True)
    sampler = MemorySampler()
    sampler.start()
    figures = Figures()

    print(
        f"[1/6] city of {args.inhabitants} inhabitants in {args.city_dir}", flush=True
    )
    start = time.perf_counter()
    generated = ensure_city(args.city_dir, args.inhabitants, args.seed, YEAR)
    print(
        f"  {'generated' if generated else 'reused'} in"
        f" {time.perf_counter() - start:.0f} s",
        flush=True,
    )

    Path("var").mkdir(exist_ok=True)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-work-", dir="var"))
    work.mkdir(parents=True, exist_ok=True)
    database = f"sqlite:///{(work / 'bench.db').resolve()}"
    os.environ["PROACTIEF_DATABASE_URL"] = database
    try:
        with running_simulator(args.city_dir, latency_ms=args.latency_ms) as url:
            print(
                f"[2/6] bare look-ups: {args.requests} requests, {IN_FLIGHT} in flight,"
                f" simulator at {args.latency_ms} ms",
                flush=True,
            )
            bodies = flow_mix(args.city_dir, args.requests)
            asyncio.run(bare_lookups(url, bodies[:500]))  # warm up
            cpu_before = sampler.cpu_seconds()
            bare = asyncio.run(bare_lookups(url, bodies))
            figures.add(
                "bare look-ups",
                f"{bare:,.0f} requests/s (CPU: {cpu_use(sampler, cpu_before)})",
            )
            cpu_before = sampler.cpu_seconds()
            alone, asked = client_lookups(args.city_dir, url, args.requests // 4)
            figures.add(
                "registry client alone",
                f"{alone:,.0f} requests/s ({alone / bare:.0%} of bare; {asked:,}"
                f" requests; CPU: {cpu_use(sampler, cpu_before)})",
            )

            print("[3/6] garbage-bag flow on the whole city, letters off", flush=True)
            cpu_before = sampler.cpu_seconds()
            flow = run_flow(args.city_dir, url, work, database)
            flow_cpu = cpu_use(sampler, cpu_before)
        lookup_rate = flow.requests / flow.lookup_seconds
        run_rate = flow.requests / flow.seconds
        figures.add(
            "flow, households decided",
            f"{flow.decided / flow.seconds:,.0f} households/s"
            f" ({flow.decided:,} of {flow.households:,} in {flow.seconds:,.0f} s)",
        )
        figures.add(
            "flow, registry requests while looking up",
            f"{lookup_rate:,.0f} requests/s ({lookup_rate / bare:.0%} of bare;"
            f" {flow.requests:,} in {flow.lookup_seconds:,.0f} s,"
            f" {flow.requests / max(flow.decided, 1):.1f} a household)",
            verdict(lookup_rate >= TARGET * bare),
        )
        figures.add(
            "flow, registry requests over the whole run",
            f"{run_rate:,.0f} requests/s ({run_rate / bare:.0%} of bare;"
            f" CPU: {flow_cpu})",
            verdict(run_rate >= TARGET * bare),
        )

        print("[4/6] rule decisions, no I/O", flush=True)
        situations, heads = build_situations(args.city_dir)
        decisions, outcomes = time_decisions(situations)
        figures.add(
            "rule decisions",
            f"{decisions:,.0f} households/s ({len(situations):,} households;"
            f" {outcomes['granted']:,} granted)",
        )
        to_send = letters_to_send(heads, args.letters)
        del situations, heads

        print(
            f"[5/6] letters: {args.sample_letters} bare and by render_many,"
            f" then {args.letters} through the publishing path;"
            f" {args.processes} processes each",
            flush=True,
        )
        sample = voucher_letters(to_send[: args.sample_letters])
        bare_letters = time_bare_letters(sample, work / "bare", args.processes)
        figures.add("bare WeasyPrint letters", f"{bare_letters:,.1f} letters/s")
        renderer = time_render_many(sample, work / "render-many", args.processes)
        figures.add(
            "render_many letters (same letters)",
            f"{renderer:,.1f} letters/s ({renderer / bare_letters:.0%} of bare)",
            verdict(renderer >= TARGET * bare_letters),
        )
        shutil.rmtree(work / "bare")
        shutil.rmtree(work / "render-many")
        publishing, printed = time_publishing(
            to_send, work / "publish", database, args.processes, sampler
        )
        figures.add(
            "publishing path letters",
            f"{publishing:,.1f} letters/s ({publishing / bare_letters:.0%} of bare;"
            f" {args.letters:,} letters{', print file' if printed else ''})",
            verdict(publishing >= TARGET * bare_letters),
        )

        print("[6/6] memory", flush=True)
        sampler.stop()
        report_memory(sampler.samples, args.letters, figures)
    finally:
        sampler.stop()
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)

    minutes = (time.perf_counter() - began) / 60
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print()
    print(
        f"city {args.inhabitants:,} inhabitants (seed {args.seed}), {flow.households:,}"
        f" households; simulator {args.latency_ms} ms; {IN_FLIGHT} requests in"
        f" flight; {args.processes} rendering processes; {minutes:.1f} min;"
        f" load average at end {load}"
    )
    width = max(len(row[0]) for row in figures.rows)
    for measure, value, passed in figures.rows:
        print(f"{measure:<{width}}  {value}{'  ' + passed if passed else ''}")


def report_memory(
    samples: Sequence[MemorySample], letters: int, figures: Figures
) -> None:
    """Peak memory (5) and memory while the letters were published (6)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    figures.add(
        "peak memory",
        f"this process {own:,.0f} MB, largest finished child {children:,.0f} MB;"
        f" whole tree at most {max(s.total for s in samples):,.0f} MB"
        f" (rendering workers {max(s.render_sum for s in samples):,.0f} MB,"
        f" simulator and Prefect server {max(s.other for s in samples):,.0f} MB)",
    )
    every = max(1, letters // 30)
    windows = memory_windows(samples, letters, every)
    first, middle, last = windows[0], windows[len(windows) // 2], windows[-1]
    figures.add(
        "memory while publishing (publisher / largest worker)",
        "; ".join(
            f"letter {w.end:,}: {w.main:,.0f} / {w.render_max:,.0f} MB"
            for w in (first, middle, last)
        ),
    )
    # Growth counts from the end of the second print batch at the earliest: the
    # first print file the publisher joins loads the PDF joiner once, which a
    # short run would otherwise report as growth.
    batch = Settings.from_env().render_batch
    steady = max(letters // 6, 2 * batch)
    base = next((w for w in windows if w.end >= steady and w is not last), None)
    if base is None:
        figures.add(
            "memory growth",
            f"not measured: {letters:,} letters make fewer than three print batches"
            f" of {batch:,}",
        )
        return
    main_growth = last.main - base.main
    worker_growth = last.render_max - base.render_max
    figures.add(
        f"memory growth, letter {base.end:,} to {last.end:,}",
        f"publisher {main_growth:+,.0f} MB, largest worker {worker_growth:+,.0f} MB",
        verdict(max(main_growth, worker_growth) < MEMORY_GROWTH_LIMIT_MB),
    )
    after = after_last_letter_peak(samples, letters)
    figures.add(
        "memory after the last letter (print file, store)",
        f"publisher peak {after:,.0f} MB ({after - base.main:+,.0f} MB over"
        f" letter {base.end:,})",
        verdict(after - base.main < MEMORY_GROWTH_LIMIT_MB),
    )


if __name__ == "__main__":
    main()
