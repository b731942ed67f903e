"""Document details: words, pages, language and key phrases of real files, offline."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hybridmcp_app.documents.document_analysis import analyze_documents, analyze_file
from tests.helpers.documents_corpus import write_encrypted_pdf, write_garbage, write_pdf

GERMAN = (
    "Der Leuchtturmwärter zählt jeden Morgen die Möwen auf den Klippen. Im Winter bleibt er "
    "allein auf der Insel und schreibt Briefe an seine Schwester in Hamburg. Die Briefe handeln "
    "vom Wetter, von den Schiffen und vom Licht, das niemals ausgehen darf."
)
ENGLISH = (
    "# Beekeeping notes\n\nThe beekeeper inspects every hive in spring. Healthy colonies need "
    "a laying queen, capped brood and stored honey. Varroa mites weaken colonies, so the "
    "beekeeper counts mites after a sugar roll and treats hives when the count is high. "
    "Honey harvest waits until the frames are capped."
)


def test_a_text_file_gets_words_language_and_key_phrases(tmp_path: Path) -> None:
    note = tmp_path / "bees.md"
    note.write_text(ENGLISH, encoding="utf-8")
    analysis = analyze_file(note)
    assert analysis.error == ""
    assert (analysis.kind, analysis.language, analysis.title) == (
        "markdown",
        "en",
        "Beekeeping notes",
    )
    assert analysis.words == len(ENGLISH.replace("#", "").split())
    assert analysis.characters == len(ENGLISH)
    assert 1 <= len(analysis.keywords) <= 8
    assert any(
        "beekeeper" in phrase.lower() or "hive" in phrase.lower() for phrase in analysis.keywords
    )


def test_the_language_of_a_german_text_is_recognised(tmp_path: Path) -> None:
    letter = tmp_path / "brief.txt"
    letter.write_text(GERMAN, encoding="utf-8")
    assert analyze_file(letter).language == "de"


def test_a_pdf_reports_its_page_count(tmp_path: Path) -> None:
    analysis = analyze_file(write_pdf(tmp_path / "report.pdf", pages=4, lines=5))
    assert (analysis.kind, analysis.pages) == ("pdf", 4)
    assert analysis.words > 20 and analysis.language == "en"


def test_unreadable_files_get_their_reason_and_the_others_are_analysed(tmp_path: Path) -> None:
    garbage = write_garbage(tmp_path / "broken.pdf")
    locked = write_encrypted_pdf(tmp_path / "locked.pdf")
    fine = tmp_path / "fine.md"
    fine.write_text(ENGLISH, encoding="utf-8")
    results = asyncio.run(analyze_documents([garbage, locked, fine]))
    assert [bool(result.error) for result in results] == [True, True, False]
    assert "password" in results[1].error
    assert results[2].words > 0


def test_a_tiny_text_has_no_language_guess(tmp_path: Path) -> None:
    note = tmp_path / "tiny.txt"
    note.write_text("ok\n", encoding="utf-8")
    analysis = analyze_file(note)
    assert (analysis.words, analysis.language, analysis.keywords) == (1, "", ())
