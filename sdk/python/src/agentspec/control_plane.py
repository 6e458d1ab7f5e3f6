"""The control plane's API as agents use it: registration, heartbeats, token refresh, and auto-registration from the
variables the webhook injects (``AGENTSPEC_CONTROL_PLANE_URL``, ``AGENTSPEC_ADMIN_KEY``, ``AGENTSPEC_INSTANCE_ID``,
``AGENTSPEC_NAMESPACE``, ``AGENTSPEC_AGENT_NAME``), as the TypeScript SDK does it over HTTP."""

from __future__ import annotations

import base64
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

import httpx

from . import _json
from .push import RequestFailedError, backoff_delay, build_push_payload, parse_retry_after, redact, send_with_retry

logger = logging.getLogger("agentspec")

REFRESH_AT_FRACTION = 2 / 3


class RegisterResponse(TypedDict, total=False):
    agentId: str
    instanceId: str
    apiKey: str
    expiresAt: str
    heartbeatIntervalSeconds: int
    deploymentMode: str
    connectUrl: str
    publicUrl: str


class ControlPlaneError(Exception):
    """A non-2xx answer: ``{error, message, field?}`` plus the status (the message is redacted)."""

    def __init__(
        self, status: int, error: str, message: str, field: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.field = field
        self.retry_after = retry_after


def refresh_time(token: str) -> float | None:
    """When a token should be refreshed (seconds since the epoch): two thirds into its lifetime, from its own ``iat``
    and ``exp`` claims (read, not verified). None for a token without both."""
    parts = token.split(".")
    if len(parts) < 2 or not parts[1]:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError):
        return None
    iat, exp = (
        claims.get("iat") if isinstance(claims, dict) else None,
        claims.get("exp") if isinstance(claims, dict) else None,
    )
    if not isinstance(iat, (int, float)) or not isinstance(exp, (int, float)) or exp <= iat:
        return None
    return float(iat + (exp - iat) * REFRESH_AT_FRACTION)


def control_plane_url_for(heartbeat_url: str) -> str | None:
    """The control plane's base URL for a URL ending in /api/v1/heartbeat; None for any other URL."""
    match = re.fullmatch(r"(.*)/api/v1/heartbeat/?", heartbeat_url)
    return match.group(1) if match else None


class ControlPlaneClient:
    """Typed client of the endpoints an agent calls; 5xx, 429 and network errors are retried with backoff."""

    def __init__(
        self,
        base_url: str,
        *,
        admin_key: str | None = None,
        http: httpx.Client | None = None,
        max_attempts: int = 5,
        timeout: float = 10.0,
    ) -> None:
        self.base = base_url.rstrip("/")
        self.admin_key = admin_key
        self.http = http or httpx.Client()
        self.max_attempts = max_attempts
        self.timeout = timeout

    def register(self, request: dict[str, Any]) -> RegisterResponse:
        """POST /api/v1/register with the admin key."""
        if not self.admin_key:
            raise ValueError("registration needs the admin key (AGENTSPEC_ADMIN_KEY)")
        response = self._post("/api/v1/register", {"x-admin-key": self.admin_key}, request)
        result: RegisterResponse = self._expect_ok(response, [self.admin_key])
        return result

    def heartbeat(self, token: str, body: dict[str, Any]) -> None:
        """POST /api/v1/heartbeat with the instance's token (204)."""
        self._expect_ok(self._post("/api/v1/heartbeat", {"authorization": f"Bearer {token}"}, body), [token])

    def refresh_token(self, token: str) -> RegisterResponse:
        """POST /api/v1/token/refresh: a fresh token for the instance of ``token``, which is revoked."""
        response = self._post("/api/v1/token/refresh", {"authorization": f"Bearer {token}"}, {})
        result: RegisterResponse = self._expect_ok(response, [token])
        return result

    def _post(self, path: str, headers: dict[str, str], body: Any) -> httpx.Response:
        content = _json.dumps(body).encode("utf-8", errors="surrogatepass")
        return send_with_retry(
            lambda: self.http.post(
                f"{self.base}{path}",
                content=content,
                headers={"content-type": "application/json", **headers},
                timeout=self.timeout,
            ),
            max_attempts=self.max_attempts,
        )

    def _expect_ok(self, response: httpx.Response, secrets: list[str]) -> Any:
        text = response.text
        if response.is_success:
            return json.loads(text) if text else None
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        message = redact(str(body.get("message") or f"HTTP {response.status_code}"), secrets)
        raise ControlPlaneError(
            response.status_code,
            str(body.get("error") or "HTTPError"),
            message,
            body.get("field") if isinstance(body.get("field"), str) else None,
            parse_retry_after(response.headers.get("retry-after")),
        )


@dataclass
class AutoRegistrationConfig:
    control_plane_url: str
    admin_key: str | None
    agent_name: str
    namespace: str | None
    instance_id: str
    runtime: Literal["k8s", "local"]
    public_url: str | None = None


