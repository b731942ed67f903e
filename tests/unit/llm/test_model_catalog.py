"""The curated model catalogue: the shipped file, its validation, and the RAM marking."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hybridmcp_app.core.errors import ConfigError
from hybridmcp_app.llm.model_hub.catalog import (
    RamFit,
    load_catalog,
    marked_catalog,
    ram_fit,
)
from hybridmcp_app.llm.model_hub.hub_client import HubFile, preferred_files, quantization_of

GB = 1024**3


def _entry(**changes: Any) -> dict[str, Any]:
    entry = {
        "name": "Tiny", "family": "Tiny", "repo_id": "someone/Tiny-GGUF", "parameters_b": 0.5,
        "quantizations": ["Q4_K_M"], "license": "MIT", "context": 4096, "ram_gb": 1.0,
        "chat": True, "tools": False, "vision": False,
    }  # fmt: skip
    entry.update(changes)
    return entry


def _write(tmp_path: Path, models: list[dict[str, Any]]) -> Path:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"written": "2026-12-07", "models": models}), encoding="utf-8")
    return path


def test_the_shipped_catalogue_loads_with_the_small_instruct_families_and_an_embedding_model() -> (
    None
):
    catalog = load_catalog()
    families = {entry.family for entry in catalog.models}
    assert {"Qwen3", "Gemma 3", "Llama 3.2", "Phi-4", "SmolLM3"} <= families
    assert any(entry.embedding and not entry.chat for entry in catalog.models)
    assert all(entry.quantizations for entry in catalog.models)
    assert catalog.written.year >= 2026


def test_the_catalogue_names_repositories_never_files() -> None:
    text = (Path(__file__).parents[3] / "resources" / "models" / "catalog.json").read_text()
    assert ".gguf" not in text.lower()


def test_a_bad_entry_is_refused_in_one_line_naming_the_entry_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, [_entry(), _entry(repo_id="no slash here", quantizations=[])])
    with pytest.raises(ConfigError) as caught:
        load_catalog(path)
    message = str(caught.value)
    assert "\n" not in message
    assert "models.1.repo_id" in message and "models.1.quantizations" in message
    assert "models.0" not in message


def test_an_unknown_field_is_refused_so_typos_do_not_pass_silently(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"models\.0\.ram_gigs"):
        load_catalog(_write(tmp_path, [_entry(ram_gigs=2)]))


def test_a_repository_listed_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="twice"):
        load_catalog(_write(tmp_path, [_entry(), _entry(name="Again")]))


def test_a_catalogue_that_is_not_json_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text('{"models": [', encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON") as caught:
        load_catalog(path)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("needed_gb", "fit"),
    [(1.0, RamFit.FITS), (9.6, RamFit.FITS), (12.0, RamFit.TIGHT), (15.0, RamFit.TOO_BIG)],
)
def test_a_model_is_marked_by_the_share_of_ram_it_needs(needed_gb: float, fit: RamFit) -> None:
    assert ram_fit(needed_gb, 16 * GB) is fit


def test_the_catalogue_is_marked_against_the_given_ram(tmp_path: Path) -> None:
    path = _write(tmp_path, [_entry(), _entry(repo_id="someone/Big-GGUF", ram_gb=40.0)])
    marked = marked_catalog(load_catalog(path), total_bytes=8 * GB)
    assert [m.fit for m in marked] == [RamFit.FITS, RamFit.TOO_BIG]


def test_without_a_given_ram_the_catalogue_is_marked_against_this_computer() -> None:
    marked = marked_catalog(load_catalog())
    tiny = next(m for m in marked if m.entry.ram_gb <= 1.0)
    assert tiny.fit is RamFit.FITS  # every machine that runs the tests has 2 GB


@pytest.mark.parametrize(
    ("filename", "quantization"),
    [
        ("Qwen3-0.6B-Q4_K_M.gguf", "Q4_K_M"),
        ("gemma-3-1b-it-q8_0.gguf", "Q8_0"),
        ("sub/Llama-3.2-1B-Instruct-IQ4_XS.gguf", "IQ4_XS"),
        ("model-f16.gguf", "F16"),
        ("model.gguf", ""),
    ],
)
def test_the_quantisation_is_read_from_the_file_name(filename: str, quantization: str) -> None:
    assert quantization_of(filename) == quantization


def _file(name: str, **changes: Any) -> HubFile:
    values: dict[str, Any] = {"repo_id": "a/b", "filename": name, "commit": "c", "size": 1,
                              "sha256": "0" * 64,
                              "quantization": quantization_of(name)}  # fmt: skip
    values.update(changes)
    return HubFile(**values)


def test_preferred_files_follow_the_catalogue_order_and_skip_projectors_and_split_parts() -> None:
    files = [
        _file("m-Q8_0.gguf"), _file("m-Q4_K_M.gguf"), _file("m-Q2_K.gguf"),
        _file("mmproj-m-Q8_0.gguf", projector=True),
        _file("m-Q4_K_M-00001-of-00002.gguf", split=True),
    ]  # fmt: skip
    chosen = preferred_files(files, ["Q4_K_M", "Q8_0"])
    assert [f.filename for f in chosen] == ["m-Q4_K_M.gguf", "m-Q8_0.gguf"]
    fallback = preferred_files(files, ["Q6_K"])
    assert [f.filename for f in fallback] == ["m-Q8_0.gguf", "m-Q4_K_M.gguf", "m-Q2_K.gguf"]
