"""Scanning folders where desktop LLM apps keep GGUF files (real files, tiny but valid)."""

import json
from pathlib import Path

from hybridmcp_app.llm.model_scanner import known_model_folders, ollama_models, scan_for_models
from tests.helpers.gguf_files import write_tiny_gguf


def _ollama_store(root: Path, namespace: str, model: str, tag: str, blob_source: Path) -> Path:
    digest = "sha256:" + "ab" * 32
    blob = root / "blobs" / digest.replace(":", "-")
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(blob_source.read_bytes())
    manifest = root / "manifests" / "registry.ollama.ai" / namespace / model / tag
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(
        json.dumps(
            {
                "layers": [
                    {"mediaType": "application/vnd.ollama.image.license", "digest": "sha256:00"},
                    {"mediaType": "application/vnd.ollama.image.model", "digest": digest},
                ]
            }
        )
    )
    return blob


def test_gguf_files_in_known_folders_are_found_with_their_source(tmp_path: Path) -> None:
    home, app_models = tmp_path / "home", tmp_path / "app-models"
    studio = home / ".lmstudio" / "models" / "lmstudio-community" / "Qwen-GGUF"
    studio.mkdir(parents=True)
    write_tiny_gguf(studio / "qwen2.5-0.5b-instruct-q4_k_m.gguf", architecture="qwen2")
    (studio / "README.md").write_text("not a model")
    (studio / "fake.gguf").write_text("not really GGUF")
    app_models.mkdir()
    write_tiny_gguf(app_models / "mine.gguf")
    found = scan_for_models(known_model_folders(home, app_models), None)
    assert [(m.source, m.name) for m in found] == [
        ("HybridMCP", "mine"),
        ("LM Studio", "qwen2.5-0.5b-instruct-q4_k_m"),
    ]
    assert all(m.size_bytes > 0 for m in found)


def test_the_same_file_linked_twice_is_listed_once(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    real = write_tiny_gguf(folder / "real.gguf")
    (folder / "alias.gguf").symlink_to(real)
    found = scan_for_models([("HybridMCP", folder)], None)
    assert len(found) == 1


def test_ollama_blobs_are_named_from_their_manifests(tmp_path: Path) -> None:
    source = write_tiny_gguf(tmp_path / "src.gguf")
    root = tmp_path / ".ollama" / "models"
    blob = _ollama_store(root, "library", "gemma3", "270m", source)
    _ollama_store(root, "someuser", "tinyllama", "latest", source)
    names = sorted(m.name for m in ollama_models(root))
    assert names == ["gemma3:270m", "someuser/tinyllama:latest"]
    found = scan_for_models([], root)
    assert found[0].path == blob
    assert found[0].source == "Ollama"


def test_a_broken_ollama_manifest_is_skipped(tmp_path: Path) -> None:
    root = tmp_path / "models"
    manifest = root / "manifests" / "registry.ollama.ai" / "library" / "x" / "latest"
    manifest.parent.mkdir(parents=True)
    manifest.write_text("{ not json")
    assert list(ollama_models(root)) == []


def test_missing_folders_are_simply_empty(tmp_path: Path) -> None:
    assert scan_for_models([("LM Studio", tmp_path / "nope")], tmp_path / "no-ollama") == []
