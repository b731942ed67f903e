import pytest

from hybridmcp_app.core.inference import ChatMessage, InferenceRequest
from hybridmcp_app.core.llm_configs import WrapperConfig
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.orchestration.route_rules import decide_route, find_sensitive


def ask(text: str, **extra: object) -> InferenceRequest:
    return InferenceRequest.model_validate(
        {"messages": [{"role": "user", "content": text}], **extra}
    )


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("my key is sk-proj-abcdefghijklmnop1234", "an API key or token"),
        ("AWS: AKIAIOSFODNN7EXAMPLE", "an API key or token"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nabc", "a private key"),
        ("write to jane.doe@example.org please", "an email address"),
        ("SSN 078-05-1120", "a social security number"),
        ("card 4111 1111 1111 1111 exp 12/29", "a payment card number"),
        ("IBAN DE89 3704 0044 0532 0130 00", "an IBAN"),
    ],
)
def test_secrets_and_personal_data_are_recognised(text: str, kind: str) -> None:
    assert find_sensitive(text) == kind


@pytest.mark.parametrize(
    "text",
    [
        "What is the capital of France?",
        "order number 4111 1111 1111 1112",  # fails the Luhn check: not a card
        "call me at 10:30, room 1234",
    ],
)
def test_ordinary_text_is_not_flagged(text: str) -> None:
    assert find_sensitive(text) is None


def test_a_configured_pattern_keeps_matching_prompts_local() -> None:
    config = WrapperConfig(privacy_patterns=(r"Project\s+Nightjar",))
    decision = decide_route(
        ask("Summarise the Project  Nightjar memo"), config,
        local_window=4096, local_supports_tools=False,
    )  # fmt: skip
    assert decision.target == "local"
    assert "privacy pattern" in decision.reason


def test_a_prompt_with_a_secret_stays_local_even_if_it_needs_tools() -> None:
    request = ask(
        "use token ghp_abcdefghijklmnopqrstuvwxyz0123456789", tools=[{"type": "function"}]
    )
    decision = decide_route(request, WrapperConfig(), local_window=4096, local_supports_tools=False)
    assert decision.target == "local"


def test_tools_the_local_model_cannot_call_go_to_the_provider() -> None:
    request = ask("What's the weather?", tools=[{"type": "function", "function": {"name": "w"}}])
    decision = decide_route(request, WrapperConfig(), local_window=4096, local_supports_tools=False)
    assert (decision.target, decision.reason) == (
        "provider",
        "needs tools the local model cannot call",
    )


def test_a_prompt_too_long_for_the_local_window_goes_to_the_provider() -> None:
    request = ask("word " * 4000, parameters=ModelParameters(max_tokens=256))
    decision = decide_route(request, WrapperConfig(), local_window=2048, local_supports_tools=True)
    assert decision.target == "provider"
    assert "exceed the local window of 2,048" in decision.reason


def test_a_spent_budget_keeps_answers_local() -> None:
    config = WrapperConfig(monthly_budget_usd=5.0)
    decision = decide_route(
        ask("hello"), config, local_window=4096, local_supports_tools=True,
        spent_this_month_usd=5.01,
    )  # fmt: skip
    assert decision.target == "local"
    assert "budget: $5.01 of $5.00 spent" in decision.reason


def test_without_a_rule_the_provider_answers() -> None:
    decision = decide_route(
        ask("Explain entropy."), WrapperConfig(), local_window=4096, local_supports_tools=True
    )
    assert decision.target == "provider"


def test_messages_of_every_role_are_checked() -> None:
    request = InferenceRequest(
        messages=(
            ChatMessage(role="system", content="internal: bob@corp.example"),
            ChatMessage(role="user", content="hi"),
        )
    )
    decision = decide_route(request, WrapperConfig(), local_window=None, local_supports_tools=True)
    assert decision.target == "local"
