"""Loading and validating ``agent.yaml`` (``kind: AgentSpec`` and ``kind: Agent``).

Validation uses the JSON Schema the TypeScript SDK generates from its schema (``_data/manifest.schema.json``): one
schema, two languages. Two keywords carry what JSON Schema cannot say, and are checked here:
``x-kubernetes-validations`` (cross-field rules, CEL as in the CRD) and ``x-agentspec-reference`` (the reference
grammar).
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

import yaml
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

from . import _data
from .refs import reference_problem

Manifest = dict[str, Any]


@dataclass(frozen=True)
class ManifestIssue:
    """One problem: ``path`` names the field (``spec.tools[2].annotations``; empty for the whole document)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ManifestError(ValueError):
    """A manifest that cannot be used; every issue names its field. Values are never echoed (they may be secrets)."""

    def __init__(self, issues: list[ManifestIssue], file: str | None = None) -> None:
        self.issues = issues
        self.file = file
        where = f"{file}: " if file else ""
        super().__init__(f"{where}invalid agent manifest:\n" + "\n".join(f"  {issue}" for issue in issues))


@dataclass
class LoadedManifest:
    """A validated manifest, normalised to the ``kind: AgentSpec`` form whichever form the file used."""

    manifest: Manifest
    kind: Literal["Agent", "AgentSpec"]
    base_dir: str
    path: str | None = None
    deployment: dict[str, Any] | None = None
    resource: dict[str, Any] | None = field(default=None, repr=False)


# ------------------------------------------------------------------ YAML as the TypeScript SDK reads it (YAML 1.2)


#: Aliases a document may use (the TypeScript SDK's YAML parser's limit): more is an expansion bomb.
MAX_ALIASES = 100


class _Yaml12Loader(yaml.SafeLoader):
    """PyYAML's safe loader without YAML 1.1's extras: dates stay strings, only true/false are booleans; and at most
    MAX_ALIASES aliases."""

    aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_ALIASES} aliases (an alias expansion bomb?)")
        return super().compose_node(parent, index)


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _document_from(text: str, file: str | None) -> Any:
    try:
        documents = list(yaml.load_all(text, Loader=_Yaml12Loader))
    except yaml.YAMLError as err:
        first_line = str(err).split("\n")[0]
        raise ManifestError([ManifestIssue("", f"YAML: {first_line}")], file) from None
    except RecursionError:
        raise ManifestError([ManifestIssue("", "YAML: nested too deeply")], file) from None
    if not documents:
        raise ManifestError([ManifestIssue("", "the file is empty")], file)
    if len(documents) > 1:
        raise ManifestError([ManifestIssue("", f"expected one YAML document, found {len(documents)}")], file)
    return documents[0]


# ------------------------------------------------------------------ the cross-field rules, by their CEL text


def _has(obj: dict[str, Any], key: str) -> bool:
    return key in obj


#: Each ``x-kubernetes-validations`` rule of the schema, as a Python predicate over the object it sits on. A rule the
#: schema gains without an entry here fails the SDK's tests (tests/test_manifest.py), never silently passes.
CROSS_FIELD_RULES: dict[str, Callable[[dict[str, Any]], bool]] = {
    "has(self.agentspec) || has(self.a2a)": lambda o: _has(o, "agentspec") or _has(o, "a2a"),
}


