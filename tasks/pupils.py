"""Tasks of the school social tariff: school files, pupil look-ups, decisions,
school lists and invoices."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from proactief.config import Settings
from proactief.documents.invoices import Invoice, InvoiceLine, render_invoices
from proactief.documents.school_lists import (
    SchoolList,
    SchoolListRow,
    render_school_list_pdf,
    write_school_list_csv,
)
from proactief.facts import Address
from proactief.families import LookedUpPupil, look_up_pupil
from proactief.insz import pseudonym
from proactief.publishing import document_reference
from proactief.pupils import Pupil, SchoolFiles, read_school_files
from proactief.schools import period_label, read_schools
from proactief.store import Store
from rules import parameters, school_tariffs
from rules.outcomes import Outcome, RuleDecision
from tasks.registry import RecordingRegistry

BENEFIT = school_tariffs.BENEFIT
FAMILY_DISCOUNT = "family_discount"
PAYMENT_DAYS = 30


@task(name="read_school_files", cache_policy=NO_CACHE, persist_result=False)
def read_school_files_task(
    city: str, pupil_paths: Sequence[str], billing_paths: Sequence[str]
) -> SchoolFiles:
    """Read every pupil list and billing file; a bad one never stops the others."""
    files = read_school_files(
        [Path(p) for p in pupil_paths],
        [Path(p) for p in billing_paths],
        schools=read_schools(Path(city)),
        allow_test_numbers=Settings.from_env().allow_test_numbers,
    )
    get_run_logger().info(
        "school files: %d pupil lists and %d billing files read, %d refused,"
        " %d lines rejected",
        len(files.pupil_lists),
        len(files.billing_files),
        len(files.refused),
        sum(len(f.rejected) for f in files.pupil_lists)
        + sum(len(f.rejected) for f in files.billing_files),
    )
    return files


@task(name="record_rejected_rows", cache_policy=NO_CACHE, persist_result=False)
def record_rejected_rows(
    files: SchoolFiles, *, period: str, store_url: str, run_id: str, key: bytes
) -> int:
    """A review case for every line a school sent that could not be used, with the
    reason a school secretary understands; returns the cases opened."""
    cases = {}
    for listing in [*files.pupil_lists, *files.billing_files]:
        for row in listing.rejected:
            subject = f"{Path(listing.path).name}:{row.line}"
            cases[subject] = {
                "subject": subject,
                "subject_ref": pseudonym(subject, key),
                "reasons": row.reason,
                "evidence": json.dumps([row.message]),
            }
    opened, _ = Store(store_url).sync_review_cases(BENEFIT, period, run_id, cases)
    return opened


@task(name="look_up_pupils", cache_policy=NO_CACHE, persist_result=False)
async def look_up_pupil_chunk(
    chunk: Sequence[str],
    *,
    chunk_label: str,
    registry: RecordingRegistry,
    on: date,
    as_of: date,
    income_year: int,
    database_url: str,
) -> list[LookedUpPupil]:
    """Look up the families of one chunk of pupils."""
    looked = await asyncio.gather(
        *(
            look_up_pupil(
                registry.client, p, on=on, as_of=as_of, income_year=income_year
            )
            for p in chunk
        )
    )
    Store(database_url).record_consultations(registry.drain())
    get_run_logger().info(
        "%s: %d pupils looked up, %d with a registry that kept failing",
        chunk_label,
        len(looked),
        sum(1 for p in looked if p.failure),
    )
    return list(looked)


@dataclass(frozen=True, slots=True)
class PupilDecision:
    """A pupil's decision at one check, with the family discount it gives.

    `held_family_discount` is for a pupil left without a tariff (review): whether
    the family discount applies once a reviewer gives a tariff it combines with,
    so that the invoice held meanwhile can be sent at the reviewer's tariff.
    """

    pupil: str
    decision: RuleDecision
    family_discount: bool
    held_family_discount: bool = False


@task(name="decide_tariffs", cache_policy=NO_CACHE, persist_result=False)
def decide_tariffs(
    looked: Sequence[LookedUpPupil],
    *,
    school_year: str,
    check: int,
    previous: dict[str, tuple[str, bool]],
) -> list[PupilDecision]:
    """The rule for each pupil, with the best category of the year's earlier checks."""
    on = school_tariffs.check_reference_date(school_year, check)
    version = school_tariffs.rule_version(school_year)
    decided = []
    for pupil in looked:
        earlier, earlier_discount = previous.get(pupil.pupil, (None, False))
        if pupil.failure:
            # no facts to apply the rule to: keep the year's earlier tariff if
            # there is one (never worse), else a reviewer decides
            if earlier:
                outcome = (
                    Outcome.NOT_GRANTED
                    if earlier == school_tariffs.Category.STANDARD
                    else Outcome.GRANTED
                )
                reasons = ("kept_from_earlier_check", pupil.failure)
            else:
                outcome, reasons = Outcome.REVIEW, (pupil.failure,)
            decision = RuleDecision(outcome, reasons, version, category=earlier)
            discount = earlier is not None and earlier_discount
        else:
            decision = school_tariffs.decide(
                pupil.situation, school_year, check, earlier
            )
            discount = decision.category is not None and school_tariffs.family_discount(
                pupil.situation, decision.category, on, previously=earlier_discount
            )
        if discount:
            decision = RuleDecision(
                decision.outcome,
                (*decision.reasons, FAMILY_DISCOUNT),
                decision.rule_version,
                category=decision.category,
            )
        held_discount = False
        if decision.category is None and pupil.situation is not None:
            held_discount = any(
                school_tariffs.family_discount(
                    pupil.situation, category, on, previously=earlier_discount
                )
                for category in school_tariffs.CATEGORIES_BEST_FIRST
            )
        decided.append(PupilDecision(pupil.pupil, decision, discount, held_discount))
    return decided


