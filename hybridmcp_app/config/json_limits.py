"""JSON config files read within bounds: a size limit and a nesting limit, both checked before
the parser sees the text.

A hostile or broken file (a 50 MB ``mcp.json``, 100,000 nested brackets) then gives a
``ConfigError`` that names the file and the limit, never a ``RecursionError`` out of the parser
or minutes of work. The nesting is measured without recursion, by one scan over the brackets
outside strings.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from hybridmcp_app.config.jsonc import strip_jsonc
from hybridmcp_app.core.errors import ConfigError, describe_validation_error

ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_CONFIG_BYTES = 5 * 1024 * 1024  # a long mcp.json is a few tens of kB
MAX_NESTING = 64  # an mcp.json entry nests 3 or 4 levels; VS Code's settings.json a few more
# A string (possibly unterminated: it runs to the end) or one bracket.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.3g} MB"


def read_limited_text(path: Path, max_bytes: int = MAX_CONFIG_BYTES) -> str:
    """The file's text; ``ConfigError`` if it holds more than ``max_bytes``.

    Raises ``OSError`` and ``UnicodeDecodeError`` as ``Path.read_text`` does. At most
    ``max_bytes + 1`` bytes are read, even from a file that grows meanwhile.
    """
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
        if len(data) > max_bytes:
            handle.seek(0, 2)
            raise ConfigError(
                f"{path.name} is larger than {_megabytes(max_bytes)} "
                f"({_megabytes(handle.tell())}): HybridMCP does not read config files that big. "
                f"Remove what is not needed from {path}."
            )
    return data.decode("utf-8")


def nesting_too_deep(text: str, max_nesting: int = MAX_NESTING) -> int | None:
    """The line where ``text`` first nests deeper than ``max_nesting``, or None."""
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        bracket = match[0]
        if bracket in "[{":
            depth += 1
            if depth > max_nesting:
                return text.count("\n", 0, match.start()) + 1
        elif bracket in "]}":
            depth = max(depth - 1, 0)
    return None


def loads_limited(text: str, name: str, *, jsonc: bool = False) -> Any:
    """Parse ``text`` (JSONC when ``jsonc``) after checking its nesting.

    ``ConfigError`` names ``name`` when it nests too deep; ``json.JSONDecodeError`` otherwise
    as ``json.loads`` raises it (positions point into the original text).
    """
    if jsonc:
        text = strip_jsonc(text)
    line = nesting_too_deep(text)
    if line is not None:
        raise ConfigError(
            f"{name} is nested deeper than {MAX_NESTING} levels (line {line}): no config "
            "needs that. Fix the file or move it aside."
        )
    return json.loads(text)


def load_json_file(path: Path, *, jsonc: bool = False) -> Any:
    """Read and parse a JSON (or JSONC) config file within the size and nesting limits.

    ``ConfigError`` for a file over a limit; ``OSError``, ``UnicodeDecodeError`` and
    ``json.JSONDecodeError`` pass through for the caller to word.
    """
    return loads_limited(read_limited_text(path), path.name, jsonc=jsonc)


def load_model_file(path: Path, model: type[ModelT], what: str) -> ModelT:
    """A data file (a catalogue) read within the limits and checked by ``model``; a missing,
    unreadable, malformed or invalid file raises ``ConfigError`` in one line naming ``what``."""
    try:
        data = load_json_file(path)
    except OSError as error:
        raise ConfigError(f"the {what} {path} cannot be read: {error.strerror}") from None
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        raise ConfigError(f"the {what} {path} is not valid JSON: {error}") from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(describe_validation_error(error))
        raise ConfigError(f"the {what} {path} has bad entries: {problems}") from None
