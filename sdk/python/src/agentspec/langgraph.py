"""LangGraph integration: what the sidecar's HeaderReporting and EventPush paths (seed 001) need from a Python agent.

- :class:`AgentSpecMiddleware` (ASGI: FastAPI, Starlette) gives each request fresh records and, when the response
  starts, sends them as ``X-AgentSpec-Tools-Called``, ``X-AgentSpec-Guardrails-Invoked`` and
  ``X-AgentSpec-User-Confirmed``; the sidecar reads them into its audit ring and strips them before the client sees
  the response.
- :class:`AgentSpecCallbackHandler` records, while a graph runs, the nodes and tools that are the manifest's tools or
  guardrails: ``graph.invoke(state, config={"callbacks": [handler]})``. :func:`record_tool_call`,
  :func:`record_guardrail` and :func:`confirm_user` record by hand, from any code the request runs.
- :class:`SidecarClient` pushes behavioural events to the sidecar's ``POST /agentspec/events`` (EventPush).

LangGraph runs nodes in worker threads with a copy of the request's context: the records are lists shared by reference,
so what a node records reaches the middleware.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from contextvars import ContextVar
from typing import Any

import httpx

from . import _json

try:
    from langchain_core.callbacks import BaseCallbackHandler
except ImportError as err:  # pragma: no cover - the extra is not installed
    raise ImportError("agentspec.langgraph needs LangGraph: pip install 'agentspec[langgraph]'") from err

logger = logging.getLogger("agentspec")

TOOLS_HEADER = b"x-agentspec-tools-called"
GUARDRAILS_HEADER = b"x-agentspec-guardrails-invoked"
CONFIRMED_HEADER = b"x-agentspec-user-confirmed"
REQUEST_ID_HEADER = b"x-request-id"

#: The sidecar's x-request-id of the request being handled (generated when the agent is called without the sidecar).
request_id_var: ContextVar[str] = ContextVar("agentspec_request_id", default="")
tools_called_var: ContextVar[list[str] | None] = ContextVar("agentspec_tools_called", default=None)
guardrails_invoked_var: ContextVar[list[str] | None] = ContextVar("agentspec_guardrails_invoked", default=None)
user_confirmed_var: ContextVar[list[bool] | None] = ContextVar("agentspec_user_confirmed", default=None)

# A header value carries names separated by commas: anything else is dropped from a name.
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._:/@+-]")


def _record(var: ContextVar[list[str] | None], name: str) -> None:
    records = var.get()
    clean = _NAME_UNSAFE.sub("", name)[:200]
    if records is not None and clean and clean not in records:
        records.append(clean)


def record_tool_call(name: str) -> None:
    """Records that the current request called tool ``name`` (no effect outside a request of the middleware)."""
    _record(tools_called_var, name)


def record_guardrail(guardrail_type: str) -> None:
    """Records that the current request invoked guardrail ``guardrail_type`` (e.g. ``pii-detector``)."""
    _record(guardrails_invoked_var, guardrail_type)


def confirm_user() -> None:
    """Records that the user explicitly confirmed the current request's destructive action."""
    confirmed = user_confirmed_var.get()
    if confirmed is not None and not confirmed:
        confirmed.append(True)


def tools_called() -> list[str]:
    return list(tools_called_var.get() or [])


