from hybridmcp_app.core.token_estimate import CHARS_PER_TOKEN, estimate_tokens


def test_empty_text_is_no_tokens() -> None:
    assert estimate_tokens("") == 0


def test_any_text_is_at_least_one_token() -> None:
    assert estimate_tokens("a") == 1


def test_text_counts_one_token_per_four_characters() -> None:
    assert CHARS_PER_TOKEN == 4
    assert estimate_tokens("x" * 400) == 100
    assert estimate_tokens("x" * 10) == 2  # 2.5 rounds to the even 2
