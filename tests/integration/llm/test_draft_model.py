"""Speculative decoding with a draft model (real GGUF models): the same answer at temperature 0
as plain decoding, a draft that ends at the end of the answer, and a draft with another
tokenizer, or none at all, refused in one line."""

import logging
import re
from pathlib import Path

import llama_cpp
import numpy as np
import pytest

from hybridmcp_app.core.inference import ChatMessage, InferenceRequest
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.draft_choice import draft_candidates, draft_refusal
from hybridmcp_app.llm.draft_model import LlamaDraft
from hybridmcp_app.llm.embedded_models import SMOLLM2
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from tests.helpers.gguf_files import header_only_copy

CONTINUE = InferenceRequest(
    messages=(
        ChatMessage(
            role="user",
            content="The capital of France is Paris. The capital of Italy is Rome. The capital "
            "of Spain is Madrid. The capital of Germany is",
        ),
    ),
    raw_prompt=True,
    parameters=ModelParameters(temperature=0.0, max_tokens=40, repeat_penalty=1.0),
)
CHAT = InferenceRequest(
    messages=(ChatMessage(role="user", content="Name three colours and say why you like them."),),
    parameters=ModelParameters(temperature=0.0, max_tokens=40, repeat_penalty=1.0),
)


@pytest.fixture(scope="module")
def smollm2_file(model_cache: Path) -> Path:
    return SMOLLM2.locate(model_cache)


def settings(draft: Path | None) -> InferenceSettings:
    return InferenceSettings(n_ctx=512, prompt_lookup=False, draft_model=draft)


def kept_drafts(caplog: pytest.LogCaptureFixture) -> list[int]:
    return [
        int(found.group(1))
        for record in caplog.records
        if (found := re.match(r"draft model: (\d+) of \d+ drafted", record.getMessage()))
    ]


@pytest.mark.parametrize(
    ("model", "request_"), [("gemma", CONTINUE), ("smollm2", CHAT)], ids=["gemma", "smollm2"]
)
async def test_a_model_drafting_for_itself_gives_the_answer_plain_decoding_gives_at_temperature_0(
    model: str,
    request_: InferenceRequest,
    embedded_model: Path,
    smollm2_file: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = embedded_model if model == "gemma" else smollm2_file
    plain = await LlamaCppBackend.open(path, settings(None))
    try:
        expected = await plain.complete(request_)
    finally:
        await plain.close()
    drafting = await LlamaCppBackend.open(path, settings(path))
    try:
        assert drafting.context.runtime.draft_model == path.name
        assert drafting.context.runtime.draft_refused is None
        with caplog.at_level(logging.INFO, logger="hybridmcp.llm.llama"):
            drafted = await drafting.complete(request_)
            again = await drafting.complete(request_)  # the draft's cache holds the prompt now
    finally:
        await drafting.close()
    assert expected.text.strip()
    assert drafted.text == expected.text and again.text == expected.text
    assert drafted.usage == expected.usage
    kept = kept_drafts(caplog)
    assert len(kept) == 2 and min(kept) > 0  # drafts were made and the model kept them


def test_a_draft_stops_at_the_draft_models_end_of_generation_token(smollm2_file: Path) -> None:
    draft = LlamaDraft.load(smollm2_file, n_ctx=512, n_threads=2, n_batch=64)
    try:
        llama = draft.llama
        # SmolLM2's greedy continuation of this answer is '.', then the end of its turn.
        prompt = llama.tokenize(
            b"<|im_start|>user\nReply with one word: yes or no?<|im_end|>\n"
            b"<|im_start|>assistant\nYes",
            add_bos=False,
            special=True,
        )
        tokens = [int(token) for token in draft(np.array(prompt, dtype=np.intc))]
        vocab = llama_cpp.llama_model_get_vocab(llama.model)
        ends = [bool(llama_cpp.llama_vocab_is_eog(vocab, token)) for token in tokens]
    finally:
        draft.close()
    assert len(tokens) < draft.num_pred_tokens  # not drafted on past the end
    assert ends[-1] and not any(ends[:-1])


async def test_a_draft_model_with_another_tokenizer_is_refused_and_the_model_loads_without_it(
    embedded_model: Path, smollm2_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="hybridmcp.llm.llama"):
        backend = await LlamaCppBackend.open(embedded_model, settings(smollm2_file))
    try:
        runtime = backend.context.runtime
        assert runtime.draft_model is None
        reason = runtime.draft_refused
        assert reason is not None and "\n" not in reason
        assert "different tokenizer" in reason and smollm2_file.name in reason
        assert any(reason in record.getMessage() for record in caplog.records)
        answer = await backend.complete(CONTINUE)
        assert answer.text.strip()
    finally:
        await backend.close()


async def test_a_missing_draft_file_is_refused_in_one_line_and_the_model_answers(
    smollm2_file: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "gone.gguf"
    backend = await LlamaCppBackend.open(smollm2_file, settings(missing))
    try:
        reason = backend.context.runtime.draft_refused
        assert reason is not None and "\n" not in reason and "gone.gguf is not there" in reason
        assert (await backend.complete(CHAT)).text.strip()
    finally:
        await backend.close()


def test_only_smaller_files_with_the_same_tokenizer_are_offered_as_drafts(
    embedded_model: Path, smollm2_file: Path, tmp_path: Path
) -> None:
    small = header_only_copy(smollm2_file, tmp_path / "small-smollm2.gguf")
    installed = [embedded_model, smollm2_file, small, tmp_path / "missing.gguf"]
    assert draft_candidates(smollm2_file, installed) == [small]  # Gemma: another tokenizer
    assert draft_candidates(embedded_model, installed) == []  # SmolLM2 and its copy: same
    assert draft_candidates(small, installed) == []  # nothing smaller than it
    assert draft_refusal(smollm2_file, smollm2_file) is None  # itself: a legal pair
    assert draft_refusal(smollm2_file, small) is None
    larger = draft_refusal(small, smollm2_file)
    assert larger is not None and "larger than" in larger