def guardrails_invoked() -> list[str]:
    return list(guardrails_invoked_var.get() or [])


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class AgentSpecMiddleware:
    """ASGI middleware for HeaderReporting: ``app.add_middleware(AgentSpecMiddleware)`` (FastAPI/Starlette) or
    ``AgentSpecMiddleware(app)``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or [])
        request_id = incoming.get(REQUEST_ID_HEADER, b"").decode("latin-1") or str(uuid.uuid4())
        tools: list[str] = []
        guardrails: list[str] = []
        confirmed: list[bool] = []
        tokens = (
            request_id_var.set(request_id),
            tools_called_var.set(tools),
            guardrails_invoked_var.set(guardrails),
            user_confirmed_var.set(confirmed),
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (TOOLS_HEADER, GUARDRAILS_HEADER, CONFIRMED_HEADER)
                ]
                if tools:
                    headers.append((TOOLS_HEADER, ",".join(tools).encode("ascii")))
                if guardrails:
                    headers.append((GUARDRAILS_HEADER, ",".join(guardrails).encode("ascii")))
                if confirmed:
                    headers.append((CONFIRMED_HEADER, b"true"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            request_id_var.reset(tokens[0])
            tools_called_var.reset(tokens[1])
            guardrails_invoked_var.reset(tokens[2])
            user_confirmed_var.reset(tokens[3])


class AgentSpecCallbackHandler(BaseCallbackHandler):
    """Records, while a LangGraph graph runs, each node or tool named in ``tools`` as a tool call and each one named in
    ``guardrails`` (node name → guardrail type) as a guardrail invocation.

    ``AgentSpecCallbackHandler.for_manifest(manifest)`` takes the tool names from ``spec.tools``; name guardrail nodes
    with ``guardrails={"check_pii": "pii-detector"}``.
    """

    def __init__(self, tools: Iterable[str] = (), guardrails: dict[str, str] | None = None) -> None:
        super().__init__()
        self.tools = set(tools)
        self.guardrails = dict(guardrails or {})

    @classmethod
    def for_manifest(
        cls, manifest: dict[str, Any], guardrails: dict[str, str] | None = None
    ) -> AgentSpecCallbackHandler:
        return cls((t["name"] for t in manifest.get("spec", {}).get("tools", [])), guardrails)

    def _seen(self, name: str | None) -> None:
        if not name:
            return
        if name in self.tools:
            record_tool_call(name)
        if name in self.guardrails:
            record_guardrail(self.guardrails[name])

    def on_chain_start(self, serialized: dict[str, Any] | None, inputs: Any, **kwargs: Any) -> None:
        metadata = kwargs.get("metadata") or {}
        self._seen(kwargs.get("name") or metadata.get("langgraph_node"))

    def on_tool_start(self, serialized: dict[str, Any] | None, input_str: str, **kwargs: Any) -> None:
        self._seen(kwargs.get("name") or (serialized or {}).get("name"))


class SidecarClient:
    """Pushes behavioural events to the sidecar (``POST {url}/agentspec/events``, EventPush). Fire and forget: a
    failure is logged at debug level and never reaches the agent's request handling.

    ``url`` is the sidecar's diagnostics port (``http://localhost:4001``), not its proxy port.
    """

    def __init__(self, url: str = "http://localhost:4001", timeout: float = 3.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _body(self, request_id: str | None, agent_name: str, events: list[dict[str, Any]]) -> bytes:
        payload = {"requestId": request_id or request_id_var.get(), "agentName": agent_name, "events": events}
        return _json.dumps(payload).encode("utf-8", errors="surrogatepass")

    def push_events_sync(
        self, request_id: str | None, agent_name: str, events: list[dict[str, Any]]
    ) -> httpx.Response | None:
        """Sends the events for ``request_id`` (default: the current request's); the sidecar's answer, or None."""
        try:
            return httpx.post(
                f"{self.url}/agentspec/events",
                content=self._body(request_id, agent_name, events),
                headers={"content-type": "application/json"},
                timeout=self.timeout,
            )
        except httpx.HTTPError as err:
            logger.debug("[agentspec] event push to %s failed: %s", self.url, err)
            return None

    async def push_events_async(
        self, request_id: str | None, agent_name: str, events: list[dict[str, Any]]
    ) -> httpx.Response | None:
        """:meth:`push_events_sync` for async code."""
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                return await client.post(
                    f"{self.url}/agentspec/events",
                    content=self._body(request_id, agent_name, events),
                    headers={"content-type": "application/json"},
                )
        except httpx.HTTPError as err:
            logger.debug("[agentspec] event push to %s failed: %s", self.url, err)
            return None
