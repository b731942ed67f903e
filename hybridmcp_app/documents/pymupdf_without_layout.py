"""Import PyMuPDF without its layout analysis and Markdown extras.

PyMuPDF 2.0 imports ``pymupdf.layout`` and ``pymupdf4llm`` with itself: ONNX layout models and
ONNX Runtime (about 125 MB resident and most of a second, in the app and in every parsing
worker) for ``Page.get_layout`` and ``pymupdf.to_markdown``. The library reads text page by page
and calls neither. Importing PyMuPDF inside ``layout_analysis_left_out()`` makes those modules
look absent, which PyMuPDF handles as "not installed".
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.machinery import ModuleSpec
from types import ModuleType

LEFT_OUT = ("pymupdf.layout", "pymupdf4llm")


class _LayoutRefused(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if any(fullname == name or fullname.startswith(name + ".") for name in LEFT_OUT):
            raise ImportError(f"{fullname} is left out: HybridMCP does not use it")
        return None


@contextmanager
def layout_analysis_left_out() -> Iterator[None]:
    """Within the block, importing ``LEFT_OUT`` fails; other imports are untouched."""
    finder = _LayoutRefused()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
