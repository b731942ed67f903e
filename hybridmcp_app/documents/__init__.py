"""The document library: scan files and folders, parse them, chunk, embed offline, keep them in
Chroma, and search them with provenance (file, page, lines, heading)."""
