"""The nesting and size limits of JSON config files count what the parser would: brackets in
strings and in JSONC comments are text, not nesting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hybridmcp_app.config.json_limits import (
    MAX_NESTING,
    load_json_file,
    loads_limited,
    nesting_too_deep,
    read_limited_text,
)
from hybridmcp_app.core.errors import ConfigError


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_up_to_the_limit_parses_and_one_level_more_is_refused_with_its_line() -> None:
    assert loads_limited(nested(MAX_NESTING), "x.json") is not None
    text = '{\n  "a":\n' + nested(MAX_NESTING) + "\n}"  # 65 levels, the deepest on line 3
    with pytest.raises(ConfigError, match=r"^x.json is nested deeper than 64 levels \(line 3\)"):
        loads_limited(text, "x.json")


def test_brackets_in_strings_escapes_and_comments_are_not_nesting() -> None:
    brackets = "[{" * 500
    text = json.dumps({"args": [brackets, 'say "' + brackets + '"', "\\" + brackets]})
    assert nesting_too_deep(text) is None
    assert loads_limited(text, "mcp.json")["args"][0] == brackets
    jsonc = "// " + brackets + "\n/* " + brackets + " */\n" + text
    assert loads_limited(jsonc, "settings.json", jsonc=True)["args"][0] == brackets


def test_an_unterminated_string_is_a_json_error_not_a_nesting_one() -> None:
    with pytest.raises(json.JSONDecodeError):
        loads_limited('{"a": "' + "[" * 1000, "mcp.json")


def test_a_file_at_the_size_limit_is_read_and_one_byte_more_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text("x" * 100)
    assert read_limited_text(path, max_bytes=100) == "x" * 100
    path.write_text("x" * 101)
    with pytest.raises(ConfigError, match=r"^mcp.json is larger than "):
        read_limited_text(path, max_bytes=100)


def test_a_file_that_is_not_utf8_or_not_json_raises_what_the_callers_word(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(UnicodeDecodeError):
        load_json_file(path)
    path.write_text("{,}")
    with pytest.raises(json.JSONDecodeError):
        load_json_file(path)
