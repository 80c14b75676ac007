"""Voucher codes: the code a citizen shows or types to exchange a benefit.

A code is twelve symbols in three groups, `7K4M-Q9XZ-GB2T`: eleven symbols derived
from the letter's idempotency key and a secret with HMAC-SHA256, and one check
symbol. Because the code is derived and not drawn at random, a rerun of a flow
prints the same code for the same household and year, and nobody without the secret
can compute or test a code from a household's data.

The alphabet leaves out 0, O, 1 and I, which people misread on paper; codes are
read case-insensitively, with or without the dashes and spaces people type. The check
symbol (Luhn mod 32) catches every single mistyped symbol and nearly every swap of
two neighbouring symbols before a code is looked up.

Eleven symbols carry 55 bits: among the few tens of thousands of codes a city prints
in a year a collision is about one in a hundred million, and the store's unique
constraint on the code is what guarantees uniqueness.
"""

from __future__ import annotations

import hashlib
import hmac
import re

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PAYLOAD_LENGTH = 11
GROUP_LENGTH = 4
MIN_SECRET_BYTES = 16

# Bumping the version changes every code: only for a new scheme, never in a year
# whose codes are already printed.
_DOMAIN = b"proactief/voucher-code/v1\x00"
_TYPED_SEPARATORS = re.compile(r"[\s\-_.]")
_BASE = len(ALPHABET)
# 32 symbols: each takes exactly five bits of the digest, so no symbol is likelier.
_BITS_PER_SYMBOL = _BASE.bit_length() - 1


def make_voucher_code(idempotency_key: str, secret: bytes) -> str:
    """The voucher code of the letter with this idempotency key.

    `idempotency_key` names the subject, benefit and period, as the store records it
    before the letter is sent; `secret` is the city's voucher key (at least 16 bytes),
    kept apart from the key of the pseudonymous references.
    """
    if not idempotency_key:
        raise ValueError(
            "The idempotency key of a voucher is empty; pass the key the store "
            "records for the letter (subject, benefit, period)."
        )
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(
            f"The voucher secret has {len(secret)} bytes; use a random secret of at "
            f"least {MIN_SECRET_BYTES} bytes so that codes cannot be guessed."
        )
    digest = hmac.new(
        secret, _DOMAIN + idempotency_key.encode(), hashlib.sha256
    ).digest()
    number = int.from_bytes(digest, "big")
    payload = "".join(
        ALPHABET[(number >> (_BITS_PER_SYMBOL * i)) % _BASE]
        for i in range(PAYLOAD_LENGTH)
    )
    return _group(payload + _check_symbol(payload))


def normalize_voucher_code(typed: str) -> str:
    """The code as printed (`XXXX-XXXX-XXXX`) from what someone typed or scanned.

    Raises ValueError when it is not twelve symbols of the alphabet; the check
    symbol is not verified here (see `is_valid_voucher_code`).
    """
    compact = _TYPED_SEPARATORS.sub("", typed or "").upper()
    if len(compact) != PAYLOAD_LENGTH + 1 or any(c not in ALPHABET for c in compact):
        raise ValueError(
            f"{typed!r} is not a voucher code: expected twelve letters and digits "
            "(no 0, O, 1 or I), for example 7K4M-Q9XZ-GB2T."
        )
    return _group(compact)


def is_valid_voucher_code(typed: str) -> bool:
    """True when the text is a well-formed code whose check symbol matches."""
    try:
        code = normalize_voucher_code(typed)
    except ValueError:
        return False
    compact = code.replace("-", "")
    return _check_symbol(compact[:-1]) == compact[-1]


def _check_symbol(payload: str) -> str:
    # Luhn mod N: doubling every other symbol from the right is what makes a swap
    # of two neighbours change the sum.
    total = 0
    factor = 2
    for symbol in reversed(payload):
        addend = factor * ALPHABET.index(symbol)
        total += addend // _BASE + addend % _BASE
        factor = 3 - factor
    return ALPHABET[(_BASE - total % _BASE) % _BASE]


def _group(compact: str) -> str:
    return "-".join(
        compact[i : i + GROUP_LENGTH] for i in range(0, len(compact), GROUP_LENGTH)
    )
