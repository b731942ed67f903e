"""``hybridmcp ask`` end to end: a real process, the real local model, a real provider whose key
sits in a real Secret Service."""

import json
import os
import subprocess
import sys

import pytest

from hybridmcp_app.cli.main import build_parser
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.secrets import SecretStore, system_keychain
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.orchestration.strategies import STRATEGIES, available_strategies
from hybridmcp_app.orchestration.usage_ledger import UsageLedger
from tests.helpers.llama_server import LlamaServer, free_port
from tests.helpers.waiting import PATIENCE_S

FEW_SHOT = (
    "Q: What is the capital of France?\nA: Paris\n"
    "Q: What is the capital of Germany?\nA: Berlin\n"
    "Q: What is the capital of Italy?\nA:"
)
GREEDY_ONE_LINE = {
    "HYBRIDMCP_LLM__LOCAL__INFERENCE__PARAMETERS__TEMPERATURE": "0",
    "HYBRIDMCP_LLM__LOCAL__INFERENCE__PARAMETERS__STOP": '["\\n"]',
    "HYBRIDMCP_LLM__LOCAL__INFERENCE__N_CTX": "1024",
}


def ask(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GREEDY_ONE_LINE}
    return subprocess.run(
        [sys.executable, "-m", "hybridmcp_app", "ask", *args],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def configure_provider(paths: AppPaths, base_url: str, secret: str | None) -> None:
    provider = {"name": "lab", "base_url": base_url, "default_model": "gemma", "max_retries": 0,
                "timeout_s": PATIENCE_S, "first_token_timeout_s": PATIENCE_S}  # fmt: skip
    if secret:
        provider["api_key_secret"] = secret
    settings = Settings.model_validate({"providers": {"items": [provider], "active": "lab"}})
    SettingsStore(paths).save(settings)


def test_the_command_lines_strategy_names_match_the_orchestrators() -> None:
    ask = build_parser().parse_args(["ask", "--strategy", "boost", "hi"])
    assert ask.strategy == "boost"
    with pytest.raises(SystemExit):  # argparse refuses a name the registry does not have
        build_parser().parse_args(["ask", "--strategy", "magic", "hi"])
    assert set(STRATEGIES.names) == set(available_strategies())


def test_a_local_question_is_answered_with_its_trace(app_paths: AppPaths) -> None:
    result = ask("--strategy", "local", "--raw", "--max-tokens", "4", FEW_SHOT)
    assert result.returncode == 0, result.stderr
    assert "── local (local, answer) — final\nRome" in result.stdout
    assert "provider prompt tokens 0" in result.stderr


def test_json_output_carries_answers_and_trace_with_a_keychain_provider(
    app_paths: AppPaths, provider_server: LlamaServer, secret_service: str
) -> None:
    backend, status = system_keychain()
    SecretStore(backend, status).set("LAB_KEY", provider_server.api_key)
    configure_provider(app_paths, provider_server.base_url, "LAB_KEY")
    result = ask("--strategy", "cascade", "--raw", "--max-tokens", "4", "--json", FEW_SHOT)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["final"] in {"local", "provider"}
    assert payload["answers"]["local"].strip() == "Rome"
    trace = payload["trace"]
    assert trace["strategy"] == "cascade"
    assert trace["baseline_prompt_tokens"] > 0
    assert provider_server.api_key not in result.stdout + result.stderr
    # The audit agrees with the trace and with what the ledger recorded.
    audit = payload["audit"]
    (recorded,) = UsageLedger(app_paths.data_dir / "usage.sqlite3").savings_history()
    assert audit["saving"] == trace["saving"] == recorded.saving
    assert audit["prompt_tokens_saved"] == trace["prompt_tokens_saved"] == recorded.tokens_saved
    assert audit["provider_usage_reported"] == recorded.usage_reported
    for call in audit["provider_calls"]:
        assert call["request"]["model"] == "gemma"
        assert call["request"]["parameters"]["max_tokens"] == 4


def test_failover_answers_even_with_the_provider_down(app_paths: AppPaths) -> None:
    configure_provider(app_paths, f"http://127.0.0.1:{free_port()}/v1", None)
    result = ask("--strategy", "failover", "--raw", "--max-tokens", "4", FEW_SHOT)
    assert result.returncode == 0, result.stderr
    assert "failed over to the local model: cannot reach lab" in result.stderr
    assert "[failed: cannot reach lab" in result.stdout
    assert "── local (local, fallback) — final\nRome" in result.stdout


def test_a_provider_only_question_fails_over_to_the_local_model_and_saves_nothing(
    app_paths: AppPaths,
) -> None:
    configure_provider(app_paths, f"http://127.0.0.1:{free_port()}/v1", None)
    result = ask("--strategy", "provider", "--max-tokens", "8", "--json", "Name a colour.")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["final"] == "local" and payload["answers"]["local"].strip()
    audit = payload["audit"]
    assert (audit["failed_over"], audit["saving"], audit["prompt_tokens_saved"]) == (
        True, "none", 0,
    )  # fmt: skip
    (call,) = audit["provider_calls"]
    assert call["error"].startswith("cannot reach lab") and call["prompt_tokens"] is None
    assert call["request"]["messages"][-1]["content"] == "Name a colour."
    # The local model was not loaded for a provider-only question: the failover loaded it.
    loading, note = payload["trace"]["notes"]
    assert loading.endswith("loading the local model…")
    assert note.startswith("failed over to the local model: cannot reach lab")
    (recorded,) = UsageLedger(app_paths.data_dir / "usage.sqlite3").savings_history()
    assert (recorded.strategy, recorded.saving, recorded.usage_reported) == (
        "provider", "none", None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--strategy", "parallel", "hi"), "no provider is configured"),
        (
            ("--strategy", "local", "--context", "/nonexistent/notes.txt", "hi"),
            "cannot read --context",
        ),
        (("--strategy", "local", "   "), "the question is empty"),
    ],
)
def test_bad_input_gets_a_clear_message_and_exit_code_2(
    app_paths: AppPaths, args: tuple[str, ...], message: str
) -> None:
    result = ask(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_local_answer_uses_the_model_files_own_sampling_settings(app_paths: AppPaths) -> None:
    from hybridmcp_app.config.model_settings import MODEL_SETTINGS_FILE, ModelSettingsStore
    from hybridmcp_app.core.model_context import InferenceSettings
    from hybridmcp_app.core.parameters import ModelParameters
    from hybridmcp_app.llm.embedded_models import DEFAULT_EMBEDDED

    model_file = DEFAULT_EMBEDDED.locate(app_paths.cache_dir)
    own = InferenceSettings(n_ctx=1024, parameters=ModelParameters(temperature=0.0, max_tokens=3))
    ModelSettingsStore(app_paths.config_dir / MODEL_SETTINGS_FILE).remember(model_file, own)
    result = ask("--strategy", "local", "--json", "Tell me a long story about the sea.")
    assert result.returncode == 0, result.stderr
    (leg,) = json.loads(result.stdout)["trace"]["legs"]
    assert leg["response"]["usage"]["completion_tokens"] == 3  # the file's limit, not the app's
    assert leg["response"]["finish_reason"] == "length"
