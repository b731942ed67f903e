"""ExactIndex: exact cosine ranking over vectors kept in memory, with writes in between."""

from __future__ import annotations

import numpy as np
import pytest

from hybridmcp_app.documents.exact_index import ExactIndex


def random_vectors(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(count, 8)).astype(np.float32)


def brute_force(ids: list[str], vectors: np.ndarray, query: np.ndarray, k: int) -> list[str]:
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = unit @ (query / np.linalg.norm(query))
    return [ids[row] for row in np.argsort(-scores)[:k]]


def test_the_ranking_is_the_brute_force_cosine_ranking_with_scores() -> None:
    vectors = random_vectors(300)
    ids = [f"c{number}" for number in range(300)]
    index = ExactIndex(8)
    for start in range(0, 300, 32):  # in batches, as the indexer writes
        index.upsert(ids[start : start + 32], vectors[start : start + 32])
    query = random_vectors(1, seed=1)[0]
    best = index.top(query, 10)
    assert [chunk_id for chunk_id, _ in best] == brute_force(ids, vectors, query, 10)
    first = vectors[int(best[0][0][1:])]
    expected = float(first @ query / np.linalg.norm(first) / np.linalg.norm(query))
    assert best[0][1] == pytest.approx(expected, abs=1e-5)


def test_every_vector_finds_itself_first() -> None:
    vectors = random_vectors(200, seed=2)
    index = ExactIndex(8)
    index.upsert([str(number) for number in range(200)], vectors)
    assert all(index.top(vector, 1)[0][0] == str(row) for row, vector in enumerate(vectors))


def test_an_upsert_replaces_a_vector_and_a_delete_removes_it() -> None:
    vectors = random_vectors(3, seed=3)
    index = ExactIndex(8)
    index.upsert(["a", "b", "c"], vectors)
    index.upsert(["a"], vectors[2:3])  # "a" now points where "c" does
    assert {chunk_id for chunk_id, _ in index.top(vectors[2], 2)} == {"a", "c"}
    index.delete(["c", "never-there"])
    assert len(index) == 2
    assert index.top(vectors[2], 1)[0][0] == "a"
    assert index.top(vectors[1], 5)[0][0] == "b"


def test_a_search_can_be_limited_to_allowed_ids() -> None:
    vectors = random_vectors(50, seed=4)
    ids = [str(number) for number in range(50)]
    index = ExactIndex(8)
    index.upsert(ids, vectors)
    allowed = {"3", "7", "11", "unknown"}
    found = [chunk_id for chunk_id, _ in index.top(vectors[0], 10, allowed)]
    assert sorted(found) == ["11", "3", "7"]
    assert found == brute_force(["3", "7", "11"], vectors[[3, 7, 11]], vectors[0], 3)


def test_an_empty_or_cleared_index_finds_nothing() -> None:
    index = ExactIndex(8)
    assert index.top(random_vectors(1)[0], 3) == []
    index.upsert(["a"], random_vectors(1))
    index.clear()
    assert len(index) == 0
    assert index.top(random_vectors(1)[0], 3) == []


def test_ids_and_vectors_must_pair_up() -> None:
    with pytest.raises(ValueError, match="2 ids for 1 vectors"):
        ExactIndex(8).upsert(["a", "b"], random_vectors(1))
