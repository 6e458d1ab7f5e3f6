"""AgentSpecReporter: the manifest's health checks inside the agent process, cached, served at
``GET /agentspec/health``, pushed (push mode) and reported to the control plane (auto-registration)."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any

import httpx

from . import _json
from .control_plane import AutoRegistration, auto_registration_config, heartbeat_builder
from .health import HealthReport, run_health_checks, summarize
from .manifest import load_manifest
from .push import is_push_mode_active, start_push_loop, stop_push_mode

logger = logging.getLogger("agentspec")

HEALTH_PATH = "/agentspec/health"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class AgentSpecReporter:
    """Runs the manifest's checks (real connectivity, real keys), caches the last report and serves it.

    ``refresh_interval``: background refresh in seconds (30). ``stale_after``: a report older than this is checked again
    by :meth:`get_report` (60). With ``AGENTSPEC_CONTROL_PLANE_URL`` set (and ``AGENTSPEC_REGISTRAR`` not ``sidecar``),
    :meth:`start` registers the instance and heartbeats (``auto_register=False`` turns that off).
    """

    def __init__(
        self,
        manifest: dict[str, Any],
        *,
        base_dir: str | None = None,
        refresh_interval: float = 30.0,
        stale_after: float = 60.0,
        env: Mapping[str, str] | None = None,
        timeout: float = 5.0,
        auto_register: bool = True,
    ) -> None:
        self.manifest = manifest
        self.base_dir = base_dir or os.getcwd()
        self.refresh_interval = refresh_interval
        self.stale_after = stale_after
        self.env = env
        self.timeout = timeout
        self.auto_register = auto_register
        self.registration: AutoRegistration | None = None
        self._tools: set[str] = set()
        self._report: HealthReport | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self._checking = threading.Lock()
        self._stopped = threading.Event()
        self._timer: threading.Thread | None = None
        self._http = httpx.Client()

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str], **options: Any) -> AgentSpecReporter:
        """Loads an agent.yaml (either form) and makes a reporter for it."""
        loaded = load_manifest(path)
        return cls(loaded.manifest, base_dir=loaded.base_dir, **options)

    def register_tool(self, name: str, handler: object = None) -> AgentSpecReporter:
        """Marks a tool handler as present: its ``tool:<name>`` check passes. The handler is accepted, not called."""
        self._tools.add(name)
        return self

    # -------------------------------------------------------------- checks and the cache

    def refresh(self) -> HealthReport:
        """Runs every check now; concurrent callers wait for the run in progress and share its report."""
        started = time.monotonic()
        with self._checking:
            if self._report is not None and self._checked_at >= started:
                return self._report  # another caller's run finished while this one waited
            checks = run_health_checks(
                self.manifest,
                base_dir=self.base_dir,
                env=self.env,
                registered_tools=self._tools,
                timeout=self.timeout,
                http=self._http,
            )
            report = summarize(self.manifest["metadata"]["name"], checks)
            if not self._stopped.is_set() or self._report is None:
                self._report, self._checked_at = report, time.monotonic()
            return report

    def get_report(self) -> HealthReport:
        """The cached report; checked first when there is none yet or it is older than ``stale_after``."""
        if self._stopped.is_set():
            if self._report is not None:
                return self._report
            raise RuntimeError("the reporter was stopped before its first check")
        if self._report is None or time.monotonic() - self._checked_at > self.stale_after:
            return self.refresh()
        return self._report

    async def aget_report(self) -> HealthReport:
        """:meth:`get_report` for async code (the checks run in a worker thread)."""
        return await asyncio.to_thread(self.get_report)

    def start(self) -> AgentSpecReporter:
        """Checks now and every ``refresh_interval`` on a daemon thread, and auto-registers when configured.
        Idempotent."""
        with self._lock:
            if self._timer is not None or self._stopped.is_set():
                return self
            self._timer = threading.Thread(target=self._refresh_loop, name="agentspec-health", daemon=True)
            self._timer.start()
            env = os.environ if self.env is None else self.env
            config = auto_registration_config(env, self.manifest["metadata"]["name"])
            if config is not None and self.auto_register:
                self.registration = AutoRegistration(
                    config, self.manifest, heartbeat_builder(self.get_report, self.manifest)
                ).start()
        return self

    def _refresh_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                self.refresh()
            except Exception:
                logger.exception("[agentspec] health checks failed")
            self._stopped.wait(self.refresh_interval)

    def stop(self) -> None:
        """Stops background checks and auto-registration; get_report() then returns the last report."""
        self._stopped.set()
        if self.registration is not None:
            self.registration.stop()

    # -------------------------------------------------------------- push mode (seed 000)

    def start_push_mode(
        self,
        url: str | None = None,
        api_key: str | None = None,
        interval_seconds: float = 30.0,
        *,
        control_plane_url: str | None = None,
        on_error: Callable[[Exception], None] | None = None,
        on_key_refreshed: Callable[[str, str], None] | None = None,
    ) -> None:
        """Pushes ``{health, gap}`` to ``url`` (or ``{control_plane_url}/api/v1/heartbeat``) now and every
        ``interval_seconds``: an asyncio task when an event loop is running, else a daemon thread. One per process;
        idempotent."""
        target = url or (control_plane_url.rstrip("/") + "/api/v1/heartbeat" if control_plane_url else None)
        if not target:
            raise ValueError("start_push_mode needs url (or control_plane_url)")
        if not api_key:
            raise ValueError("start_push_mode needs api_key")
        start_push_loop(
            self,
            url=target,
            api_key=api_key,
            interval_seconds=interval_seconds,
            on_error=on_error,
            on_key_refreshed=on_key_refreshed,
        )

    def stop_push_mode(self) -> None:
        stop_push_mode()

    def is_push_mode_active(self) -> bool:
        return is_push_mode_active()

    # -------------------------------------------------------------- GET /agentspec/health

    def _answer(self) -> tuple[int, bytes]:
        try:
            return 200, _json.dumps(self.get_report()).encode("utf-8", errors="surrogatepass")
        except Exception as err:  # noqa: BLE001 - answered as 503
            return 503, _json.dumps({"error": "HealthUnavailable", "message": str(err)}).encode()

    def asgi_app(self, path: str = HEALTH_PATH) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
        """An ASGI app answering GET/HEAD ``path`` (404 for anything else): mount it, or use it as the whole app."""

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                return
            if scope.get("path") != path or scope.get("method") not in ("GET", "HEAD"):
                status, body = 404, b'{"error":"NotFound"}'
                headers = [(b"content-type", b"application/json")]
            else:
                status, body = await asyncio.to_thread(self._answer)
                headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else body})

        return app

    def wsgi_app(self, path: str = HEALTH_PATH) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
        """A WSGI app answering GET/HEAD ``path`` (404 for anything else)."""

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            method = environ.get("REQUEST_METHOD")
            if environ.get("PATH_INFO") != path or method not in ("GET", "HEAD"):
                start_response("404 Not Found", [("content-type", "application/json")])
                return [b'{"error":"NotFound"}']
            status, body = self._answer()
            reason = "200 OK" if status == 200 else "503 Service Unavailable"
            start_response(reason, [("content-type", "application/json"), ("cache-control", "no-store")])
            return [b"" if method == "HEAD" else body]

        return app

    def fastapi_router(self) -> Any:
        """A FastAPI ``APIRouter`` with ``GET /agentspec/health`` (``app.include_router(reporter.fastapi_router())``).
        Needs FastAPI (``pip install 'agentspec[fastapi]'``)."""
        from fastapi import APIRouter
        from fastapi.responses import Response

        router = APIRouter()

        @router.get(HEALTH_PATH, include_in_schema=True, summary="The agent's AgentSpec health report")
        async def health() -> Response:
            status, body = await asyncio.to_thread(self._answer)
            return Response(
                content=body, status_code=status, media_type="application/json", headers={"cache-control": "no-store"}
            )

        return router
