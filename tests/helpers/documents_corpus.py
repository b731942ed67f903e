"""Real documents for the library's tests, written on the spot: good, damaged and disguised.

PDFs are written with PyMuPDF; EPUB, DOCX and FB2 are written by hand (PyMuPDF cannot write
them) as the smallest files MuPDF reads. Every page of a written PDF says which page it is
("Page 3 line 0 …"), so tests can check that page numbers survive parsing.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pymupdf

PASSWORD = "open sesame"


def page_text(number: int, lines: int = 1) -> list[str]:
    return [
        f"Page {number} line {line} says the quick brown fox {number * 7 + line}"
        for line in range(lines)
    ]


def pdf_bytes(pages: int, *, lines: int = 1, title: str = "", **save_options: object) -> bytes:
    """A PDF of ``pages`` pages; page N holds the lines of ``page_text(N, lines)``."""
    document = pymupdf.open()
    for number in range(1, pages + 1):
        page = document.new_page()
        for index, line in enumerate(page_text(number, lines)):
            page.insert_text((72, 60 + 18 * index), line)
    if title:
        document.set_metadata({"title": title})
    data: bytes = document.tobytes(**save_options)
    document.close()
    return data


def write_pdf(path: Path, pages: int = 3, *, lines: int = 1, title: str = "") -> Path:
    path.write_bytes(pdf_bytes(pages, lines=lines, title=title))
    return path


def write_encrypted_pdf(path: Path, pages: int = 2, password: str = PASSWORD) -> Path:
    path.write_bytes(
        pdf_bytes(
            pages,
            encryption=pymupdf.mupdf.PDF_ENCRYPT_AES_256,
            user_pw=password,
            owner_pw=password + " (owner)",
        )
    )
    return path


def write_truncated_pdf(path: Path, keep: float, *, pages: int = 20, lines: int = 30) -> Path:
    """The first ``keep`` share of a ``pages``-page PDF, as after an interrupted download.

    What MuPDF makes of it depends on where the cut falls, not on how much is lost. With PyMuPDF
    2.0 and 20 pages of 30 lines: keep 0.5 opens repaired with pages 13–20 empty, keep 0.75 with
    pages 18–20 empty, and keep 0.8 (cut inside an object) does not open at all.
    """
    data = pdf_bytes(pages, lines=lines)
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def write_pdf_with_broken_page_tree(path: Path) -> Path:
    """Opens (page count 3), but every page access fails: the page tree's ``/Kids`` is misspelt."""
    data = pdf_bytes(3)
    assert data.count(b"/Kids[") == 1
    path.write_bytes(data.replace(b"/Kids[", b"/Kidz["))
    return path


def write_image_only_pdf(path: Path, pages: int = 2) -> Path:
    """A "scanned" PDF: every page is an image, there is no text layer."""
    document = pymupdf.open()
    pixmap = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 32, 32), False)
    pixmap.clear_with(180)
    for _ in range(pages):
        page = document.new_page()
        page.insert_image(page.rect, pixmap=pixmap)
    document.save(path)
    document.close()
    return path


def write_garbage(path: Path, size: int = 4096) -> Path:
    path.write_bytes(bytes((index * 37 + 11) % 256 for index in range(size)))
    return path


def write_plain_text(path: Path) -> Path:
    """A text file, whatever the name says (``notes.pdf``)."""
    path.write_text("plain text, not a document format\n", encoding="utf-8")
    return path


def write_png_named(path: Path) -> Path:
    """A PNG (really: a pixmap saved as PNG) under another name, e.g. ``photo.pdf``."""
    pixmap = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 16, 16), False)
    pixmap.clear_with(90)
    path.write_bytes(pixmap.tobytes("png"))
    return path


def write_epub(path: Path, chapters: Sequence[str], title: str = "Tiny Book") -> Path:
    """An EPUB 2 with one XHTML file per chapter; each chapter is a heading and one paragraph."""
    container = (
        '<?xml version="1.0"?><container version="1.0" '
        'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
        '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
        "</rootfiles></container>"
    )
    items = "".join(
        f'<item id="c{n}" href="c{n}.xhtml" media-type="application/xhtml+xml"/>'
        for n in range(1, len(chapters) + 1)
    )
    spine = "".join(f'<itemref idref="c{n}"/>' for n in range(1, len(chapters) + 1))
    package = (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="2.0" '
        'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:title>{title}</dc:title><dc:identifier id="id">tiny</dc:identifier></metadata>'
        f"<manifest>{items}</manifest><spine>{spine}</spine></package>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")  # stored, first
        archive.writestr("META-INF/container.xml", container)
        archive.writestr("OEBPS/content.opf", package)
        for number, text in enumerate(chapters, start=1):
            archive.writestr(
                f"OEBPS/c{number}.xhtml",
                '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>c</title></head>'
                f"<body><h1>Chapter {number}</h1><p>{text}</p></body></html>",
            )
    return path


def write_docx(path: Path, paragraphs: Sequence[str]) -> Path:
    """The four parts MuPDF needs to read a DOCX: content types, relations, the document."""
    relations = "http://schemas.openxmlformats.org/package/2006/relationships"
    main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    body = "".join(f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>" for text in paragraphs)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
            '.org/package/2006/content-types"><Default Extension="rels" ContentType="application'
            '/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            f'ContentType="application/xml"/><Override PartName="/word/document.xml" '
            f'ContentType="{main}"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{relations}">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006'
            '/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        )
        archive.writestr(
            "word/_rels/document.xml.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{relations}"/>',
        )
        archive.writestr(
            "word/document.xml",
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas'
            f'.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>',
        )
    return path


def write_fb2(path: Path, title: str, paragraphs: Sequence[str]) -> Path:
    body = "".join(f"<p>{text}</p>" for text in paragraphs)
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>'
        '<FictionBook xmlns="http://www.gribuser.ru/xml/fictionbook/2.0"><description>'
        f"<title-info><book-title>{title}</book-title></title-info></description>"
        f"<body><section><title><p>{title}</p></title>{body}</section></body></FictionBook>",
        encoding="utf-8",
    )
    return path


HTML_PAGE = """<!DOCTYPE html>
<html><head><title>Turtle  Soup Rules</title>
<style>body { color: red }</style>
<script>var secret = "script text must go";</script>
</head>
<body>
<nav><a href="/">Home</a> | <a href="/about">Navigation link text</a></nav>
<h1>How to play</h1>
<p>The host   tells a
strange story.</p>
<p>Players ask <b>yes or no</b> questions.<br>One per turn.</p>
<h2>Scoring</h2>
<ul><li>Fewer questions win.</li><li>Hints cost a point.</li></ul>
<script>document.write("more script")</script>
<!-- a comment that is not text -->
</body></html>
"""

MARKDOWN_NOTES = """Some preamble before any heading.

# Library notes

Intro paragraph.

```python
# not a heading: inside a fence
```

## Second section

Closing words.
"""

CODE_FILE = '''def greet(name: str) -> str:
    """Say hello."""
    return f"Hello, {name}!"
'''


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Files under ``root`` at the given relative paths (folders made as needed)."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root
