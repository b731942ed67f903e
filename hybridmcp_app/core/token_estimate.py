"""A rough token count (four characters a token) for when no tokenizer or server reports one."""

from __future__ import annotations

CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """About how many tokens ``text`` is: 0 for empty text, at least 1 otherwise."""
    return max(1, round(len(text) / CHARS_PER_TOKEN)) if text else 0
