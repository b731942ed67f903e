"""How long the prompt-lookup drafts run: long while they are kept, paused when they miss."""

from hybridmcp_app.llm.llama_drafting import FIRST_DRAFT, MAX_DRAFT, MAX_PAUSE, DraftLength


def test_fully_accepted_drafts_double_up_to_the_longest() -> None:
    length = DraftLength()
    seen = []
    for _ in range(6):
        seen.append(length.next())
        length.record(seen[-1], seen[-1])
    assert seen[0] == FIRST_DRAFT
    assert seen == sorted(seen) and seen[-1] == MAX_DRAFT


def test_a_partly_accepted_draft_halves_the_next_one() -> None:
    length = DraftLength()
    length.record(FIRST_DRAFT, 3)
    assert length.next() == FIRST_DRAFT // 2


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
