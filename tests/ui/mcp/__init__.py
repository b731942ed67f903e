"""Tests of the MCP Servers tab."""
