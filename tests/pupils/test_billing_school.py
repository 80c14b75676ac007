"""Which school a billing file belongs to, when its lines name none."""

from __future__ import annotations

from tasks.pupils import school_of_billing

SCHOOL = {f"p{i}" for i in range(30)}
AFTER_SCHOOL_CARE = {f"p{i}" for i in range(10)}  # all of them pupils of SCHOOL too
ENROLLED = {"GENT-BS-001": SCHOOL, "GENT-BKO-001": AFTER_SCHOOL_CARE}


def test_a_file_named_after_a_school_belongs_to_that_school():
    assert (
        school_of_billing("in/billing-GENT-BKO-001-check1.csv", {"p1"}, ENROLLED)
        == "GENT-BKO-001"
    )


def test_after_school_care_billing_is_not_taken_for_the_schools():
    lines = {f"p{i}" for i in range(9)}
    assert school_of_billing("facturatie.csv", lines, ENROLLED) == "GENT-BKO-001"
    assert school_of_billing("facturatie.csv", set(SCHOOL), ENROLLED) == "GENT-BS-001"


def test_a_file_no_list_fits_belongs_to_no_school():
    assert school_of_billing("facturatie.csv", {"x1", "x2", "p1"}, ENROLLED) is None
    assert school_of_billing("facturatie.csv", {"p1"}, {}) is None
