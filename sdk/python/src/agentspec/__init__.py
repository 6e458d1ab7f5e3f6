"""AgentSpec SDK for Python: manifest validation, audit, health checks, the health endpoint, push mode and
auto-registration with the AgentSpec control plane. The same wire shapes and results as ``@agentspec/sdk``."""

from .audit import AuditResult, ManifestWarning, grade_for, manifest_warnings, run_audit
from .control_plane import (
    AutoRegistration,
    ControlPlaneClient,
    ControlPlaneError,
    auto_registration_config,
)
from .health import HealthCheck, HealthReport, run_health_checks, summarize
from .manifest import LoadedManifest, ManifestError, ManifestIssue, load_manifest, parse_manifest, parse_manifest_text
from .push import build_push_payload, is_push_mode_active, redact, stop_push_mode
from .refs import resolve_ref
from .reporter import HEALTH_PATH, AgentSpecReporter

__version__ = "0.1.0"

__all__ = [
    "HEALTH_PATH",
    "AgentSpecReporter",
    "AuditResult",
    "AutoRegistration",
    "ControlPlaneClient",
    "ControlPlaneError",
    "HealthCheck",
    "HealthReport",
    "LoadedManifest",
    "ManifestError",
    "ManifestIssue",
    "ManifestWarning",
    "auto_registration_config",
    "build_push_payload",
    "grade_for",
    "is_push_mode_active",
    "load_manifest",
    "manifest_warnings",
    "parse_manifest",
    "parse_manifest_text",
    "redact",
    "resolve_ref",
    "run_audit",
    "run_health_checks",
    "stop_push_mode",
    "summarize",
]
