from pathlib import Path

import pytest
from pydantic import ValidationError

from hybridmcp_app.core.errors import describe_validation_error
from hybridmcp_app.core.llm_configs import (
    LocalLLMConfig,
    ProviderConfig,
    ProvidersConfig,
    WrapperConfig,
)


def _provider(name: str = "openai", **extra: object) -> ProviderConfig:
    return ProviderConfig.model_validate(
        {"name": name, "base_url": "https://api.example.com/v1", "default_model": "m", **extra}
    )


def test_the_default_local_model_is_the_embedded_one() -> None:
    assert LocalLLMConfig().model_path is None


def test_a_local_model_must_be_a_gguf_file() -> None:
    with pytest.raises(ValidationError, match=r"must be a \.gguf file, got 'model\.bin'"):
        LocalLLMConfig(model_path=Path("/models/model.bin"))
    assert LocalLLMConfig(model_path=Path("/m/Model.GGUF")).model_path == Path("/m/Model.GGUF")


def test_a_provider_needs_an_http_url() -> None:
    with pytest.raises(ValidationError, match="base_url"):
        _provider(base_url="ftp://example.com")
    with pytest.raises(ValidationError, match="base_url"):
        _provider(base_url="not a url")


def test_a_provider_names_its_key_in_the_keychain_never_the_key() -> None:
    assert _provider(api_key_secret="OPENAI_API_KEY").api_key_secret == "OPENAI_API_KEY"
    with pytest.raises(ValidationError, match="api_key_secret"):
        _provider(api_key_secret="sk-live 1234 with spaces")


def test_credentials_in_plain_headers_are_refused_without_echoing_them() -> None:
    secret = "sk-THIS-MUST-NOT-BE-ECHOED"
    with pytest.raises(ValidationError) as caught:
        _provider(headers={"Authorization": f"Bearer {secret}", "X-Team": "blue"})
    text = "\n".join(describe_validation_error(caught.value))
    assert "store the key in the keychain" in text
    assert secret not in text
    assert _provider(headers={"X-Team": "blue"}).headers == {"X-Team": "blue"}


def test_provider_timeouts_and_retries_are_bounded() -> None:
    with pytest.raises(ValidationError, match="timeout_s"):
        _provider(timeout_s=0)
    with pytest.raises(ValidationError, match="max_retries"):
        _provider(max_retries=50)


def test_provider_names_must_be_unique_and_the_active_one_must_exist() -> None:
    with pytest.raises(ValidationError, match="repeated: groq"):
        ProvidersConfig(items=(_provider("groq"), _provider("groq")))
    with pytest.raises(ValidationError, match="'ollama' is not one of the configured"):
        ProvidersConfig(items=(_provider("groq"),), active="ollama")
    assert ProvidersConfig(items=(_provider("groq"),), active="groq").active == "groq"


def test_an_invalid_privacy_pattern_is_reported_with_the_pattern() -> None:
    with pytest.raises(ValidationError, match=r"privacy pattern '\(unclosed' is not a valid regex"):
        WrapperConfig(privacy_patterns=("(unclosed",))
    assert WrapperConfig(privacy_patterns=(r"\b\d{3}-\d{2}-\d{4}\b",)).privacy_patterns


def test_malformed_strategy_names_and_out_of_range_ratios_are_rejected() -> None:
    # Which names exist is the strategy registry's to say (tests/unit/services).
    with pytest.raises(ValidationError, match="default_strategy"):
        WrapperConfig.model_validate({"default_strategy": "Magic strategy!"})
    with pytest.raises(ValidationError, match="boost_target_ratio"):
        WrapperConfig(boost_target_ratio=0)


def test_the_provider_used_is_the_named_one_else_the_active_one_else_the_first_enabled() -> None:
    off = _provider("off", enabled=False)
    providers = ProvidersConfig(items=(off, _provider("a"), _provider("b")), active="b")
    assert getattr(providers.choose(), "name", None) == "b"
    assert getattr(providers.choose("a"), "name", None) == "a"
    assert providers.choose("off") is None
    assert getattr(ProvidersConfig(items=(off, _provider("a"))).choose(), "name", None) == "a"
    assert ProvidersConfig().choose() is None
