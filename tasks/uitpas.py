"""Tasks of the UiTPAS renewal: who to renew, their checks in chunks, the decisions,
and a letter to everyone extended, once each."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from proactief.cohort import social_service_measures
from proactief.config import Settings
from proactief.documents.uitpas_letters import RenewalLetter, render_renewal_letters
from proactief.errors import InvalidInsz, RegistryError, RegistryUnavailable
from proactief.facts import Person
from proactief.publishing import (
    document_reference,
    idempotency_key,
    print_in_batches,
    settle_printed,
)
from proactief.store import Store
from proactief.uitpas import DeskAnswer, check_citizen
from rules import uitpas
from rules.outcomes import Outcome, RuleDecision
from tasks.registry import RecordingRegistry

BENEFIT = uitpas.BENEFIT
RENEWED = "renewed"
NOT_QUALIFYING = "renewal_not_qualifying"
LETTER_KIND = "uitpas_renewal_letter"
LETTER_PREFIX = "UP"
LETTER_SOURCES = (
    "Rijksregister (gezinssamenstelling en adres)",
    "Kruispuntbank van de Sociale Zekerheid (sociaal statuut)",
    "Sociale dienst van de stad (budgetbegeleiding, budgetbeheer en schuldbemiddeling)",
)


@task(name="read_renewal_cohort", cache_policy=NO_CACHE, persist_result=False)
def read_renewal_cohort(
    *, store_url: str, city_dir: str, year: int, as_of: date
) -> tuple[list[str], list[str], dict[str, frozenset[str]]]:
    """Everyone granted the tariff for `year`, those of them already extended to
    `year + 1` by an earlier run, and the social service's measures on `as_of`."""
    store = Store(store_url)
    granted = sorted(
        subject
        for subject, d in store.decisions(BENEFIT, str(year)).items()
        if d.outcome == Outcome.GRANTED.value
    )
    extended = {
        subject
        for subject, d in store.decisions(BENEFIT, str(year + 1), granted).items()
        if d.outcome == Outcome.GRANTED.value
    }
    measures = social_service_measures(Path(city_dir), as_of)
    get_run_logger().info(
        "cohort: %d granted for %d, %d of them extended to %d before",
        len(granted),
        year,
        len(extended),
        year + 1,
    )
    return granted, sorted(extended), measures


@task(name="check_citizens", cache_policy=NO_CACHE, persist_result=False)
async def check_citizen_chunk(
    chunk: Sequence[str],
    *,
    chunk_label: str,
    registry: RecordingRegistry,
    as_of: date,
    measures: dict[str, frozenset[str]],
    database_url: str,
) -> list[tuple[str, DeskAnswer]]:
    """The desk check of every subject of a chunk, at once, as of `as_of`."""
    answers = await asyncio.gather(
        *(
            # no deadline of the desk's own: in a batch a check may wait its turn
            check_citizen(
                registry.client, insz, today=as_of, measures=measures, timeout_s=None
            )
            for insz in chunk
        )
    )
    Store(database_url).record_consultations(registry.drain())
    failed = sum(1 for a in answers if uitpas.Reason.REGISTRY_FAILED in a.reasons)
    get_run_logger().info(
        "%s: %d people checked, %d of them with a registry that kept failing",
        chunk_label,
        len(answers),
        failed,
    )
    return list(zip(chunk, answers, strict=True))


def renewal_decision(answer: DeskAnswer) -> RuleDecision:
    """The next year's decision from a check: extended, or a human's call.

    Ending a tariff the citizen has is never automatic (POLICY.md): someone who
    no longer qualifies becomes a review case, and a reviewer decides whether the
    tariff ends, after which the citizen is told.
    """
    if answer.outcome is Outcome.GRANTED:
        return RuleDecision(Outcome.GRANTED, (RENEWED,), answer.rule_version)
    if answer.outcome is Outcome.NOT_GRANTED:
        return RuleDecision(
            Outcome.REVIEW, (NOT_QUALIFYING, *answer.reasons), answer.rule_version
        )
    return RuleDecision(Outcome.REVIEW, answer.reasons, answer.rule_version)


def is_minor(birth_date: str | None, on: date) -> bool:
    """Under 18 on `on`, by the registry's birth date (an unknown month or day,
    `00`, counts as the end of the year or month: a child is not made adult)."""
    if not birth_date or not birth_date[:4].isdigit() or int(birth_date[:4]) == 0:
        return False
    year = int(birth_date[:4])
    month = int(birth_date[5:7] or 0) or 12
    day = int(birth_date[8:10] or 0) or 28
    return (on.year - year) - ((on.month, on.day) < (month, day)) < 18


def renewal_evidence(year: int, as_of: date) -> str:
    """The sources a renewal used and their dates: never what they said."""
    return json.dumps(
        [
            f"uitpas grant of {year}",
            f"GeefPersoon 02.02 as of {as_of}",
            f"GeefGezinssamenstelling 02.02 on {as_of} as of {as_of}",
            f"GeefSociaalStatuut 03.00 on {as_of} as of {as_of}",
            f"social_service.csv on {as_of}",
        ]
    )


@task(name="decide_renewals", cache_policy=NO_CACHE, persist_result=False)
def decide_renewals(
    checked: Sequence[tuple[str, DeskAnswer]], *, year: int, as_of: date
) -> list[tuple[str, RuleDecision, str]]:
    """(subject, decision for `year + 1`, evidence) for every subject checked."""
    evidence = renewal_evidence(year, as_of)
    return [(subject, renewal_decision(a), evidence) for subject, a in checked]


@dataclass
class RenewalLetters:
    """The letters a run is to write, and what it found about the others (counts).

    `already_sent` includes `printed_before`: letters an earlier run put in a print
    file but was stopped before marking written.
    """

    to_write: list[tuple[str, RenewalLetter]]
    already_sent: int = 0
    printed_before: int = 0
    held: int = 0


