"""The base of every core model: immutable, and unknown fields are errors (typos get caught)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FrozenModel(BaseModel):
    """A pydantic model that forbids extra fields and cannot be changed once built."""

    model_config = ConfigDict(extra="forbid", frozen=True)
