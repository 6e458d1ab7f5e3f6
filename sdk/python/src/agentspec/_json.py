"""JSON as JavaScript's ``JSON.stringify`` writes it: compact, UTF-8, no NaN. Reports are byte-identical to the
TypeScript SDK's when their dicts are built in the same key order."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def size(value: Any) -> int:
    """Bytes of ``dumps(value)`` in UTF-8 (``Buffer.byteLength(JSON.stringify(value))``)."""
    return len(dumps(value).encode("utf-8", errors="surrogatepass"))


def number(value: float) -> str:
    """A number as JavaScript's ``String(value)`` writes it (``500``, ``0.5``, ``0.000001``, ``1e-7``, ``1e+21``)."""
    if isinstance(value, int) or (value.is_integer() and abs(value) < 1e21):
        return str(int(value))
    text = repr(value)
    if "e" in text and 1e-6 <= abs(value) < 1e21:
        return format(Decimal(text), "f")
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", text)
