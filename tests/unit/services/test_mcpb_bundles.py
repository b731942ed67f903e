"""Installing ``.mcpb`` bundles: what is shown, what is written, and what is refused."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from hybridmcp_app.config.mcp_json_file import McpJsonFile
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.core.errors import ConfigError
from hybridmcp_app.services.mcpb_bundles import BundleExists, McpbBundles
from hybridmcp_app.services.mcpb_manifest import BundleRefused
from tests.helpers.mcpb_files import GREETER_SOURCE, greeter_manifest, write_bundle
from tests.helpers.memory_keyring import MemoryKeyring


@pytest.fixture
def keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def bundles(tmp_path: Path, keyring: MemoryKeyring) -> McpbBundles:
    secrets = SecretStore(keyring, KeychainStatus(True, "memory"))
    return McpbBundles(tmp_path / "data" / "mcpb", McpJsonFile(tmp_path / "mcp.json"), secrets)


def servers(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "mcp.json"
    return json.loads(path.read_text())["mcpServers"] if path.exists() else {}


def left_in(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_a_bundle_shows_what_it_runs_asks_for_and_declares_and_writes_nothing(
    tmp_path: Path, bundles: McpbBundles
) -> None:
    preview = bundles.inspect(write_bundle(tmp_path / "greeter.mcpb"))
    folder = bundles.root / "greeter"
    assert (preview.server, preview.folder, preview.installed) == ("greeter", folder, None)
    assert preview.manifest.title == "Greeter"
    assert [t.name for t in preview.manifest.tools] == ["greet"]
    assert [p.name for p in preview.manifest.prompts] == ["welcome"]
    fields = preview.manifest.user_config
    assert [(k, f.sensitive, f.required) for k, f in fields.items()] == [
        ("greeting", False, False), ("key", True, True), ("extra_dirs", False, False),
    ]  # fmt: skip
    shown = preview.command_line({"key": "abc", "extra_dirs": ["/a", "/b"]})
    assert shown["command"] == sys.executable
    assert shown["args"] == [f"{folder}/server/main.py", "/a", "/b"]
    assert shown["env"] == {"GREETING": "Hello", "GREETER_KEY": "••••••"}
    assert preview.command_line({})["env"]["GREETER_KEY"] == "<API key>"
    assert left_in(bundles.root) == [] and servers(tmp_path) == {}


def test_install_unpacks_the_bundle_and_adds_it_switched_off_with_its_secret_in_the_keychain(
    tmp_path: Path, bundles: McpbBundles, keyring: MemoryKeyring
) -> None:
    record = bundles.install(
        write_bundle(tmp_path / "greeter.mcpb"), {"key": "sk-very-secret", "greeting": "Hi"}
    )
    folder = bundles.root / "greeter"
    assert record.secrets == ("MCPB_GREETER_KEY",)
    assert (folder / "server" / "main.py").read_text() == GREETER_SOURCE
    assert left_in(bundles.root) == ["greeter"]  # no temporary folder left behind
    entry = servers(tmp_path)["greeter"]
    assert entry == {
        "command": sys.executable, "args": [f"{folder}/server/main.py"], "cwd": str(folder),
        "env": {"GREETING": "Hi", "GREETER_KEY": "${secret:MCPB_GREETER_KEY}"}, "disabled": True,
    }  # fmt: skip
    assert "sk-very-secret" not in (tmp_path / "mcp.json").read_text()
    assert keyring.get_password("HybridMCP", "MCPB_GREETER_KEY") == "sk-very-secret"
    configured = McpJsonFile(tmp_path / "mcp.json").read().servers
    assert bundles.is_bundle("greeter", configured["greeter"])
    assert not bundles.is_bundle("other", configured["greeter"])
    assert bundles.record("greeter") == record


def hostile(path: Path, kind: str) -> Path:
    if kind == "zip-slip":
        return write_bundle(path, files={"server/main.py": "", "../evil.py": "x"})
    if kind == "absolute":
        return write_bundle(path, files={"server/main.py": "", "/tmp/evil.py": "x"})
    if kind == "drive":
        return write_bundle(path, files={"server/main.py": "", "C:/evil.py": "x"})
    if kind == "symlink":
        return write_bundle(path, links={"server/passwd": "/etc/passwd"})
    if kind == "version":
        return write_bundle(path, greeter_manifest(manifest_version="9.9"))
    if kind == "entry-point":
        return write_bundle(path, files={"server/other.py": GREETER_SOURCE})
    if kind == "no-manifest":
        return write_bundle(path, no_manifest=True)
    if kind == "not-json":
        return write_bundle(path, "{not json")
    if kind == "deep-json":
        return write_bundle(path, "[" * 100_000 + "]" * 100_000)
    if kind == "not-a-zip":
        path.write_bytes(b"PK? not really a zip at all")
        return path
    if kind == "bomb":
        return write_bundle(path, files={"server/main.py": "", "big.bin": bytes(4 * 1024 * 1024)})
    if kind == "keychain-reference":
        manifest = greeter_manifest()
        manifest["server"]["mcp_config"]["env"]["STOLEN"] = "${secret:OPENAI_API_KEY}"
        return write_bundle(path, manifest)
    raise AssertionError(kind)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("zip-slip", "the member '../evil.py' leads outside the bundle's folder"),
        ("absolute", "the member '/tmp/evil.py' is an absolute path"),
        ("drive", "the member 'C:/evil.py' names a drive"),
        ("symlink", "the member 'server/passwd' is a symbolic link"),
        ("version", "its manifest_version '9.9' is not one HybridMCP knows (0.1, 0.2, 0.3)"),
        ("entry-point", "its entry point 'server/main.py' is not in the bundle"),
        ("no-manifest", "it has no manifest.json at its top"),
        ("not-json", "its manifest.json is not valid JSON (line 1, column 2)"),
        ("deep-json", "its manifest.json is nested deeper than 64 levels"),
        ("not-a-zip", "evil.mcpb is not a zip file"),
        ("bomb", "the member 'big.bin' unpacks to over 200 times its packed size"),
        ("keychain-reference", "env STOLEN uses ${secret:OPENAI_API_KEY}, which bundles may not"),
    ],
)
def test_a_hostile_or_broken_bundle_is_refused_with_its_reason_and_nothing_is_written(
    tmp_path: Path, bundles: McpbBundles, keyring: MemoryKeyring, kind: str, reason: str
) -> None:
    path = hostile(tmp_path / "evil.mcpb", kind)
    with pytest.raises(BundleRefused) as shown:
        bundles.inspect(path)  # refused before the review dialog opens
    with pytest.raises(BundleRefused) as refused:
        bundles.install(path, {"key": "sk-secret"})
    assert str(shown.value).startswith(reason) and str(refused.value).startswith(reason)
    assert left_in(bundles.root) == [] and servers(tmp_path) == {} and keyring.entries == {}
    assert not (tmp_path / "evil.py").exists()


def test_a_bundle_of_too_many_members_is_refused(tmp_path: Path, bundles: McpbBundles) -> None:
    path = write_bundle(tmp_path / "many.mcpb")
    with zipfile.ZipFile(path, "a") as archive:
        for n in range(50_001):
            archive.writestr(f"f/{n}", b"")
    with pytest.raises(BundleRefused, match="at most 50000 are accepted"):
        bundles.inspect(path)


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({}, "“API key” is required"),
        ({"key": "k", "limit": "many"}, "“Limit” must be a number"),
        ({"key": "k", "limit": 500}, "“Limit” must be at most 100"),
    ],
)
def test_a_missing_or_wrong_setting_is_refused_before_anything_is_written(
    tmp_path: Path, bundles: McpbBundles, keyring: MemoryKeyring, values: Any, reason: str
) -> None:
    manifest = greeter_manifest()
    manifest["user_config"]["limit"] = {"type": "number", "title": "Limit", "min": 1, "max": 100}
    with pytest.raises(BundleRefused, match=reason):
        bundles.install(write_bundle(tmp_path / "g.mcpb", manifest), values)
    assert left_in(bundles.root) == [] and servers(tmp_path) == {} and keyring.entries == {}


def test_installing_again_asks_then_replaces_the_files_and_drops_secrets_no_longer_used(
    tmp_path: Path, bundles: McpbBundles, keyring: MemoryKeyring
) -> None:
    bundles.install(write_bundle(tmp_path / "v1.mcpb"), {"key": "old-key"})
    manifest = greeter_manifest(version="2.0.0")
    manifest["user_config"]["key"]["sensitive"] = False
    files = {"server/main.py": GREETER_SOURCE, "server/new.txt": "v2"}
    v2 = write_bundle(tmp_path / "v2.mcpb", manifest, files)
    with pytest.raises(BundleExists, match=r"Greeter is installed already \(version 1.0.0\)"):
        bundles.install(v2, {"key": "plain"})
    assert bundles.inspect(v2).installed is not None
    record = bundles.install(v2, {"key": "plain"}, replace=True)
    assert (record.version, record.secrets) == ("2.0.0", ())
    assert (bundles.root / "greeter" / "server" / "new.txt").read_text() == "v2"
    assert left_in(bundles.root) == ["greeter"]
    assert servers(tmp_path)["greeter"]["env"]["GREETER_KEY"] == "plain"
    assert keyring.entries == {}


def test_uninstall_removes_the_folder_the_entry_and_the_secrets(
    tmp_path: Path, bundles: McpbBundles, keyring: MemoryKeyring
) -> None:
    bundles.install(write_bundle(tmp_path / "greeter.mcpb"), {"key": "sk-secret"})
    bundles.uninstall("greeter")
    assert left_in(bundles.root) == [] and servers(tmp_path) == {} and keyring.entries == {}
    with pytest.raises(BundleRefused, match="no bundle is installed as 'greeter'"):
        bundles.uninstall("greeter")


def test_a_server_of_the_same_name_that_is_not_a_bundle_is_left_alone(
    tmp_path: Path, bundles: McpbBundles
) -> None:
    (tmp_path / "mcp.json").write_text(json.dumps({"mcpServers": {"greeter": {"command": "x"}}}))
    with pytest.raises(BundleRefused, match=r"'greeter' is in mcp\.json already and is not from"):
        bundles.install(write_bundle(tmp_path / "g.mcpb"), {"key": "k"}, replace=True)
    with pytest.raises(BundleRefused, match="no bundle is installed as 'greeter'"):
        bundles.uninstall("greeter")
    assert servers(tmp_path) == {"greeter": {"command": "x"}}


def test_an_unwritable_mcp_json_puts_the_folder_and_the_keychain_back(
    tmp_path: Path, bundles: McpbBundles, keyring: MemoryKeyring
) -> None:
    (tmp_path / "mcp.json").write_text("{broken")
    with pytest.raises(ConfigError, match=r"mcp\.json is not valid JSON"):
        bundles.install(write_bundle(tmp_path / "g.mcpb"), {"key": "sk-secret"})
    assert left_in(bundles.root) == [] and keyring.entries == {}
    assert (tmp_path / "mcp.json").read_text() == "{broken"


def test_a_binary_bundles_program_runs_from_its_folder_even_when_zipped_without_modes(
    tmp_path: Path, bundles: McpbBundles
) -> None:
    manifest = greeter_manifest(user_config={})
    manifest["server"] = {"type": "binary", "entry_point": "bin/serve",
                          "mcp_config": {"command": "bin/serve", "args": ["--stdio"]}}  # fmt: skip
    path = write_bundle(tmp_path / "bin.mcpb", manifest, {"bin/serve": "#!/bin/sh\n"})
    with zipfile.ZipFile(path) as archive:
        assert all(info.external_attr >> 16 == 0o600 for info in archive.infolist())
    bundles.install(path, {})
    program = bundles.root / "greeter" / "bin" / "serve"
    assert servers(tmp_path)["greeter"]["command"] == str(program)
    assert program.stat().st_mode & 0o100


def test_an_older_dxt_manifest_is_read_like_an_mcpb_one(
    tmp_path: Path, bundles: McpbBundles
) -> None:
    manifest = greeter_manifest()
    del manifest["manifest_version"]
    manifest["dxt_version"] = "0.1"
    preview = bundles.inspect(write_bundle(tmp_path / "old.dxt", manifest))
    assert preview.manifest.manifest_version == "0.1"


def test_a_bundle_made_for_other_platforms_is_refused(tmp_path: Path, bundles: McpbBundles) -> None:
    others = [p for p in ("darwin", "win32", "linux") if p != sys.platform]
    manifest = greeter_manifest(compatibility={"platforms": others})
    with pytest.raises(BundleRefused, match=f"it is made for {', '.join(others)}, not"):
        bundles.inspect(write_bundle(tmp_path / "elsewhere.mcpb", manifest))
