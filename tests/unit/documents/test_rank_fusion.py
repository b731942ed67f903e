"""Reciprocal rank fusion of a vector and a keyword ranking."""

from __future__ import annotations

import pytest

from hybridmcp_app.documents.rank_fusion import RRF_C, fuse


def test_an_item_ranked_well_in_both_lists_beats_one_ranked_first_in_only_one() -> None:
    fused = fuse([["a", "b", "c"], ["b", "d"]], k=4)
    assert [item for item, _ in fused] == ["b", "a", "d", "c"]
    assert fused[0][1] == pytest.approx(1 / (RRF_C + 2) + 1 / (RRF_C + 1))


def test_an_item_only_one_list_has_first_beats_one_the_other_list_has_low() -> None:
    vector = ["v1", "v2", "v3", "target"]
    keyword = ["target"]
    assert fuse([vector, keyword], k=1)[0][0] == "target"


def test_ties_keep_the_order_in_which_the_items_were_first_met() -> None:
    assert [item for item, _ in fuse([["a", "x"], ["b", "y"]], k=4)] == ["a", "b", "x", "y"]


def test_only_the_k_best_come_back_and_k_of_zero_gives_none() -> None:
    assert len(fuse([["a", "b", "c"], ["d"]], k=2)) == 2
    assert fuse([["a"]], k=0) == []
    assert fuse([], k=5) == []


def test_an_item_repeated_in_one_ranking_counts_once_at_its_best_rank() -> None:
    [(item, score)] = fuse([["a", "a", "a"]], k=1)
    assert item == "a"
    assert score == pytest.approx(1 / (RRF_C + 1))


def test_a_smaller_constant_weighs_the_top_ranks_more() -> None:
    rankings = [["a", "b"], ["b", "c"]]
    assert fuse(rankings, k=1, c=0)[0][1] == pytest.approx(1 / 2 + 1 / 1)


def test_a_negative_constant_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        fuse([["a"]], k=1, c=-1)
