"""JSONC as VS Code writes it: comments and trailing commas, strings left alone."""

import json

import pytest

from hybridmcp_app.config.jsonc import loads_jsonc

SETTINGS = """\ufeff{
  // the editor
  "editor.fontSize": 14, /* inline */
  "url": "http://example.org/a//b", // a comment after a string holding //
  "text": "not /* a comment */, really",
  "mcp": {
    "servers": {
      "fs": {"command": "npx", "args": ["-y", "x",],},
    },
  },
}
"""


def test_comments_and_trailing_commas_are_ignored_but_strings_are_kept() -> None:
    data = loads_jsonc(SETTINGS)
    assert data["editor.fontSize"] == 14
    assert data["url"] == "http://example.org/a//b"
    assert data["text"] == "not /* a comment */, really"
    assert data["mcp"]["servers"]["fs"]["args"] == ["-y", "x"]


def test_errors_point_at_the_line_of_the_original_text() -> None:
    with pytest.raises(json.JSONDecodeError) as caught:
        loads_jsonc('{\n  /* two\n lines */\n  "a": tru\n}')
    assert caught.value.lineno == 4
