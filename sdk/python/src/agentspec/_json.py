"""JSON as JavaScript's ``JSON.stringify`` writes it: compact, UTF-8, no NaN. Reports are byte-identical to the
TypeScript SDK's when their dicts are built in the same key order."""

from __future__ import annotations

import json
from typing import Any


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def size(value: Any) -> int:
    """Bytes of ``dumps(value)`` in UTF-8 (``Buffer.byteLength(JSON.stringify(value))``)."""
    return len(dumps(value).encode("utf-8", errors="surrogatepass"))