def auto_registration_config(env: Mapping[str, str], manifest_name: str) -> AutoRegistrationConfig | None:
    """What the webhook injects; None without a control plane, or when the pod's sidecar registers instead
    (``AGENTSPEC_REGISTRAR=sidecar``)."""
    url = env.get("AGENTSPEC_CONTROL_PLANE_URL")
    if not url or env.get("AGENTSPEC_REGISTRAR") == "sidecar":
        return None
    return AutoRegistrationConfig(
        control_plane_url=url,
        admin_key=env.get("AGENTSPEC_ADMIN_KEY") or None,
        agent_name=env.get("AGENTSPEC_AGENT_NAME") or manifest_name,
        namespace=env.get("AGENTSPEC_NAMESPACE") or None,
        instance_id=env.get("AGENTSPEC_INSTANCE_ID") or socket.gethostname(),
        runtime="k8s" if env.get("KUBERNETES_SERVICE_HOST") else "local",
        public_url=env.get("AGENTSPEC_PUBLIC_URL") or None,
    )


@dataclass
class AutoRegistrationStatus:
    registered: bool = False
    instance_id: str | None = None
    registrations: int = 0
    heartbeats: int = 0
    refreshes: int = 0
    last_error: str | None = None
    events: threading.Condition = field(default_factory=threading.Condition, repr=False)


class AutoRegistration:
    """Registers this instance, then heartbeats ``{health, gap}`` at the interval the control plane asks for, on a
    daemon thread. A 401 registers again (with backoff); a 429 waits for Retry-After; the token is swapped for a fresh
    one at two thirds of its lifetime."""

    def __init__(
        self,
        config: AutoRegistrationConfig,
        manifest: dict[str, Any],
        heartbeat: Callable[[], dict[str, Any]],
        *,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
    ) -> None:
        self.config = config
        self.manifest = manifest
        self.heartbeat_body = heartbeat
        self.status = AutoRegistrationStatus()
        self._registration: RegisterResponse | None = None
        self._failures = 0
        self._base_delay, self._max_delay = base_delay, max_delay
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = ControlPlaneClient(config.control_plane_url, admin_key=config.admin_key, max_attempts=3)

    def start(self) -> AutoRegistration:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="agentspec-auto-register", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _log(self, message: str, level: int = logging.WARNING) -> None:
        key = self._registration.get("apiKey") if self._registration else None
        logger.log(level, redact(f"[agentspec] {message}", [self.config.admin_key, key]))

    def _retry_delay(self) -> float:
        delay = max(self._base_delay, backoff_delay(self._failures, self._base_delay, self._max_delay))
        self._failures += 1
        return delay

    def _changed(self) -> None:
        with self.status.events:
            self.status.events.notify_all()

    def _forget(self, reason: str) -> None:
        self._log(reason)
        self._registration = None
        self.status.registered = False

    def _run(self) -> None:
        delay = 0.0
        while not self._stop.wait(delay):
            try:
                delay = self._step()
            except Exception as err:  # noqa: BLE001 - the loop never ends by itself
                self.status.last_error = redact(str(err), [self.config.admin_key])
                delay = self._retry_delay()
            self._changed()
        self._client.http.close()

    def _step(self) -> float:
        config = self.config
        if self._registration is None:
            request: dict[str, Any] = {
                "agentName": config.agent_name,
                "runtime": config.runtime,
                "instanceId": config.instance_id,
            }
            if config.namespace:
                request["namespace"] = config.namespace
            if config.public_url:
                request["publicUrl"] = config.public_url
            request["manifest"] = self.manifest
            try:
                self._registration = self._client.register(request)
            except (ControlPlaneError, RequestFailedError, httpx.HTTPError, ValueError) as err:
                self.status.last_error = str(err)
                self._log(f"registration with {config.control_plane_url} failed: {err}")
                return self._retry_delay()
            self._failures = 0
            self.status.registered = True
            self.status.instance_id = self._registration.get("instanceId")
            self.status.registrations += 1
            self._log(
                f"registered {config.agent_name} (instance {self.status.instance_id}) with {config.control_plane_url}",
                logging.INFO,
            )
        registration = self._registration
        interval = float(registration.get("heartbeatIntervalSeconds", 30))
        due = refresh_time(registration.get("apiKey", ""))
        if due is not None and time.time() >= due:
            try:
                self._registration = registration = self._client.refresh_token(registration["apiKey"])
                self.status.refreshes += 1
            except ControlPlaneError as err:
                if err.status == 401:
                    self._forget("token refresh refused (401): registering again")
                    return self._retry_delay()
                self._log(f"token refresh failed: {err}")
            except (RequestFailedError, httpx.HTTPError) as err:
                self._log(f"token refresh failed: {err}")
        try:
            self._client.heartbeat(registration["apiKey"], self.heartbeat_body())
            self.status.heartbeats += 1
            return interval
        except ControlPlaneError as err:
            self.status.last_error = str(err)
            if err.status == 401:
                self._forget("heartbeat token rejected (401): registering again")
                return self._retry_delay()
            if err.status == 429:
                return max(interval, err.retry_after or 0.0)
            self._log(f"heartbeat failed: {err}")
            return interval
        except (RequestFailedError, httpx.HTTPError) as err:
            self.status.last_error = str(err)
            self._log(f"heartbeat failed: {err}")
            return interval


def heartbeat_builder(report: Callable[[], Any], manifest: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    """Each heartbeat's body: the live report and the manifest's audit, within the 64 KB cap."""
    from .audit import run_audit

    return lambda: build_push_payload(report(), run_audit(manifest))
