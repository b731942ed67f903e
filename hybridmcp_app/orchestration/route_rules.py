"""Route's rules, as plain functions: each decision comes with the reason the UI shows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from hybridmcp_app.core.inference import InferenceRequest
from hybridmcp_app.core.llm_configs import WrapperConfig
from hybridmcp_app.core.token_estimate import estimate_tokens

if TYPE_CHECKING:  # difficulty brings numpy: not when the strategies are only listed
    from hybridmcp_app.orchestration.difficulty import DifficultyVerdict

# What never leaves the machine even without a configured pattern: secrets and personal data.
SENSITIVE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an API key or token", re.compile(
        r"\b(?:sk-[A-Za-z0-9_\-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}"
        r"|xox[abprs]-[A-Za-z0-9\-]{10,}|AIza[0-9A-Za-z_\-]{30,})")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("an email address", re.compile(r"\b[\w.+\-]+@[\w\-]+\.[A-Za-z]{2,}\b")),
    ("a social security number", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),
    ("an IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b")),
)  # fmt: skip
_CARD_CANDIDATE = re.compile(r"\b(?:\d[ \-]?){13,19}\b")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def find_sensitive(text: str, user_patterns: tuple[str, ...] = ()) -> str | None:
    """The kind of sensitive content in ``text`` (user patterns first), or None."""
    for user_pattern in user_patterns:
        if re.search(user_pattern, text):
            return f"your privacy pattern {user_pattern!r}"
    for name, pattern in SENSITIVE_PATTERNS:
        if pattern.search(text):
            return name
    for candidate in _CARD_CANDIDATE.findall(text):
        digits = re.sub(r"\D", "", candidate)
        if 13 <= len(digits) <= 19 and _luhn_ok(digits):
            return "a payment card number"
    return None


@dataclass(frozen=True)
class RouteDecision:
    target: Literal["local", "provider"]
    reason: str


def decide_route(
    request: InferenceRequest,
    config: WrapperConfig,
    *,
    local_window: int | None,
    local_supports_tools: bool,
    spent_this_month_usd: float = 0.0,
    difficulty: DifficultyVerdict | None = None,
) -> RouteDecision:
    """Privacy first, then what only the provider can do, then the budget, then difficulty."""
    text = "\n".join(message.content for message in request.messages)
    sensitive = find_sensitive(text, config.privacy_patterns)
    if sensitive:
        return RouteDecision("local", f"privacy rule: the prompt contains {sensitive}")
    if request.tools and not local_supports_tools:
        return RouteDecision("provider", "needs tools the local model cannot call")
    needed = estimate_tokens(text) + request.parameters.max_tokens
    if local_window is not None and needed > local_window:
        return RouteDecision(
            "provider", f"context: ~{needed:,} tokens exceed the local window of {local_window:,}"
        )
    budget = config.monthly_budget_usd
    if budget is not None and spent_this_month_usd >= budget:
        return RouteDecision("local", f"budget: ${spent_this_month_usd:.2f} of ${budget:.2f} spent")
    if difficulty is not None:
        share = f"{difficulty.easy_share:.0%} of similar prompts are easy"
        if difficulty.easy:
            return RouteDecision("local", f"looks easy ({share})")
        return RouteDecision("provider", f"looks hard ({share})")
    return RouteDecision("provider", "no rule applies: the provider answers")
