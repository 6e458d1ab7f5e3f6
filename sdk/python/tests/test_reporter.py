from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agentspec import AgentSpecReporter
from agentspec.reporter import HEALTH_PATH


def reporter_for(coach_path: Path, **options: Any) -> AgentSpecReporter:
    return AgentSpecReporter.from_yaml(coach_path, env={"PATH": "/nonexistent"}, auto_register=False, **options)


def test_registered_tools_pass_their_checks(coach_path: Path) -> None:
    reporter = reporter_for(coach_path).register_tool("plan-workout", lambda: None)
    checks = {c["id"]: c["status"] for c in reporter.get_report()["checks"]}
    assert checks["tool:plan-workout"] == "pass" and checks["tool:log-workout"] == "fail"


def test_caches_the_report_until_it_is_stale(coach_path: Path) -> None:
    reporter = reporter_for(coach_path, stale_after=3600)
    first = reporter.get_report()
    assert reporter.get_report() is first
    reporter.stale_after = -1
    assert reporter.get_report() is not first


def test_a_stopped_reporter_keeps_its_last_report(coach_path: Path) -> None:
    reporter = reporter_for(coach_path).start()
    report = reporter.refresh()
    reporter.stop()
    assert reporter.get_report()["timestamp"] >= report["timestamp"]


def test_asgi_app_serves_the_report(coach_path: Path) -> None:
    reporter = reporter_for(coach_path)

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=reporter.asgi_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://agent") as client:
            ok = await client.get(HEALTH_PATH)
            assert ok.status_code == 200 and ok.headers["cache-control"] == "no-store"
            assert ok.json()["agentName"] == "fitness-coach"
            assert (await client.head(HEALTH_PATH)).content == b""
            assert (await client.get("/other")).status_code == 404
            assert (await client.post(HEALTH_PATH)).status_code == 404

    asyncio.run(scenario())


def test_wsgi_app_serves_the_report(coach_path: Path) -> None:
    reporter = reporter_for(coach_path)
    with httpx.Client(transport=httpx.WSGITransport(app=reporter.wsgi_app()), base_url="http://agent") as client:
        ok = client.get(HEALTH_PATH)
        assert ok.status_code == 200 and ok.json()["summary"] == reporter.get_report()["summary"]
        assert client.get("/x").status_code == 404


def test_fastapi_router_serves_the_report_and_503_when_none_can_be_had(coach_path: Path) -> None:
    reporter = reporter_for(coach_path)
    app = FastAPI()
    app.include_router(reporter.fastapi_router())
    with TestClient(app) as client:
        ok = client.get(HEALTH_PATH)
        assert ok.status_code == 200
        assert json.loads(ok.content)["checks"] == reporter.get_report()["checks"]
        reporter.stop()
        unused = reporter_for(coach_path)
        unused.stop()
        app2 = FastAPI()
        app2.include_router(unused.fastapi_router())
        with TestClient(app2) as client2:
            failed = client2.get(HEALTH_PATH)
            assert failed.status_code == 503
            assert failed.json()["error"] == "HealthUnavailable"
