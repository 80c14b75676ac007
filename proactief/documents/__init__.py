"""Documents Proactief prints: voucher letters of the free garbage-bag benefit, and
the invoices and school lists of the school and childcare social tariff.

Templates, stylesheets and the fonts they use ship inside this package, so that a
document looks the same on every machine and never depends on the fonts installed.
The rendering machinery (`rendering`) and the Dutch formatting of amounts, dates and
addresses (`formatting`) are shared by all of them.
"""

from proactief.documents.formatting import (
    format_address_lines,
    format_date,
    format_euro,
    format_number,
    format_percentage,
)
from proactief.documents.invoices import (
    DEFAULT_ISSUER,
    Invoice,
    InvoiceIssuer,
    InvoiceLine,
    InvoiceRenderer,
    render_invoices,
    structured_communication,
)
from proactief.documents.letters import (
    DEFAULT_SENDER,
    LetterRenderer,
    LetterSender,
    VoucherLetter,
    bare_render,
    render_many,
)
from proactief.documents.rendering import merge_pdfs
from proactief.documents.school_lists import (
    SchoolList,
    SchoolListRenderer,
    SchoolListRow,
    render_school_list_pdf,
    write_school_list_csv,
)
from proactief.documents.tariff_labels import category_label, tariff_label
from proactief.documents.vouchers import (
    is_valid_voucher_code,
    make_voucher_code,
    normalize_voucher_code,
)

__all__ = [
    "DEFAULT_ISSUER",
    "DEFAULT_SENDER",
    "Invoice",
    "InvoiceIssuer",
    "InvoiceLine",
    "InvoiceRenderer",
    "LetterRenderer",
    "LetterSender",
    "SchoolList",
    "SchoolListRenderer",
    "SchoolListRow",
    "VoucherLetter",
    "bare_render",
    "category_label",
    "format_address_lines",
    "format_date",
    "format_euro",
    "format_number",
    "format_percentage",
    "is_valid_voucher_code",
    "make_voucher_code",
    "merge_pdfs",
    "normalize_voucher_code",
    "render_invoices",
    "render_many",
    "render_school_list_pdf",
    "structured_communication",
    "tariff_label",
    "write_school_list_csv",
]
