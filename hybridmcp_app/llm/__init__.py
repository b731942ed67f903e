"""LLM backends behind one async interface: llama.cpp in-process, and OpenAI-compatible servers."""
