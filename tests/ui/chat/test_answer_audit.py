"""The audit under an answer, folded until asked for: the provider request as it was sent, the
provider's own counts, the baseline and the saving kind; and a failover shown as one (real local
model, a real provider server, a provider that is down)."""

from collections.abc import Callable

import qasync

from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.ui.main_window import MainWindow
from tests.helpers.llama_server import LlamaServer, free_port
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.waiting import PATIENCE_S
from tests.ui.chat_steps import ask, load_model, save_settings


def test_the_provider_answers_audit_shows_the_request_as_sent_and_its_counts(
    app_paths: AppPaths,
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    provider_server: LlamaServer,
    memory_keyring: MemoryKeyring,
) -> None:
    save_settings(app_paths, provider_server)
    memory_keyring.set_password("HybridMCP", "LAB_KEY", provider_server.api_key)
    window = make_window()
    load_model(window, qt_loop)
    ask(window, qt_loop, "Name a colour.", "provider")
    pane = window.chat_view._panes["provider"]
    assert pane.audit_button.isVisibleTo(pane) and not pane.audit.isVisibleTo(pane)
    pane.audit_button.click()
    assert pane.audit.isVisibleTo(pane)
    audit = pane.audit.toPlainText()
    assert "Name a colour." in audit  # the message as it left
    assert "model gemma" in audit and "max_tokens=8" in audit and 'stop=["\\n"]' in audit
    turn = window.context.chat.conversation.turns[-1]
    assert f"Baseline: {turn.baseline_prompt_tokens:,} prompt tokens" in audit
    assert "Saving: none" in audit  # provider-only is the baseline itself
    provider = turn.pane("provider")
    assert provider is not None
    # llama.cpp's server reports no usage when it streams: the counts are ours, and say so.
    counts = f"{provider.prompt_tokens:,} prompt → {provider.completion_tokens:,} completion"
    assert f"{counts} tokens (our estimate)" in audit
    assert "(our estimate where the provider reported no usage)" in audit
    assert provider_server.api_key not in audit


def test_a_provider_that_is_down_fails_over_to_the_local_model_and_the_audit_says_so(
    app_paths: AppPaths, make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop
) -> None:
    dead = {
        "name": "lab", "base_url": f"http://127.0.0.1:{free_port()}/v1",
        "default_model": "gemma", "max_retries": 0, "first_token_timeout_s": PATIENCE_S,
    }  # fmt: skip
    parameters = {"temperature": 0.0, "max_tokens": 8}
    SettingsStore(app_paths).save(Settings.model_validate({
        "llm": {"local": {"inference": {"n_ctx": 1024, "parameters": parameters}}},
        "providers": {"items": [dead], "active": "lab"},
    }))  # fmt: skip
    window = make_window()
    load_model(window, qt_loop)
    view = window.chat_view
    ask(window, qt_loop, "Name a colour.", "provider")
    assert set(view._panes) == {"provider", "local"}
    assert "failed over to the local model: cannot reach lab" in view.trace.text()
    local = view._panes["local"]
    assert local.answer.strip()
    assert not view._panes["provider"].audit_button.isVisibleTo(view._panes["provider"])
    local.audit_button.click()
    audit = local.audit.toPlainText()
    assert "Failed over: the provider failed; the local model answered" in audit
    assert "Saving: none" in audit
    assert "failed: cannot reach lab" in audit
    assert window.context.chat.conversation.turns[-1].chosen_leg == "local"
