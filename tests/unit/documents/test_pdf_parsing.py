"""Paged formats through PyMuPDF, with real good, damaged, encrypted and disguised files."""

from __future__ import annotations

import builtins
import pickle
from collections.abc import Callable
from pathlib import Path

import pymupdf
import pytest

from hybridmcp_app.documents.document_parsers import parse_document
from hybridmcp_app.documents.parse_errors import (
    CorruptDocument,
    DocumentParseError,
    EmptyDocument,
    EncryptedDocument,
    UnreadableDocument,
)
from tests.helpers.documents_corpus import (
    PASSWORD,
    page_text,
    write_docx,
    write_encrypted_pdf,
    write_epub,
    write_fb2,
    write_garbage,
    write_image_only_pdf,
    write_pdf,
    write_pdf_with_broken_page_tree,
    write_plain_text,
    write_png_named,
    write_truncated_pdf,
)


def test_a_pdf_keeps_its_page_numbers_and_the_text_of_each_page(tmp_path: Path) -> None:
    document = parse_document(write_pdf(tmp_path / "book.pdf", pages=4, lines=3, title="A Book"))

    assert document.kind == "pdf"
    assert document.title == "A Book"
    assert document.page_count == 4
    assert [page.number for page in document.pages] == [1, 2, 3, 4]
    for page in document.pages:
        assert page.number is not None
        assert page.text.split("\n")[:3] == page_text(page.number, 3)
    assert not document.repaired and document.notes == ()


def test_a_pdf_without_a_title_is_named_after_its_file(tmp_path: Path) -> None:
    assert parse_document(write_pdf(tmp_path / "untitled.pdf")).title == "untitled.pdf"


def test_an_encrypted_pdf_needs_a_password(tmp_path: Path) -> None:
    path = write_encrypted_pdf(tmp_path / "locked.pdf")

    with pytest.raises(EncryptedDocument, match="needs a password"):
        parse_document(path)
    with pytest.raises(EncryptedDocument, match="the password is wrong"):
        parse_document(path, password="guess")
    document = parse_document(path, password=PASSWORD)
    assert [page.number for page in document.pages] == [1, 2]
    assert "Page 2 line 0" in document.pages[1].text


def test_a_pdf_cut_in_half_keeps_its_readable_pages_and_is_marked_repaired(
    tmp_path: Path,
) -> None:
    document = parse_document(write_truncated_pdf(tmp_path / "half.pdf", keep=0.5))

    # PyMuPDF opens it "repaired"; the pages after the cut exist but are empty.
    assert document.repaired
    assert document.page_count == 20
    numbers = [page.number for page in document.pages]
    assert numbers == list(range(1, len(numbers) + 1)) and 0 < len(numbers) < 20
    assert all(f"Page {page.number} line 0" in page.text for page in document.pages)
    assert document.notes == (
        "the file is damaged; MuPDF repaired it",
        f"empty after the repair: pages {len(numbers) + 1}–20",
    )


def test_a_pdf_cut_inside_an_object_is_damaged_beyond_repair(tmp_path: Path) -> None:
    # 20 % lost: with PyMuPDF 2.0 this cut makes open() raise FileDataError, not a page access.
    path = write_truncated_pdf(tmp_path / "cut.pdf", keep=0.8)
    with pytest.raises(pymupdf.FileDataError):
        pymupdf.open(path)

    with pytest.raises(CorruptDocument, match="damaged beyond repair: MuPDF cannot open this PDF"):
        parse_document(path)


def test_a_pdf_whose_pages_cannot_be_loaded_is_damaged_beyond_repair(tmp_path: Path) -> None:
    path = write_pdf_with_broken_page_tree(tmp_path / "tree.pdf")
    with pymupdf.open(path) as raw:  # the fact: it opens, then page access fails
        assert raw.page_count == 3
        with pytest.raises(pymupdf.mupdf.FzErrorBase):
            raw.load_page(0)

    with pytest.raises(CorruptDocument, match="no page could be read"):
        parse_document(path)


def test_a_page_that_raises_runtime_error_is_skipped_and_noted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_pdf(tmp_path / "flaky.pdf", pages=3)
    real_load_page = pymupdf.Document.load_page

    def load_page(self: pymupdf.Document, page_id: int) -> pymupdf.Page:
        if page_id == 1:  # how PyMuPDF before 1.24 reported a damaged page
            raise RuntimeError("cannot load object")
        page: pymupdf.Page = real_load_page(self, page_id)
        return page

    monkeypatch.setattr(pymupdf.Document, "load_page", load_page)
    document = parse_document(path)

    assert [page.number for page in document.pages] == [1, 3]
    assert document.repaired
    assert document.notes == ("unreadable: page 2",)


