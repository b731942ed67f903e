"""Chroma's embedding function over the app's offline embedder, registered with Chroma by name.

The name and config are stored with the collection, so a collection reopened in another process
(or by Chroma's own tools, given this module) rebuilds the same offline embedder instead of
Chroma's default one, which downloads a model on first use (and fails offline).
"""

from __future__ import annotations

from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from hybridmcp_app.embeddings.onnx_embedder import DIMENSIONS, OnnxEmbedder

EMBEDDING_FUNCTION_NAME = "hybridmcp-minilm-int8"


class OnnxEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma's embedding-function protocol over the app's offline ``OnnxEmbedder``.

    Chroma 1.5 stores ``name()`` and ``get_config()`` with the collection and rebuilds the
    function with ``build_from_config`` when the collection is loaded; without ``__init__``,
    ``name``, ``get_config`` and ``build_from_config`` it warns and keeps a "legacy" config.
    """

    def __init__(self, embedder: OnnxEmbedder | None = None) -> None:
        self._embedder = embedder if embedder is not None else OnnxEmbedder()

    def __call__(self, input: Documents) -> Embeddings:  # Chroma's parameter name
        return list(self._embedder.embed_sync(list(input)))

    @staticmethod
    def name() -> str:
        return EMBEDDING_FUNCTION_NAME

    def get_config(self) -> dict[str, Any]:
        return {"model": OnnxEmbedder.model_id, "dimensions": DIMENSIONS}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OnnxEmbeddingFunction:
        OnnxEmbeddingFunction.validate_config(config)
        return OnnxEmbeddingFunction()

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        if config.get("model") != OnnxEmbedder.model_id:
            raise ValueError(f"this collection was embedded with {config.get('model')!r}")

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip"]


register_embedding_function(OnnxEmbeddingFunction)  # type: ignore[no-untyped-call]
