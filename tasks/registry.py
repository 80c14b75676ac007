"""Registry look-ups in chunks, with every consultation recorded in the store."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Self

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from proactief.cohort import CohortHousehold
from proactief.config import Settings
from proactief.errors import (
    CohortError,
    InvalidInsz,
    RegistryError,
    RegistryRefused,
    RegistryUnavailable,
)
from proactief.facts import Person
from proactief.households import LookedUpHousehold, look_up_households
from proactief.magda.client import (
    ANSWERED_RESULT_CODES,
    Consultation,
    RegistryClient,
)
from proactief.publishing import LetterToSend, idempotency_key
from proactief.store import REVIEWER_RULE_PREFIX, Store
from rules import garbage_bags

_CONSULTATION_FIELDS = tuple(field.name for field in dataclasses.fields(Consultation))


class RecordingRegistry:
    """One registry client for a whole run, noting a store row per request.

    Shared by the chunk tasks of a flow run (they run in the flow's event loop), so
    that one limit on requests in flight covers them all and no chunk's tail leaves
    the connection pool idle. Each task stores the rows noted so far (`drain`);
    with `store_url`, the rows are also stored every `FLUSH_EVERY` requests, so
    that a run killed in the middle of a chunk loses the record of at most that
    many consultations.
    """

    FLUSH_EVERY = 100
    PROBES = 3

    def __init__(
        self,
        registry_url: str,
        run_id: str,
        max_in_flight: int = 64,
        timeout_s: float | None = None,
        *,
        store_url: str | None = None,
    ):
        settings = Settings.from_env()
        if timeout_s is not None and not 0 < timeout_s <= 600:
            raise CohortError(
                f"the registry time-out must lie above 0 and at most 600 seconds,"
                f" got {timeout_s}"
            )
        if not registry_url.startswith(("http://", "https://")):
            raise CohortError(
                f"the registry URL {registry_url!r} needs a scheme, for example"
                " http://127.0.0.1:8700"
            )
        self.url = registry_url
        self.run_id = run_id
        self.requests = 0
        self.failures = 0
        self._rows: list[dict] = []
        self._store = Store(store_url) if store_url else None
        self.client = RegistryClient(
            registry_url,
            consumer=settings.consumer,
            purpose=settings.purpose,
            max_in_flight=max_in_flight,
            timeout_s=timeout_s or settings.registry_timeout_s,
            on_consultation=self._note,
        )

    def _note(self, consultation: Consultation) -> None:
        # by hand, not dataclasses.asdict: this runs once a request, and asdict's
        # deep copy cost more than the rest of the note together
        row = {name: getattr(consultation, name) for name in _CONSULTATION_FIELDS}
        row["run_id"] = self.run_id
        self._rows.append(row)
        self.requests += 1
        if row["result_code"] not in ANSWERED_RESULT_CODES:
            self.failures += 1
        if self._store is not None and len(self._rows) >= self.FLUSH_EVERY:
            self._store.record_consultations(self.drain())

    async def probe(self, subjects: Iterable[str], as_of: date) -> None:
        """A few look-ups before a run sends thousands: a registry that cannot be
        reached or refuses us stops the run with a message that says so, instead
        of turning every subject into a review case.

        It asks about the first `PROBES` different subjects at once, and is
        satisfied by one answer: a registry that keeps failing for one person (a
        source down for their record) does not stop everyone's run; that person
        becomes a review case like any other.
        """
        first: list[str] = []  # read only as far as needed: a cohort can be long
        for subject in subjects:
            if subject not in first:
                first.append(subject)
                if len(first) == self.PROBES:
                    break
        failures = [
            failure
            for failure in await asyncio.gather(
                *(self._probe_one(subject, as_of) for subject in first)
            )
            if failure is not None
        ]
        if first and len(failures) == len(first):
            raise CohortError(
                f"the registry at {self.url} does not answer (still"
                f" {failures[0].code or 'failing'} after every retry): check the"
                " --registry URL and that the gateway or simulator is running,"
                " then start the run again"
            )

    async def _probe_one(self, subject: str, as_of: date) -> RegistryUnavailable | None:
        """None when the registry answered about `subject`, the failure when it
        kept failing; a refusal stops the run at once."""
        try:
            await self.client.get_person(subject, as_of=as_of)
        except RegistryUnavailable as exc:
            return exc
        except RegistryRefused as exc:
            raise CohortError(
                f"the registry at {self.url} refused our requests (MAGDA code"
                f" {exc.code}): check PROACTIEF_CONSUMER and PROACTIEF_PURPOSE"
            ) from None
        except (RegistryError, InvalidInsz):
            pass  # an answer about this subject: the registry itself is fine
        return None

    def drain(self) -> list[dict]:
        rows, self._rows = self._rows, []
        return rows

    async def __aenter__(self) -> Self:
        await self.client.__aenter__()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.client.__aexit__(*exc_info)


@task(name="look_up_households", cache_policy=NO_CACHE, persist_result=False)
async def look_up_household_chunk(
    chunk: Sequence[CohortHousehold],
    *,
    chunk_label: str,
    registry: RecordingRegistry,
    on: date,
    as_of: date,
    measures: dict[str, frozenset[str]],
    database_url: str,
) -> list[LookedUpHousehold]:
    """Look up one chunk of households; registry failures become failure codes."""
    logger = get_run_logger()
    looked = await look_up_households(
        registry.client,
        chunk,
        on=on,
        as_of=as_of,
        status_names=garbage_bags.status_names(on),
        measures=measures,
        may_qualify=lambda s, m: garbage_bags.may_qualify(s, m, on),
    )
    Store(database_url).record_consultations(registry.drain())
    failed = sum(1 for h in looked if h.failure)
    logger.info(
        "%s: %d households looked up, %d of them with a registry that kept failing",
        chunk_label,
        len(looked),
        failed,
    )
    return looked


@task(name="look_up_recipients", cache_policy=NO_CACHE, persist_result=False)
async def look_up_recipients(
    *,
    store_url: str,
    registry: RecordingRegistry,
    benefit: str,
    period: str,
    as_of: date,
    subjects: Sequence[str],
) -> tuple[list[LetterToSend], int, int]:
    """Read the address of every granted subject whose letter is not yet written.

    Returns the letters to write, the number of granted subjects whose letter was
    written by an earlier run, and the number held back for review.

    The address is read again just before the letter goes out (POLICY.md): a
    recipient who died or has no usable address by now gets a review case instead
    of a letter.
    """
    logger = get_run_logger()
    store = Store(store_url)
    decisions = store.decisions(benefit, period, subjects)
    documents = store.documents(benefit, period)
    granted = [d for d in decisions.values() if d.outcome == "granted"]
    pending = [
        d
        for d in granted
        if getattr(
            documents.get(idempotency_key(benefit, period, d.subject)), "status", None
        )
        != "written"
    ]

    people = await asyncio.gather(
        *(person_or_error(registry, d.subject, as_of) for d in pending)
    )
    store.record_consultations(registry.drain())

    letters, cases = [], {}
    for decision, person in zip(pending, people, strict=True):
        # A reviewer who granted saw the reference address: the letter may go
        # there (through the social service) without a second review.
        reason = undeliverable(
            person,
            reference_address_ok=decision.rule_version.startswith(REVIEWER_RULE_PREFIX),
        )
        if reason:
            cases[decision.subject] = {
                "subject": decision.subject,
                "subject_ref": decision.subject_ref,
                "reasons": reason,
                "evidence": decision.evidence,
            }
            continue
        cases[decision.subject] = None  # a case held back earlier is settled
        letters.append(
            LetterToSend(
                subject=decision.subject,
                subject_ref=decision.subject_ref,
                recipient=person,
                amount=Decimal(decision.amount_cents) / 100,
                extra_credit=Decimal(decision.extra_credit_cents or 0) / 100,
            )
        )
    opened, _ = store.sync_review_cases(benefit, period, registry.run_id, cases)
    logger.info(
        "recipients: %d letters to write, %d held back for review (%d new cases)",
        len(letters),
        sum(1 for case in cases.values() if case),
        opened,
    )
    held = sum(1 for case in cases.values() if case)
    return letters, len(granted) - len(pending), held


@task(name="look_up_people", cache_policy=NO_CACHE, persist_result=False)
async def look_up_people(
    chunk: Sequence[str],
    *,
    chunk_label: str,
    registry: RecordingRegistry,
    as_of: date,
    database_url: str,
) -> dict[str, Person | Exception]:
    """GeefPersoon for one chunk of recipients, just before their documents go out;
    an answer that is no person is kept for `undeliverable` to name."""
    found = await asyncio.gather(
        *(person_or_error(registry, subject, as_of) for subject in chunk)
    )
    Store(database_url).record_consultations(registry.drain())
    get_run_logger().info(
        "%s: %d recipients looked up, %d without a usable answer",
        chunk_label,
        len(found),
        sum(1 for person in found if isinstance(person, Exception)),
    )
    return dict(zip(chunk, found, strict=True))


async def person_or_error(
    registry: RecordingRegistry, insz: str, as_of: date
) -> Person | Exception:
    """GeefPersoon for a recipient; an answer that is no person is returned, not
    raised, for `undeliverable` to name."""
    try:
        return await registry.client.get_person(insz, as_of=as_of)
    except (RegistryError, InvalidInsz) as exc:
        return exc


def undeliverable(
    person: Person | Exception,
    *,
    reference_address_ok: bool = False,
    address_required: bool = True,
) -> str | None:
    """Why a document cannot safely go to this recipient now, as a review reason;
    None when it can.

    `reference_address_ok` when a reviewer already accepted a reference address;
    `address_required` off for a document that has another way to its reader (an
    invoice without an address is handed out at school).
    """
    if isinstance(person, RegistryUnavailable):
        return "registry_failed_before_sending"
    if isinstance(person, Exception):
        return "recipient_not_in_registry"
    if person.death_date is not None:
        return "recipient_deceased_before_sending"
    if person.address is None:
        return "address_missing_before_sending" if address_required else None
    if person.address.reference_address and not reference_address_ok:
        return "reference_address_before_sending"
    return None
