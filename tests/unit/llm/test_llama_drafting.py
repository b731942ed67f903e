"""How long the prompt-lookup drafts run (long while they are kept, paused when they do not
pay), and where prompt lookup copies them from."""

import numpy as np

from hybridmcp_app.llm.llama_drafting import (
    FIRST_DRAFT,
    LONGEST_MATCH,
    MAX_DRAFT,
    MAX_PAUSE,
    DraftLength,
    PromptLookup,
)


def test_fully_accepted_drafts_double_up_to_the_longest() -> None:
    length = DraftLength()
    seen = []
    for _ in range(6):
        seen.append(length.next())
        length.record(seen[-1], seen[-1])
    assert seen[0] == FIRST_DRAFT
    assert seen == sorted(seen) and seen[-1] == MAX_DRAFT


def test_a_draft_at_least_half_accepted_halves_the_next_one() -> None:
    length = DraftLength()
    length.record(FIRST_DRAFT, FIRST_DRAFT // 2)
    assert length.next() == FIRST_DRAFT // 2


def test_a_draft_less_than_half_accepted_pauses_drafting_as_one_rejected_outright() -> None:
    length = DraftLength()
    length.record(FIRST_DRAFT, FIRST_DRAFT // 2 - 1)
    assert [length.next(), length.next()] == [0, 0]
    assert length.next() > 0


def test_drafts_rejected_outright_pause_drafting_for_longer_each_time() -> None:
    length = DraftLength()
    pauses = []
    for _ in range(8):
        length.record(length.next() or 1, 0)
        pause = 0
        while length.next() == 0:
            pause += 1
        pauses.append(pause)
    assert pauses[:3] == [2, 4, 8]
    assert max(pauses) == MAX_PAUSE


def test_a_lookup_that_found_nothing_changes_nothing() -> None:
    length = DraftLength()
    length.record(0, 0)
    assert length.next() == FIRST_DRAFT


def test_the_draft_never_exceeds_what_the_batch_holds() -> None:
    length = DraftLength(longest=3)
    for _ in range(5):
        length.record(length.next(), length.next())
    assert length.next() == 3


def lookup(tokens: list[int], wanted: int = 4) -> list[int]:
    return [int(t) for t in PromptLookup(wanted)(np.array(tokens, dtype=np.intc))]


def test_lookup_copies_what_followed_the_longest_earlier_match_of_the_last_tokens() -> None:
    # "5 6" recurs twice; only the second time is it preceded by "4" as the text's end is.
    tokens = [5, 6, 1, 1, 4, 5, 6, 2, 3, 7, 8, 9, 4, 5, 6]
    assert lookup(tokens, 2) == [2, 3]


def test_lookup_prefers_the_earliest_of_equally_long_matches_the_source_an_edit_copies() -> None:
    tokens = [1, 2, 3, 4, 9, 1, 2, 7, 7, 1, 2]
    assert lookup(tokens) == [3, 4, 9, 1]


def test_lookup_matches_no_further_back_than_the_longest_match() -> None:
    # Matched over LONGEST_MATCH tokens, both places are alike: the earlier one wins.
    shared = list(range(10, 10 + LONGEST_MATCH))
    tokens = [1, *shared, 2, 99, 3, *shared, 4, 98, 3, *shared]
    assert lookup(tokens, 2) == [2, 99]


def test_lookup_drafts_nothing_from_a_single_matching_token_or_no_match() -> None:
    assert lookup([1, 2, 3, 4, 5, 3]) == []  # "3" recurs, "5 3" does not
    assert lookup([1, 2, 3, 4]) == []
    assert lookup([7, 7]) == []


def test_lookup_stops_at_the_end_of_the_text_and_at_the_number_asked_for() -> None:
    assert lookup([1, 2, 3, 1, 2], 8) == [3, 1, 2]
    assert lookup([1, 2, 3, 4, 5, 1, 2], 0) == []
