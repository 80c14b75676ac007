"""Invoices of the school and childcare social tariff: one pupil, one billing period.

An `Invoice` holds what one invoice prints: the period's billing lines at the
pupil's tariff, each already priced by the rule (rounded half-up to the cent per
line), and their total. An invoice that does not add up cannot be made: the total
must be the sum of the printed lines, and each line's amount must follow from its
quantity, unit price and discount (POLICY.md section 2).

An `InvoiceRenderer`, created once per process, turns invoices into A4 PDFs for a
left-window envelope, with the machinery and fonts the voucher letters use
(`rendering`). The invoice names the tariff (`Kortingstarief A`), never why it
applies: no income, no status. The payment goes to the issuer's account with a
Belgian structured communication derived from the invoice's reference.
Nothing here logs a name, a national number or an amount.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from stdnum import iban as iban_numbers
from stdnum.be import iban as belgian_iban
from stdnum.be import ogm_vcs
from stdnum.exceptions import ValidationError

from proactief.documents.formatting import (
    address_block_size,
    fits_address_line,
    format_address_lines,
    format_date,
    format_euro,
    format_number,
    format_percentage,
    join_text,
)
from proactief.documents.rendering import (
    POOL_FROM,
    DocumentRenderer,
    checked_reference,
    render_files,
)
from proactief.documents.tariff_labels import item_label, tariff_label
from proactief.facts import Address

__all__ = [
    "DEFAULT_ISSUER",
    "Invoice",
    "InvoiceIssuer",
    "InvoiceLine",
    "InvoiceRenderer",
    "render_invoices",
    "structured_communication",
]

_CENT = Decimal("0.01")
# Changing the domain changes every communication: only for a new scheme, never
# while invoices with the old one are still unpaid.
_COMMUNICATION_DOMAIN = b"proactief/structured-communication/v1\x00"
_COMMUNICATION_DIGITS = 10
_TO_THE_PARENTS_OF = "Aan de ouders van"


@dataclass(frozen=True)
class InvoiceIssuer:
    """Who sends the invoice, where parents ask questions and where they pay."""

    name: str
    service: str
    address_lines: tuple[str, ...]
    email: str
    website: str
    payee: str
    iban: str
    question_days: int = 30


# Fictitious, for the demo and the tests: service addresses on the example.gent
# domain, and an account number of zeros at a Belgian bank code, so that it passes
# the IBAN and Belgian check digits. A city installation passes its own issuer.
DEFAULT_ISSUER = InvoiceIssuer(
    name="Stad Gent",
    service="Dienst Kinderopvang en Buitenschoolse Opvang",
    address_lines=("Voorbeeldlaan 1", "9000 Gent"),
    email="schooltarief@example.gent",
    website="www.example.gent/schooltarief",
    payee="Stad Gent",
    iban="BE26 0910 0000 0029",
)


@dataclass(frozen=True, repr=False)
class InvoiceLine:
    """One billing line at the pupil's tariff.

    `item` is `care_hours`, `meals` or `activity`; `discount` is the share off the
    price (0.5 is half off); `amount` is the line's price after the discount,
    rounded half-up to the cent, as the rule computed it. Its repr shows only the
    item: an amount stays out of log lines.
    """

    item: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    amount: Decimal

    def __post_init__(self) -> None:
        label = item_label(self.item)
        for field in ("quantity", "unit_price", "discount", "amount"):
            value = getattr(self, field)
            # The value is not quoted: it is an amount.
            if not isinstance(value, Decimal) or not value.is_finite():
                raise ValueError(
                    f"The {field} of a {label} line is a {type(value).__name__}, not "
                    "a finite Decimal; pass a Decimal, never a float."
                )
        if self.quantity < 0 or self.unit_price < 0:
            raise ValueError(
                f"A {label} line has a negative quantity or unit price; a correction "
                "goes on a credit note, which is not printed by this module."
            )
        if not 0 <= self.discount <= 1:
            raise ValueError(
                f"The discount of a {label} line is not a share between 0 and 1; "
                "pass 0.5 for half off."
            )
        if self.amount != self.expected_amount():
            raise ValueError(
                f"The amount of a {label} line is not its quantity times its unit "
                "price less its discount, rounded half-up to the cent; price the "
                "line with rules.school_tariffs.price_line."
            )

    def expected_amount(self) -> Decimal:
        """Quantity times unit price less the discount, rounded half-up to the cent."""
        price = self.quantity * self.unit_price * (1 - self.discount)
        return price.quantize(_CENT, rounding=ROUND_HALF_UP)

    def __repr__(self) -> str:
        return f"InvoiceLine(item={self.item!r})"


@dataclass(frozen=True, repr=False)
class Invoice:
    """What one invoice prints, for the parents of one pupil and one billing period.

    `reference` is the invoice's pseudonymous number (never an INSZ): it is printed,
    names the file and gives the payment's structured communication. `address` is
    the pupil's registered address; without one, the invoice is handed out at
    school. `category` is the tariff code (`social`, `low_income_a`,
    `low_income_b`, `standard`). Its repr shows only the reference, school year and
    check, so that an invoice in a log line carries no name, address or amount.

    Raises ValueError when the invoice would not add up: no lines, a total that is
    not the sum of the lines, or a tariff that does not exist.
    """

    reference: str
    school_name: str
    school_id: str
    pupil_first_name: str
    pupil_last_name: str
    pupil_class: str
    address: Address | None
    school_year: str
    check: int
    period_label: str
    category: str
    family_discount: bool
    lines: tuple[InvoiceLine, ...]
    total: Decimal
    invoice_date: date
    due_date: date

    def __post_init__(self) -> None:
        checked_reference(self.reference)
        tariff_label(self.category, self.family_discount)
        if not join_text(self.pupil_first_name, self.pupil_last_name):
            raise ValueError(
                f"Invoice {self.reference!r} has no pupil name; an invoice must say "
                "whom it is for."
            )
        if not self.lines:
            raise ValueError(
                f"Invoice {self.reference!r} has no lines; send no invoice for a "
                "period without billing."
            )
        if not all(isinstance(line, InvoiceLine) for line in self.lines):
            raise ValueError(
                f"The lines of invoice {self.reference!r} are not InvoiceLines; "
                "make each line with InvoiceLine."
            )
        # The amounts are not quoted: they stay out of logs and state messages.
        if not isinstance(self.total, Decimal) or self.total != sum(
            (line.amount for line in self.lines), Decimal(0)
        ):
            raise ValueError(
                f"The total of invoice {self.reference!r} is not the sum of its "
                "lines; an invoice must never print a total that differs from its "
                "lines: pass the sum of the line amounts."
            )
        if self.due_date < self.invoice_date:
            raise ValueError(
                f"Invoice {self.reference!r} is due before it is dated; pass a due "
                "date on or after the invoice date."
            )

    def __repr__(self) -> str:
        return (
            f"Invoice(reference={self.reference!r}, "
            f"school_year={self.school_year!r}, check={self.check})"
        )


def structured_communication(reference: str) -> str:
    """The Belgian structured communication of an invoice: `+++123/4567/89002+++`.

    Ten digits derived from the reference with SHA-256, and the two check digits of
    their remainder modulo 97 (97 for none), as Belgian banks check them. Derived
    and not drawn at random, so a rerun prints the same communication for the same
    invoice. Ten digits are few for the hundreds of thousands of invoices of many
    school years: the store's unique constraint on the communication, not this
    function, is what keeps two unpaid invoices from sharing one.
    """
    digest = hashlib.sha256(
        _COMMUNICATION_DOMAIN + checked_reference(reference).encode()
    ).digest()
    base = int.from_bytes(digest, "big") % 10**_COMMUNICATION_DIGITS
    digits = f"{base:0{_COMMUNICATION_DIGITS}d}"
    return f"+++{ogm_vcs.format(digits + ogm_vcs.calc_check_digits(digits))}+++"


class InvoiceRenderer(DocumentRenderer[Invoice]):
    """Renders invoices to PDF, reusing its fonts and stylesheet.

    Create one per process and keep it: it is not shared between threads (threads
    do not make WeasyPrint faster; processes do, see `render_invoices`). Raises
    ValueError when the issuer's IBAN fails its check digits.
    """

    template_name = "invoice.html"
    stylesheet_name = "invoice.css"

    def __init__(self, issuer: InvoiceIssuer = DEFAULT_ISSUER) -> None:
        try:
            iban_numbers.validate(issuer.iban)
        except ValidationError as exc:
            raise ValueError(
                f"The issuer's IBAN {issuer.iban!r} fails its check digits; pass "
                "the account parents pay into, as printed on its bank statement."
            ) from exc
        self.issuer = issuer
        super().__init__()

    def template_context(self, invoice: Invoice) -> dict[str, Any]:
        """What the invoice's template is given."""
        return _context(invoice, self.issuer)


