"""Why a file could not be parsed, in words a user can act on.

Every error takes one argument, its message, so that it pickles across the parse pool's worker
processes unchanged.
"""

from __future__ import annotations

from hybridmcp_app.core.errors import HybridMCPError


class DocumentParseError(HybridMCPError):
    """A file could not be turned into text; the message says why (shown per file)."""


class EncryptedDocument(DocumentParseError):
    """The file is encrypted: it needs a password, or the one given is wrong."""


class CorruptDocument(DocumentParseError):
    """The file is damaged beyond repair, or is not what its extension says."""


class EmptyDocument(DocumentParseError):
    """The file holds no text at all (empty, or only images such as a scan without OCR)."""


class DocumentTooLarge(DocumentParseError):
    """The file is bigger than the library reads."""


class UnreadableDocument(DocumentParseError):
    """The file is gone or cannot be opened (permissions, a disk error)."""
