from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from agentspec import grade_for, load_manifest, run_audit
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
