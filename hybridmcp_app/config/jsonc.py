"""JSON with comments (JSONC), as VS Code writes ``settings.json`` and ``mcp.json``.

Accepts ``//`` and ``/* */`` comments and trailing commas, nothing else of JSON5. Comments are
replaced by spaces (newlines kept), so ``json.JSONDecodeError`` positions still point into the
original text.
"""

from __future__ import annotations

import json
import re
from typing import Any

# A string literal first, so that "//" or "," inside a string is never touched.
_COMMENT = re.compile(r'"(?:\\.|[^"\\\n])*"|//[^\n]*|/\*.*?\*/', re.DOTALL)
_TRAILING_COMMA = re.compile(r'"(?:\\.|[^"\\\n])*"|,(?=\s*[}\]])')


def _blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


def strip_jsonc(text: str) -> str:
    """``text`` as plain JSON: comments and trailing commas blanked out, same line numbers."""
    text = text.removeprefix("\ufeff")
    text = _COMMENT.sub(lambda m: m[0] if m[0].startswith('"') else _blank(m[0]), text)
    return _TRAILING_COMMA.sub(lambda m: m[0] if m[0].startswith('"') else " ", text)


def loads_jsonc(text: str) -> Any:
    """Parse JSONC; raises ``json.JSONDecodeError`` like ``json.loads``."""
    return json.loads(strip_jsonc(text))