@task(name="look_up_letter_recipients", cache_policy=NO_CACHE, persist_result=False)
async def look_up_letter_recipients(
    *,
    store_url: str,
    registry: RecordingRegistry,
    year: int,
    as_of: date,
    subjects: Sequence[str],
) -> RenewalLetters:
    """The letter of everyone extended to `year + 1` whose letter is not sent yet.

    First the letters an earlier run printed but was stopped before marking are
    marked written (`settle_printed`): they went out, and are neither looked up
    nor printed again. The address is read again just before the letter goes out:
    a recipient who died, or has no address the letter can safely go to, gets a
    review case instead of a letter (as the garbage-bag letters do).
    """
    store = Store(store_url)
    period = str(year + 1)
    documents = store.documents(BENEFIT, period)
    printed_before = settle_printed(store, documents)
    sent = printed_before | {k for k, d in documents.items() if d.status == "written"}
    extended = [
        d
        for d in store.decisions(BENEFIT, period, subjects).values()
        if d.outcome == Outcome.GRANTED.value and d.reasons == RENEWED
    ]
    pending = sorted(
        (
            d
            for d in extended
            if idempotency_key(BENEFIT, period, d.subject) not in sent
        ),
        key=lambda d: d.subject,
    )
    people = await asyncio.gather(
        *(_person_or_error(registry, d.subject, as_of) for d in pending)
    )
    store.record_consultations(registry.drain())

    letters = RenewalLetters(
        to_write=[],
        already_sent=len(extended) - len(pending),
        printed_before=sum(
            1
            for d in extended
            if idempotency_key(BENEFIT, period, d.subject) in printed_before
        ),
    )
    cases: dict[str, dict | None] = {}
    for decision, person in zip(pending, people, strict=True):
        reason = _undeliverable(person)
        if reason:
            cases[decision.subject] = {
                "subject": decision.subject,
                "subject_ref": decision.subject_ref,
                "reasons": reason,
                "evidence": decision.evidence,
            }
            continue
        cases[decision.subject] = None  # a letter held back earlier may go now
        letters.to_write.append(
            (
                idempotency_key(BENEFIT, period, decision.subject),
                RenewalLetter(
                    recipient_first_name=person.first_name,
                    recipient_last_name=person.last_name,
                    address=person.address,
                    year=year + 1,
                    valid_until=uitpas.valid_until(year + 1),
                    sources=LETTER_SOURCES,
                    letter_date=as_of,
                    reference=document_reference(
                        LETTER_PREFIX, period, decision.subject_ref
                    ),
                    minor=is_minor(person.birth_date, as_of),
                ),
            )
        )
    opened, _ = store.sync_review_cases(BENEFIT, period, registry.run_id, cases)
    letters.held = sum(1 for case in cases.values() if case)
    get_run_logger().info(
        "recipients: %d letters to write, %d held back for review (%d new cases),"
        " %d sent before (%d of them printed by a run stopped before marking them)",
        len(letters.to_write),
        letters.held,
        opened,
        letters.already_sent,
        letters.printed_before,
    )
    return letters


@task(name="render_renewal_letters", cache_policy=NO_CACHE, persist_result=False)
def write_renewal_letters(
    letters: RenewalLetters,
    *,
    store_url: str,
    run_id: str,
    year: int,
    out_dir: str,
) -> tuple[int, str | None]:
    """Print the letters in batches, each in exactly one print file.

    `print_in_batches` records each batch with its print file's name, renders
    it, writes the print file whole and then marks the batch written (see
    `proactief.publishing`): a run stopped at any point leaves the next run to
    either mark a batch written or print it, never both. A letter recorded by an
    earlier run keeps its reference. Returns the number of letters written and
    the folder of the print files (None when none was written), as the garbage
    bags' `PublishReport.print_file`.
    """
    if not letters.to_write:
        return 0, None
    store = Store(store_url)
    period = str(year + 1)
    letters_dir = Path(out_dir) / "letters"
    documents = [
        (
            {
                "idempotency_key": key,
                "benefit": BENEFIT,
                "period": period,
                "subject": key.rsplit(":", 1)[1],
                "kind": LETTER_KIND,
                "reference": letter.reference,
                "path": str(letters_dir / f"{letter.reference}.pdf"),
                "run_id": run_id,
            },
            letter,
        )
        for key, letter in letters.to_write
    ]
    print_files = print_in_batches(
        store,
        documents,
        render=lambda batch: render_renewal_letters(batch, letters_dir),
        print_dir=letters_dir / "print",
        prefix=f"run-{run_id[:12]}",
        batch_size=Settings.from_env().render_batch,
        taken=[
            Path(d.print_file).name
            for d in store.documents(BENEFIT, period).values()
            if d.print_file
        ],
    )
    get_run_logger().info(
        "letters: %d written in %d print files", len(documents), len(print_files)
    )
    return len(documents), str(print_files[0].parent)


async def _person_or_error(
    registry: RecordingRegistry, insz: str, as_of: date
) -> Person | Exception:
    try:
        return await registry.client.get_person(insz, as_of=as_of)
    except (RegistryError, InvalidInsz) as exc:
        return exc


def _undeliverable(person: Person | Exception) -> str | None:
    """Why a letter cannot go to this person now, or None."""
    if isinstance(person, RegistryUnavailable):
        return "registry_failed_before_sending"
    if isinstance(person, Exception):
        return "recipient_not_in_registry"
    if person.death_date is not None:
        return "recipient_deceased_before_sending"
    if person.address is None:
        return "address_missing_before_sending"
    if person.address.reference_address:
        # the social service forwards it: a person decides how
        return "reference_address_before_sending"
    return None
