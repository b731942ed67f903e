"""A tool's input schema loosened into one that a llama.cpp grammar can always be made from.

llama-cpp-python's converter (``llama_cpp.llama_grammar.json_schema_to_gbnf``) follows a
schema's structure well, but a few features break it or the grammar it writes: a ``maxLength``
of 4096 becomes 4096 nested groups that llama.cpp refuses (a million crash the process);
patterns are translated only in part (others fail an assertion); ``$ref`` outside the document
fails; ``{}`` becomes "any object". ``grammar_schema`` keeps what it handles (types, properties,
required, items, enums, consts, unions, small bounds, date and uuid formats), inlines local
``$ref``s, and widens everything else. A widened schema lets through values the tool's own
schema refuses: every call is checked against that schema afterwards (``tool_arguments``), so
a looser grammar costs a clear error, never a wrong call.
"""

from __future__ import annotations

import json
from typing import Any

ANY: dict[str, Any] = {"type": ["string", "number", "boolean", "null", "object", "array"]}
ANY_OBJECT: dict[str, Any] = {"type": "object"}
MAX_BOUND = 32  # longer minimum/maximum lengths and item counts are left to the check
MAX_DEPTH = 6  # deeper values (recursive schemas among them) may be any JSON value
MAX_ENUM = 64
MAX_BRANCHES = 16
MAX_PROPERTIES = 48
MAX_NODES = 2_000  # a schema that inlines into more becomes "any object"
MAX_CHARS = 16_000
_TYPES = ("string", "number", "integer", "boolean", "null", "object", "array")
_FORMATS = frozenset({"date", "time", "date-time", "uuid"})
_STRUCTURE = ("type", "properties", "items")


class _TooLarge(Exception):
    pass


def _small(value: Any) -> bool:
    try:
        return len(json.dumps(value)) <= 200
    except (TypeError, ValueError):
        return False


def _dict(node: dict[str, Any], key: str) -> dict[str, Any]:
    value = node.get(key)
    return dict(value) if isinstance(value, dict) else {}


def _list(node: dict[str, Any], key: str) -> list[str]:
    value = node.get(key)
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _bound(node: dict[str, Any], key: str) -> int | None:
    value = node.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_BOUND:
        return value
    return None


class _Loosener:
    def __init__(self, root: dict[str, Any]) -> None:
        self._root = root
        self._nodes = 0

    def loosen(self, node: Any, depth: int) -> dict[str, Any]:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _TooLarge
        resolved = self._resolve(node) if isinstance(node, dict) else None
        if resolved is None or depth > MAX_DEPTH:
            return dict(ANY)
        if isinstance(resolved.get("allOf"), list):
            resolved = self._merged(resolved)
        enum = resolved.get("enum")
        if "const" in resolved and _small(resolved["const"]):
            return {"const": resolved["const"]}
        if isinstance(enum, list) and 0 < len(enum) <= MAX_ENUM and all(map(_small, enum)):
            return {"enum": enum}
        for key in ("anyOf", "oneOf"):
            branches = resolved.get(key)
            if (
                isinstance(branches, list)
                and branches
                and not any(k in resolved for k in _STRUCTURE)
            ):
                return self._union(branches, depth)
        return self._typed(resolved, depth)

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any] | None:
        """``node`` with its local ``$ref``s followed (siblings kept); None for others."""
        for _ in range(16):
            ref = node.get("$ref")
            if not isinstance(ref, str):
                return node
            target: Any = self._root
            if ref != "#":
                if not ref.startswith("#/"):
                    return None
                for part in ref[2:].split("/"):
                    part = part.replace("~1", "/").replace("~0", "~")
                    if not isinstance(target, dict) or part not in target:
                        return None
                    target = target[part]
            if not isinstance(target, dict):
                return None
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            node = {**target, **siblings}
        return None

    def _merged(self, node: dict[str, Any]) -> dict[str, Any]:
        merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
        properties: dict[str, Any] = _dict(merged, "properties")
        required: list[str] = _list(merged, "required")
        for part in node["allOf"]:
            resolved = self._resolve(part) if isinstance(part, dict) else None
            if resolved is None:
                continue
            properties.update(_dict(resolved, "properties"))
            required.extend(_list(resolved, "required"))
            for key, value in resolved.items():
                merged.setdefault(key, value)
        if properties:
            merged["properties"], merged["required"] = properties, required
        return merged

    def _union(self, branches: list[Any], depth: int) -> dict[str, Any]:
        if len(branches) > MAX_BRANCHES:
            return dict(ANY)
        loosened = [self.loosen(branch, depth + 1) for branch in branches]
        return dict(ANY) if ANY in loosened else {"anyOf": loosened}

    def _typed(self, node: dict[str, Any], depth: int) -> dict[str, Any]:
        declared = node.get("type")
        if isinstance(declared, str):
            declared = [declared]
        if not isinstance(declared, list):
            declared = ["object"] if "properties" in node else ["array"] if "items" in node else []
        types = [t for t in _TYPES if t in declared]
        if "number" in types and "integer" in types:
            types.remove("integer")
        if not types:
            return dict(ANY)
        variants = [self._one_type(node, kind, depth) for kind in types]
        return variants[0] if len(variants) == 1 else {"anyOf": variants}

    def _one_type(self, node: dict[str, Any], kind: str, depth: int) -> dict[str, Any]:
        if kind == "object":
            return self._object(node, depth)
        if kind == "array":
            items = node.get("items")
            out: dict[str, Any] = {
                "type": "array",
                "items": self.loosen(items, depth + 1) if isinstance(items, dict) else dict(ANY),
            }
            low, high = _bound(node, "minItems"), _bound(node, "maxItems")
            if low:
                out["minItems"] = low
            if high is not None and high >= (low or 0):
                out["maxItems"] = high
            return out
        if kind == "string":
            out = {"type": "string"}
            if node.get("format") in _FORMATS:
                out["format"] = node["format"]
                return out
            low, high = _bound(node, "minLength"), _bound(node, "maxLength")
            if low:
                out["minLength"] = low
            if high is not None and high >= (low or 0):
                out["maxLength"] = high
            return out
        return {"type": kind}

    def _object(self, node: dict[str, Any], depth: int) -> dict[str, Any]:
        properties, extra = node.get("properties"), node.get("additionalProperties")
        # Declared properties (none at all for a tool without arguments) and no other keys: a
        # small model left free to add keys rambles.
        if isinstance(properties, dict) and (properties or extra in (None, False)):
            if len(properties) > MAX_PROPERTIES:
                return dict(ANY_OBJECT)
            loosened = {
                str(name): self.loosen(schema, depth + 1) for name, schema in properties.items()
            }
            required = [name for name in _list(node, "required") if name in loosened]
            return {"type": "object", "properties": loosened, "required": required}
        if isinstance(extra, dict):
            return {"type": "object", "additionalProperties": self.loosen(extra, depth + 1)}
        return dict(ANY_OBJECT)


def grammar_schema(schema: dict[str, Any] | None) -> dict[str, Any]:
    """The arguments schema a grammar is made from: an object schema, at worst any object."""
    if not isinstance(schema, dict):
        return dict(ANY_OBJECT)
    try:
        loosened = _Loosener(schema).loosen(schema, 0)
    except _TooLarge:
        return dict(ANY_OBJECT)
    if loosened.get("type") != "object" or len(json.dumps(loosened)) > MAX_CHARS:
        return dict(ANY_OBJECT)
    return loosened
