"""Tasks of the LEZ renewal: what to re-check, the checks in chunks, what each
verdict means for a registration or a day-pass tariff, and the ending letters."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from proactief.config import Settings
from proactief.documents.lez_letters import EndingLetter, render_ending_letters
from proactief.lez import LezAnswer, LezPart, check_social_tariff, check_vehicle
from proactief.publishing import (
    document_reference,
    idempotency_key,
    print_in_batches,
    settle_printed,
)
from proactief.store import (
    Store,
    lez_registrations_due,
    lez_registrations_ending,
    renew_lez_registration,
)
from rules import lez
from rules.outcomes import Outcome, RuleDecision
from tasks.registry import RecordingRegistry, person_or_error, undeliverable

FREE = lez.FREE_REGISTRATION
DAY_PASS = lez.DAY_PASS
RENEWED = "renewed"
NOT_QUALIFYING = "renewal_not_qualifying"
STATUS_ENDS = "renewal_status_ends"
ENDING_REASONS = (NOT_QUALIFYING, STATUS_ENDS)
LETTER_KIND = "lez_ending_letter"
LETTER_PREFIXES = {FREE: "LZ", DAY_PASS: "LD"}
LETTER_SOURCES = {
    FREE: (
        "Rijksregister (adres)",
        "Kruispuntbank van de Sociale Zekerheid (sociaal statuut)",
        "FOD Sociale Zekerheid, DG Personen met een handicap (parkeerkaart)",
    ),
    DAY_PASS: (
        "Rijksregister (adres)",
        "Kruispuntbank van de Sociale Zekerheid (sociaal statuut)",
    ),
}


@dataclass(frozen=True, slots=True, repr=False)
class DueRegistration:
    """An active registration that ends within the renewal window."""

    id: int
    card_holder: str
    card_holder_ref: str
    plate: str
    valid_until: date

    def __repr__(self) -> str:  # no national number or plate in a log line
        return f"DueRegistration(id={self.id}, ref={self.card_holder_ref!r})"


@dataclass
class RenewalCohort:
    """What one renewal re-checks: the registrations due, and the day-pass
    tariffs of the year not yet settled for the next year (when in the window)."""

    registrations: list[DueRegistration]
    day_passes: list[str]
    day_passes_of_year: list[str] = field(default_factory=list)
    day_passes_extended_before: int = 0

    @property
    def day_passes_granted(self) -> int:
        return len(self.day_passes_of_year)


@dataclass(frozen=True, slots=True)
class RegistrationVerdict:
    """What a check means for a registration: `extended`, `ending` or `review`.

    `valid_until` is the registration's end after the renewal; `reasons` are
    those of the review case an ending or a review needs.
    """

    registration: DueRegistration
    kind: str
    valid_until: date
    reasons: tuple[str, ...] = ()


@task(name="read_lez_renewal_cohort", cache_policy=NO_CACHE, persist_result=False)
def read_renewal_cohort(
    *, store_url: str, horizon: date, year: int, day_passes: bool
) -> RenewalCohort:
    """Active registrations ending on or before `horizon`; with `day_passes`, the
    tariffs granted for `year` whose `year + 1` is not decided for good yet."""
    store = Store(store_url)
    due = [
        DueRegistration(r.id, r.card_holder, r.card_holder_ref, r.plate, r.valid_until)
        for r in lez_registrations_due(store, horizon)
    ]
    cohort = RenewalCohort(registrations=due, day_passes=[])
    if day_passes:
        granted = sorted(
            subject
            for subject, d in store.decisions(DAY_PASS, str(year)).items()
            if d.outcome == Outcome.GRANTED.value
        )
        settled = set(store.final_decisions(DAY_PASS, str(year + 1), granted))
        cohort.day_passes = [s for s in granted if s not in settled]
        cohort.day_passes_of_year = granted
        cohort.day_passes_extended_before = len(settled)
    get_run_logger().info(
        "cohort: %d registrations end by %s; %d day-pass tariffs of %d, %d of them"
        " settled for %d before",
        len(due),
        horizon,
        cohort.day_passes_granted,
        year,
        cohort.day_passes_extended_before,
        year + 1,
    )
    return cohort


@task(name="check_lez_registrations", cache_policy=NO_CACHE, persist_result=False)
async def check_registration_chunk(
    chunk: Sequence[DueRegistration],
    *,
    chunk_label: str,
    registry: RecordingRegistry,
    as_of: date,
    database_url: str,
) -> list[tuple[DueRegistration, LezAnswer]]:
    """The LEZ check of each registration's card holder and vehicle, at once."""
    answers = await asyncio.gather(
        *(
            # the card's own vehicle, asked by the holder: only the card and the
            # allowance can still stand in the way
            check_vehicle(
                registry.client,
                r.card_holder,
                applicant_insz=r.card_holder,
                plate=r.plate,
                today=as_of,
                registered_plate=r.plate,
                timeout_s=None,
            )
            for r in chunk
        )
    )
    Store(database_url).record_consultations(registry.drain())
    failed = sum(
        1 for a in answers if lez.Reason.REGISTRY_FAILED in a.free_registration.reasons
    )
    get_run_logger().info(
        "%s: %d registrations checked, %d with a registry that kept failing",
        chunk_label,
        len(answers),
        failed,
    )
    return list(zip(chunk, answers, strict=True))