def previous_categories(
    store: Store, school_year: str, check: int
) -> dict[str, tuple[str, bool]]:
    """Best category and family discount of each pupil in the year's earlier checks."""
    periods = [period_of(school_year, k) for k in range(1, check)]
    best: dict[str, tuple[str, bool]] = {}
    for decision in store.decisions_in(BENEFIT, periods):
        if not decision.category:
            continue
        discount = FAMILY_DISCOUNT in decision.reasons.split(",")
        known = best.get(decision.subject)
        if known is None or school_tariffs.is_better(decision.category, known[0]):
            best[decision.subject] = (
                decision.category,
                discount or bool(known and known[1]),
            )
        elif discount:
            best[decision.subject] = (known[0], True)
    return best


def period_of(school_year: str, check: int) -> str:
    return f"{school_year}/{check}"


def invoice_key(period: str, school_id: str, insz: str) -> str:
    """The idempotency key of a pupil's invoice of one period from one school."""
    return f"{BENEFIT}:{period}:{school_id}:{insz}"


def invoice_reference(
    school_year: str, check: int, school_id: str, insz: str, key: bytes
) -> str:
    """The invoice's printed number and file name: pseudonymous, never an INSZ."""
    return document_reference(
        "SF", f"{school_year}-{check}", pseudonym(f"{insz}:{school_id}", key)
    )


def school_invoice(
    *,
    reference: str,
    school_id: str,
    school_name: str,
    first_name: str,
    last_name: str,
    pupil_class: str,
    address: Address | None,
    school_year: str,
    check: int,
    category: str,
    family_discount: bool,
    lines: Iterable[tuple[str, Decimal, Decimal]],
    issue_date: date,
) -> Invoice:
    """A pupil's invoice of one period: each (item, quantity, unit price) line at
    the tariff's discounts, rounded by the rule, and their total.

    A family discount is dropped for a tariff it does not combine with: a reviewer
    may give the social tariff to a household that has one.
    """
    on = school_tariffs.check_reference_date(school_year, check)
    combines = parameters.load(BENEFIT).value_on("family_discount", on)
    family_discount = family_discount and category in combines["combines_with"]
    shares = school_tariffs.discounts(category, family_discount, on)
    priced = tuple(
        InvoiceLine(
            item=item,
            quantity=quantity,
            unit_price=unit_price,
            discount=shares[item],
            amount=school_tariffs.price_line(item, quantity, unit_price, shares[item]),
        )
        for item, quantity, unit_price in lines
    )
    return Invoice(
        reference=reference,
        school_name=school_name,
        school_id=school_id,
        pupil_first_name=first_name,
        pupil_last_name=last_name,
        pupil_class=pupil_class,
        address=address,
        school_year=school_year,
        check=check,
        period_label=period_label(school_year, check),
        category=category,
        family_discount=family_discount,
        lines=priced,
        total=school_tariffs.invoice_total([line.amount for line in priced]),
        invoice_date=issue_date,
        due_date=issue_date + timedelta(days=PAYMENT_DAYS),
    )


