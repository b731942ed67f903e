"""Sampling parameters shared by every backend."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from hybridmcp_app.core.frozen_model import FrozenModel

MAX_STOP_SEQUENCES = 8


class ModelParameters(FrozenModel):
    """How a model samples: the knobs a user sees in Settings and per chat."""

    temperature: float = Field(
        0.7, description="Randomness: 0 is deterministic, 0.7 balanced, up to 2 wild."
    )
    top_p: float = Field(
        0.95, title="Top-p", description="Nucleus sampling: keep the top tokens up to this mass."
    )
    top_k: int = Field(
        40, ge=0, le=1000, title="Top-k", description="Sample among the k likeliest (0 = all)."
    )
    repeat_penalty: float = Field(1.1, ge=0.5, le=2.0, description="Penalty for repeated tokens.")
    presence_penalty: float = Field(0.0, ge=-2.0, le=2.0)
    frequency_penalty: float = Field(0.0, ge=-2.0, le=2.0)
    max_tokens: int = Field(512, ge=1, le=131_072, description="Longest answer, in tokens.")
    seed: int | None = Field(None, ge=0, description="Fixed seed for repeatable answers.")
    stop: tuple[Annotated[str, Field(min_length=1)], ...] = Field(
        (), max_length=MAX_STOP_SEQUENCES, description="Sequences that end the answer."
    )

    @field_validator("temperature")
    @classmethod
    def _temperature_in_range(cls, value: float) -> float:
        if not 0.0 <= value <= 2.0:
            raise ValueError(
                f"temperature must be between 0.0 and 2.0 (0 = deterministic, 0.7 = balanced), "
                f"got {value}"
            )
        return value

    @field_validator("top_p")
    @classmethod
    def _top_p_in_range(cls, value: float) -> float:
        if not 0.0 < value <= 1.0:
            raise ValueError(f"top_p must be greater than 0 and at most 1.0, got {value}")
        return value
