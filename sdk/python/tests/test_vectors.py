"""The vectors the TypeScript SDK's tests run too (sdk/test-vectors): byte-identical JSON, the same fields named."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from agentspec import ManifestError, parse_manifest, run_audit, run_health_checks, summarize
from agentspec._json import dumps

from .conftest import VECTORS, vectors


@pytest.mark.parametrize("vector", vectors("audit.json"), ids=lambda v: v["name"])
def test_audit(vector: dict[str, Any]) -> None:
    manifest = parse_manifest(vector["manifest"]).manifest
    result = run_audit(manifest, now=datetime.fromisoformat(f"{vector['today']}T12:00:00+00:00"))
    assert dumps(result) == vector["expected"]


@pytest.mark.parametrize("vector", vectors("health.json"), ids=lambda v: v["name"])
def test_health_report(vector: dict[str, Any]) -> None:
    manifest = parse_manifest(vector["manifest"], base_dir=str(VECTORS)).manifest
    checks = run_health_checks(
        manifest,
        base_dir=str(VECTORS),
        env=vector["env"],
        registered_tools=vector["registeredTools"],
        categories=vector["categories"],
    )
    now = datetime.fromisoformat(vector["now"].replace("Z", "+00:00"))
    assert dumps(summarize(manifest["metadata"]["name"], checks, now)) == vector["expected"]


@pytest.mark.parametrize("vector", vectors("manifest-errors.json"), ids=lambda v: v["name"])
def test_manifest_errors_name_the_same_fields(vector: dict[str, Any]) -> None:
    with pytest.raises(ManifestError) as raised:
        parse_manifest(vector["manifest"])
    assert sorted({issue.path for issue in raised.value.issues}) == vector["expectedPaths"]
