"""The library benchmark's corpus: PDF handouts (written with PyMuPDF), Markdown FAQs and plain
text meeting notes, generated from a seed.

The documents are made of the short parts office documents are full of: a handout page with a
title and a paragraph, an FAQ answer under its question, a meeting note under its underlined
title. The chunker never joins two pages or two headed sections, so each chunk is one such part:
about 20 to 90 MiniLM tokens, 45 on average (the 200-token chunk size is never reached). Short
chunks embed about four times faster than full ones, which keeps 5,000 of them inside the
benchmark's time; the embedder pads each group of 32 to its longest text, so a few long chunks
would cost as much as all-long ones, and there are none.
"""

from __future__ import annotations

import random
from pathlib import Path

import pymupdf

SUBJECTS = (
    "the quarterly budget", "the warehouse inventory", "the customer survey", "the data backup",
    "the onboarding checklist", "the travel policy", "the server migration", "the safety audit",
    "the supplier contract", "the marketing plan", "the release schedule", "the training course",
    "the office move", "the energy report", "the hiring process", "the support queue",
)  # fmt: skip
VERBS = (
    "reviewed", "updated", "approved", "postponed", "measured", "compared", "summarised",
    "checked", "discussed", "rewrote", "simplified", "documented", "estimated", "tested",
)  # fmt: skip
OBJECTS = (
    "the figures for March", "the open questions", "the remaining risks", "the cost estimate",
    "the list of owners", "the draft timeline", "the results of the pilot", "the new template",
    "the feedback from the team", "the numbers from the regional offices", "the action items",
    "the storage requirements", "the access rights", "the shipping delays", "the error rates",
)  # fmt: skip
CLAUSES = (
    "before the next meeting", "because the deadline moved", "so that nobody is blocked",
    "as agreed last week", "with the help of the finance team", "after the vendor replied",
    "although some data is still missing", "to keep the costs under control",
    "while the old system is still running", "once the contract is signed",
)  # fmt: skip
NAMES = ("Alice", "Bob", "Chen", "Dana", "Emeka", "Farah", "Giulia", "Hiro", "Ines", "Jonas")


def sentence(rng: random.Random) -> str:
    name, subject = rng.choice(NAMES), rng.choice(SUBJECTS)
    return rng.choice(
        (
            f"{name} {rng.choice(VERBS)} {rng.choice(OBJECTS)} of {subject} {rng.choice(CLAUSES)}.",
            f"The team {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(CLAUSES)}.",
            f"For {subject}, {rng.randint(2, 97)} percent of {rng.choice(OBJECTS)} were "
            f"{rng.choice(VERBS)} by {rng.choice(NAMES)} on day {rng.randint(1, 365)}.",
            f"Next step: {name} sends {rng.choice(OBJECTS)} to {rng.choice(NAMES)}.",
        )
    )


def paragraph(rng: random.Random, low: int, high: int) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(low, high)))


def part(rng: random.Random) -> str:
    """A short part: a paragraph of one to three sentences, now and then a second one."""
    if rng.random() < 1 / 6:
        return f"{paragraph(rng, 1, 2)}\n\n{paragraph(rng, 1, 2)}"
    return paragraph(rng, 1, 3)


def title(rng: random.Random) -> str:
    return f"{rng.choice(VERBS).capitalize()}: {rng.choice(OBJECTS)} of {rng.choice(SUBJECTS)}"


def write_pdf(path: Path, rng: random.Random, pages: int) -> None:
    document = pymupdf.open()
    for _ in range(pages):
        page = document.new_page()
        page.insert_text((56, 64), title(rng), fontsize=14)
        text = part(rng)
        while page.insert_textbox(pymupdf.Rect(56, 84, 540, 800), text, fontsize=10) < 0:
            text = text[: len(text) * 3 // 4]  # longer than the page (never, at this length)
    document.set_metadata({"title": f"Handout {path.stem}"})
    document.save(path, garbage=1, deflate=True)
    document.close()


def write_markdown(path: Path, rng: random.Random, sections: int) -> None:
    parts = [f"# FAQ {path.stem}", paragraph(rng, 1, 2)]
    for _ in range(sections):
        parts += [f"## {title(rng)}?", part(rng)]
    path.write_text("\n\n".join(parts) + "\n", encoding="utf-8")


def write_text(path: Path, rng: random.Random, sections: int) -> None:
    parts = []
    for number in range(sections):
        heading = f"Meeting {number + 1}"
        parts += [f"{heading}\n{'=' * len(heading)}", part(rng)]
    path.write_text("\n\n".join(parts) + "\n", encoding="utf-8")


def write_library_corpus(folder: Path, files: int = 330, seed: int = 7) -> list[Path]:
    """``files`` documents in ``folder``: PDFs, Markdown and text in turn, 10 to 21 parts each."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for number in range(files):
        parts = rng.randint(10, 21)
        kind = ("pdf", "md", "txt")[number % 3]
        path = folder / f"doc-{number:04}.{kind}"
        if kind == "pdf":
            write_pdf(path, rng, parts)
        elif kind == "md":
            write_markdown(path, rng, parts)
        else:
            write_text(path, rng, parts)
        paths.append(path)
    return paths
