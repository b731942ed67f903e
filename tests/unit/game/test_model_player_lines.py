"""A model player's reply is read as one move: its first line, without the labels it copied."""

from __future__ import annotations

import pytest

from hybridmcp_app.game.model_player import _line


@pytest.mark.parametrize(
    ("reply", "move"),
    [
        ("Q: Was she bald? -> Irrelevant", "Was she bald?"),
        ("Was it raining? A: Yes\nmore text", "Was it raining?"),
        ("GUESS: She is bald.", "GUESS: She is bald."),
        ("\n\nquestion - Is it day?", "Is it day?"),
        ("", ""),
    ],
)
def test_a_reply_becomes_one_move(reply: str, move: str) -> None:
    assert _line(reply) == move
