"""The command lines: ``hybridmcp`` and its ``ask``, ``library`` and ``game`` commands; no Qt."""
