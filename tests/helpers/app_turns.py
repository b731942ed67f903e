"""The app's turns over real parts for tests without a window: the local model service, the
provider (a llama.cpp server on 127.0.0.1, its key in an in-memory keychain), the ledger."""

from __future__ import annotations

from hybridmcp_app.config.paths import AppPaths, resources_dir
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.llm.backend_registry import BackendRegistry
from hybridmcp_app.llm.local_model_service import LocalModelService
from hybridmcp_app.orchestration.usage_ledger import UsageLedger
from hybridmcp_app.services.turn_runner import TurnParts, TurnRunner
from tests.helpers.llama_server import LlamaServer
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.waiting import PATIENCE_S

KEY_NAME = "LAB_KEY"


def settings_with_provider(server: LlamaServer | None) -> Settings:
    """Short greedy answers; with ``server``, the provider "lab" (its key in ``KEY_NAME``)."""
    data: dict[str, object] = {
        "llm": {"local": {"inference": {"parameters": {"temperature": 0, "max_tokens": 12}}}}
    }
    if server is not None:
        data["providers"] = {
            "items": [{"name": "lab", "base_url": server.base_url, "default_model": "gemma",
                       "api_key_secret": KEY_NAME, "timeout_s": PATIENCE_S,
                       "first_token_timeout_s": PATIENCE_S}],
            "active": "lab",
        }  # fmt: skip
    return Settings.model_validate(data)


def memory_secrets(key: str = "") -> SecretStore:
    """A keychain in memory, holding the provider's key when one is given."""
    secrets = SecretStore(MemoryKeyring(), KeychainStatus(True, "memory"))
    if key:
        secrets.set(KEY_NAME, key)
    return secrets


def turn_runner(
    paths: AppPaths, settings: Settings, local_model: LocalModelService, secrets: SecretStore
) -> TurnRunner:
    """Turns as the app runs them (ledger in ``paths``' data dir, no answer cache)."""
    ledger = UsageLedger(paths.data_dir / "usage.sqlite3")
    providers = BackendRegistry(
        lambda: settings.providers, secrets, resources_dir(), paths.config_dir / "prices.json"
    )
    return TurnRunner(lambda: settings, local_model, providers,
                      TurnParts(OnnxEmbedder, lambda: None, ledger))  # fmt: skip
