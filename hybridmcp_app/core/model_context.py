"""What the app knows about a model: identity, capabilities, settings, tokenizer and runtime."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.core.parameters import ModelParameters

ModelSource = Literal["gguf", "provider"]
KvCacheType = Literal["f16", "q8_0", "q4_0"]


class ModelIdentification(FrozenModel):
    """Who the model is and where it comes from."""

    name: str = Field(min_length=1)
    display_label: str = Field(min_length=1, description="What the UI shows, honest about limits.")
    source: ModelSource
    architecture: str | None = None
    file_path: Path | None = None
    file_size_bytes: int | None = Field(None, ge=0)
    quantization: str | None = None
    parameter_count: int | None = Field(None, ge=0)
    license: str | None = None

    @model_validator(mode="after")
    def _gguf_has_a_file(self) -> ModelIdentification:
        if self.source == "gguf" and self.file_path is None:
            raise ValueError("a GGUF model needs the path of its file")
        return self


class ModelCapabilities(FrozenModel):
    """What the model can do, as far as its metadata or provider says."""

    chat_template: str | None = None
    instruction_tuned: bool = False
    supports_streaming: bool = True
    supports_tools: bool = False
    supports_logprobs: bool = False
    supports_grammar: bool = False
    supports_json_schema: bool = False

    @property
    def has_chat_template(self) -> bool:
        return bool(self.chat_template)


class InferenceSettings(FrozenModel):
    """How the app runs a local model (one set per model file). The thread defaults leave one
    core for the UI."""

    n_ctx: int = Field(
        4096,
        ge=256,
        le=1_048_576,
        title="Context window",
        description="In tokens (llama.cpp rounds it up to a multiple of 256).",
    )
    n_threads: int | None = Field(
        None, ge=1, le=512, title="Generation threads", description="Empty = all cores but one."
    )
    n_threads_batch: int | None = Field(
        None, ge=1, le=512, title="Prompt threads", description="Empty = all cores."
    )
    n_batch: int = Field(512, ge=1, le=65_536, title="Prompt batch size")
    n_gpu_layers: int = Field(
        0, ge=-1, title="GPU layers", description="Layers offloaded to a GPU (-1 = all)."
    )
    kv_cache_type: KvCacheType = Field(
        "f16",
        title="KV cache type",
        description="How the attention cache is stored: q8_0 takes about half the memory of "
        "f16, q4_0 about a quarter (both need flash attention).",
    )
    flash_attention: bool = Field(
        False, title="Flash attention", description="Needed for a q8_0 or q4_0 KV cache."
    )
    use_mmap: bool = Field(
        True, title="Map the file (mmap)", description="Read the weights as they are needed."
    )
    use_mlock: bool = Field(
        False, title="Lock in memory (mlock)", description="Keep the weights out of swap."
    )
    prompt_lookup: bool = Field(
        True,
        title="Speculative decoding (prompt lookup)",
        description="Drafts tokens copied from the prompt and checks them in one batch: the "
        "same answer, faster when the answer repeats the prompt (edits, quotes). Used when no "
        "draft model is set, or the draft model cannot be used.",
    )
    draft_model: Path | None = Field(
        None,
        title="Draft model",
        description="A smaller GGUF with the same tokenizer that drafts tokens for this one to "
        "check in one batch: the same answer, faster when the draft guesses well.",
    )
    chat_format: str | None = Field(
        None, title="Chat format", description="Empty = from the file's own chat template."
    )
    parameters: ModelParameters = Field(default_factory=ModelParameters)

    @model_validator(mode="after")
    def _quantised_cache_needs_flash_attention(self) -> InferenceSettings:
        if self.kv_cache_type != "f16" and not self.flash_attention:
            raise ValueError(
                f"a {self.kv_cache_type} KV cache needs flash attention (llama.cpp refuses it "
                "otherwise): switch flash attention on, or use f16"
            )
        return self


class TokenizerDetails(FrozenModel):
    """The tokenizer as the GGUF metadata describes it."""

    model: str | None = Field(None, description="Tokenizer kind, e.g. 'llama' or 'gpt2'.")
    vocab_size: int | None = Field(None, ge=1)
    bos_token_id: int | None = Field(None, ge=0)
    eos_token_id: int | None = Field(None, ge=0)
    add_bos_token: bool | None = None


class RuntimeProperties(FrozenModel):
    """The model as it runs now; empty until it is loaded."""

    loaded: bool = False
    engine: str | None = Field(None, description="e.g. 'llama.cpp 0.3.x' or 'openai-compatible'.")
    load_time_s: float | None = Field(None, ge=0)
    context_used: int = Field(0, ge=0)
    threads: int | None = Field(None, ge=1)
    memory_bytes: int | None = Field(None, ge=0)
    n_ctx: int | None = Field(None, ge=1, description="The context llama.cpp allocated.")
    kv_cache_type: str | None = Field(None, description="As llama.cpp holds it, e.g. 'q8_0'.")
    flash_attention: bool | None = None
    gpu_offload: bool | None = Field(None, description="Whether this llama.cpp can use a GPU.")
    draft_model: str | None = Field(None, description="The draft model in use (its file name).")
    draft_refused: str | None = Field(
        None, description="Why the chosen draft model is not used (one line)."
    )


class ModelContext(FrozenModel):
    """Everything known about one model, gathered in one place for the UI and the orchestrator."""

    identification: ModelIdentification
    capabilities: ModelCapabilities = Field(default_factory=ModelCapabilities)
    inference: InferenceSettings = Field(default_factory=InferenceSettings)
    tokenizer: TokenizerDetails = Field(default_factory=TokenizerDetails)
    runtime: RuntimeProperties = Field(default_factory=RuntimeProperties)
    context_length: int | None = Field(None, ge=1, description="Training context, from metadata.")

    @model_validator(mode="after")
    def _context_fits_training(self) -> ModelContext:
        if self.context_length is not None and self.inference.n_ctx > self.context_length:
            raise ValueError(
                f"n_ctx {self.inference.n_ctx} is larger than the model's trained context "
                f"{self.context_length}"
            )
        return self
