"""API keys in a real Secret Service (GNOME Keyring on a private D-Bus session)."""

import asyncio
import logging

import secretstorage

from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.secrets import SecretStore, system_keychain
from hybridmcp_app.services.app_services import build_services
from hybridmcp_app.services.app_startup import detect_keychain

SECRET = "sk-real-keychain-5f1e9a7c"


def test_the_secret_service_is_detected_as_the_system_keychain(secret_service: str) -> None:
    backend, status = system_keychain()
    assert backend is not None
    assert status.available
    assert "SecretService" in status.backend_name


def test_a_secret_set_through_the_store_is_really_in_the_secret_service(
    secret_service: str,
) -> None:
    backend, status = system_keychain()
    store = SecretStore(backend, status)
    store.set("OPENAI_API_KEY", SECRET)
    with secretstorage.dbus_init() as connection:
        items = list(
            secretstorage.search_items(
                connection, {"service": "HybridMCP", "username": "OPENAI_API_KEY"}
            )
        )
        assert [item.get_secret().decode() for item in items] == [SECRET]
    value = store.get("OPENAI_API_KEY")
    assert value is not None and value.get_secret_value() == SECRET
    assert store.delete("OPENAI_API_KEY") is True
    assert store.get("OPENAI_API_KEY") is None


def test_the_app_keeps_secrets_out_of_every_file_it_writes(
    secret_service: str, app_paths: AppPaths
) -> None:
    loop = asyncio.new_event_loop()
    try:
        context = build_services(app_paths, loop, verbose=True)
        assert not context.secrets.available  # detected after the window shows, off the loop
        found: list[bool] = []
        loop.run_until_complete(
            detect_keychain(context, lambda: found.append(context.secrets.available))
        )
    finally:
        loop.close()
    assert found == [True]
    context.secrets.set("GITHUB_TOKEN", SECRET)
    context.save_settings(context.settings)
    for handler in logging.getLogger("hybridmcp").handlers:
        handler.flush()
    written = [path for path in app_paths.config_dir.parent.rglob("*") if path.is_file()]
    assert app_paths.settings_file in written
    assert app_paths.log_file in written
    for path in written:
        assert SECRET.encode() not in path.read_bytes(), path
    context.secrets.delete("GITHUB_TOKEN")
