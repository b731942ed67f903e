"""Configuration of the local model, the providers and the hybrid wrapper around both."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import AnyHttpUrl, Field, field_validator, model_validator

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.core.hub_address import check_hub_address
from hybridmcp_app.core.model_context import InferenceSettings

SECRET_NAME_PATTERN = r"^[A-Za-z0-9_.\-]{1,128}$"
SecretName = Annotated[str, Field(pattern=SECRET_NAME_PATTERN)]
# A strategy's name as settings hold it; which names exist is the strategy registry's to say
# (``orchestration.strategies.STRATEGIES``): ``services.app_services`` checks it after loading.
StrategyName = Annotated[str, Field(pattern=r"^[a-z][a-z_]{0,39}$")]
DEFAULT_STRATEGY = "parallel"
_SECRET_HEADERS = {"authorization", "api-key", "x-api-key", "proxy-authorization"}


class LocalLLMConfig(FrozenModel):
    """The local GGUF model. ``model_path=None`` means the embedded demo model."""

    model_path: Path | None = Field(None, description="A .gguf file; empty = embedded demo model.")
    load_on_start: bool = Field(True, description="Load the model in the background at start-up.")
    inference: InferenceSettings = Field(
        default_factory=InferenceSettings,
        title="Defaults for model files without engine settings of their own",
    )
    hub_endpoint: str | None = Field(
        None,
        title="Hub address",
        description="Where Get models searches and downloads: huggingface.co, a mirror such as "
        "https://hf-mirror.com, or a company proxy; empty = HF_ENDPOINT, else huggingface.co.",
    )

    @field_validator("hub_endpoint")
    @classmethod
    def _hub_address(cls, value: str | None) -> str | None:
        return check_hub_address(value) if value and value.strip() else None

    @field_validator("model_path")
    @classmethod
    def _looks_like_gguf(cls, value: Path | None) -> Path | None:
        if value is not None and value.suffix.lower() != ".gguf":
            raise ValueError(f"the local model must be a .gguf file, got '{value.name}'")
        return value


class ProviderConfig(FrozenModel):
    """One OpenAI-compatible endpoint. Its API key lives in the keychain as ``api_key_secret``."""

    name: str = Field(min_length=1, max_length=64, description="Unique name shown in the UI.")
    preset: str = Field("custom", description="Which preset it was made from, e.g. 'openai'.")
    base_url: AnyHttpUrl
    default_model: str = Field(min_length=1)
    api_key_secret: SecretName | None = Field(
        None, description="Name of the keychain entry holding the key (never the key itself)."
    )
    headers: dict[str, str] = Field(default_factory=dict, description="Extra, non-secret headers.")
    timeout_s: float = Field(
        60.0, gt=0, le=3600, description="One attempt: longest wait for the next bytes."
    )
    max_retries: int = Field(3, ge=0, le=10)
    first_token_timeout_s: float = Field(
        45.0,
        gt=0,
        le=3600,
        description="The answer's first token must come within this, retries included; "
        "otherwise the request fails (and fails over to the local model when that is on).",
    )
    total_timeout_s: float = Field(
        600.0, gt=0, le=7200, description="The whole request, retries and streaming included."
    )
    azure_api_version: str | None = None
    supports_prediction: bool = Field(
        False, description="Takes OpenAI Predicted Outputs (prediction=) to speed up edits."
    )
    tool_results_as_text: bool = Field(
        False,
        description="Send MCP tool results as plain text: for servers whose chat format drops "
        "'tool' messages (llama.cpp's server with a gemma format).",
    )
    enabled: bool = True

    @field_validator("headers")
    @classmethod
    def _no_secrets_in_headers(cls, value: dict[str, str]) -> dict[str, str]:
        leaked = sorted(name for name in value if name.lower() in _SECRET_HEADERS)
        if leaked:
            raise ValueError(
                f"header(s) {', '.join(leaked)} carry credentials: store the key in the keychain "
                "and name it in api_key_secret instead"
            )
        return value


class WrapperConfig(FrozenModel):
    """How the hybrid wrapper combines the local model and the provider."""

    default_strategy: StrategyName = DEFAULT_STRATEGY
    failover_to_local: bool = Field(True, description="Answer locally when the provider fails.")
    cascade_max_mean_surprisal: float = Field(
        2.5, gt=0, le=20, description="Local answers above this mean surprisal go to the provider."
    )
    cascade_max_token_surprisal: float = Field(
        9.0, gt=0, le=50, description="…or with any single token more surprising than this."
    )
    boost_target_ratio: float = Field(
        0.15,
        gt=0,
        le=1,
        description="Share of the sources' tokens Boost sends; relevant sentences are kept anyway.",
    )
    boost_prune_words: bool = Field(
        False,
        description="Boost also drops predictable words from the less relevant sentences it keeps "
        "(the local model scores them: about 20 ms a token on 2 cores).",
    )
    cache_similarity_threshold: float = Field(0.92, ge=0.5, le=1.0)
    verify_min_similarity: float = Field(
        0.55,
        ge=0.0,
        le=1.0,
        description="Answer sentences less similar to every source are flagged.",
    )
    privacy_patterns: tuple[str, ...] = Field(
        (), description="Regular expressions: matching prompts never leave the machine."
    )
    monthly_budget_usd: float | None = Field(None, ge=0)

    @field_validator("privacy_patterns")
    @classmethod
    def _patterns_compile(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(
                    f"privacy pattern {pattern!r} is not a valid regex: {error}"
                ) from None
        return value


class ProvidersConfig(FrozenModel):
    """The configured providers and which one is active."""

    items: tuple[ProviderConfig, ...] = ()
    active: str | None = Field(None, description="Name of the provider used by default.")

    @model_validator(mode="after")
    def _names_unique_and_active_known(self) -> ProvidersConfig:
        names = [provider.name for provider in self.items]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"provider names must be unique; repeated: {', '.join(duplicates)}")
        if self.active is not None and self.active not in names:
            raise ValueError(f"active provider {self.active!r} is not one of the configured ones")
        return self

    def choose(self, name: str | None = None) -> ProviderConfig | None:
        """The enabled provider called ``name``; without a name the active one, else the first."""
        enabled = {provider.name: provider for provider in self.items if provider.enabled}
        if name is not None:
            return enabled.get(name)
        if self.active in enabled:
            return enabled[self.active]
        return next(iter(enabled.values()), None)
