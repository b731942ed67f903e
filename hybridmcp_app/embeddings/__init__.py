"""The offline sentence embedder shared by the orchestrator and the document library."""
