"""What every rule returns: one of three outcomes, with reasons and a rule version."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Outcome(StrEnum):
    GRANTED = "granted"
    NOT_GRANTED = "not_granted"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class RuleDecision:
    """A rule's verdict on one subject. Amounts are euro `Decimal`s or None."""

    outcome: Outcome
    reasons: tuple[str, ...]
    rule_version: str
    amount: Decimal | None = None
    extra_credit: Decimal | None = None
    category: str | None = None
