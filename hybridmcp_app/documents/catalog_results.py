"""What adding to the library answers, and how the catalog refuses: light enough for servers
that only relay to the library (``storage``'s ``index_into_library``) to import at start-up."""

from __future__ import annotations

from pydantic import Field

from hybridmcp_app.core.frozen_model import FrozenModel


class CatalogError(Exception):
    """A request the library cannot serve; the message says why and what to do."""


class AddResult(FrozenModel):
    indexed: int
    failed: int
    skipped: int
    unchanged: int
    chunks: int
    left_out: list[str] = Field(description="Files the scan left out, with why.")
    failures: list[str] = Field(description="Files that could not be indexed, with why.")