def render_invoices(
    invoices: Sequence[Invoice],
    out_dir: str | os.PathLike[str],
    *,
    processes: int | None = None,
    issuer: InvoiceIssuer = DEFAULT_ISSUER,
    pool_from: int = POOL_FROM,
) -> list[Path]:
    """Renders each invoice to `<out_dir>/<reference>.pdf`; returns the paths in order.

    From `pool_from` invoices on, and with more than one process (`processes`
    defaults to the number of CPUs), the invoices are shared among worker
    processes, one renderer each; see `rendering.render_files`. A script that calls
    this must do so under `if __name__ == "__main__":`.
    """
    return render_files(
        invoices,
        out_dir,
        InvoiceRenderer,
        (issuer,),
        processes=processes,
        pool_from=pool_from,
        noun="invoices",
    )


def _context(invoice: Invoice, issuer: InvoiceIssuer) -> dict[str, Any]:
    pupil = join_text(invoice.pupil_first_name, invoice.pupil_last_name)
    if invoice.address is None:
        # No registered address to post it to: the school hands it to the pupil.
        postal = [
            join_text("Klas", invoice.pupil_class),
            join_text(invoice.school_name),
        ]
    else:
        _, *postal = format_address_lines(
            invoice.pupil_first_name, invoice.pupil_last_name, invoice.address
        )
    addressee = f"{_TO_THE_PARENTS_OF} {pupil}"
    # A long name goes on a line of its own rather than wrap at a random word.
    if fits_address_line(addressee):
        address_lines = [addressee, *postal]
    else:
        address_lines = [_TO_THE_PARENTS_OF, pupil, *postal]
    account = iban_numbers.compact(issuer.iban)
    return {
        "issuer": issuer,
        "address_lines": address_lines,
        "address_size": address_block_size(address_lines),
        "reference": invoice.reference,
        "invoice_date": format_date(invoice.invoice_date),
        "due_date": format_date(invoice.due_date),
        "created": invoice.invoice_date.isoformat(),
        "question_deadline": format_date(
            invoice.invoice_date + timedelta(days=issuer.question_days)
        ),
        "school_year": invoice.school_year,
        "period_label": invoice.period_label,
        "pupil": pupil,
        "pupil_class": join_text(invoice.pupil_class),
        "school_name": join_text(invoice.school_name),
        "tariff": tariff_label(invoice.category, invoice.family_discount),
        "lines": [
            {
                "label": item_label(line.item),
                "quantity": format_number(line.quantity),
                "unit_price": format_euro(
                    line.unit_price, places=_price_places(line.unit_price)
                ),
                "discount": format_percentage(line.discount),
                "amount": format_euro(line.amount),
            }
            for line in invoice.lines
        ],
        "total": format_euro(invoice.total),
        "to_pay": invoice.total > 0,
        "iban": iban_numbers.format(account),
        "bic": _bic(account),
        "communication": structured_communication(invoice.reference),
    }


def _price_places(price: Decimal) -> int:
    # A unit price prints to the cent, or to the tenth of a cent and beyond when a
    # tariff has one: an invoice never shows a rounded price its lines were not
    # priced at.
    exponent = price.normalize().as_tuple().exponent
    return max(-exponent if isinstance(exponent, int) else 0, 2)


def _bic(account: str) -> str | None:
    if not account.startswith("BE"):
        return None
    return belgian_iban.to_bic(account)