@task(name="check_lez_day_passes", cache_policy=NO_CACHE, persist_result=False)
async def check_day_pass_chunk(
    chunk: Sequence[str],
    *,
    chunk_label: str,
    registry: RecordingRegistry,
    as_of: date,
    year: int,
    database_url: str,
) -> list[tuple[str, LezPart]]:
    """The day-pass tariff of each subject for `year + 1`, checked on `as_of`."""
    parts = await asyncio.gather(
        *(
            check_social_tariff(
                registry.client, subject, today=as_of, year=year + 1, timeout_s=None
            )
            for subject in chunk
        )
    )
    Store(database_url).record_consultations(registry.drain())
    failed = sum(1 for p in parts if lez.Reason.REGISTRY_FAILED in p.reasons)
    get_run_logger().info(
        "%s: %d day-pass tariffs checked, %d with a registry that kept failing",
        chunk_label,
        len(parts),
        failed,
    )
    return list(zip(chunk, parts, strict=True))


def registration_verdict(
    registration: DueRegistration, part: LezPart, horizon: date
) -> RegistrationVerdict:
    """Extended when the registration still qualifies beyond the renewal window.

    Ending is never automatic (POLICY.md): a registration that no longer
    qualifies, or whose card or allowance ends within the window, is `ending` (a
    review case, and a letter); a check that could not be answered is `review`,
    and nothing changes.
    """
    current = registration.valid_until
    if part.outcome is Outcome.GRANTED and part.valid_until is not None:
        if part.valid_until > horizon:
            return RegistrationVerdict(registration, "extended", part.valid_until)
        return RegistrationVerdict(
            registration, "ending", max(current, part.valid_until), (STATUS_ENDS,)
        )
    if part.outcome is Outcome.NOT_GRANTED:
        return RegistrationVerdict(
            registration, "ending", current, (NOT_QUALIFYING, *part.reasons)
        )
    return RegistrationVerdict(registration, "review", current, part.reasons)


def registration_evidence(registration: DueRegistration, as_of: date) -> str:
    """The sources a renewal used and their dates: never what they said."""
    return json.dumps(
        [
            f"lez registration {registration.id} until {registration.valid_until}",
            f"GeefPersoon 02.02 as of {as_of}",
            f"GeefSociaalStatuut 03.00 on {as_of} as of {as_of}",
            f"GeefDossierHandicap 03.00 on {as_of} as of {as_of}",
        ]
    )


@dataclass
class RegistrationCounts:
    extended: int = 0
    ending: int = 0
    review: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    review_opened: int = 0
    review_closed: int = 0


@task(name="record_lez_registrations", cache_policy=NO_CACHE, persist_result=False)
def record_registration_renewals(
    checked: Sequence[tuple[DueRegistration, LezAnswer]],
    *,
    store_url: str,
    run_id: str,
    as_of: date,
    horizon: date,
) -> RegistrationCounts:
    """Extend, mark ending, or leave each registration, and bring its review case
    in line: a case per registration end (period: the end date) while an ending
    or an unanswerable check waits for a reviewer."""
    store = Store(store_url)
    counts = RegistrationCounts()
    cases: dict[str, dict[str, dict | None]] = {}
    for registration, answer in checked:
        verdict = registration_verdict(registration, answer.free_registration, horizon)
        old_period = registration.valid_until.isoformat()
        period = verdict.valid_until.isoformat()
        holder = registration.card_holder
        if verdict.kind == "review":
            changed = True  # nothing of the registration changes
        else:
            changed = renew_lez_registration(
                store,
                registration.id,
                valid_until=verdict.valid_until,
                ending_reasons=",".join(verdict.reasons) if verdict.reasons else None,
            )
        if not changed:
            continue  # no longer active: someone else decided on it meanwhile
        if period != old_period:
            cases.setdefault(old_period, {})[holder] = None
        case = None
        if verdict.reasons:
            case = {
                "subject": holder,
                "subject_ref": registration.card_holder_ref,
                "reasons": ",".join(verdict.reasons),
                "evidence": registration_evidence(registration, as_of),
            }
        cases.setdefault(period, {})[holder] = case
        setattr(counts, verdict.kind, getattr(counts, verdict.kind) + 1)
        for reason in verdict.reasons:
            counts.reasons[reason] = counts.reasons.get(reason, 0) + 1
    for period, by_subject in sorted(cases.items()):
        opened, closed = store.sync_review_cases(FREE, period, run_id, by_subject)
        counts.review_opened += opened
        counts.review_closed += closed
    get_run_logger().info(
        "registrations: %d extended, %d ending (for review), %d for review;"
        " %d review cases opened, %d closed",
        counts.extended,
        counts.ending,
        counts.review,
        counts.review_opened,
        counts.review_closed,
    )
    return counts


