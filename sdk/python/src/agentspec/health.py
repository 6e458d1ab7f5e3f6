"""Health checks of a manifest, run inside the agent process (seed 002's HealthReport).

The same checks, ids, severities, messages and JSON key order as the TypeScript SDK
(``sdk/typescript/src/health``): env variables, the model key with a real call to the provider's list-models endpoint,
Redis ``PING``, PostgreSQL ``SELECT 1``, a TCP connect for other services, MCP servers and registered tools.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import time
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal, TypedDict, cast
from urllib.parse import unquote, urlsplit

import httpx

if sys.version_info >= (3, 11):
    from typing import NotRequired
else:  # pragma: no cover - Python 3.10
    from typing_extensions import NotRequired

from .refs import find_references, iso_timestamp, resolve_ref

Manifest = dict[str, Any]
CheckCategory = Literal["env", "model", "service", "memory", "mcp", "tool"]
CATEGORIES: tuple[CheckCategory, ...] = ("env", "model", "service", "memory", "mcp", "tool")


class HealthCheck(TypedDict):
    id: str
    category: str
    status: Literal["pass", "fail", "skip"]
    severity: Literal["error", "warning", "info"]
    latencyMs: NotRequired[int]
    message: NotRequired[str]
    remediation: NotRequired[str]


class HealthSummary(TypedDict):
    passed: int
    failed: int
    warnings: int
    skipped: int


class HealthReport(TypedDict):
    """What ``GET /agentspec/health`` serves (seed 002), camelCase on the wire."""

    agentName: str
    timestamp: str
    status: Literal["healthy", "degraded", "unhealthy"]
    summary: HealthSummary
    checks: list[HealthCheck]


def summarize(agent_name: str, checks: list[HealthCheck], now: datetime | None = None) -> HealthReport:
    """A failing error check makes the report unhealthy; a failing warning or info check makes it degraded."""
    summary: HealthSummary = {"passed": 0, "failed": 0, "warnings": 0, "skipped": 0}
    for check in checks:
        if check["status"] == "pass":
            summary["passed"] += 1
        elif check["status"] == "skip":
            summary["skipped"] += 1
        elif check["severity"] == "error":
            summary["failed"] += 1
        else:
            summary["warnings"] += 1
    status: Literal["healthy", "degraded", "unhealthy"] = (
        "unhealthy" if summary["failed"] else "degraded" if summary["warnings"] else "healthy"
    )
    return {
        "agentName": agent_name,
        "timestamp": iso_timestamp(now or datetime.now(timezone.utc)),
        "status": status,
        "summary": summary,
        "checks": checks,
    }


# ------------------------------------------------------------------ model endpoints


@dataclass(frozen=True)
class ModelEndpoint:
    url: str
    headers: Callable[[str], dict[str, str]]


def _bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def _google(key: str) -> dict[str, str]:
    return {"x-goog-api-key": key}


MODEL_ENDPOINTS: dict[str, ModelEndpoint] = {
    "openai": ModelEndpoint("https://api.openai.com/v1/models", _bearer),
    "anthropic": ModelEndpoint(
        "https://api.anthropic.com/v1/models", lambda key: {"x-api-key": key, "anthropic-version": "2023-06-01"}
    ),
    "groq": ModelEndpoint("https://api.groq.com/openai/v1/models", _bearer),
    "mistral": ModelEndpoint("https://api.mistral.ai/v1/models", _bearer),
    "together": ModelEndpoint("https://api.together.xyz/v1/models", _bearer),
    "deepseek": ModelEndpoint("https://api.deepseek.com/models", _bearer),
    "openrouter": ModelEndpoint("https://openrouter.ai/api/v1/models", _bearer),
    "xai": ModelEndpoint("https://api.x.ai/v1/models", _bearer),
    "google": ModelEndpoint("https://generativelanguage.googleapis.com/v1beta/models", _google),
    "gemini": ModelEndpoint("https://generativelanguage.googleapis.com/v1beta/models", _google),
}


def model_endpoint_env_name(provider: str) -> str:
    return "AGENTSPEC_MODEL_ENDPOINT_" + re.sub(r"[^A-Z0-9]", "_", provider.upper())


def model_endpoint_for(provider: str, env: Mapping[str, str]) -> ModelEndpoint | None:
    """``AGENTSPEC_MODEL_ENDPOINT_<PROVIDER>`` (gateways, proxies, self-hosted) or the built-in endpoint."""
    known = MODEL_ENDPOINTS.get(provider.lower())
    override = env.get(model_endpoint_env_name(provider))
    if override:
        return ModelEndpoint(override, known.headers if known else _bearer)
    return known


# ------------------------------------------------------------------ connection strings and probes

_DEFAULT_PORTS = {
    "postgres": 5432,
    "postgresql": 5432,
    "redis": 6379,
    "rediss": 6379,
    "mysql": 3306,
    "mongodb": 27017,
    "elasticsearch": 9200,
    "http": 80,
    "https": 443,
}


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    url: str | None = None
    username: str | None = None
    password: str | None = None


def parse_endpoint(connection: str, kind: str) -> Endpoint | None:
    """Host and port of a connection string ("redis://u:p@host:6379/0", "postgres://...", "host:port")."""
    if re.match(r"^[a-z][a-z0-9+.-]*://", connection, re.IGNORECASE):
        try:
            parts = urlsplit(connection)
            explicit = parts.port
        except ValueError:
            return None
        scheme = parts.scheme.lower().split("+")[0]
        port = explicit if explicit is not None else _DEFAULT_PORTS.get(scheme, _DEFAULT_PORTS.get(kind))
        if not parts.hostname or port is None:
            return None
        return Endpoint(
            parts.hostname,
            port,
            connection,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
        )
    match = re.fullmatch(r"\[?([^\]\s/]+?)\]?:(\d{1,5})", connection.strip())
    if match:
        return Endpoint(match.group(1), int(match.group(2)))
    port = _DEFAULT_PORTS.get(kind)
    if re.fullmatch(r"[a-z0-9.-]+", connection.strip(), re.IGNORECASE) and port is not None:
        return Endpoint(connection.strip(), port)
    return None


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000 + 0.5)


def _open(endpoint: Endpoint, timeout: float) -> socket.socket:
    try:
        return socket.create_connection((endpoint.host, endpoint.port), timeout=timeout)
    except TimeoutError:
        raise OSError(f"no answer from {endpoint.host}:{endpoint.port} within {int(timeout * 1000)} ms") from None


def tcp_probe(endpoint: Endpoint, timeout: float) -> int:
    started = time.perf_counter()
    _open(endpoint, timeout).close()
    return _elapsed_ms(started)


def _resp(*parts: str) -> bytes:
    out = f"*{len(parts)}\r\n"
    for part in parts:
        out += f"${len(part.encode())}\r\n{part}\r\n"
    return out.encode()


def redis_ping(endpoint: Endpoint, timeout: float) -> int:
    """Redis PING (after AUTH when the URL carries credentials); the latency in ms."""
    started = time.perf_counter()
    with _open(endpoint, timeout) as sock:
        commands: list[tuple[str, ...]] = []
        if endpoint.password:
            commands.append(
                ("AUTH", endpoint.username, endpoint.password) if endpoint.username else ("AUTH", endpoint.password)
            )
        commands.append(("PING",))
        sock.settimeout(timeout)
        sock.sendall(b"".join(_resp(*c) for c in commands))
        buffer = b""
        try:
            while len([line for line in buffer.split(b"\r\n") if line]) < len(commands):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                buffer += chunk
        except TimeoutError:
            raise OSError(f"redis did not answer PING within {int(timeout * 1000)} ms") from None
    replies = [line.decode("utf-8", "replace") for line in buffer.split(b"\r\n") if line]
    error = next((r for r in replies if r.startswith("-")), None)
    if error:
        raise OSError(f"redis answered {error[1:].split(' ')[0]}: {error[1:]}")
    last = replies[len(commands) - 1] if len(replies) >= len(commands) else ""
    if last != "+PONG":
        raise OSError(f'redis answered "{last}" to PING')
    return _elapsed_ms(started)


def postgres_ping(connection_string: str, timeout: float) -> int:
    """PostgreSQL ``SELECT 1``; the latency in ms. Needs psycopg (``pip install 'agentspec[postgres]'``)."""
    started = time.perf_counter()
    try:
        import psycopg
    except ImportError:
        raise OSError("the PostgreSQL check needs the psycopg package: pip install 'agentspec[postgres]'") from None
    try:
        with psycopg.connect(connection_string, connect_timeout=max(1, int(timeout))) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as err:
        raise OSError(str(err).strip().split("\n")[0]) from None
    return _elapsed_ms(started)


# ------------------------------------------------------------------ the checks


def _check(base: dict[str, Any], **rest: Any) -> HealthCheck:
    """A check from its first keys and the rest, in that order (the JSON key order is the TypeScript SDK's)."""
    return cast(HealthCheck, {**base, **rest})


def _error_message(err: BaseException) -> str:
    return str(err) or type(err).__name__


def env_references(manifest: Manifest) -> dict[str, str]:
    """Every ``$env:NAME`` in the manifest, with the field that uses it."""
    return {target: where for kind, target, where in find_references(manifest.get("spec", {})) if kind == "env"}


def _env_checks(manifest: Manifest, env: Mapping[str, str]) -> list[HealthCheck]:
    names: dict[str, str] = {}
    for name in manifest["spec"].get("requires", {}).get("envVars", []):
        names.setdefault(name, "spec.requires.envVars")
    for name, where in env_references(manifest).items():
        names.setdefault(name, where)
    checks: list[HealthCheck] = []
    for name, where in names.items():
        if env.get(name):
            checks.append({"id": f"env:{name}", "category": "env", "status": "pass", "severity": "error"})
        else:
            checks.append(
                {
                    "id": f"env:{name}",
                    "category": "env",
                    "status": "fail",
                    "severity": "error",
                    "message": f"{name} is not set (used by {where})",
                    "remediation": f"Set {name} in the agent container's environment.",
                }
            )
    return checks


@dataclass
class _Context:
    base_dir: str
    env: Mapping[str, str]
    timeout: float
    http: httpx.Client | None


def _model_check(
    check_id: str, provider: str, api_key: str | None, severity: Literal["error", "warning"], ctx: _Context
) -> HealthCheck:
    def result(status: Literal["pass", "fail", "skip"], **rest: Any) -> HealthCheck:
        return _check({"id": check_id, "category": "model", "severity": severity, "status": status}, **rest)

    if not api_key:
        return result("skip", message="no apiKey in the manifest")
    key = resolve_ref(api_key, base_dir=ctx.base_dir, env=ctx.env)
    if key.value is None:
        return result("skip", message=f"API key reference not resolved ({api_key}): {key.problem or ''}".strip())
    endpoint = model_endpoint_for(provider, ctx.env)
    if endpoint is None:
        return result(
            "skip",
            message=f"no known models endpoint for provider {provider}",
            remediation=f"Set {model_endpoint_env_name(provider)} to the provider's list-models URL.",
        )
    started = time.perf_counter()
    try:
        client = ctx.http or httpx
        response = client.get(endpoint.url, headers=endpoint.headers(key.value), timeout=ctx.timeout)
        latency = _elapsed_ms(started)
    except httpx.HTTPError as err:
        host = urlsplit(endpoint.url).netloc
        return result(
            "fail",
            message=f"models endpoint unreachable: {_error_message(err)}",
            remediation=f"Check network access from the agent to {host}.",
        )
    if response.is_success:
        return result("pass", latencyMs=latency)
    if response.status_code in (401, 403):
        return result(
            "fail",
            latencyMs=latency,
            message=f"the provider rejected the API key (HTTP {response.status_code})",
            remediation=f"Check the key referenced by {api_key}.",
        )
    return result("fail", latencyMs=latency, message=f"models endpoint answered HTTP {response.status_code}")


def _connection_check(
    check_id: str,
    category: str,
    kind: str,
    connection: str,
    ctx: _Context,
    timeout: float | None = None,
) -> HealthCheck:
    base: dict[str, Any] = {"id": check_id, "category": category, "severity": "info"}
    resolved = resolve_ref(connection, base_dir=ctx.base_dir, env=ctx.env)
    if resolved.value is None:
        message = f"connection reference not resolved ({connection}): {resolved.problem or ''}".strip()
        return _check(base, status="skip", message=message)
    endpoint = parse_endpoint(resolved.value, kind)
    if endpoint is None:
        return _check(base, status="skip", message=f"no network address in the {kind} connection")
    seconds = timeout if timeout is not None else ctx.timeout
    try:
        if kind == "redis":
            latency = redis_ping(endpoint, seconds)
        elif kind in ("postgres", "pgvector") and endpoint.url:
            latency = postgres_ping(resolved.value, seconds)
        else:
            latency = tcp_probe(endpoint, seconds)
        return _check(base, status="pass", latencyMs=latency)
    except OSError as err:
        return _check(
            base,
            status="fail",
            message=f"{kind} at {endpoint.host}:{endpoint.port}: {_error_message(err)}",
            remediation=f"Check that {kind} is running and reachable from the agent, and its credentials.",
        )


def _on_path(command: str, env: Mapping[str, str]) -> bool:
    if os.path.isabs(command):
        candidates = [command]
    else:
        candidates = [os.path.join(directory, command) for directory in env.get("PATH", "").split(os.pathsep)]
    return any(os.path.isfile(path) and os.access(path, os.X_OK) for path in candidates)


class _Ids:
    def __init__(self) -> None:
        self.seen: set[str] = set()

    def unique(self, check_id: str) -> str:
        candidate, n = check_id, 2
        while candidate in self.seen:
            candidate, n = f"{check_id}#{n}", n + 1
        self.seen.add(candidate)
        return candidate


def run_health_checks(
    manifest: Manifest,
    *,
    base_dir: str,
    env: Mapping[str, str] | None = None,
    registered_tools: Collection[str] | None = None,
    categories: Collection[str] | None = None,
    timeout: float = 5.0,
    http: httpx.Client | None = None,
) -> list[HealthCheck]:
    """Runs the manifest's checks (seed 002 ids: ``env:NAME``, ``model:provider/id``, ``service:type``, ...), the
    network ones concurrently. Tool checks run only when ``registered_tools`` is given."""
    environ: Mapping[str, str] = os.environ if env is None else env
    ctx = _Context(base_dir, environ, timeout, http)
    ids = _Ids()
    spec = manifest["spec"]

    def want(category: str) -> bool:
        return categories is None or category in categories

    checks: list[HealthCheck] = _env_checks(manifest, environ) if want("env") else []
    pending: list[Future[HealthCheck]] = []
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="agentspec-check") as pool:
        if want("model"):
            model = spec["model"]
            pending.append(
                pool.submit(
                    _model_check,
                    ids.unique(f"model:{model['provider']}/{model['id']}"),
                    model["provider"],
                    model.get("apiKey"),
                    "error",
                    ctx,
                )
            )
            fallback = model.get("fallback")
            if fallback:
                pending.append(
                    pool.submit(
                        _model_check,
                        ids.unique(f"model:{fallback['provider']}/{fallback['id']}"),
                        fallback["provider"],
                        fallback.get("apiKey"),
                        "warning",
                        ctx,
                    )
                )
        if want("service"):
            for service in spec.get("requires", {}).get("services", []):
                check_id = ids.unique(f"service:{service['type']}")
                pending.append(
                    pool.submit(_connection_check, check_id, "service", service["type"], service["connection"], ctx)
                )
        if want("memory"):
            memory = spec.get("memory", {})
            short = memory.get("shortTerm")
            if short and short.get("backend") == "redis" and short.get("connection"):
                pending.append(
                    pool.submit(_connection_check, "memory:shortTerm", "memory", "redis", short["connection"], ctx)
                )
            long = memory.get("longTerm")
            if long and long.get("backend") != "sqlite" and long.get("connectionString"):
                pending.append(
                    pool.submit(
                        _connection_check, "memory:longTerm", "memory", long["backend"], long["connectionString"], ctx
                    )
                )
            vector = memory.get("vector")
            if vector and vector.get("connectionString"):
                pending.append(
                    pool.submit(
                        _connection_check, "memory:vector", "memory", vector["backend"], vector["connectionString"], ctx
                    )
                )
        if want("mcp"):
            for server in spec.get("mcp", {}).get("servers", []):
                check_id = ids.unique(f"mcp:{server['name']}")

                def mcp_failed(message: str, remediation: str, check_id: str = check_id) -> HealthCheck:
                    return {
                        "id": check_id,
                        "category": "mcp",
                        "status": "fail",
                        "severity": "warning",
                        "message": message,
                        "remediation": remediation,
                    }

                if server["transport"] == "stdio":
                    command = server.get("command")
                    if command is not None and _on_path(command, environ):
                        checks.append({"id": check_id, "category": "mcp", "status": "pass", "severity": "warning"})
                    else:
                        message = (
                            "a stdio MCP server without a command cannot be started"
                            if command is None
                            else f"command {command} not found on PATH"
                        )
                        checks.append(mcp_failed(message, "Install the MCP server in the agent image."))
                elif server.get("url"):
                    seconds = float(server.get("healthCheck", {}).get("timeoutSeconds", 5))
                    pending.append(pool.submit(_mcp_check, check_id, server["url"], ctx, seconds))
                else:
                    message = f"an {server['transport']} MCP server without a url cannot be reached"
                    checks.append(mcp_failed(message, "Set the url of the MCP server."))
        if want("tool") and registered_tools is not None:
            for tool in spec.get("tools", []):
                registered = tool["name"] in registered_tools
                check: dict[str, Any] = {
                    "id": ids.unique(f"tool:{tool['name']}"),
                    "category": "tool",
                    "status": "pass" if registered else "fail",
                    "severity": "info",
                }
                if not registered:
                    check["message"] = f"no handler registered for tool {tool['name']}"
                    check["remediation"] = (
                        f"Register its handler: reporter.registerTool('{tool['name']}') (TypeScript), "
                        f'reporter.register_tool("{tool["name"]}") (Python).'
                    )
                checks.append(_check(check))
        checks.extend(future.result() for future in pending)
    return checks


def _mcp_check(check_id: str, url: str, ctx: _Context, timeout: float) -> HealthCheck:
    check: dict[str, Any] = dict(_connection_check(check_id, "memory", "http", url, ctx, timeout))
    check["category"], check["severity"] = "mcp", "warning"
    return _check(check)
