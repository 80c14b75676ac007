"""The household look-up suite in expectations/ sends the right rows to review."""

from __future__ import annotations

import pytest

from proactief.errors import CohortError
from proactief.quality import check_rows


def _row(row, refs=1, address=True, missing=0):
    return {
        "row": row,
        "reference_persons": refs,
        "has_address": address,
        "members_missing": missing,
    }


def test_failing_households_come_back_by_id_with_reason_codes():
    rows = [_row(f"h{i}") for i in range(10)]
    rows[2] = _row("h2", refs=0)
    rows[5] = _row("h5", refs=2, address=False)
    rows[7] = _row("h7", missing=1)
    report = check_rows("household_lookup", rows, what="households")
    assert report.failures == {
        "h2": ["reference_person_count"],
        "h5": ["reference_person_count", "address_missing"],
        "h7": ["member_missing_from_registry"],
    }
    assert report.reason_counts()["reference_person_count"] == 2


def test_clean_households_pass():
    report = check_rows("household_lookup", [_row("a"), _row("b")])
    assert report.failures == {}
    assert report.rows == 2


def test_empty_cohort_stops_the_run():
    with pytest.raises(CohortError, match="has no households"):
        check_rows("household_lookup", [], what="households")


def test_mostly_failing_cohort_stops_the_run():
    rows = [_row(f"h{i}", refs=0) for i in range(6)] + [_row("ok1"), _row("ok2")]
    with pytest.raises(CohortError, match="6 of 8 households"):
        check_rows("household_lookup", rows, what="households")


def test_registry_failures_count_towards_the_share():
    with pytest.raises(CohortError, match="registry_failed ×3"):
        check_rows("household_lookup", [_row("a")], what="households", already_failed=3)