def day_pass_decision(part: LezPart, year: int) -> RuleDecision:
    """The next year's decision from a check: extended, or a human's call."""
    version = lez.rule_version()
    if part.outcome is Outcome.GRANTED and part.valid_until is not None:
        if part.valid_until > lez.social_tariff_end(year):
            return RuleDecision(Outcome.GRANTED, (RENEWED,), version)
        return RuleDecision(Outcome.REVIEW, (STATUS_ENDS,), version)
    if part.outcome is Outcome.NOT_GRANTED:
        return RuleDecision(Outcome.REVIEW, (NOT_QUALIFYING, *part.reasons), version)
    return RuleDecision(Outcome.REVIEW, part.reasons, version)


def day_pass_evidence(year: int, as_of: date) -> str:
    return json.dumps(
        [
            f"lez-day-pass grant of {year}",
            f"GeefPersoon 02.02 as of {as_of}",
            f"GeefSociaalStatuut 03.00 on {as_of} as of {as_of}",
        ]
    )


@task(name="decide_lez_day_passes", cache_policy=NO_CACHE, persist_result=False)
def decide_day_pass_renewals(
    checked: Sequence[tuple[str, LezPart]], *, year: int, as_of: date
) -> list[tuple[str, RuleDecision, str]]:
    """(subject, decision for `year + 1`, evidence) for every tariff checked."""
    evidence = day_pass_evidence(year, as_of)
    return [(subject, day_pass_decision(p, year), evidence) for subject, p in checked]


@dataclass
class EndingLetters:
    """The letters a run is to write, and what it found about the others (counts).

    `already_sent` includes `printed_before`: letters an earlier run put in a print
    file but was stopped before marking written.
    """

    to_write: list[tuple[str, str, str, EndingLetter]]  # key, benefit, period, letter
    already_sent: int = 0
    printed_before: int = 0
    held: int = 0


@dataclass(frozen=True, slots=True)
class _Ending:
    benefit: str
    period: str
    subject: str
    subject_ref: str
    reasons: str
    evidence: str
    ends_on: date
    plate: str | None = None


def _endings(store: Store, year: int, day_passes: bool) -> list[_Ending]:
    """Every ending a renewal decided that may still need its letter."""
    # a reviewer who decided an ending settled it: no letter goes out after that
    decided = {
        (case.benefit, case.period, case.subject)
        for case in store.decided_review_cases(FREE)
        + store.decided_review_cases(DAY_PASS, str(year + 1))
    }
    endings = [
        _Ending(
            FREE,
            r.valid_until.isoformat(),
            r.card_holder,
            r.card_holder_ref,
            r.end_reason or "",
            json.dumps([f"lez registration {r.id} until {r.valid_until}"]),
            r.valid_until,
            r.plate,
        )
        for r in lez_registrations_ending(store)
        if (r.end_reason or "").split(",")[0] in ENDING_REASONS
    ]
    if day_passes:
        period = str(year + 1)
        endings += [
            _Ending(
                DAY_PASS,
                period,
                d.subject,
                d.subject_ref,
                d.reasons,
                d.evidence,
                lez.social_tariff_end(year),
            )
            for d in store.decisions(DAY_PASS, period).values()
            if d.outcome == Outcome.REVIEW.value
            and d.reasons.split(",")[0] in ENDING_REASONS
        ]
    return [e for e in endings if (e.benefit, e.period, e.subject) not in decided]