def _cross_field(validator: Any, rules: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not isinstance(instance, dict):
        return
    for rule in rules:
        check = CROSS_FIELD_RULES.get(rule["rule"])
        if check is None:
            yield ValidationError(f"the SDK does not know the rule {rule['rule']!r}: upgrade the agentspec package")
        elif not check(instance):
            error = ValidationError(rule["message"])
            error.agentspec_field = rule.get("fieldPath", "").lstrip(".")  # type: ignore[attr-defined]
            yield error


def _reference(validator: Any, enabled: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if enabled and isinstance(instance, str):
        problem = reference_problem(instance)
        if problem:
            yield ValidationError(problem)


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if isinstance(instance, str) and not _compiled(pattern).search(instance):
        yield ValidationError(f"must match {pattern}")


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    # JavaScript's "$" is the end of input; Python's also matches before a final newline.
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


_Validator = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    {
        "x-kubernetes-validations": _cross_field,
        "x-agentspec-reference": _reference,
        "pattern": _pattern,
    },
)


@cache
def _validator(kind: str) -> Any:
    return _Validator(_data.manifest_schemas()[kind], format_checker=FormatChecker(formats=["date"]))


# ------------------------------------------------------------------ errors that name the field


def format_path(path: list[Any]) -> str:
    out = ""
    for segment in path:
        if isinstance(segment, int):
            out += f"[{segment}]"
        elif re.fullmatch(r"[A-Za-z_$][\w$-]*", str(segment), re.ASCII):
            out += f".{segment}" if out else str(segment)
        else:
            out += f"[{json.dumps(str(segment), ensure_ascii=False)}]"
    return out


def _describe_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _one_of_issue(error: ValidationError, path: list[Any]) -> list[ManifestIssue]:
    """A guardrail (a union keyed by ``type``): report the wrong ``type``, or what is wrong with the chosen variant."""
    instance: Any = error.instance
    variants: Any = error.validator_value
    types = [v.get("properties", {}).get("type", {}).get("const") for v in variants]
    if isinstance(instance, dict) and all(t is not None for t in types):
        if instance.get("type") not in types:
            return [ManifestIssue(format_path([*path, "type"]), f"expected one of {', '.join(types)}")]
        chosen = variants[types.index(instance["type"])]
        return [
            issue
            for sub in sorted(Draft202012Validator(chosen).iter_errors(instance), key=lambda e: list(e.path))
            for issue in _issues_of(sub, path)
        ]
    return [ManifestIssue(format_path(path), "does not match any allowed form")]


def _issues_of(error: ValidationError, prefix: list[Any] | None = None) -> list[ManifestIssue]:
    path = [*(prefix or []), *error.absolute_path]
    kind: Any = error.validator
    value: Any = error.validator_value
    instance: Any = error.instance
    schema: Any = error.schema
    where = format_path(path)
    if kind == "required":
        missing = [key for key in value if isinstance(instance, dict) and key not in instance]
        return [ManifestIssue(format_path([*path, key]), "is required") for key in missing]
    if kind == "additionalProperties" and isinstance(instance, dict):
        known = schema.get("properties", {})
        return [ManifestIssue(format_path([*path, key]), "unknown field") for key in instance if key not in known]
    if kind == "type":
        expected = value if isinstance(value, str) else " or ".join(value)
        return [ManifestIssue(where, f"expected {expected}, got {_describe_type(instance)}")]
    if kind in ("enum", "const"):
        values = value if kind == "enum" else [value]
        listed = ", ".join(json.dumps(v, ensure_ascii=False) for v in values)
        return [ManifestIssue(where, f"expected {'one of ' if len(values) > 1 else ''}{listed}")]
    if kind in ("minLength", "maxLength"):
        return [ManifestIssue(where, f"must be {'at least' if kind == 'minLength' else 'at most'} {value} characters")]
    if kind in ("minItems", "maxItems"):
        return [ManifestIssue(where, f"must have {'at least' if kind == 'minItems' else 'at most'} {value} items")]
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[kind]
        return [ManifestIssue(where, f"must be {op} {value}")]
    if kind == "format" and value == "date":
        return [ManifestIssue(where, "expected a date YYYY-MM-DD")]
    if kind == "oneOf":
        return _one_of_issue(error, path)
    if kind == "x-kubernetes-validations":
        target = getattr(error, "agentspec_field", "")
        return [ManifestIssue(format_path([*path, target] if target else path), error.message)]
    return [ManifestIssue(where, error.message)]


def _validate(document: dict[str, Any], kind: str, file: str | None) -> None:
    try:
        errors = sorted(_validator(kind).iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    except RecursionError:
        raise ManifestError([ManifestIssue("", "the document is nested too deeply")], file) from None
    issues = [issue for error in errors for issue in _issues_of(error)]
    if issues:
        raise ManifestError(issues, file)


# ------------------------------------------------------------------ defaults and the normalised form


def _apply_defaults(schema: dict[str, Any], value: Any) -> None:
    """Fills in the schema's ``default`` values, as the TypeScript SDK's parser does."""
    if isinstance(value, dict):
        for key, prop in schema.get("properties", {}).items():
            if key not in value and "default" in prop:
                value[key] = copy.deepcopy(prop["default"])
            if key in value:
                _apply_defaults(prop, value[key])
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            _apply_defaults(schema["items"], item)


_METADATA_MOVED = ("description", "version", "tags", "author", "license")


def agent_resource_to_manifest(resource: dict[str, Any]) -> Manifest:
    """A validated ``kind: Agent`` resource as the normalised ``kind: AgentSpec`` manifest."""
    spec = resource["spec"]
    metadata: dict[str, Any] = {"name": resource["metadata"]["name"], "version": spec["version"]}
    metadata["description"] = spec["description"]
    for key in ("tags", "author", "license"):
        if key in spec:
            metadata[key] = spec[key]
    fields = {k: v for k, v in spec.items() if k not in (*_METADATA_MOVED, "deployment")}
    return {"apiVersion": "agentspec.io/v1", "kind": "AgentSpec", "metadata": metadata, "spec": fields}


def parse_manifest(document: Any, *, base_dir: str | None = None, path: str | None = None) -> LoadedManifest:
    """Validates a parsed document (either form). Raises ManifestError naming every bad field."""
    directory = base_dir or (os.path.dirname(os.path.abspath(path)) if path else os.getcwd())
    if not isinstance(document, dict):
        raise ManifestError([ManifestIssue("", "expected a mapping with apiVersion, kind, metadata and spec")], path)
    kind = document.get("kind")
    if kind not in ("Agent", "AgentSpec"):
        raise ManifestError([ManifestIssue("kind", 'expected "Agent" or "AgentSpec"')], path)
    _validate(document, kind, path)
    data = copy.deepcopy(document)
    schema = _data.manifest_schemas()[kind]
    _apply_defaults(schema, data)
    if kind == "Agent":
        return LoadedManifest(
            manifest=agent_resource_to_manifest(data),
            kind="Agent",
            base_dir=directory,
            path=path,
            deployment=data["spec"].get("deployment"),
            resource=data,
        )
    return LoadedManifest(manifest=data, kind="AgentSpec", base_dir=directory, path=path)


def parse_manifest_text(text: str, *, base_dir: str | None = None, path: str | None = None) -> LoadedManifest:
    """Parses YAML (or JSON) text of either form."""
    return parse_manifest(_document_from(text, path), base_dir=base_dir, path=path)


def load_manifest(path: str | os.PathLike[str]) -> LoadedManifest:
    """Loads and validates an agent.yaml (``kind: Agent`` or ``kind: AgentSpec``)."""
    file = os.fspath(path)
    try:
        with open(file, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise ManifestError([ManifestIssue("", "file not found")], file) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ManifestError([ManifestIssue("", str(err))], file) from None
    return parse_manifest_text(text, path=file)
