"""A document summary written by the real embedded local model."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybridmcp_app.documents.document_analysis import SUMMARY_SOURCE_CHARS, analyze_documents
from hybridmcp_app.llm.llama_backend import LlamaCppBackend

pytestmark = pytest.mark.integration


async def test_the_local_model_summarises_a_document_on_request(
    tmp_path: Path, gemma: LlamaCppBackend
) -> None:
    short = tmp_path / "bees.md"
    short.write_text(
        "# Beekeeping\n\nThe beekeeper inspects every hive in spring and counts varroa mites.\n",
        encoding="utf-8",
    )
    long = tmp_path / "long.txt"
    long.write_text("The lighthouse keeper writes letters. " * 200, encoding="utf-8")
    (plain,) = await analyze_documents([short])
    assert plain.summary == ""
    summarised, cut = await analyze_documents([short, long], summarize_with=gemma)
    assert summarised.summary.strip() and summarised.words == plain.words
    assert not summarised.summary_of_start
    assert cut.summary.strip() and cut.summary_of_start and cut.characters > SUMMARY_SOURCE_CHARS
