"""Markdown for the answer panes: highlighted code, no raw HTML, and streaming by blocks."""

import random

import pytest

from hybridmcp_app.ui.chat.markdown_html import (
    OPEN_FENCE_SPLIT_CHARS,
    MarkdownHtml,
    StreamingMarkdown,
)

ANSWER = (
    "# Plan\n\nFirst *read* the file.\n\n"
    "```python\ndef add(a, b):\n\n    return a + b\n```\n"
    "| step | cost |\n|---|---|\n| read | 1 |\n\n"
    "- one\n- two\n\nDone."
)


def stream(text: str, pieces: int, seed: int = 1) -> tuple[list[str], str]:
    """Feed ``text`` in random pieces; returns every finished block and the last tail."""
    renderer = StreamingMarkdown(MarkdownHtml())
    cuts = sorted(random.Random(seed).sample(range(1, len(text)), pieces - 1))
    finished: list[str] = []
    tail = ""
    for cut in [*cuts, len(text)]:
        update = renderer.feed(text[:cut], final=cut == len(text))
        finished += update.finished
        tail = update.tail
    return finished, tail


def test_fenced_code_is_highlighted_in_a_shaded_box() -> None:
    rendered = MarkdownHtml().render("```python\ndef add(a, b):\n    return a + b\n```\n")
    assert 'bgcolor="#f8f8f8"' in rendered
    assert '<span style="color: #008000; font-weight: bold">def</span>' in rendered


def test_an_unknown_language_is_shown_as_plain_escaped_code() -> None:
    rendered = MarkdownHtml().render("```nosuchlang\nif a < b: <tag>\n```\n")
    assert "if a &lt; b: &lt;tag&gt;" in rendered and "<span" not in rendered


def test_raw_html_in_an_answer_is_shown_as_text() -> None:
    rendered = MarkdownHtml().render("<script>alert(1)</script> and <b>bold</b>")
    assert "<script>" not in rendered and "&lt;b&gt;bold&lt;/b&gt;" in rendered


def test_tables_get_borders_and_dark_mode_changes_the_code_colours() -> None:
    assert '<table border="1"' in MarkdownHtml().render("| a |\n|---|\n| 1 |\n")
    dark = MarkdownHtml(dark=True).render("```python\nx = 1\n```\n")
    assert 'bgcolor="#272822"' in dark


@pytest.mark.parametrize("pieces", [2, 7, 40, len(ANSWER) - 1])
def test_streamed_blocks_add_up_to_the_whole_answer_however_it_arrives(pieces: int) -> None:
    finished, tail = stream(ANSWER, pieces)
    assert tail == ""  # the final feed finishes everything
    whole = "".join(finished)
    expected = MarkdownHtml().render(ANSWER)
    # Block by block: the blank line inside the code does not split the code block.
    assert whole.count("<table width") == expected.count("<table width") == 1
    for fragment in ("<h1>Plan</h1>", "<em>read</em>", "return", "<td>read</td>", "Done."):
        assert fragment in whole


def test_only_the_unfinished_block_is_rendered_again() -> None:
    renderer = StreamingMarkdown(MarkdownHtml())
    first = renderer.feed("Para one.\n\nPara t")
    assert first.finished == ["<p>Para one.</p>\n"] and first.tail == "<p>Para t</p>\n"
    second = renderer.feed("Para one.\n\nPara two")
    assert second.finished == [] and second.tail == "<p>Para two</p>\n"


def test_an_unfinished_code_block_stays_one_tail_until_it_closes() -> None:
    renderer = StreamingMarkdown(MarkdownHtml())
    update = renderer.feed("Intro\n\n```python\nx = 1\n\ny = 2\n")
    assert update.finished == ["<p>Intro</p>\n"]
    assert "y" in update.tail and update.tail.count("<table") == 1
    closed = renderer.feed("Intro\n\n```python\nx = 1\n\ny = 2\n```\nAfter")
    assert len(closed.finished) == 1 and "y" in closed.finished[0]
    assert closed.tail == "<p>After</p>\n"


def test_a_very_long_unfinished_code_block_is_shown_in_highlighted_parts() -> None:
    renderer = StreamingMarkdown(MarkdownHtml())
    code = "```python\n" + "value = compute(1)\n" * (OPEN_FENCE_SPLIT_CHARS // 10)
    update = renderer.feed(code)
    assert len(update.finished) == 1 and update.tail == ""
    more = renderer.feed(code + "print(value)\n")
    assert more.finished == [] and "print" in more.tail and "<span" in more.tail  # reopened
    done = renderer.feed(code + "print(value)\n```\nEnd.", final=True)
    assert "print" in done.finished[0] and "End." in done.finished[0]
    assert "```" not in done.finished[0]
