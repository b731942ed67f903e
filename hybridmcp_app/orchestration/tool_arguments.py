"""Checking a model's tool arguments before anyone is asked, and bounding what a tool returns.

Models write arguments as JSON text; it may be broken, not an object, or not fit the tool's
input schema. Each problem becomes a message the model can act on, never an exception.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import jsonschema.exceptions
import jsonschema.validators

from hybridmcp_app.mcp_host.mcp_items import ToolCallOutcome

log = logging.getLogger("hybridmcp.orchestration.tools")
MAX_ERRORS_LISTED = 5
DEFAULT_MAX_RESULT_CHARS = 8_000
_SCHEMA_KEYWORDS = frozenset(
    {
        "$schema", "$id", "$defs", "definitions", "$ref", "type", "properties", "required",
        "additionalProperties", "items", "title", "description", "default", "examples", "enum",
        "const", "anyOf", "oneOf", "allOf", "format", "pattern", "minimum", "maximum",
        "minLength", "maxLength", "minItems", "maxItems",
    }
)  # fmt: skip


@dataclass(frozen=True)
class CheckedArguments:
    """The arguments as an object, or ``error`` saying why they cannot be used."""

    arguments: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def pretty(self, raw: str) -> str:
        """Indented JSON when they parsed; the model's text as it was otherwise."""
        if self.error is not None and not self.arguments:
            return raw
        return json.dumps(self.arguments, indent=2, ensure_ascii=False)


def _echoes_a_schema(value: dict[str, Any], schema: dict[str, Any]) -> bool:
    """Whether ``value`` is a JSON schema (a model shown the tool's schema may copy it) rather
    than values: only schema keywords, with "type" or "properties", and none the tool declares."""
    declared = schema.get("properties")
    keys = set(value)
    return (
        bool(keys & {"type", "properties"})
        and keys <= _SCHEMA_KEYWORDS
        and not (isinstance(declared, dict) and keys & set(declared))
    )


def _where(error: jsonschema.exceptions.ValidationError) -> str:
    path = "".join(f"[{part!r}]" if isinstance(part, int) else f".{part}" for part in error.path)
    return f"arguments{path}" if path else "arguments"


def check_arguments(raw: str, schema: dict[str, Any] | None) -> CheckedArguments:
    """Parse ``raw`` (empty means no arguments) and check it against ``schema`` when given."""
    text = raw.strip()
    try:
        value = json.loads(text) if text else {}
    except json.JSONDecodeError as error:
        return CheckedArguments(error=f"the arguments are not valid JSON ({error})")
    if not isinstance(value, dict):
        return CheckedArguments(
            error=f"the arguments must be a JSON object, not {type(value).__name__}"
        )
    if not schema:
        return CheckedArguments(value)
    if _echoes_a_schema(value, schema):
        return CheckedArguments(
            error="the model wrote a JSON schema instead of values for the arguments"
        )
    try:
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)
    except jsonschema.exceptions.SchemaError as error:
        # The server's schema is itself broken: let the server judge the arguments.
        log.warning("a tool's input schema is invalid, arguments not checked: %s", error.message)
        return CheckedArguments(value)
    problems = sorted(validator_class(schema).iter_errors(value), key=lambda e: list(e.path))
    if not problems:
        return CheckedArguments(value)
    listed = [f"{_where(problem)}: {problem.message}" for problem in problems[:MAX_ERRORS_LISTED]]
    more = len(problems) - len(listed)
    if more > 0:
        listed.append(f"and {more} more")
    return CheckedArguments(
        value, error="the arguments do not fit the schema: " + "; ".join(listed)
    )


def truncate_outcome(outcome: ToolCallOutcome, limit: int) -> tuple[ToolCallOutcome, bool]:
    """At most ``limit`` characters of the result, saying so in the text when it was cut."""
    text = outcome.text
    if len(text) <= limit:
        return outcome, False
    note = f"\n[truncated: the first {limit} of {len(text)} characters are shown]"
    return outcome.model_copy(update={"text": text[:limit] + note}), True
