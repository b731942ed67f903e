"""Provider presets and the price table: data files, not code."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from pydantic import Field, ValidationError

from hybridmcp_app.core.errors import ConfigError, describe_validation_error
from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.core.inference import Usage

log = logging.getLogger("hybridmcp.llm.providers")


class ProviderPreset(FrozenModel):
    """A starting point for a ``ProviderConfig``: where the endpoint is and what it needs."""

    id: str
    name: str
    base_url: str
    needs_key: bool
    default_model: str
    key_url: str | None = None
    azure_api_version: str | None = None
    supports_prediction: bool = False
    notes: str | None = None


class _PresetFile(FrozenModel):
    presets: tuple[ProviderPreset, ...]


class ModelPrice(FrozenModel):
    """USD per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)


class _PriceFile(FrozenModel):
    note: str | None = None
    models: dict[str, ModelPrice]


def load_presets(resources: Path) -> tuple[ProviderPreset, ...]:
    path = resources / "providers" / "presets.json"
    try:
        return _PresetFile.model_validate_json(path.read_text(encoding="utf-8")).presets
    except (OSError, ValidationError) as error:
        raise ConfigError(f"provider presets in {path} are unreadable: {error}") from None


class PriceTable:
    """Model prices: the shipped table, overridden per model by the user's ``prices.json``."""

    def __init__(self, prices: dict[str, ModelPrice]) -> None:
        self._prices = prices

    @classmethod
    def load(cls, resources: Path, user_file: Path | None = None) -> PriceTable:
        shipped = _PriceFile.model_validate_json(
            (resources / "providers" / "prices.json").read_text(encoding="utf-8")
        )
        prices = dict(shipped.models)
        if user_file is not None and user_file.exists():
            try:
                prices.update(
                    _PriceFile.model_validate_json(user_file.read_text(encoding="utf-8")).models
                )
            except (OSError, ValidationError, json.JSONDecodeError) as error:
                problem = (
                    "; ".join(describe_validation_error(error))
                    if isinstance(error, ValidationError)
                    else str(error)
                )
                log.warning("ignoring %s: %s", user_file, problem)
        return cls(prices)

    def price(self, model: str) -> ModelPrice | None:
        return self._prices.get(model)

    def cost(self, model: str, usage: Usage) -> float | None:
        """USD for one call, or None when the model has no price."""
        price = self._prices.get(model)
        if price is None:
            return None
        return (usage.prompt_tokens * price.input + usage.completion_tokens * price.output) / 1e6