@pytest.mark.parametrize(
    ("name", "write"),
    [
        ("garbage.pdf", write_garbage),
        ("photo.pdf", write_png_named),
        ("notes.pdf", write_plain_text),
    ],
)
def test_a_file_that_is_not_a_pdf_is_reported_as_such(
    tmp_path: Path, name: str, write: Callable[[Path], Path]
) -> None:
    with pytest.raises(CorruptDocument, match=r"^not a PDF \(another kind of file renamed"):
        parse_document(write(tmp_path / name))


def test_garbage_named_pdf_fails_to_open_in_pymupdf(tmp_path: Path) -> None:
    with pytest.raises(pymupdf.FileDataError):
        pymupdf.open(write_garbage(tmp_path / "garbage.pdf"))
    with pytest.raises(pymupdf.FileDataError):
        pymupdf.open(write_plain_text(tmp_path / "notes.pdf"))


def test_an_image_named_pdf_opens_in_pymupdf_as_an_image_and_is_refused(tmp_path: Path) -> None:
    path = write_png_named(tmp_path / "photo.pdf")
    with pymupdf.open(path) as raw:  # the fact: MuPDF goes by the content, not the name
        assert not raw.is_pdf and raw.page_count == 1

    with pytest.raises(CorruptDocument, match=r"its content reads as Image$"):
        parse_document(path)


def test_an_empty_pdf_is_reported_empty(tmp_path: Path) -> None:
    (tmp_path / "empty.pdf").write_bytes(b"")
    with pytest.raises(EmptyDocument, match="the file is empty"):
        parse_document(tmp_path / "empty.pdf")


def test_a_scanned_pdf_without_text_says_there_is_no_ocr(tmp_path: Path) -> None:
    with pytest.raises(EmptyDocument, match=r"only images \(a scan\?\), and there is no OCR"):
        parse_document(write_image_only_pdf(tmp_path / "scan.pdf"))


def test_pymupdfs_file_not_found_is_not_pythons_and_is_mapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not issubclass(pymupdf.FileNotFoundError, builtins.FileNotFoundError)
    assert issubclass(pymupdf.FileNotFoundError, RuntimeError)
    path = write_pdf(tmp_path / "there.pdf")

    def vanished(*args: object, **kwargs: object) -> pymupdf.Document:
        raise pymupdf.FileNotFoundError("no such file: 'there.pdf'")

    monkeypatch.setattr(pymupdf, "open", vanished)
    with pytest.raises(UnreadableDocument, match="the file is gone"):
        parse_document(path)


def test_a_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableDocument, match="moved or deleted"):
        parse_document(tmp_path / "absent.pdf")


def test_an_epub_gives_one_page_per_chapter_and_its_title(tmp_path: Path) -> None:
    path = write_epub(tmp_path / "book.epub", ["Once upon a time.", "The end."], title="Tiny")

    document = parse_document(path)

    assert document.kind == "epub" and document.title == "Tiny"
    assert [(page.number, page.text) for page in document.pages] == [
        (1, "Chapter 1\nOnce upon a time.\n"),
        (2, "Chapter 2\nThe end.\n"),
    ]


def test_a_docx_and_an_fb2_are_read_through_pymupdf(tmp_path: Path) -> None:
    docx = parse_document(write_docx(tmp_path / "letter.docx", ["Dear reader,", "Goodbye."]))
    fb2 = parse_document(write_fb2(tmp_path / "tale.fb2", "A Tale", ["It was dark."]))

    assert docx.kind == "docx" and "Dear reader,\nGoodbye." in docx.pages[0].text
    assert fb2.kind == "fb2" and fb2.title == "A Tale" and "It was dark." in fb2.pages[0].text


def test_a_text_file_renamed_docx_is_not_a_zip_archive(tmp_path: Path) -> None:
    (tmp_path / "fake.docx").write_text("not a document")
    with pytest.raises(CorruptDocument, match="not a DOCX"):
        parse_document(tmp_path / "fake.docx")


def test_parsed_documents_and_parse_errors_survive_pickling(tmp_path: Path) -> None:
    document = parse_document(write_pdf(tmp_path / "a.pdf"))
    assert pickle.loads(pickle.dumps(document)) == document
    error: DocumentParseError = EncryptedDocument("needs a password")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is EncryptedDocument and str(copy) == "needs a password"
