"""The game benchmark's provider server reads the host's system message, as a real provider does."""

from __future__ import annotations

from benchmarks.game_provider_server import folded, format_gemma_with_system

RULES = "You host turtle soup. Story: a man asks for water and is handed a gun."


def test_the_system_text_leads_the_first_user_turn_of_the_gemma_prompt() -> None:
    prompt = format_gemma_with_system([
        {"role": "system", "content": RULES},
        {"role": "user", "content": "Question: Was he thirsty?"},
    ]).prompt  # fmt: skip
    assert f"<start_of_turn>user\n{RULES}\n\nQuestion: Was he thirsty?<end_of_turn>" in prompt
    assert prompt.rstrip().endswith("<start_of_turn>model")


def test_system_text_with_no_user_turn_becomes_one_and_nothing_is_lost() -> None:
    messages = [{"role": "system", "content": RULES}, {"role": "assistant", "content": "Ask."}]
    assert folded(messages) == [{"role": "user", "content": RULES}, messages[1]]
    plain = [{"role": "user", "content": "Hi"}]
    assert folded(plain) == plain
