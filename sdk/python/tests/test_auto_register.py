"""Auto-registration's rules against a scripted control plane (the real one: sdk/python/tests-int)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from agentspec import AutoRegistration, auto_registration_config
from agentspec.control_plane import control_plane_url_for, refresh_time

from .http_recorder import Recorded, recording_server


def jwt(iat: float, exp: float, n: int) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256'})}.{part({'iat': iat, 'exp': exp, 'n': n})}.signature{n}"


def test_reads_what_the_webhook_injects() -> None:
    env = {
        "AGENTSPEC_CONTROL_PLANE_URL": "http://cp:8080",
        "AGENTSPEC_ADMIN_KEY": "agentspec-ns.team-a.mac",
        "AGENTSPEC_INSTANCE_ID": "pod-1",
        "AGENTSPEC_NAMESPACE": "team-a",
        "AGENTSPEC_AGENT_NAME": "coach",
        "KUBERNETES_SERVICE_HOST": "10.0.0.1",
    }
    config = auto_registration_config(env, "from-manifest")
    assert config is not None
    assert (config.agent_name, config.namespace, config.instance_id, config.runtime) == (
        "coach",
        "team-a",
        "pod-1",
        "k8s",
    )
    assert auto_registration_config({**env, "AGENTSPEC_REGISTRAR": "sidecar"}, "x") is None
    assert auto_registration_config({}, "x") is None
    local = auto_registration_config({"AGENTSPEC_CONTROL_PLANE_URL": "http://cp"}, "from-manifest")
    assert local is not None and (local.agent_name, local.runtime) == ("from-manifest", "local")


def test_token_lifetime_and_urls() -> None:
    assert refresh_time(jwt(1000, 1300, 0)) == 1200
    assert refresh_time("not-a-jwt") is None
    assert control_plane_url_for("http://cp:8080/api/v1/heartbeat") == "http://cp:8080"
    assert control_plane_url_for("http://cp/agents/report") is None


class ScriptedControlPlane:
    """Registers with tokens due for refresh at once; refuses the first heartbeat of the second token (401) and
    rate-limits one heartbeat (429 with Retry-After: 0)."""

    def __init__(self) -> None:
        self.tokens = 0

    def issue(self) -> bytes:
        self.tokens += 1
        now = time.time()
        token = jwt(now - 200, now + 100, self.tokens)  # two thirds of its life are behind it: refresh now
        body = {"agentId": "a", "instanceId": "pod-1", "apiKey": token, "expiresAt": "x", "heartbeatIntervalSeconds": 0}
        return json.dumps(body).encode()

    def __call__(self, request: Recorded) -> tuple[int, dict[str, str], bytes]:
        if request.path == "/api/v1/register":
            return 201, {"content-type": "application/json"}, self.issue()
        if request.path == "/api/v1/token/refresh":
            return 200, {"content-type": "application/json"}, self.issue()
        if request.headers.get("authorization", "").endswith("signature3") and not getattr(self, "refused", False):
            self.refused = True
            return 401, {"content-type": "application/json"}, b'{"error":"Unauthorized","message":"revoked"}'
        return 204, {}, b""


@pytest.fixture
def registration() -> Iterator[tuple[Any, AutoRegistration]]:
    with recording_server() as server:
        server.respond = ScriptedControlPlane()
        config = auto_registration_config(
            {"AGENTSPEC_CONTROL_PLANE_URL": server.url, "AGENTSPEC_ADMIN_KEY": "admin-key-1234"}, "coach"
        )
        assert config is not None
        body = {"health": {"status": "healthy"}, "gap": {"score": 90}}
        auto = AutoRegistration(config, {"metadata": {"name": "coach"}}, lambda: body, base_delay=0.01, max_delay=0.05)
        auto.start()
        yield server, auto
        auto.stop()


def test_registers_refreshes_and_registers_again_after_a_401(registration: tuple[Any, AutoRegistration]) -> None:
    server, auto = registration

    def paths(requests: list[Recorded]) -> list[str]:
        return [r.path for r in requests]

    requests = server.wait_until(lambda rs: paths(rs).count("/api/v1/register") >= 2, "a second registration")
    seen = paths(requests)
    first = seen.index("/api/v1/register")
    register = requests[first]
    assert register.headers["x-admin-key"] == "admin-key-1234"
    assert register.json() == {
        "agentName": "coach",
        "runtime": "local",
        "instanceId": register.json()["instanceId"],
        "manifest": {"metadata": {"name": "coach"}},
    }
    # the token was due: refreshed before the first heartbeat, which carried the fresh token
    assert seen[first + 1 : first + 3] == ["/api/v1/token/refresh", "/api/v1/heartbeat"]
    assert requests[first + 2].headers["authorization"].endswith("signature2")
    assert requests[first + 2].json() == {"health": {"status": "healthy"}, "gap": {"score": 90}}
    with auto.status.events:
        assert auto.status.events.wait_for(lambda: auto.status.registrations >= 2, 30)
    assert auto.status.refreshes >= 1 and auto.status.heartbeats >= 1
