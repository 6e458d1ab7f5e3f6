"""References in manifest strings: ``$env:NAME``, ``$secret:NAME``, ``$file:path``, ``$func:now_iso|now_unix|now_date``.

The grammar and the resolution rules are the TypeScript SDK's (``sdk/typescript/src/manifest/refs.ts`` and
``resolve-ref.ts``): the same manifest resolves the same way in both languages.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

ReferenceType = Literal["env", "secret", "file", "func"]
REFERENCE_FUNCTIONS = ("now_iso", "now_unix", "now_date")

# fullmatch: JavaScript's "$" (end of input), which Python's "$" is not (it also matches before a final newline).
_REFERENCE = re.compile(r"\$(env|secret|file|func):(.*)")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SECRET_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_UNKNOWN_KIND = re.compile(r"^\$[a-z]+:")


def parse_reference(value: str) -> tuple[ReferenceType, str] | None:
    """The kind and target of a reference, or None for a literal (or a reference with an empty target)."""
    match = _REFERENCE.fullmatch(value)
    if not match or not match.group(2):
        return None
    kind: ReferenceType = match.group(1)  # type: ignore[assignment]
    return kind, match.group(2)


def reference_problem(value: str) -> str | None:
    """Why a reference string is malformed, or None for a literal or a well-formed reference."""
    if not value.startswith("$"):
        return None
    match = _REFERENCE.fullmatch(value)
    if not match:
        if _UNKNOWN_KIND.match(value):
            return f'unknown reference "{value.split(":")[0]}:" (use $env:, $secret:, $file: or $func:)'
        return None  # a literal that happens to start with "$"
    kind, rest = match.group(1), match.group(2)
    if kind == "env":
        return None if _ENV_NAME.fullmatch(rest) else f'$env: needs an environment variable name, got "{rest}"'
    if kind == "secret":
        return None if _SECRET_NAME.fullmatch(rest) else f'$secret: needs a secret name ([A-Za-z0-9_.-]), got "{rest}"'
    if kind == "file":
        if rest == "":
            return "$file: needs a path"
        if rest.startswith("/") or ".." in re.split(r"[\\/]", rest):
            return f'$file: path "{rest}" must be relative and stay inside the manifest\'s directory'
        return None
    if rest in REFERENCE_FUNCTIONS:
        return None
    return f"unknown $func:{rest} (use one of {', '.join(REFERENCE_FUNCTIONS)})"


@dataclass(frozen=True)
class ResolvedReference:
    kind: Literal["literal", "env", "secret", "file", "func"]
    target: str | None = None
    value: str | None = None
    problem: str | None = None


def secret_env_name(name: str) -> str:
    """The variable a ``$secret:NAME`` is read from first: ``AGENTSPEC_SECRET_<NAME>``."""
    return "AGENTSPEC_SECRET_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


def iso_timestamp(now: datetime) -> str:
    """JavaScript's ``Date.toISOString()``: UTC, milliseconds, ``Z``."""
    utc = now.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _read_inside(base_dir: str, path: str) -> ResolvedReference:
    base = Path(base_dir).resolve()
    try:
        real = (base / path).resolve(strict=True)
    except (OSError, RuntimeError):
        return ResolvedReference("file", path, problem=f"file {path} not found next to the manifest")
    if not real.is_relative_to(base):
        return ResolvedReference("file", path, problem=f"file {path} is outside the manifest's directory")
    try:
        return ResolvedReference("file", path, value=real.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return ResolvedReference("file", path, problem=f"file {path} not found next to the manifest")


def resolve_ref(
    raw: str,
    *,
    base_dir: str,
    env: Mapping[str, str] | None = None,
    secrets_dir: str | None = None,
    now: datetime | None = None,
) -> ResolvedReference:
    """Resolves a literal-or-reference string at run time."""
    environ: Mapping[str, str] = os.environ if env is None else env
    reference = parse_reference(raw)
    if reference is None:
        return ResolvedReference("literal", value=raw)
    kind, target = reference
    if kind == "env":
        value = environ.get(target)
        if not value:
            return ResolvedReference("env", target, problem=f"environment variable {target} is not set")
        return ResolvedReference("env", target, value=value)
    if kind == "secret":
        from_env = environ.get(secret_env_name(target))
        if from_env:
            return ResolvedReference("secret", target, value=from_env)
        directory = secrets_dir or environ.get("AGENTSPEC_SECRETS_DIR") or "/var/run/secrets/agentspec"
        location = os.path.join(directory, target)
        try:
            with open(location, encoding="utf-8") as handle:
                return ResolvedReference("secret", target, value=handle.read().strip())
        except (OSError, UnicodeDecodeError):
            return ResolvedReference(
                "secret",
                target,
                problem=f"secret {target} not found (set {secret_env_name(target)} or mount it at {location})",
            )
    if kind == "file":
        return _read_inside(base_dir, target)
    moment = now or datetime.now(timezone.utc)
    values = {
        "now_iso": iso_timestamp(moment),
        "now_unix": str(int(moment.timestamp())),
        "now_date": iso_timestamp(moment)[:10],
    }
    if target not in values:
        return ResolvedReference("func", target, problem=f"unknown function {target}")
    return ResolvedReference("func", target, value=values[target])


def find_references(spec: object, path: str = "spec") -> list[tuple[ReferenceType, str, str]]:
    """Every reference in ``spec`` once per kind and target, with the first field using it: (kind, target, field)."""
    found: dict[tuple[str, str], tuple[ReferenceType, str, str]] = {}

    def walk(value: object, where: str) -> None:
        if isinstance(value, str):
            reference = parse_reference(value)
            if reference and reference not in found:
                found[reference] = (reference[0], reference[1], where)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{where}[{index}]")
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{where}.{key}")

    walk(spec, path)
    return list(found.values())
