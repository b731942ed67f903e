"""A request body as JSON, within bounds: its size is limited before it is read (``HttpGuard``,
413), and here its nesting (400), so 100,000 nested brackets get a clear refusal instead of a
``RecursionError`` (500). An OpenAI request nests four or five levels; ``MAX_NESTING`` leaves
room for any tool schema.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_BODY = 10 * 1024 * 1024
MAX_NESTING = 64


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKETS = bytes.maketrans(b"[{]}", b"(())")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


class BodyRefused(ValueError):
    """The body is not JSON, or nests too deep; the message says which."""


def nests_deeper_than(text: bytes, limit: int) -> bool:
    """Whether ``text``, valid JSON in UTF-8, has arrays or objects nested more than ``limit``
    levels deep.

    Strings dropped, brackets kept, then each pass removes the innermost pairs: one level each.
    All of it at C speed (a Python loop over five million items took seconds).
    """
    brackets = _STRING.sub(b"", text).translate(_BRACKETS, _NOT_BRACKETS)
    for _level in range(limit):
        if not brackets:
            return False
        brackets = brackets.replace(b"()", b"")
    return bool(brackets)


def parse_json_body(raw: bytes, max_nesting: int = MAX_NESTING) -> Any:
    """The body's JSON value; ``BodyRefused`` if it is not JSON or nests deeper than
    ``max_nesting``. Blocking for a big body: run it off the event loop."""
    too_deep = BodyRefused(f"the request body nests deeper than {max_nesting} levels")
    try:
        value = json.loads(raw.decode("utf-8"))  # UTF-8 only: then the scan below is exact
    except RecursionError:  # the parser's own limit, far above ours
        raise too_deep from None
    except ValueError:  # not UTF-8, or not JSON
        raise BodyRefused("the request body is not JSON (in UTF-8)") from None
    if nests_deeper_than(raw, max_nesting):
        raise too_deep
    return value
