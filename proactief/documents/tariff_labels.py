"""How the school and childcare social tariff is named on paper, in Dutch.

Parents and schools read a tariff's name, never why it applies: no label names an
income, an income limit or a social status (POLICY.md section 2, DESIGN.md on data
minimisation). Invoices and school lists take their words from here, so that both
name a tariff the same way.
"""

from __future__ import annotations

__all__ = [
    "CATEGORY_LABELS",
    "ITEM_LABELS",
    "REVIEW",
    "REVIEW_LABEL",
    "category_label",
    "item_label",
    "tariff_label",
]

CATEGORY_LABELS = {
    "social": "Sociaal tarief",
    "low_income_a": "Kortingstarief A",
    "low_income_b": "Kortingstarief B",
    "standard": "Standaardtarief",
}
# A pupil whose case waits for a reviewer is on the school list, without a tariff.
REVIEW = "review"
REVIEW_LABEL = "In behandeling"
FAMILY_DISCOUNT_LABEL = "gezinskorting"
# The categories the family discount combines with (POLICY.md section 2).
_FAMILY_DISCOUNT_COMBINES_WITH = frozenset({"low_income_a", "low_income_b", "standard"})

ITEM_LABELS = {
    "care_hours": "Opvanguren",
    "meals": "Maaltijden",
    "activity": "Activiteiten",
}


def category_label(category: str) -> str:
    """The Dutch name of a tariff category, or of a case still in review."""
    if category == REVIEW:
        return REVIEW_LABEL
    try:
        return CATEGORY_LABELS[category]
    except KeyError:
        raise ValueError(
            f"Tariff category {category!r} is not known; use one of "
            f"{', '.join(CATEGORY_LABELS)} or {REVIEW!r}."
        ) from None


def tariff_label(category: str, family_discount: bool) -> str:
    """The tariff as an invoice names it: `Kortingstarief A met gezinskorting`."""
    if category == REVIEW:
        raise ValueError(
            "A pupil in review has no tariff to bill yet; send the invoice once a "
            "reviewer has decided."
        )
    label = category_label(category)
    if not family_discount:
        return label
    if category not in _FAMILY_DISCOUNT_COMBINES_WITH:
        raise ValueError(
            f"The family discount does not combine with category {category!r} "
            "(POLICY.md section 2); pass family_discount=False for it."
        )
    return f"{label} met {FAMILY_DISCOUNT_LABEL}"


def item_label(item: str) -> str:
    """The Dutch name of a billing item: `Opvanguren`, `Maaltijden`, `Activiteiten`."""
    try:
        return ITEM_LABELS[item]
    except KeyError:
        raise ValueError(
            f"Billing item {item!r} is not known; use one of {', '.join(ITEM_LABELS)}."
        ) from None
