"""docs/sdk-python.md shows the files in sdk/python/examples as they stand, and they run as it says."""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from .conftest import REPO
from .http_recorder import recording_server

DOC = (REPO / "docs" / "sdk-python.md").read_text(encoding="utf-8")
SNIPPETS = re.findall(r"<!-- snippet: (\S+) -->\n```python\n(.*?)```", DOC, re.DOTALL)


def test_the_snippets_are_the_example_files() -> None:
    assert [path for path, _ in SNIPPETS] == ["sdk/python/examples/audit.py", "sdk/python/examples/fastapi_app.py"]
    for path, code in SNIPPETS:
        assert code == (REPO / path).read_text(encoding="utf-8"), path


@pytest.fixture
def agent_dir(tmp_path: Path, coach_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(coach_path, tmp_path / "agent.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_audit_example_prints_score_grade_and_violations(agent_dir: Path) -> None:
    manifest = agent_dir / "agent.yaml"
    manifest.write_text(manifest.read_text().replace("id: llama-3.3-70b-versatile", "id: latest"))
    output = subprocess.run(  # noqa: S603 - this interpreter, a file of this repository
        [sys.executable, str(REPO / "sdk/python/examples/audit.py")],
        capture_output=True,
        text=True,
        check=True,
        cwd=agent_dir,
        env={**os.environ},
    ).stdout
    assert output.splitlines() == [
        "fitness-coach: 93/100 (A)",
        'MODEL-02 [medium] The model id is "latest": behaviour changes whenever the provider ships a new model.',
        "SEC-LLM-05 [medium] The model is not fully identified by provider and a pinned id.",
    ]


def test_the_fastapi_example_serves_health_and_pushes_from_its_lifespan(
    agent_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with recording_server() as server:
        monkeypatch.setenv("AGENTSPEC_URL", f"{server.url}/agents/report")
        monkeypatch.setenv("AGENTSPEC_KEY", "example-key-1234")
        monkeypatch.delenv("AGENTSPEC_CONTROL_PLANE_URL", raising=False)
        app = runpy.run_path(str(REPO / "sdk/python/examples/fastapi_app.py"))["app"]
        with TestClient(app) as client:
            report = client.get("/agentspec/health").json()
            assert report["agentName"] == "fitness-coach"
            assert {c["id"]: c["status"] for c in report["checks"]}["tool:plan-workout"] == "pass"
            pushed = server.wait_for(1)[0]
            assert pushed.headers["authorization"] == "Bearer example-key-1234"
            assert pushed.json()["health"]["agentName"] == "fitness-coach"
        from agentspec import is_push_mode_active

        assert not is_push_mode_active()
