"""The data generated from the TypeScript SDK (``make sdk-data``): the manifest JSON Schema and the audit rules."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load(name: str) -> Any:
    return json.loads(resources.files("agentspec").joinpath("_data").joinpath(name).read_text(encoding="utf-8"))


def manifest_schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = load("manifest.schema.json")
    return schemas


def audit_rules() -> dict[str, Any]:
    rules: dict[str, Any] = load("audit-rules.json")
    return rules
