"""Text, Markdown, code and HTML files: read as they are, decoded robustly, with line numbers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hybridmcp_app.documents.document_models import ScannedFile
from hybridmcp_app.documents.document_parsers import decode_text, document_kind, parse_document
from hybridmcp_app.documents.html_parser import html_to_text
from hybridmcp_app.documents.parse_errors import DocumentTooLarge, EmptyDocument
from tests.helpers.documents_corpus import CODE_FILE, HTML_PAGE, MARKDOWN_NOTES, write_tree


def test_markdown_is_kept_as_written_with_its_headings_and_first_heading_as_title(
    tmp_path: Path,
) -> None:
    path = write_tree(tmp_path, {"notes.md": MARKDOWN_NOTES}) / "notes.md"

    document = parse_document(path)

    assert document.kind == "markdown"
    assert document.title == "Library notes"  # not the "# not a heading" inside the fence
    assert len(document.pages) == 1
    page = document.pages[0]
    assert (page.number, page.first_line, page.text) == (None, 1, MARKDOWN_NOTES)
    assert "## Second section" in page.text


def test_a_code_file_is_read_as_it_is_from_line_one(tmp_path: Path) -> None:
    document = parse_document(write_tree(tmp_path, {"greet.py": CODE_FILE}) / "greet.py")

    assert document.kind == "code"
    assert document.title == "greet.py"
    assert document.pages[0].text == CODE_FILE and document.pages[0].first_line == 1
    assert document.content_hash == hashlib.sha256(CODE_FILE.encode()).hexdigest()


def test_a_scanned_file_is_parsed_by_its_path(tmp_path: Path) -> None:
    path = write_tree(tmp_path, {"data.csv": "a,b\n1,2\n"}) / "data.csv"
    scanned = ScannedFile(path=path, size=8, mtime_ns=0, content_hash="x", extension="csv")

    document = parse_document(scanned)

    assert (document.path, document.kind, document.pages[0].text) == (path, "csv", "a,b\n1,2\n")


def test_a_latin1_file_is_decoded_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "old.txt"
    path.write_bytes("Café crème, naïve façade\r\nsecond line\r\n".encode("latin-1"))

    document = parse_document(path)

    assert document.pages[0].text == "Café crème, naïve façade\nsecond line\n"
    assert document.notes == ("not UTF-8: read as Windows-1252; some letters may be off",)


def test_bytes_windows_1252_leaves_undefined_fall_back_to_latin1() -> None:
    text, notes = decode_text(b"caf\xe9 \x81")
    assert text == "café \x81"
    assert notes == ("not UTF-8: read as Latin-1; some letters may be off",)


def test_utf8_and_utf16_byte_order_marks_are_honoured() -> None:
    assert decode_text("\ufeffhello".encode()) == ("hello", ())
    assert decode_text("hé\r\nho".encode("utf-16")) == ("hé\nho", ())


def test_a_blank_text_file_is_empty(tmp_path: Path) -> None:
    with pytest.raises(EmptyDocument, match="only blank space"):
        parse_document(write_tree(tmp_path, {"blank.txt": " \n\t\n"}) / "blank.txt")
    with pytest.raises(EmptyDocument, match="the file is empty"):
        parse_document(write_tree(tmp_path, {"empty.md": ""}) / "empty.md")


def test_a_file_over_the_limit_is_too_large(tmp_path: Path) -> None:
    path = write_tree(tmp_path, {"big.txt": "x" * 4096}) / "big.txt"
    with pytest.raises(DocumentTooLarge, match=r"too large: 4\.0 KiB \(limit 1\.0 KiB\)"):
        parse_document(path, max_bytes=1024)


def test_rst_title_is_its_first_underlined_line(tmp_path: Path) -> None:
    text = "=========\nUser Guide\n==========\n\nIntro\n-----\n"
    assert parse_document(write_tree(tmp_path, {"guide.rst": text}) / "guide.rst").title == (
        "User Guide"
    )


def test_kinds_follow_the_extension() -> None:
    kinds = {ext: document_kind(ext) for ext in ("PDF", ".md", "htm", "json", "rs", "txt")}
    assert kinds == {
        "PDF": "pdf",
        ".md": "markdown",
        "htm": "html",
        "json": "json",
        "rs": "code",
        "txt": "text",
    }


def test_html_drops_scripts_styles_and_navigation_and_keeps_headings_and_paragraphs(
    tmp_path: Path,
) -> None:
    document = parse_document(write_tree(tmp_path, {"rules.html": HTML_PAGE}) / "rules.html")

    assert document.kind == "html"
    assert document.title == "Turtle Soup Rules"
    assert document.pages[0].text == (
        "# How to play\n"
        "\n"
        "The host tells a strange story.\n"
        "\n"
        "Players ask yes or no questions.\n"
        "One per turn.\n"
        "\n"
        "## Scoring\n"
        "\n"
        "- Fewer questions win.\n"
        "- Hints cost a point.\n"
    )
    for gone in ("script text", "more script", "color: red", "Navigation link", "comment"):
        assert gone not in document.pages[0].text


def test_html_without_a_title_is_named_by_its_first_h1() -> None:
    assert html_to_text("<h1>Main  Topic</h1><p>text</p>") == (
        "Main Topic",
        "# Main Topic\n\ntext\n",
    )


def test_html_tables_and_preformatted_text_keep_their_rows_and_lines() -> None:
    html = (
        "<table><tr><th>a</th><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>"
        "<pre>def f():\n    return  1</pre>"
    )
    assert html_to_text(html)[1] == "a | b\n\nc | d\n\ndef f():\n    return  1\n"


def test_html_declared_charset_is_used_when_the_bytes_are_not_utf8(tmp_path: Path) -> None:
    html = '<html><head><meta charset="windows-1251"></head><body><p>Привет</p></body></html>'
    (tmp_path / "ru.html").write_bytes(html.encode("windows-1251"))

    document = parse_document(tmp_path / "ru.html")

    assert document.pages[0].text == "Привет\n"
    assert document.notes == ()


def test_an_html_page_with_only_scripts_is_empty(tmp_path: Path) -> None:
    page = "<html><body><script>x()</script><nav>menu</nav></body></html>"
    with pytest.raises(EmptyDocument, match="no readable text"):
        parse_document(write_tree(tmp_path, {"app.html": page}) / "app.html")


def test_an_html_file_without_markup_is_read_as_text() -> None:
    assert html_to_text("index.html") == ("", "index.html\n")
