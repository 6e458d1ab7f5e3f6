from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentspec import ManifestError, load_manifest, parse_manifest, parse_manifest_text
from agentspec._data import manifest_schemas
from agentspec.manifest import CROSS_FIELD_RULES


def rules_in(schema: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        for rule in schema.get("x-kubernetes-validations", []):
            found.add(rule["rule"])
        for value in schema.values():
            found |= rules_in(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= rules_in(value)
    return found


def test_every_cross_field_rule_of_the_schema_has_a_check() -> None:
    in_schema = rules_in(manifest_schemas())
    assert in_schema, "the exported schema carries no cross-field rules"
    assert in_schema == set(CROSS_FIELD_RULES)


def test_loads_the_kind_agent_example_in_the_agentspec_form(coach_path: Path) -> None:
    loaded = load_manifest(coach_path)
    assert loaded.kind == "Agent"
    assert loaded.base_dir == str(coach_path.parent)
    manifest = loaded.manifest
    assert manifest["kind"] == "AgentSpec"
    assert manifest["metadata"] == {
        "name": "fitness-coach",
        "version": "1.2.0",
        "description": "Plans workouts, logs sessions and tracks progress for gym members.",
        "tags": ["fitness", "coaching"],
        "author": "platform-team",
        "license": "Apache-2.0",
    }
    assert "description" not in manifest["spec"] and "deployment" not in manifest["spec"]
    # defaults the schema declares are filled in, as the TypeScript parser does
    assert manifest["spec"]["prompts"]["hotReload"] is False
    assert loaded.deployment is not None


def minimal(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "agentspec.io/v1",
        "kind": "AgentSpec",
        "metadata": {"name": "a", "version": "1.0.0", "description": "  An agent.  "},
        "spec": {"model": {"provider": "openai", "id": "gpt-4o"}, "prompts": {"system": "Hi."}, **spec},
    }


def test_a_blank_description_loads_as_upstream_and_the_audit_judges_it() -> None:
    from agentspec import run_audit

    document = minimal()
    document["metadata"]["description"] = "   "
    manifest = parse_manifest(document).manifest
    assert manifest["metadata"]["description"] == "   "
    assert "META-01" in [v["ruleId"] for v in run_audit(manifest)["violations"]]
    document["metadata"]["description"] = ""
    with pytest.raises(ManifestError, match=r"metadata\.description"):
        parse_manifest(document)


def test_yaml_is_read_as_yaml_1_2_like_the_typescript_sdk() -> None:
    text = """
apiVersion: agentspec.io/v1
kind: AgentSpec
metadata: {name: a, version: 1.0.0, description: d}
spec:
  model: {provider: openai, id: gpt-4o}
  prompts: {system: hi}
  compliance:
    suppressions: [{rule: MODEL-01, reason: on, expires: 2027-01-31}]
"""
    manifest = parse_manifest_text(text).manifest
    suppression = manifest["spec"]["compliance"]["suppressions"][0]
    # YAML 1.1 would make these a boolean and a date
    assert suppression == {"rule": "MODEL-01", "reason": "on", "expires": "2027-01-31"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("a: 1\n---\nb: 2\n", "expected one YAML document, found 2"),
        ("a: [1, 2\n", "YAML:"),
        ("- 1\n- 2\n", "expected a mapping"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        ("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(f"b{i}: &b{i} [*a, *a]\n" for i in range(60)), "aliases"),
    ],
)
def test_unusable_files_get_one_clear_message(text: str, message: str) -> None:
    with pytest.raises(ManifestError) as raised:
        parse_manifest_text(text, path="agent.yaml")
    assert message in str(raised.value)
    assert str(raised.value).startswith("agent.yaml: invalid agent manifest:")


def test_a_missing_file() -> None:
    with pytest.raises(ManifestError, match="file not found"):
        load_manifest("/nonexistent/agent.yaml")


def test_messages_name_the_field_and_never_echo_values() -> None:
    secret = "sk-live-0123456789abcdef"
    document = minimal(model={"provider": "openai", "id": "gpt-4o", "apiKey": 42, "colour": secret})
    document["spec"]["model"]["parameters"] = {"temperature": 7}
    with pytest.raises(ManifestError) as raised:
        parse_manifest(document)
    text = str(raised.value)
    assert secret not in text
    issues = {issue.path: issue.message for issue in raised.value.issues}
    assert issues == {
        "spec.model.apiKey": "expected string, got number",
        "spec.model.colour": "unknown field",
        "spec.model.parameters.temperature": "must be <= 2",
    }


def test_guardrail_variants_are_checked_by_their_type() -> None:
    document = minimal(guardrails={"input": [{"type": "topic-filter", "action": "reject"}]})
    with pytest.raises(ManifestError) as raised:
        parse_manifest(document)
    assert [(i.path, i.message) for i in raised.value.issues] == [
        ("spec.guardrails.input[0].blockedTopics", "is required")
    ]


def test_hostile_keys_are_quoted_in_paths() -> None:
    document = minimal()
    document["spec"]['we"ird\nkey'] = 1
    with pytest.raises(ManifestError) as raised:
        parse_manifest(document)
    assert raised.value.issues[0].path == f"spec[{json.dumps(chr(119) + 'e' + chr(34) + 'ird' + chr(10) + 'key')}]"
