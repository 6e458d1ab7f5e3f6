from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentspec import AgentSpecReporter, build_push_payload, is_push_mode_active, redact, stop_push_mode
from agentspec._json import size
from agentspec.push import MAX_PAYLOAD_BYTES, parse_retry_after, send_with_retry

from .http_recorder import recording_server

# A token shaped like the control plane's (header.payload.signature): redacted wherever it appears.
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJpbnN0YW5jZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


@pytest.fixture(autouse=True)
def no_push_mode_left() -> Iterator[None]:
    yield
    stop_push_mode()


def push_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "agentspec-push-mode"]


def test_redacts_given_secrets_jwts_and_bearer_credentials() -> None:
    text = f"key admin-secret-123 token {TOKEN} header Bearer abc.def"
    assert redact(text, ["admin-secret-123"]) == "key [REDACTED] token [REDACTED] header Bearer [REDACTED]"


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None


def test_retries_5xx_and_429_honouring_retry_after_and_never_4xx() -> None:
    answers = iter([httpx.Response(503), httpx.Response(429, headers={"retry-after": "2"}), httpx.Response(204)])
    slept: list[float] = []
    response = send_with_retry(lambda: next(answers), sleep=slept.append)
    assert response.status_code == 204
    assert len(slept) == 2 and 0 <= slept[0] <= 0.5 and slept[1] == 2.0
    calls: list[int] = []

    def refused() -> httpx.Response:
        calls.append(1)
        return httpx.Response(400)

    assert send_with_retry(refused, sleep=slept.append).status_code == 400
    assert len(calls) == 1


def report_with(checks: int, text: int) -> Any:
    return {
        "agentName": "a",
        "timestamp": "2026-11-30T00:00:00.000Z",
        "status": "degraded",
        "summary": {"passed": checks // 2, "failed": 0, "warnings": checks - checks // 2, "skipped": 0},
        "checks": [
            {
                "id": f"env:V{i}",
                "category": "env",
                "status": "pass" if i % 2 else "fail",
                "severity": "warning",
                "message": "m" * text,
                "remediation": "r" * text,
            }
            for i in range(checks)
        ],
    }


def test_payload_fits_64_kb_keeping_summary_status_score_and_grade(coach_path: Path) -> None:
    from agentspec import load_manifest, run_audit

    gap = run_audit(load_manifest(coach_path).manifest)
    small = build_push_payload(report_with(3, 10), gap)
    assert "truncated" not in small
    for checks, text in ((200, 1000), (5000, 10)):
        payload = build_push_payload(report_with(checks, text), gap)
        assert size(payload) <= MAX_PAYLOAD_BYTES
        assert payload["truncated"] is True
        assert payload["health"]["summary"] == report_with(checks, text)["summary"]
        assert (payload["gap"]["score"], payload["gap"]["grade"]) == (gap["score"], gap["grade"])


def reporter_for(coach_path: Path) -> AgentSpecReporter:
    return AgentSpecReporter.from_yaml(coach_path, env={"PATH": "/nonexistent"}, auto_register=False)


def test_push_mode_on_a_daemon_thread_posts_now_and_every_interval(coach_path: Path) -> None:
    with recording_server() as server:
        reporter = reporter_for(coach_path)
        reporter.start_push_mode(url=f"{server.url}/agents/report", api_key="push-key-1234", interval_seconds=0.2)
        reporter.start_push_mode(url=f"{server.url}/other", api_key="push-key-1234")  # idempotent
        first, second = server.wait_for(2)[:2]
        assert len(push_threads()) == 1 and push_threads()[0].daemon
        for request in (first, second):
            assert (request.method, request.path) == ("POST", "/agents/report")
            assert request.headers["authorization"] == "Bearer push-key-1234"
            body = request.json()
            assert set(body) == {"health", "gap", "intervalSeconds"}
            assert body["health"]["agentName"] == "fitness-coach" and body["gap"]["grade"] == "A"
        thread = push_threads()[0]
        reporter.stop_push_mode()
        thread.join(timeout=30)
        assert not thread.is_alive() and not is_push_mode_active()


def test_push_mode_in_a_running_event_loop_is_a_task(coach_path: Path) -> None:
    async def scenario(url: str) -> None:
        reporter = reporter_for(coach_path)
        reporter.start_push_mode(url=url, api_key="push-key-1234", interval_seconds=0.2)
        tasks = [t for t in asyncio.all_tasks() if t.get_name() == "agentspec-push-mode"]
        assert len(tasks) == 1 and not push_threads()
        await asyncio.to_thread(server.wait_for, 2)
        reporter.stop_push_mode()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert tasks[0].done()

    with recording_server() as server:
        asyncio.run(scenario(f"{server.url}/agents/report"))


def test_a_refused_push_is_reported_without_the_key(coach_path: Path) -> None:
    errors: list[Exception] = []
    reported = threading.Event()

    def on_error(error: Exception) -> None:
        errors.append(error)
        reported.set()

    with recording_server() as server:
        server.answers = [(401, {"content-type": "application/json"}, b'{"error":"Unauthorized"}')]
        reporter = reporter_for(coach_path)
        reporter.start_push_mode(url=f"{server.url}/r", api_key=TOKEN, interval_seconds=30, on_error=on_error)
        assert reported.wait(30), "no error reported"
    assert "HTTP 401" in str(errors[0]) and TOKEN not in str(errors[0])


def test_a_short_interval_against_a_control_plane_is_named_at_start(
    coach_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="agentspec")
    reporter_for(coach_path).start_push_mode(
        url="http://127.0.0.1:9/api/v1/heartbeat", api_key="k" * 8, interval_seconds=2
    )
    assert "shorter than the control plane's default minimum of 10 s" in caplog.text
