"""Queries written in FTS5's syntax (operators, columns, quotes): keyword search must take
each as plain words, never as a query language."""

from __future__ import annotations

HOSTILE = (
    "NEAR(",
    'NEAR("a" "b", 2)',
    '"',
    '"unterminated PELICAN',
    "*",
    "PELICAN*",
    "-",
    "-PELICAN",
    "col:",
    "text:PELICAN",
    "chunk_id:x",
    "AND",
    "OR OR",
    "NOT",
    "(",
    ")",
    "^PELICAN",
    "{text}: x",
    "a + b",
    "'; DROP TABLE chunks; --",
    "\x00",
)
