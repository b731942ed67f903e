"""Markdown to the HTML subset Qt's rich text renders, with pygments-highlighted code, and
``StreamingMarkdown``, which renders a growing answer a finished block at a time.

Qt-free (markdown-it-py and pygments), so it is tested without a display. Raw HTML in a model's
answer is shown as text, never interpreted.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.styles import get_style_by_name
from pygments.util import ClassNotFound

RenderRule = Callable[[object, Sequence[Token], int, OptionsDict, EnvType], str]
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
OPEN_FENCE_SPLIT_CHARS = 4000  # an unfinished code block longer than this is shown in parts


class MarkdownHtml:
    """Renders Markdown (CommonMark, tables, strikethrough) for a ``QTextDocument``."""

    def __init__(self, *, dark: bool = False) -> None:
        self.dark = dark
        style = get_style_by_name("monokai" if dark else "default")
        self._formatter = HtmlFormatter(style=style, noclasses=True, nowrap=True)
        self._code_background = style.background_color or ("#272822" if dark else "#f6f8fa")
        self._code_text = "#f8f8f2" if dark else "#1f2328"
        self._rule = "#555" if dark else "#d0d7de"
        self._md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
        for name, method in (
            ("fence", self._fence),
            ("code_block", self._code_block),
            ("table_open", self._table_open),
        ):
            self._md.add_render_rule(name, _render_rule(method))

    def render(self, text: str) -> str:
        return str(self._md.render(text))

    def code(self, source: str, language: str = "") -> str:
        """A code block: highlighted when the language is known, in a shaded box."""
        source = source.rstrip("\n")
        try:
            lexer = get_lexer_by_name(language) if language else None
        except ClassNotFound:
            lexer = None
        body = (
            highlight(source, lexer, self._formatter).rstrip("\n")
            if lexer is not None
            else html.escape(source)
        )
        return (
            f'<table width="100%" cellpadding="8" cellspacing="0" '
            f'bgcolor="{self._code_background}"><tr><td>'
            f'<pre style="color:{self._code_text}">{body}</pre></td></tr></table>\n'
        )

    def _fence(self, tokens: Sequence[Token], index: int) -> str:
        token = tokens[index]
        language = token.info.strip().split(" ", 1)[0] if token.info else ""
        return self.code(token.content, language)

    def _code_block(self, tokens: Sequence[Token], index: int) -> str:
        return self.code(tokens[index].content)

    def _table_open(self, _tokens: Sequence[Token], _index: int) -> str:
        return (
            f'<table border="1" cellspacing="0" cellpadding="4" '
            f'style="border-color:{self._rule}">\n'
        )


def _render_rule(method: Callable[[Sequence[Token], int], str]) -> RenderRule:
    """markdown-it binds a rule to its renderer: wrap ours so it keeps its own ``self``."""

    def rule(
        _renderer: object, tokens: Sequence[Token], index: int, _options: OptionsDict, _env: EnvType
    ) -> str:
        return method(tokens, index)

    return rule


@dataclass
class RenderedUpdate:
    """What changed since the last feed: finished blocks to append, and the unfinished tail."""

    finished: list[str]
    tail: str


class StreamingMarkdown:
    """Turns a growing Markdown text into HTML without re-rendering what is already finished.

    A block is finished at a blank line outside a code fence or at a fence's closing line, so
    each call renders only the text since the last finished block. A very long unfinished code
    block is cut at a line end and continued in the next part (its fence is reopened).
    """

    def __init__(self, renderer: MarkdownHtml) -> None:
        self._renderer = renderer
        self._done = 0  # characters of the text already rendered as finished blocks
        self._reopen = ""  # the fence line to put before the next part of a split code block

    def feed(self, text: str, *, final: bool = False) -> RenderedUpdate:
        """``text`` is the whole answer so far (it only ever grows)."""
        end, still_open = (len(text), "") if final else self._finished_end(text)
        finished = []
        if end > self._done:
            finished.append(self._renderer.render(self._reopen + text[self._done : end]))
            self._reopen, self._done = still_open, end
        tail = text[self._done :]
        return RenderedUpdate(finished, self._renderer.render(self._reopen + tail) if tail else "")

    def _finished_end(self, text: str) -> tuple[int, str]:
        """Where the finished blocks end, and the fence line still open there ('' if none)."""
        fence = self._reopen
        end, open_at_end = self._done, fence
        position = fence_start = self._done
        while (newline := text.find("\n", position)) >= 0:
            line = text[position:newline]
            position = newline + 1
            if fence:
                if _closes(fence, line):
                    fence = ""
                    end, open_at_end = position, ""
            elif _FENCE.match(line):
                fence, fence_start = line.strip() + "\n", position
            elif not line.strip():
                end, open_at_end = position, ""
        if fence and position - max(fence_start, end) > OPEN_FENCE_SPLIT_CHARS:
            end, open_at_end = position, fence  # a long unfinished code block: show its lines
        return end, open_at_end


def _closes(fence_line: str, line: str) -> bool:
    """Whether ``line`` closes the code block that ``fence_line`` opened."""
    opener, closer = _FENCE.match(fence_line), _FENCE.match(line)
    if opener is None or closer is None or line.strip() != closer.group(1):
        return False
    return closer.group(1)[0] == opener.group(1)[0] and len(closer.group(1)) >= len(opener.group(1))
