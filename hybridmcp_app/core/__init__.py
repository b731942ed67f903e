"""Shared data models, errors and small asyncio helpers. Imports nothing else of the project."""
