"""What a provider failure means for the user, in one sentence, and whether a retry may help."""

from __future__ import annotations

import json

import openai

from hybridmcp_app.llm.stream_deadlines import StreamDeadlineExceeded


def describe_error(error: Exception, provider: str) -> tuple[str, bool]:
    """A message for the user and whether trying again later may help."""
    if isinstance(error, StreamDeadlineExceeded):
        which = "first-token" if error.first_chunk else "whole-answer"
        return (
            f"{provider} {error} (its {which} timeout; change it in Settings → Providers)",
            True,
        )
    if isinstance(error, openai.AuthenticationError):
        return f"{provider} refused the API key (401): check it in Settings → Providers", False
    if isinstance(error, openai.PermissionDeniedError):
        return f"{provider} denied access (403): the key lacks permission for this model", False
    if isinstance(error, openai.NotFoundError):
        return f"{provider} does not know this model or path (404): {_detail(error)}", False
    if isinstance(error, openai.RateLimitError):
        return f"{provider} is rate-limiting (429) even after retries: try again shortly", True
    if isinstance(error, openai.APITimeoutError):
        return f"{provider} did not answer in time (timeout)", True
    if isinstance(error, openai.APIConnectionError):
        return f"cannot reach {provider}: {error.__cause__ or error}", True
    if isinstance(error, openai.InternalServerError):
        return f"{provider} failed ({error.status_code}) even after retries: {_detail(error)}", True
    if isinstance(error, openai.APIStatusError):
        return f"{provider} answered {error.status_code}: {_detail(error)}", False
    if isinstance(error, json.JSONDecodeError | openai.APIResponseValidationError):
        return f"{provider} sent a malformed response: {error}", True
    return f"{provider} failed: {type(error).__name__}: {error}", False


def _detail(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        message = body.get("message") or (body.get("error") or {}).get("message")
        if message:
            return str(message)[:300]
    return str(error)[:300]