@task(name="look_up_lez_letter_recipients", cache_policy=NO_CACHE, persist_result=False)
async def look_up_ending_letters(
    *,
    store_url: str,
    registry: RecordingRegistry,
    as_of: date,
    year: int,
    day_passes: bool,
) -> EndingLetters:
    """The letter of every ending not sent yet: one per ending, once.

    First the letters an earlier run printed but was stopped before marking are
    marked written (`settle_printed`): they went out, and are neither looked up
    nor printed again. The address is read again just before the letter goes out:
    a recipient who died, or has no address the letter can safely go to, keeps
    the letter back and the ending's review case says why (the letter goes once
    that is solved).
    """
    store = Store(store_url)
    endings = _endings(store, year, day_passes)
    groups = sorted({(e.benefit, e.period) for e in endings})
    documents = {}
    for benefit, period in groups:
        documents.update(store.documents(benefit, period))
    printed_before = settle_printed(store, documents)
    sent = printed_before | {k for k, d in documents.items() if d.status == "written"}
    pending = [
        e
        for e in endings
        if idempotency_key(e.benefit, e.period, e.subject) not in sent
    ]
    people = await asyncio.gather(
        *(person_or_error(registry, e.subject, as_of) for e in pending)
    )
    store.record_consultations(registry.drain())

    letters = EndingLetters(
        to_write=[],
        already_sent=len(endings) - len(pending),
        printed_before=sum(
            1
            for e in endings
            if idempotency_key(e.benefit, e.period, e.subject) in printed_before
        ),
    )
    open_cases = {group: store.open_review_cases(*group) for group in groups}
    cases: dict[tuple[str, str], dict[str, dict | None]] = {}
    for ending, person in zip(pending, people, strict=True):
        held = undeliverable(person)
        group = (ending.benefit, ending.period)
        case = open_cases[group].get(ending.subject)
        cases.setdefault(group, {})[ending.subject] = {
            "subject": ending.subject,
            "subject_ref": ending.subject_ref,
            "reasons": ending.reasons + (f",{held}" if held else ""),
            # the check's evidence stays; the letter adds only why it waits
            "evidence": case.evidence if case is not None else ending.evidence,
        }
        if held:
            letters.held += 1
            continue
        letters.to_write.append(
            (
                idempotency_key(ending.benefit, ending.period, ending.subject),
                ending.benefit,
                ending.period,
                EndingLetter(
                    recipient_first_name=person.first_name,
                    recipient_last_name=person.last_name,
                    address=person.address,
                    kind="registration" if ending.benefit == FREE else "day_pass",
                    ends_on=ending.ends_on,
                    plate=ending.plate,
                    sources=LETTER_SOURCES[ending.benefit],
                    letter_date=as_of,
                    reference=document_reference(
                        LETTER_PREFIXES[ending.benefit],
                        ending.period,
                        ending.subject_ref,
                    ),
                ),
            )
        )
    opened = 0
    for (benefit, period), by_subject in sorted(cases.items()):
        opened += store.sync_review_cases(benefit, period, registry.run_id, by_subject)[
            0
        ]
    get_run_logger().info(
        "recipients: %d ending letters to write, %d held back for review (%d new"
        " cases), %d sent before (%d of them printed by a run stopped before"
        " marking them)",
        len(letters.to_write),
        letters.held,
        opened,
        letters.already_sent,
        letters.printed_before,
    )
    return letters


@task(name="render_lez_ending_letters", cache_policy=NO_CACHE, persist_result=False)
def write_ending_letters(
    letters: EndingLetters, *, store_url: str, run_id: str, out_dir: str
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
    letters_dir = Path(out_dir) / "letters"
    documents = [
        (
            {
                "idempotency_key": key,
                "benefit": benefit,
                "period": period,
                "subject": key.rsplit(":", 1)[1],
                "kind": LETTER_KIND,
                "reference": letter.reference,
                "path": str(letters_dir / f"{letter.reference}.pdf"),
                "run_id": run_id,
            },
            letter,
        )
        for key, benefit, period, letter in letters.to_write
    ]
    groups = sorted({(benefit, period) for _, benefit, period, _ in letters.to_write})
    print_files = print_in_batches(
        store,
        documents,
        render=lambda batch: render_ending_letters(batch, letters_dir),
        print_dir=letters_dir / "print",
        prefix=f"run-{run_id[:12]}",
        batch_size=Settings.from_env().render_batch,
        taken=[
            Path(d.print_file).name
            for group in groups
            for d in store.documents(*group).values()
            if d.print_file
        ],
    )
    get_run_logger().info(
        "letters: %d written in %d print files", len(documents), len(print_files)
    )
    return len(documents), str(print_files[0].parent)
