"""The project's exception hierarchy and a readable rendering of pydantic validation errors."""

from __future__ import annotations

from pydantic import ValidationError


class HybridMCPError(Exception):
    """Base class of every error the app raises on purpose; its message is meant for users."""


class ConfigError(HybridMCPError):
    """A configuration value or file is invalid."""


class SecretStoreError(HybridMCPError):
    """The keychain could not store or return a secret. Never carries the secret itself."""


def describe_validation_error(error: ValidationError) -> list[str]:
    """Turn a pydantic error into one line per problem: ``field.path: what is wrong``.

    The offending *value* is left out on purpose: it could be a secret pasted in the wrong place.
    """
    lines: list[str] = []
    for item in error.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in item["loc"]) or "(root)"
        lines.append(f"{location}: {item['msg']}")
    return lines


class ModelLoadError(HybridMCPError):
    """A local model file could not be read or loaded; the message says why and what to do."""


class BackendError(HybridMCPError):
    """A backend failed while answering."""
