"""llama.cpp's OpenAI-compatible server for ``benchmarks.game_host``, reading system messages.

llama-cpp-python's ``gemma`` chat format drops system messages (Gemma has no system turn), so
the host's rules and the puzzle's story would never reach the provider, and its accuracy would
measure a model that never saw the puzzle. A real provider reads them. This launcher registers
``gemma-with-system``, which moves the system text into the first user turn as the local backend
does (``llm/chat_prompt.py``), then runs the server as ``python -m llama_cpp.server`` would.

The server also keeps the logits of every prompt token by default (``--logits_all``): a
vocabulary-sized row each, 262k floats for Gemma 3, which made reading a puzzle's story 3 to 4
times slower. No request here asks for prompt log-probabilities and a hosted provider computes
none, so the launcher turns it off unless the command line says otherwise.
"""

from __future__ import annotations

import runpy
import sys
from typing import Any

from llama_cpp import llama_chat_format

CHAT_FORMAT = "gemma-with-system"
DEFAULTS = ("--logits_all", "False")


def folded(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``messages`` without system turns, their text leading the first user turn."""
    system = "\n\n".join(str(m.get("content") or "") for m in messages if m["role"] == "system")
    rest = [dict(m) for m in messages if m["role"] != "system"]
    if not system:
        return rest
    first_user = next((m for m in rest if m["role"] == "user"), None)
    if first_user is None:
        return [{"role": "user", "content": system}, *rest]
    first_user["content"] = f"{system}\n\n{first_user.get('content') or ''}"
    return rest


def format_gemma_with_system(
    messages: list[Any], **kwargs: Any
) -> llama_chat_format.ChatFormatterResponse:
    """Gemma's turns, the system text in the first user turn."""
    response: llama_chat_format.ChatFormatterResponse = llama_chat_format.format_gemma(
        folded(messages), **kwargs
    )
    return response


llama_chat_format.register_chat_format(CHAT_FORMAT)(format_gemma_with_system)


if __name__ == "__main__":
    if DEFAULTS[0] not in sys.argv:
        sys.argv += DEFAULTS
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
