"""Documents Proactief prints: the voucher letters of the free garbage-bag benefit.

Templates, stylesheets and the fonts they use ship inside this package, so that a
letter looks the same on every machine and never depends on the fonts installed.
"""

from proactief.documents.letters import (
    DEFAULT_SENDER,
    LetterRenderer,
    LetterSender,
    VoucherLetter,
    bare_render,
    format_address_lines,
    format_date,
    format_euro,
    merge_pdfs,
    render_many,
)
from proactief.documents.vouchers import (
    is_valid_voucher_code,
    make_voucher_code,
    normalize_voucher_code,
)

__all__ = [
    "DEFAULT_SENDER",
    "LetterRenderer",
    "LetterSender",
    "VoucherLetter",
    "bare_render",
    "format_address_lines",
    "format_date",
    "format_euro",
    "is_valid_voucher_code",
    "make_voucher_code",
    "merge_pdfs",
    "normalize_voucher_code",
    "render_many",
]
