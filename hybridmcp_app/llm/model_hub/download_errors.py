"""What a failed or stopped download raises: one line saying what happened and what to do."""

from __future__ import annotations

from hybridmcp_app.core.errors import HybridMCPError


class ModelDownloadError(HybridMCPError):
    """A download failed; its message is one line saying what happened."""


class DownloadCancelled(ModelDownloadError):
    """The user paused or cancelled; the part file is kept for a later resume."""


def mb(count: float) -> str:
    """``12.3 MB``: a byte count as the messages show it."""
    return f"{count / 1e6:,.1f} MB"
