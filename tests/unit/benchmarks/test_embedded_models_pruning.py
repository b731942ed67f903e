"""The scorer comparison of benchmarks.embedded_models: pruning by surprisal, as Boost prunes."""

from __future__ import annotations

from benchmarks.embedded_models import Word, prune_words, random_pruning


def _words(*pairs: tuple[str, float]) -> list[Word]:
    return [Word(text=text, surprisal=surprisal) for text, surprisal in pairs]


def test_pruning_drops_the_least_surprising_words_until_half_the_characters_are_left() -> None:
    words = _words(("The", 9.0), (" lake", 1.0), (" froze", 8.0), (" in", 0.5), (" 1962", 2.0))
    assert prune_words(words, None) == "The froze"


def test_pruning_as_the_app_does_keeps_numbers_names_and_the_questions_words() -> None:
    words = _words(("The", 9.0), (" lake", 1.0), (" froze", 8.0), (" in", 0.5), (" 1962", 2.0))
    assert prune_words(words, {"lake"}) == "The lake 1962"


def test_random_scores_keep_some_answers_and_lose_others() -> None:
    kept, asked = random_pruning()
    assert asked == 72 and 0 < kept < asked
