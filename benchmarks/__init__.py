"""Benchmarks: each ``python -m benchmarks.<name>`` prints a table and ends with one JSON line."""

NAMES = ("startup", "local_llm", "parallel", "hybrid", "ui_responsiveness", "mcp_host", "library",
         "mcp_documents", "storage", "game_host", "embedded_models", "model_download",
         "draft_model", "tool_selection")  # fmt: skip
