"""The local model's second pass over the tool selection with the real default chat model
(SmolLM2 135M Instruct), the real offline embedder and the labelled set's real tools."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.tool_selection import load_tools
from hybridmcp_app.core.inference import ChatMessage
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.llm.embedded_models import SMOLLM2
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.orchestration.tool_offer import first_offer
from hybridmcp_app.services.tool_check import LocalToolCheck
from hybridmcp_app.services.tool_index import ToolIndex
from hybridmcp_app.services.tool_selection import ToolSelector
from tests.helpers.waiting import PATIENCE_S

pytestmark = pytest.mark.integration
TOOLS = load_tools()
ASKED = "Create a new branch called fix-login in the local repository /code/api."
K = 4


@pytest.fixture(scope="module")
def smollm2(model_cache: Path) -> Iterator[LlamaCppBackend]:
    """The default chat model, SmolLM2 135M Instruct (its own ChatML template)."""
    backend = asyncio.run(
        LlamaCppBackend.open(SMOLLM2.locate(model_cache), InferenceSettings(n_ctx=2048))
    )
    yield backend
    assert backend.close_now(timeout_s=PATIENCE_S)


@pytest.fixture(scope="module")
def index() -> ToolIndex:
    """The real tools' vectors, embedded once for the module."""
    return ToolIndex(OnnxEmbedder(threads=2))


async def test_the_local_model_picks_only_among_the_candidates_and_the_offer_keeps_k_tools(
    smollm2: LlamaCppBackend, index: ToolIndex
) -> None:
    check = LocalToolCheck(lambda: smollm2, deadline_s=PATIENCE_S)
    selector = ToolSelector(index, check)
    ranked = await selector.rank(TOOLS, [ASKED])
    candidates = {name for name, _ in ranked[: 2 * K]}

    result = await check.pick([t for t in TOOLS if t.qualified_name in candidates], ASKED, K)
    assert result.picks, result.note  # the grammar makes it name at least one
    assert set(result.picks) <= candidates and len(result.picks) <= K
    assert len(set(result.picks)) == len(result.picks) and result.ms > 0

    selection = await selector.select(TOOLS, [ASKED], K, check=True)
    offered = [tool.name for tool in selection.offered]
    assert len(offered) == K and set(offered) <= candidates
    assert sorted([*offered, *selection.left_out]) == sorted(t.qualified_name for t in TOOLS)
    assert selection.note.startswith(f"the local model checked the first {2 * K} tools")


async def test_a_check_past_its_deadline_leaves_the_ranking_alone_and_the_trace_says_so(
    smollm2: LlamaCppBackend, index: ToolIndex
) -> None:
    alone = await ToolSelector(index).select(TOOLS, [ASKED], K)
    hurried = ToolSelector(index, LocalToolCheck(lambda: smollm2, deadline_s=0.001))
    chooser = hurried.chooser(K, (), above=0, check=True)
    messages = [ChatMessage(role="user", content=ASKED)]
    offered = {tool.qualified_name: tool for tool in TOOLS}

    offer, line = await first_offer(chooser, offered, messages, None)

    assert offer is not None and tuple(offer.shown.values()) == alone.offered
    assert "the local model's tool check took over 0.001 s: the ranking alone chose" in line
    # The abandoned answer stops: the model's one worker takes the next request.
    patient = LocalToolCheck(lambda: smollm2, deadline_s=PATIENCE_S)
    later = await patient.pick(TOOLS[:3], ASKED, 2)
    assert later.picks and set(later.picks) <= {t.qualified_name for t in TOOLS[:3]}


async def test_a_base_model_without_a_chat_template_is_not_asked(
    gemma: LlamaCppBackend,
) -> None:
    result = await LocalToolCheck(lambda: gemma).pick(TOOLS[:3], ASKED, 2)
    assert result.picks == () and "not a chat model" in result.note