def evidence(on: date, as_of: date, income_year: int, band: str | None) -> str:
    sources = [
        f"GeefPersoon 02.02 as of {as_of}",
        f"GeefHistoriekGezinssamenstelling 02.02 on {on} as of {as_of}",
        f"GeefSociaalStatuut 03.00 on {on} as of {as_of}",
        (
            f"GeefAanslagbiljetPersonenbelasting 02.00 income year {income_year}"
            f" as of {as_of}"
        ),
    ]
    if band:
        sources.append(f"household income band: {band}")
    return json.dumps(sources)


@dataclass
class PublishedSchoolDocuments:
    lists_written: int = 0
    invoices_written: int = 0
    invoices_already_sent: int = 0
    invoices_held_for_review: int = 0
    lists_dir: str = ""
    invoices_dir: str = ""
    billing_unmatched: int = 0
    per_school: dict[str, int] = field(default_factory=dict)


def school_of_billing(
    path: str, billing_pupils: set[str], enrolled: dict[str, set[str]]
) -> str | None:
    """The school a billing file belongs to (the contract's lines name none).

    The file's name when it names exactly one school of the lists that were read
    (`billing-GENT-BKO-001-check1.csv`); otherwise the list that fits its pupils
    best (overlap over union: an after-school care's pupils are all pupils of a
    school too, and must not be billed as the school's). None when no list fits
    more than half.
    """
    named = [school for school in enrolled if school in Path(path).name]
    if len(named) == 1:
        return named[0]
    fit = {
        school: len(billing_pupils & pupils) / len(billing_pupils | pupils)
        for school, pupils in enrolled.items()
        if billing_pupils | pupils
    }
    best = max(fit, key=lambda s: (fit[s], s), default=None)
    if best is None or fit[best] <= 0.5:
        return None
    return best


