"""``hybridmcp game judge`` end to end: a real process judging a puzzle given on the command
line, with the embedding host, the real local model, and a host that is not set up."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration
SURFACE = "A woman walks home through heavy rain without an umbrella, yet not a hair gets wet."
BOTTOM = "She is completely bald after chemotherapy; her scalp got wet, but she has no hair."


def judge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hybridmcp_app", "game", "judge", "--surface", SURFACE,
         "--bottom", BOTTOM, *args],
        env=dict(os.environ), capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def test_a_question_is_answered_with_one_word_and_json_adds_the_confidence() -> None:
    plain = judge("--host", "embedding", "Is she completely bald?")
    as_json = judge("--host", "local", "--json", "Is she completely bald?")
    guess = judge("--host", "embedding", "--guess", "She is completely bald after chemotherapy.")

    assert (plain.returncode, plain.stdout) == (0, "Yes\n"), plain.stderr
    result = json.loads(as_json.stdout)
    assert result["answer"] in ("yes", "no", "irrelevant", "partly") and result["host"] == "local"
    assert 0 < result["confidence"] <= 1 and result["escalated"] is False
    assert guess.stdout in ("Correct\n", "Close\n", "Incorrect\n")


def test_bad_input_and_a_missing_host_get_clear_errors_and_their_exit_codes() -> None:
    empty = judge("--host", "embedding", "   ")
    short = subprocess.run(
        [sys.executable, "-m", "hybridmcp_app", "game", "judge", "--surface", "Rain.",
         "--bottom", BOTTOM, "Is she bald?"],
        env=dict(os.environ), capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    no_provider = judge("--host", "provider", "Is she bald?")

    assert empty.returncode == 2 and "must not be empty" in empty.stderr
    assert short.returncode == 2
    assert "surface: String should have at least 10 characters" in short.stderr
    assert no_provider.returncode == 3
    assert "no provider is set up: add one in Settings → Providers" in no_provider.stderr
