from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from agentspec import _json, grade_for, load_manifest, parse_manifest, run_audit
from agentspec.audit import CHECKS, _round, audit_rules


def test_every_rule_has_a_check_and_there_are_27() -> None:
    ids = [rule["id"] for rule in audit_rules()]
    assert len(ids) == 27
    assert set(ids) == set(CHECKS)


def test_rounds_halves_up_like_javascript() -> None:
    assert [_round(x) for x in (0.5, 1.5, 2.5, 84.5, 84.49)] == [1, 2, 3, 85, 84]


def test_grades() -> None:
    assert [grade_for(s) for s in (100, 90, 89, 75, 74, 60, 59, 45, 44, 0)] == list("AABBCCDDFF")


def test_the_example_scores_100(coach_path: Path) -> None:
    result = run_audit(load_manifest(coach_path).manifest)
    assert (result["score"], result["grade"], result["violations"], result["rulesChecked"]) == (100, "A", [], 27)


def test_a_suppression_expires_at_the_end_of_its_day(coach_path: Path) -> None:
    manifest = load_manifest(coach_path).manifest
    del manifest["spec"]["model"]["fallback"]
    manifest["spec"]["compliance"] = {"suppressions": [{"rule": "MODEL-01", "reason": "r", "expires": "2026-12-01"}]}
    on_the_day = run_audit(manifest, now=datetime(2026, 12, 1, 23, 0, tzinfo=timezone.utc))
    after = run_audit(manifest, now=datetime(2026, 12, 2, 0, 1, tzinfo=timezone.utc))
    assert on_the_day["violations"] == [] and on_the_day["rulesChecked"] == 26
    assert [v["ruleId"] for v in after["violations"]] == ["MODEL-01"]


@pytest.mark.parametrize(
    ("value", "javascript"),
    [
        (500, "500"),
        (500.0, "500"),
        (0.5, "0.5"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (1.5e16, "15000000000000000"),
        (1e21, "1e+21"),
        (123.456, "123.456"),
    ],
)
def test_numbers_in_warnings_read_as_javascript_writes_them(value: float, javascript: str) -> None:
    assert _json.number(value) == javascript


def test_manifest_warnings_leave_the_score_alone() -> None:
    manifest = parse_manifest(
        {
            "apiVersion": "agentspec.io/v1",
            "kind": "AgentSpec",
            "metadata": {"name": "a", "version": "1.0.0", "description": "d"},
            "spec": {
                "model": {"provider": "a", "id": "b", "costControls": {"maxMonthlyUSD": 10, "alertAtUSD": 20.5}},
                "prompts": {"system": "s"},
            },
        }
    ).manifest
    scored = run_audit(manifest)
    manifest["spec"]["model"]["costControls"]["alertAtUSD"] = 5
    assert run_audit(manifest)["score"] == scored["score"]
    assert scored["warnings"] == [
        {
            "field": "spec.model.costControls.alertAtUSD",
            "message": "20.5 is above maxMonthlyUSD (10): the limit is reached before the alert",
        }
    ]
