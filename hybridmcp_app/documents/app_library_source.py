"""``AppLibrarySource``: the app's own library for the documents server the app runs itself.

Light on purpose (imported at start-up): the catalog and its errors are imported when the first
request comes, by which time the MCP host has loaded them anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hybridmcp_app.documents.library_catalog import LibraryCatalog
    from hybridmcp_app.documents.library_service import LibraryService


class AppLibrarySource:
    """Requests wait (a while) until the app's library has opened, then use it."""

    def __init__(self, wait_s: float = 120.0, on_change: Callable[[], None] | None = None) -> None:
        self._on_change = on_change  # an MCP client added or removed documents
        self._opened = asyncio.Event()
        self._library: LibraryService | None = None
        self._catalog: LibraryCatalog | None = None
        self._error = ""
        self._wait_s = wait_s

    def opened(self, library: LibraryService | None, error: str | None) -> None:
        """What ``app.start_library`` found: the library, or why it could not open."""
        self._library = library
        self._error = error or "it is closed"
        self._opened.set()

    async def __call__(self) -> LibraryCatalog:
        from hybridmcp_app.documents.catalog_results import CatalogError
        from hybridmcp_app.documents.library_catalog import LibraryCatalog

        try:
            async with asyncio.timeout(self._wait_s):
                await self._opened.wait()
        except TimeoutError:
            raise CatalogError("the library is still opening: try again in a moment") from None
        if self._library is None:
            raise CatalogError(f"the library could not open: {self._error}")
        if self._catalog is None:
            self._catalog = LibraryCatalog(self._library, self._on_change)
        return self._catalog