@task(name="publish_school_documents", cache_policy=NO_CACHE, persist_result=False)
def publish_school_documents(
    files: SchoolFiles,
    decided: Sequence[PupilDecision],
    people: dict,
    *,
    school_year: str,
    check: int,
    store_url: str,
    run_id: str,
    out_dir: str,
    issue_date: date,
    key: bytes,
) -> PublishedSchoolDocuments:
    """Per school a list of its pupils with their tariff (PDF and CSV, no income or
    status), and per pupil with billing lines an invoice of the period, once."""
    logger = get_run_logger()
    on = school_tariffs.check_reference_date(school_year, check)
    period = period_of(school_year, check)
    out = Path(out_dir)
    report = PublishedSchoolDocuments(
        lists_dir=str(out / "schools"), invoices_dir=str(out / "invoices")
    )
    by_pupil = {d.pupil: d for d in decided}

    enrolled: dict[str, dict[str, Pupil]] = defaultdict(dict)
    names: dict[str, str] = {}
    for listing in files.pupil_lists:
        names[listing.school_id] = listing.school_name
        for pupil in listing.pupils:
            enrolled[listing.school_id][pupil.insz] = pupil

    for school_id, pupils in sorted(enrolled.items()):
        rows = []
        for pupil in pupils.values():
            decided_pupil = by_pupil.get(pupil.insz)
            category = "review"
            if decided_pupil and decided_pupil.decision.outcome is not Outcome.REVIEW:
                category = decided_pupil.decision.category or "review"
            rows.append(
                SchoolListRow(
                    last_name=pupil.last_name,
                    first_name=pupil.first_name,
                    pupil_class=pupil.pupil_class,
                    category=category,
                )
            )
        school_list = SchoolList(
            school_id=school_id,
            school_name=names[school_id],
            school_year=school_year,
            check=check,
            reference_date=on,
            rows=tuple(rows),
        )
        folder = out / "schools" / school_id
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"tarieven-{school_year}-check{check}"
        render_school_list_pdf(school_list, folder / f"{stem}.pdf")
        write_school_list_csv(school_list, folder / f"{stem}.csv")
        report.lists_written += 1

    store = Store(store_url)
    recorded = store.documents(BENEFIT, period)
    pupil_sets = {school: set(p) for school, p in enrolled.items()}
    invoices, to_record, keys, held = [], [], [], []
    billed: dict[tuple[str, str], list] = defaultdict(list)
    unbilled: dict[str, dict] = {}

    def hold(subject: str, reason: str, message: str) -> None:
        unbilled[subject] = {
            "subject": subject,
            "subject_ref": pseudonym(subject, key),
            "reasons": reason,
            "evidence": json.dumps([message]),
        }

    for billing in files.billing_files:
        name = Path(billing.path).name
        school_id = school_of_billing(billing.path, set(billing.lines), pupil_sets)
        if school_id is None:
            report.billing_unmatched += sum(len(v) for v in billing.lines.values())
            hold(
                name,
                "billing_file_without_pupil_list",
                f"{name}: geen leerlingenlijst van deze school kon gelezen worden;"
                " de facturen van dit bestand wachten tot de lijst er is.",
            )
            logger.warning(
                "billing file %s matches no pupil list that was read: its lines"
                " wait in a review case",
                name,
            )
            continue
        for insz, lines in billing.lines.items():
            if insz not in enrolled[school_id]:
                report.billing_unmatched += len(lines)
                hold(
                    f"{name}:{lines[0].line}",
                    "billing_pupil_not_on_list",
                    f"{name}, regel {lines[0].line}: deze leerling staat niet (of"
                    " niet correct) op de leerlingenlijst van de school.",
                )
                continue
            billed[(school_id, insz)].extend(lines)
    for (school_id, insz), lines in sorted(billed.items()):
        decided_pupil = by_pupil.get(insz)
        pupil = enrolled[school_id].get(insz)
        if decided_pupil is None or pupil is None:
            report.billing_unmatched += len(lines)
            continue
        category = decided_pupil.decision.category
        idempotency = invoice_key(period, school_id, insz)
        if category is None:
            # kept for publish-reviewed, which sends it at the reviewer's tariff
            report.invoices_held_for_review += 1
            held.append(
                {
                    "idempotency_key": idempotency,
                    "benefit": BENEFIT,
                    "period": period,
                    "subject": insz,
                    "subject_ref": pseudonym(insz, key),
                    "school_year": school_year,
                    "check": check,
                    "school_id": school_id,
                    "school_name": names[school_id],
                    "pupil_class": pupil.pupil_class,
                    "family_discount": decided_pupil.held_family_discount,
                    "lines": json.dumps(
                        [
                            {
                                "item": line.item,
                                "quantity": str(line.quantity),
                                "unit_price": str(line.unit_price),
                            }
                            for line in lines
                        ]
                    ),
                    "run_id": run_id,
                }
            )
            continue
        known = recorded.get(idempotency)
        if known is not None and known.status == "written":
            report.invoices_already_sent += 1
            continue
        reference = invoice_reference(school_year, check, school_id, insz, key)
        person = people.get(insz)
        invoices.append(
            school_invoice(
                reference=reference,
                school_id=school_id,
                school_name=names[school_id],
                first_name=person.first_name if person else pupil.first_name,
                last_name=person.last_name if person else pupil.last_name,
                pupil_class=pupil.pupil_class,
                address=person.address if person else None,
                school_year=school_year,
                check=check,
                category=category,
                family_discount=decided_pupil.family_discount,
                lines=[(line.item, line.quantity, line.unit_price) for line in lines],
                issue_date=issue_date,
            )
        )
        keys.append(idempotency)
        if known is None:
            to_record.append(
                {
                    "idempotency_key": idempotency,
                    "benefit": BENEFIT,
                    "period": period,
                    "subject": insz,
                    "kind": "invoice",
                    "reference": reference,
                    "path": str(out / "invoices" / f"{reference}.pdf"),
                    "run_id": run_id,
                }
            )
    store.sync_review_cases(BENEFIT, period, run_id, unbilled)
    store.hold_invoices(held)
    store.record_documents(to_record)
    if invoices:
        render_invoices(invoices, out / "invoices")
        store.mark_documents_written(keys)
    report.invoices_written = len(invoices)
    logger.info(
        "school documents: %d lists, %d invoices written, %d already sent,"
        " %d held for review",
        report.lists_written,
        report.invoices_written,
        report.invoices_already_sent,
        report.invoices_held_for_review,
    )
    return report
