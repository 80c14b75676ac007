"""Data-quality checks over looked-up records, with Great Expectations suites.

A suite is a JSON file in `expectations/` (the repository's top level, or the path
given). Each expectation carries a `reason_code` in its meta: a row that fails it
becomes a review case with that code. Only row ids come back from a validation,
never the failing values, which may be personal data.

Two guards run before the suite, since an expectation over values passes on an
empty table: an empty cohort, or one where more than `max_failure_share` of the
rows fail, stops the run with a CohortError instead of flooding the reviewers.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

from proactief.errors import CohortError

# Great Expectations reports usage over the network unless told not to; this
# machine must send nothing anywhere.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

EXPECTATIONS_DIR = Path(__file__).resolve().parents[1] / "expectations"
DEFAULT_MAX_FAILURE_SHARE = 0.5


@dataclass
class QualityReport:
    """Which rows failed which checks, by row id."""

    rows: int
    failures: dict[str, list[str]] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return len(self.failures)

    def reason_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for reasons in self.failures.values():
            for reason in reasons:
                counts[reason] += 1
        return dict(counts)


def suite_path(name: str) -> Path:
    return EXPECTATIONS_DIR / f"{name}.json"


@cache
def _load_suite(name: str):
    import great_expectations as gx

    content = json.loads(suite_path(name).read_text(encoding="utf-8"))
    return gx.ExpectationSuite(
        name=content["name"],
        expectations=content["expectations"],
        meta=content.get("meta", {}),
    )


@lru_cache(maxsize=1)
def _batch_definition():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("proactief").add_dataframe_asset("rows")
    return asset.add_batch_definition_whole_dataframe("whole")


def check_rows(
    suite: str,
    rows: list[dict],
    *,
    row_id: str = "row",
    what: str = "rows",
    max_failure_share: float = DEFAULT_MAX_FAILURE_SHARE,
    already_failed: int = 0,
) -> QualityReport:
    """Validate `rows` against a suite; raise CohortError for an unusable cohort.

    `already_failed` counts rows that failed before they could be checked (for
    example registry look-ups that kept failing): they weigh in the share.
    """
    total = len(rows) + already_failed
    if total == 0:
        raise CohortError(
            f"the cohort has no {what}: nothing to decide. Check the input files"
            " (is the city's residents.csv empty?)"
        )
    import pandas as pd

    report = QualityReport(rows=len(rows))
    if rows:
        frame = pd.DataFrame.from_records(rows)
        batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(
            _load_suite(suite),
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": [row_id],
            },
        )
        failures: dict[str, list[str]] = defaultdict(list)
        for outcome in result.results:
            if outcome.success:
                continue
            code = outcome.expectation_config.meta.get("reason_code", "data_quality")
            for hit in outcome.result.get("unexpected_index_list") or []:
                failures[str(hit[row_id])].append(code)
            if outcome.exception_info and outcome.exception_info.get(
                "raised_exception"
            ):
                raise CohortError(
                    f"the data-quality suite {suite!r} could not run one of its"
                    f" checks ({outcome.expectation_config.type}); check that the"
                    " looked-up rows have the columns the suite names"
                )
        report.failures = dict(failures)
    failed = report.failed + already_failed
    if failed / total > max_failure_share:
        raise CohortError(
            f"{failed} of {total} {what} failed the data-quality checks or the"
            f" registry (more than {max_failure_share:.0%}): the run stops so that"
            " reviewers are not flooded. Reasons: "
            + ", ".join(
                [f"{code} ×{n}" for code, n in sorted(report.reason_counts().items())]
                + ([f"registry_failed ×{already_failed}"] if already_failed else [])
            )
        )
    return report
