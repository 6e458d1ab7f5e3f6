"""The compliance audit: the TypeScript SDK's 27 rules, weights, score and grade, for the same results.

Ids, packs, severities and texts come from ``_data/audit-rules.json`` (generated from the TypeScript rules); only
each rule's check is written here, and a test fails if the two sets of ids differ.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Literal, TypedDict

from . import _data, _json

Manifest = dict[str, Any]
Grade = Literal["A", "B", "C", "D", "F"]
SEVERITY_WEIGHT = {"critical": 4, "high": 3, "medium": 2, "low": 1}


class AuditViolation(TypedDict):
    ruleId: str
    severity: str
    title: str
    message: str
    remediation: str
    pack: str


class PackResult(TypedDict):
    pack: str
    score: int
    passed: int
    failed: int
    suppressed: int


class ManifestWarning(TypedDict):
    field: str
    message: str


class AuditResult(TypedDict):
    """The ``gap`` of every heartbeat (camelCase: the wire shape)."""

    score: int
    grade: Grade
    violations: list[AuditViolation]
    packs: list[PackResult]
    suppressed: list[dict[str, str]]
    rulesChecked: int
    warnings: list[ManifestWarning]


def grade_for(score: int) -> Grade:
    """A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 45, F below."""
    if score >= 90:
        return "A"
    if score >= 75:
        return "B"
    if score >= 60:
        return "C"
    if score >= 45:
        return "D"
    return "F"


def _get(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _is_latest(model_id: Any) -> bool:
    return model_id == "latest" or (isinstance(model_id, str) and model_id.endswith(":latest"))


def _no_long_term_or_scrubbed(m: Manifest) -> bool:
    return (
        not _get(m, "spec", "memory", "longTerm")
        or len(_get(m, "spec", "memory", "hygiene", "piiScrubFields") or []) > 0
    )


def _ci_gate(m: Manifest) -> bool:
    return _get(m, "spec", "evaluation", "ciGate") is True


def _tools(m: Manifest) -> list[dict[str, Any]]:
    tools: list[dict[str, Any]] = _get(m, "spec", "tools") or []
    return tools


def _model(m: Manifest, *path: str) -> Any:
    return _get(m, "spec", "model", *path)


def _memory_expires(m: Manifest) -> bool:
    short, long = _get(m, "spec", "memory", "shortTerm"), _get(m, "spec", "memory", "longTerm")
    return (not short or "ttlSeconds" in short) and (not long or "ttlDays" in long)


def _hallucination_measured(m: Manifest) -> bool:
    return "hallucination" in (_get(m, "spec", "evaluation", "metrics") or []) and (
        _get(m, "spec", "evaluation", "thresholds", "hallucination") is not None
    )


#: Whether a manifest complies with each rule, by rule id.
CHECKS: dict[str, Callable[[Manifest], bool]] = {
    "MODEL-01": lambda m: _model(m, "fallback") is not None,
    "MODEL-02": lambda m: not _is_latest(_model(m, "id")),
    "MODEL-03": lambda m: _model(m, "costControls", "maxMonthlyUSD") is not None,
    "MODEL-04": lambda m: not _model(m, "fallback") or _model(m, "fallback", "maxRetries") is not None,
    "SEC-LLM-01": lambda m: any(
        g.get("type") in ("prompt-injection", "topic-filter") for g in _get(m, "spec", "guardrails", "input") or []
    ),
    "SEC-LLM-02": lambda m: len(_get(m, "spec", "guardrails", "output") or []) > 0,
    "SEC-LLM-03": lambda m: str(_get(m, "spec", "prompts", "system") or "").startswith("$file:"),
    "SEC-LLM-04": lambda m: (
        _get(m, "spec", "api", "rateLimit", "requestsPerMinute") is not None
        or _model(m, "costControls", "maxMonthlyUSD") is not None
    ),
    "SEC-LLM-05": lambda m: bool(_model(m, "provider")) and bool(_model(m, "id")) and _model(m, "id") != "latest",
    "SEC-LLM-06": _no_long_term_or_scrubbed,
    "SEC-LLM-07": lambda m: all("annotations" in t for t in _tools(m)),
    "SEC-LLM-08": lambda m: all(_get(t, "annotations", "destructiveHint") is not None for t in _tools(m)),
    "SEC-LLM-09": lambda m: _get(m, "spec", "evaluation", "framework") is not None and _ci_gate(m),
    "SEC-LLM-10": lambda m: str(_model(m, "apiKey") or "").startswith("$secret:"),
    "MEM-01": _no_long_term_or_scrubbed,
    "MEM-02": _memory_expires,
    "MEM-03": lambda m: (
        not _get(m, "spec", "memory", "longTerm") or _get(m, "spec", "memory", "hygiene", "auditLog") is True
    ),
    "MEM-04": lambda m: (
        not _get(m, "spec", "memory", "vector") or _get(m, "spec", "memory", "vector", "namespace") is not None
    ),
    "MEM-05": lambda m: (
        not _get(m, "spec", "memory", "shortTerm") or _get(m, "spec", "memory", "shortTerm", "maxTokens") is not None
    ),
    "EVAL-01": lambda m: len(_get(m, "spec", "evaluation", "datasets") or []) > 0,
    "EVAL-02": _ci_gate,
    "EVAL-03": _hallucination_measured,
    "OBS-01": lambda m: _get(m, "spec", "observability", "tracing", "backend") is not None,
    "OBS-02": lambda m: _get(m, "spec", "observability", "logging", "structured") is not False,
    "OBS-03": lambda m: len(_get(m, "spec", "observability", "logging", "redactFields") or []) > 0,
    "META-01": lambda m: len(str(_get(m, "metadata", "description") or "").strip()) > 0,
    "META-02": lambda m: (
        _model(m, "parameters", "temperature") is None or _model(m, "parameters", "temperature") <= 1.5
    ),
}


def audit_rules() -> list[dict[str, str]]:
    """The rules (id, pack, severity, title, message, remediation) in order."""
    rules: list[dict[str, str]] = _data.audit_rules()["rules"]
    return rules


def compliance_packs() -> list[str]:
    packs: list[str] = _data.audit_rules()["packs"]
    return packs


def _round(value: float) -> int:
    """JavaScript's Math.round (halves up), not Python's round (halves to even)."""
    return math.floor(value + 0.5)


def _score_of(rules: list[dict[str, str]], failed: set[str]) -> int:
    total = sum(SEVERITY_WEIGHT[r["severity"]] for r in rules)
    if total == 0:
        return 100
    passed = sum(SEVERITY_WEIGHT[r["severity"]] for r in rules if r["id"] not in failed)
    return _round(100 * passed / total)


def run_audit(manifest: Manifest, *, now: datetime | None = None) -> AuditResult:
    """Audits a normalised manifest against the compliance packs it selects (all when none).

    score = round(100 * passed weight / total weight), weights critical 4, high 3, medium 2, low 1. A suppression that
    has not expired takes its rule out of the weights; an expired one does nothing.
    """
    today = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%d")
    packs = compliance_packs()
    selected = _get(manifest, "spec", "compliance", "packs") or packs
    suppressions = _get(manifest, "spec", "compliance", "suppressions") or []
    active = [s for s in suppressions if s.get("expires") is None or s["expires"] >= today]
    suppressed_ids = {s["rule"] for s in active}
    in_packs = [r for r in audit_rules() if r["pack"] in selected]
    checked = [r for r in in_packs if r["id"] not in suppressed_ids]
    failed_rules = [r for r in checked if not CHECKS[r["id"]](manifest)]
    failed = {r["id"] for r in failed_rules}
    violations: list[AuditViolation] = [
        {
            "ruleId": r["id"],
            "severity": r["severity"],
            "title": r["title"],
            "message": r["message"],
            "remediation": r["remediation"],
            "pack": r["pack"],
        }
        for r in failed_rules
    ]
    pack_results: list[PackResult] = []
    for pack in (p for p in packs if p in selected):
        rules = [r for r in checked if r["pack"] == pack]
        pack_results.append(
            {
                "pack": pack,
                "score": _score_of(rules, failed),
                "passed": sum(1 for r in rules if r["id"] not in failed),
                "failed": sum(1 for r in rules if r["id"] in failed),
                "suppressed": sum(1 for r in in_packs if r["pack"] == pack and r["id"] in suppressed_ids),
            }
        )
    score = _score_of(checked, failed)
    listed: list[dict[str, str]] = []
    for s in active:
        if any(r["id"] == s["rule"] for r in in_packs):
            entry = {"ruleId": s["rule"], "reason": s["reason"]}
            if s.get("approvedBy"):
                entry["approvedBy"] = s["approvedBy"]
            if s.get("expires"):
                entry["expires"] = s["expires"]
            listed.append(entry)
    return {
        "score": score,
        "grade": grade_for(score),
        "violations": violations,
        "packs": pack_results,
        "suppressed": listed,
        "rulesChecked": len(checked),
        "warnings": manifest_warnings(manifest),
    }


def manifest_warnings(manifest: Manifest) -> list[ManifestWarning]:
    """What a manifest may say (upstream's schema accepts it) but will not do what it seems to; not scored.

    The TypeScript SDK's ``manifestWarnings``: the same checks, fields, messages and order (the shared test vectors).
    """
    warnings: list[ManifestWarning] = []
    spec = manifest["spec"]

    def warn(field: str, message: str) -> None:
        warnings.append({"field": f"spec.{field}", "message": message})

    def empty(field: str, value: Any) -> None:
        if isinstance(value, str) and value.strip() == "":
            warn(field, "is empty")

    model = spec["model"]
    empty("model.provider", model.get("provider"))
    empty("model.id", model.get("id"))
    empty("model.fallback.provider", _get(model, "fallback", "provider"))
    empty("model.fallback.id", _get(model, "fallback", "id"))
    alert = _get(model, "costControls", "alertAtUSD")
    limit = _get(model, "costControls", "maxMonthlyUSD")
    if alert is not None and limit is not None and alert > limit:
        warn(
            "model.costControls.alertAtUSD",
            f"{_json.number(alert)} is above maxMonthlyUSD ({_json.number(limit)}): "
            "the limit is reached before the alert",
        )
    for i, variable in enumerate(_get(spec, "prompts", "variables") or []):
        empty(f"prompts.variables[{i}].name", variable.get("name"))

    first_tool: dict[str, int] = {}
    for i, tool in enumerate(spec.get("tools") or []):
        first = first_tool.setdefault(tool["name"], i)
        if first != i:
            warn(
                f"tools[{i}].name",
                f'"{tool["name"]}" is also the name of spec.tools[{first}]: tools are told apart by name',
            )

    for i, server in enumerate(_get(spec, "mcp", "servers") or []):
        empty(f"mcp.servers[{i}].name", server.get("name"))
        if server["transport"] == "stdio" and "command" not in server:
            warn(f"mcp.servers[{i}].command", "a stdio MCP server has no command: nothing can start it")
        if server["transport"] != "stdio" and "url" not in server:
            warn(f"mcp.servers[{i}].url", f"an {server['transport']} MCP server has no url: nothing can reach it")

    for i, subagent in enumerate(spec.get("subagents") or []):
        empty(f"subagents[{i}].name", subagent.get("name"))
        if "agentspec" in subagent["ref"] and "a2a" in subagent["ref"]:
            warn(f"subagents[{i}].ref", "both agentspec and a2a are set: agentspec is used, a2a is ignored")
    for i, skill in enumerate(spec.get("skills") or []):
        empty(f"skills[{i}].id", skill.get("id"))

    hitl = spec.get("humanInTheLoop") or {}
    if "webhook" in (hitl.get("notifyVia") or []) and "webhookUrl" not in hitl:
        warn("humanInTheLoop.webhookUrl", "notifyVia has webhook but there is no webhookUrl: nobody is notified there")
    for i, dataset in enumerate(_get(spec, "evaluation", "datasets") or []):
        empty(f"evaluation.datasets[{i}].name", dataset.get("name"))
    for i, suppression in enumerate(_get(spec, "compliance", "suppressions") or []):
        empty(f"compliance.suppressions[{i}].rule", suppression.get("rule"))
    return warnings
