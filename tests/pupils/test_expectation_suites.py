"""The suites of school files load, and every reason code they give has a message."""

from __future__ import annotations

import json

import pytest

from proactief import pupils
from proactief.quality import _load_suite, suite_path

FALLBACK = "voldoet niet aan controle"


@pytest.mark.parametrize("name", ["pupil_list", "billing_lines"])
def test_the_suite_loads_and_every_check_has_a_reason_code(name):
    suite = _load_suite(name)
    assert suite.name == name
    content = json.loads(suite_path(name).read_text(encoding="utf-8"))
    codes = [e["meta"]["reason_code"] for e in content["expectations"]]
    assert len(codes) == len(set(codes)) == len(suite.expectations)


def _codes(name: str) -> list[str]:
    content = json.loads(suite_path(name).read_text(encoding="utf-8"))
    return [e["meta"]["reason_code"] for e in content["expectations"]]


@pytest.mark.parametrize("reason", _codes("pupil_list"))
def test_every_pupil_list_reason_has_its_own_message(reason):
    record = pupils._Record(7, {"pupil_insz": "", "school_id": "X", "since": ""})
    message = pupils._pupil_message(record, reason, "GENT-BSO-017", {7: 3})
    assert message.startswith("Regel 7, kolom ")
    assert FALLBACK not in message


@pytest.mark.parametrize("reason", _codes("billing_lines"))
def test_every_billing_reason_has_its_own_message(reason):
    message = pupils._billing_message(pupils._Record(7, {"pupil_insz": ""}), reason)
    assert message.startswith("Regel 7, kolom ")
    assert FALLBACK not in message
