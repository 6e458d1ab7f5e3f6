"""Push mode (seed 000): ``{health, gap}`` to a URL now and every interval, capped at 64 KB, keys redacted.

Trimming, redaction, retry and ``Retry-After`` follow the TypeScript SDK (``sdk/typescript/src/push``).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx

from . import _json
from .audit import AuditResult, run_audit
from .health import HealthReport

logger = logging.getLogger("agentspec")

MAX_PAYLOAD_BYTES = 64 * 1024
DEFAULT_INTERVAL_SECONDS = 30.0
#: The control plane's default AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS.
DEFAULT_MIN_INTERVAL_SECONDS = 10.0

# ------------------------------------------------------------------ redaction

_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(Bearer\s+)[^\s\"',]+", re.IGNORECASE)


def redact(text: str, secrets: Sequence[str | None] = ()) -> str:
    """Removes the given secrets, any JWT and any Bearer credential from text meant for a log or an error."""
    out = text
    for secret in secrets:
        if secret and len(secret) >= 4:
            out = out.replace(secret, "[REDACTED]")
    return _BEARER.sub(r"\1[REDACTED]", _JWT.sub("[REDACTED]", out))


# ------------------------------------------------------------------ the 64 KB cap

_SEVERITY_RANK = {"error": 0, "critical": 0, "warning": 1, "high": 1, "medium": 2, "info": 3, "low": 3}


def _shorten(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def build_push_payload(health: HealthReport, gap: AuditResult, limit: int = MAX_PAYLOAD_BYTES) -> dict[str, Any]:
    """Fits ``{health, gap}`` into ``limit`` bytes, as the TypeScript SDK does.

    Summary, status, score and grade always survive; then, until it fits: long texts are shortened, passing checks are
    dropped, remediations are dropped, and both lists are cut to their most severe entries. A trimmed payload carries
    ``truncated: true``.
    """
    payload: dict[str, Any] = {"health": health, "gap": gap}
    if _json.size(payload) <= limit:
        return payload
    health_c: dict[str, Any] = copy.deepcopy(dict(health))
    gap_c: dict[str, Any] = copy.deepcopy(dict(gap))
    for check in health_c["checks"]:
        for key in ("message", "remediation"):
            if key in check:
                check[key] = _shorten(check[key], 200)
    for violation in gap_c["violations"]:
        violation["message"] = _shorten(violation["message"], 200) or ""
        violation["remediation"] = _shorten(violation["remediation"], 200) or ""
    payload = {"health": health_c, "gap": gap_c, "truncated": True}
    if _json.size(payload) <= limit:
        return payload
    health_c["checks"] = [c for c in health_c["checks"] if c["status"] != "pass"]
    if _json.size(payload) <= limit:
        return payload
    for check in health_c["checks"]:
        check.pop("remediation", None)
    for violation in gap_c["violations"]:
        violation["remediation"] = ""
    if _json.size(payload) <= limit:
        return payload
    checks = sorted(health_c["checks"], key=lambda c: _SEVERITY_RANK.get(c["severity"], 9))
    violations = sorted(gap_c["violations"], key=lambda v: _SEVERITY_RANK.get(v["severity"], 9))
    packs = gap_c["packs"]
    warnings = gap_c.get("warnings", [])
    keep = max(len(checks), len(violations), len(warnings))
    while keep > 0:
        keep //= 2
        payload = {
            "health": {**health_c, "checks": checks[:keep]},
            "gap": {
                **gap_c,
                "violations": violations[:keep],
                "packs": packs if keep else [],
                "warnings": warnings[:keep],
            },
            "truncated": True,
        }
        if _json.size(payload) <= limit:
            return payload
    return payload


# ------------------------------------------------------------------ retry


def backoff_delay(attempt: int, base: float = 0.5, cap: float = 30.0) -> float:
    """Full-jitter exponential backoff in seconds: random in [0, min(cap, base * 2^attempt)]."""
    ceiling: float = min(cap, base * 2**attempt)
    return random.random() * ceiling  # noqa: S311 - jitter, not security


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After in seconds (a number of seconds or an HTTP date), or None."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, moment - (time.time() if now is None else now))


def is_retryable_status(status: int) -> bool:
    """5xx, 429 and network errors are worth another try; other 4xx never are."""
    return status == 429 or status >= 500


class RequestFailedError(Exception):
    def __init__(self, message: str, status: int | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.status = status
        self.attempts = attempts


def send_with_retry(
    send: Callable[[], httpx.Response],
    *,
    max_attempts: int = 5,
    base: float = 0.5,
    cap: float = 30.0,
    sleep: Callable[[float], Any] = time.sleep,
) -> httpx.Response:
    """Sends until a response that is not retryable, honouring Retry-After (capped); raises after max_attempts."""
    last_error, last_status = "no attempt made", None
    for attempt in range(max_attempts):
        response: httpx.Response | None = None
        try:
            response = send()
        except httpx.HTTPError as err:
            last_error, last_status = str(err) or type(err).__name__, None
        if response is not None and not is_retryable_status(response.status_code):
            return response
        if response is not None:
            last_status, last_error = response.status_code, f"HTTP {response.status_code}"
        if attempt == max_attempts - 1:
            break
        retry_after = parse_retry_after(response.headers.get("retry-after")) if response is not None else None
        sleep(min(retry_after, cap) if retry_after is not None else backoff_delay(attempt, base, cap))
    raise RequestFailedError(f"gave up after {max_attempts} attempts: {last_error}", last_status, max_attempts)


# ------------------------------------------------------------------ the push loop


class PushReporter(Protocol):
    manifest: dict[str, Any]

    def get_report(self) -> HealthReport: ...


class _PushState:
    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.task: asyncio.Task[None] | None = None


_state: _PushState | None = None
_lock = threading.Lock()


def _fail(on_error: Callable[[Exception], None] | None, message: str) -> None:
    if on_error:
        on_error(RuntimeError(message))
    else:
        logger.error(message)


def _push_once(
    reporter: PushReporter,
    url: str,
    state: _PushState,
    interval: float,
    on_error: Callable[[Exception], None] | None,
    on_key_refreshed: Callable[[str, str], None] | None,
    http: httpx.Client,
    original_key: str,
) -> None:
    from .control_plane import ControlPlaneClient, ControlPlaneError, control_plane_url_for, refresh_time

    secrets = (original_key, state.api_key)
    base_url = control_plane_url_for(url)
    due = refresh_time(state.api_key)
    if base_url is not None and due is not None and time.time() >= due:
        try:
            fresh = ControlPlaneClient(base_url, http=http).refresh_token(state.api_key)
            state.api_key = fresh["apiKey"]
            if on_key_refreshed:
                on_key_refreshed(fresh["apiKey"], fresh["expiresAt"])
        except (ControlPlaneError, RequestFailedError, httpx.HTTPError) as err:
            _fail(on_error, redact(f"[agentspec] key refresh at {base_url} failed: {err}", secrets))
    try:
        health = reporter.get_report()
        payload = {
            **build_push_payload(health, run_audit(reporter.manifest)),
            # Liveness is judged against the interval the agent really uses.
            "intervalSeconds": max(1, int(interval + 0.5)),
        }
        body = _json.dumps(payload).encode("utf-8", errors="surrogatepass")
        response = send_with_retry(
            lambda: http.post(
                url,
                content=body,
                headers={"content-type": "application/json", "authorization": f"Bearer {state.api_key}"},
                timeout=10.0,
            )
        )
        if response.status_code == 401:
            _fail(
                on_error,
                redact(
                    f"[agentspec] push to {url} rejected: HTTP 401 — the key is expired or was revoked; "
                    "run agentspec register again (or use auto-registration, which re-registers by itself)",
                    secrets,
                ),
            )
        elif not response.is_success:
            _fail(on_error, redact(f"[agentspec] push to {url} rejected: HTTP {response.status_code}", secrets))
    except Exception as err:  # noqa: BLE001 - a push failure never ends the loop
        if state.stop.is_set():
            return  # stopped while this push was in flight
        _fail(on_error, redact(f"[agentspec] push to {url} failed: {err}", secrets))


def start_push_loop(
    reporter: PushReporter,
    *,
    url: str,
    api_key: str,
    interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
    on_error: Callable[[Exception], None] | None = None,
    on_key_refreshed: Callable[[str, str], None] | None = None,
) -> None:
    """Pushes now and every ``interval_seconds``: an asyncio task when called with a running event loop, else a daemon
    thread. One per process; calling it again while active does nothing."""
    global _state
    from .control_plane import control_plane_url_for

    with _lock:
        if _state is not None:
            return
        if control_plane_url_for(url) is not None and interval_seconds < DEFAULT_MIN_INTERVAL_SECONDS:
            logger.error(
                "[agentspec] push interval %s s is shorter than the control plane's default minimum of %s s "
                "(AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS there): faster heartbeats are answered 429 unless it was "
                "lowered",
                f"{interval_seconds:g}",
                f"{DEFAULT_MIN_INTERVAL_SECONDS:g}",
            )
        state = _PushState(api_key)
        _state = state

    def push(http: httpx.Client) -> None:
        _push_once(reporter, url, state, interval_seconds, on_error, on_key_refreshed, http, api_key)

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is not None:

        async def run() -> None:
            with httpx.Client() as http:
                while not state.stop.is_set():
                    await asyncio.to_thread(push, http)
                    await asyncio.sleep(interval_seconds)

        state.task = loop.create_task(run(), name="agentspec-push-mode")
    else:

        def run_thread() -> None:
            with httpx.Client() as http:
                while not state.stop.is_set():
                    push(http)
                    state.stop.wait(interval_seconds)

        state.thread = threading.Thread(target=run_thread, name="agentspec-push-mode", daemon=True)
        state.thread.start()


def stop_push_mode() -> None:
    """Stops push mode (the thread or the task); a push in flight finishes first in the background."""
    global _state
    with _lock:
        state, _state = _state, None
    if state is None:
        return
    state.stop.set()
    if state.task is not None:
        state.task.cancel()


def is_push_mode_active() -> bool:
    return _state is not None
