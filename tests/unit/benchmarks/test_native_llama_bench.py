"""llama-bench for `native_decode_ratio`: its JSON read, its build cached per llama-cpp-python
version, and a build that cannot happen said in one line."""

import json
from pathlib import Path

import pytest

from benchmarks.native_llama_bench import (
    BINARY,
    NativeBenchUnavailable,
    bench_command,
    build_llama_bench,
    cache_dir,
    installed_version,
    llama_bench_binary,
    missing_tools,
    parse_bench_json,
)

# From `llama-bench -p 0 -n 128 -t 1 -r 1 -fa 0 -o json` (llama-cpp-python 0.3.36's llama.cpp,
# Gemma 3 270M), trimmed to the fields read and a few beside them.
GEN_TEST = {
    "build_commit": "0c1e570",
    "build_number": 1,
    "cpu_info": "AMD EPYC",
    "model_type": "gemma3 270M Q4_K - Medium",
    "n_batch": 2048,
    "n_threads": 1,
    "type_k": "f16",
    "flash_attn": 0,
    "n_prompt": 0,
    "n_gen": 128,
    "n_depth": 0,
    "avg_ns": 3197245432,
    "stddev_ns": 0,
    "avg_ts": 40.034462,
    "stddev_ts": 0.0,
    "samples_ns": [3197245432],
    "samples_ts": [40.0345],
}


def test_the_generation_test_is_read_from_llama_benchs_json() -> None:
    prompt_test = {**GEN_TEST, "n_prompt": 512, "n_gen": 0, "avg_ts": 900.0}
    result = parse_bench_json(json.dumps([prompt_test, GEN_TEST], indent=2))
    assert (result.tokens_per_s, result.n_gen, result.n_threads) == (40.034462, 128, 1)
    assert result.build_commit == "0c1e570"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("llama-bench: error: unknown argument", "llama-bench printed no JSON"),
        ('{"avg_ts": 50.0}', "not a list of tests"),
        (json.dumps([{**GEN_TEST, "n_prompt": 512}]), "no generation-only test"),
    ],
)
def test_output_without_a_generation_test_is_one_line_error(text: str, message: str) -> None:
    with pytest.raises(NativeBenchUnavailable, match=message) as raised:
        parse_bench_json(text)
    assert "\n" not in str(raised.value)


def test_the_build_is_cached_per_version_under_the_users_cache(tmp_path: Path) -> None:
    assert cache_dir("0.3.36", {"XDG_CACHE_HOME": str(tmp_path)}) == (
        tmp_path / "hybridmcp" / "llama-bench" / "0.3.36"
    )
    assert cache_dir("0.3.37", {}) == Path.home() / ".cache/hybridmcp/llama-bench/0.3.37"


def _cached_binary(cache: Path, exit_status: int) -> Path:
    binary = cache_dir(installed_version(), {"XDG_CACHE_HOME": str(cache)}) / BINARY
    binary.parent.mkdir(parents=True)
    binary.write_text(f"#!/bin/sh\nexit {exit_status}\n")
    binary.chmod(0o755)
    return binary


def test_a_cached_binary_that_runs_is_reused_without_building(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    binary = _cached_binary(tmp_path, exit_status=0)
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))  # a build would fail at once
    assert llama_bench_binary({"XDG_CACHE_HOME": str(tmp_path)}) == binary


def test_a_cached_binary_that_does_not_start_is_built_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _cached_binary(tmp_path, exit_status=127)  # as when its libraries are missing
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    with pytest.raises(NativeBenchUnavailable, match="cannot build llama-bench: cmake"):
        llama_bench_binary({"XDG_CACHE_HOME": str(tmp_path)})


def test_without_cmake_the_build_stops_with_one_line_and_leaves_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    assert missing_tools(str(empty_path)) == ["cmake", "g++"]
    monkeypatch.setenv("PATH", str(empty_path))
    target = tmp_path / "cache" / "0.3.36"
    with pytest.raises(NativeBenchUnavailable, match=r"^cannot build llama-bench: cmake, g\+\+"):
        build_llama_bench("0.3.36", target)
    assert not target.exists()


def test_llama_bench_decodes_only_with_the_apps_threads_and_flash_attention() -> None:
    command = bench_command(
        Path("/cache/llama-bench"), Path("/models/m.gguf"), threads=3, n_gen=128,
        repetitions=1, flash_attn=False,
    )  # fmt: skip
    options = dict(zip(command[1::2], command[2::2], strict=True))
    assert command[0] == "/cache/llama-bench"
    assert options == {
        "-m": "/models/m.gguf", "-p": "0", "-n": "128", "-t": "3", "-r": "1", "-fa": "0",
        "-o": "json",
    }  # fmt: skip


def test_a_failed_build_says_why_in_one_line_and_leaves_only_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("cmake", "c++"):  # found, never reached: pip fails first
        (tools / name).write_text("#!/bin/sh\nexit 1\n")
        (tools / name).chmod(0o755)
    monkeypatch.setenv("PATH", str(tools))
    target = tmp_path / "cache" / "no such version"
    with pytest.raises(NativeBenchUnavailable) as raised:
        build_llama_bench("no such version", target)
    message = str(raised.value)
    assert message.startswith("pip download of the llama-cpp-python no such version sdist failed")
    assert "\n" not in message
    log = target.with_name("no such version.build.log")
    assert str(log) in message
    assert sorted(path.name for path in target.parent.iterdir()) == [log.name]
