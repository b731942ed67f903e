"""llama.cpp's own ``llama-bench``, built from the sources vendored in the installed
llama-cpp-python, for ``benchmarks.local_llm``'s ``native_decode_ratio``.

The build is cached per llama-cpp-python version (``~/.cache/hybridmcp/llama-bench/<version>/``,
or under ``$XDG_CACHE_HOME``): the first run downloads that version's sdist with pip, configures
it with cmake as llama-cpp-python's wheel build does (Release, shared libraries, CPU with
``GGML_NATIVE``, OpenMP where found, no curl) and builds the ``llama-bench`` target alone; later
runs reuse the binary. Anything that stops the build raises ``NativeBenchUnavailable`` with one
line saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

PACKAGE = "llama-cpp-python"
BINARY = Path("build") / "bin" / "llama-bench"
BUILD_LOG = "build.log"  # beside the version's folder
# The cmake options of llama-cpp-python's own build (its CMakeLists.txt and scikit-build-core's
# Release default) that matter for speed, plus what keeps the build to llama-bench alone.
CMAKE_OPTIONS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=ON",
    "-DGGML_NATIVE=ON",
    "-DLLAMA_CURL=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_BUILD_COMMON=ON",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_TOOLS=ON",
    "-DLLAMA_BUILD_SERVER=OFF",
    "-DCMAKE_BUILD_RPATH_USE_ORIGIN=ON",  # the build folder is renamed into the cache
)
STEP_TIMEOUT_S = 1800


class NativeBenchUnavailable(RuntimeError):
    """llama-bench could not be built or run; the message is one line saying why."""


@dataclass(frozen=True)
class BenchResult:
    """One llama-bench generation test, as its JSON output reports it."""

    tokens_per_s: float
    n_gen: int
    n_threads: int
    build_commit: str


def installed_version() -> str:
    """The installed llama-cpp-python's version (the sources llama-bench is built from)."""
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        raise NativeBenchUnavailable(f"{PACKAGE} is not installed") from None


def cache_dir(version: str, environ: Mapping[str, str] | None = None) -> Path:
    """Where the build for ``version`` lives: ``$XDG_CACHE_HOME`` (else ``~/.cache``)
    ``/hybridmcp/llama-bench/<version>``."""
    env = os.environ if environ is None else environ
    root = Path(env.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache")
    return root / "hybridmcp" / "llama-bench" / version


def missing_tools(search_path: str | None = None) -> list[str]:
    """The build tools not found on ``search_path`` (``$PATH`` when None)."""
    needed = ("cmake", "c++") if shutil.which("c++", path=search_path) else ("cmake", "g++")
    return [tool for tool in needed if shutil.which(tool, path=search_path) is None]


def parse_bench_json(text: str) -> BenchResult:
    """The generation test (``n_prompt`` 0, ``n_gen`` > 0) in llama-bench's ``-o json`` output."""
    try:
        tests = json.loads(text)
    except json.JSONDecodeError as error:
        raise NativeBenchUnavailable(f"llama-bench printed no JSON: {error}") from None
    if not isinstance(tests, list):
        raise NativeBenchUnavailable("llama-bench's JSON is not a list of tests")
    for test in tests:
        if isinstance(test, dict) and test.get("n_prompt") == 0 and test.get("n_gen", 0) > 0:
            return BenchResult(
                tokens_per_s=float(test["avg_ts"]),
                n_gen=int(test["n_gen"]),
                n_threads=int(test["n_threads"]),
                build_commit=str(test.get("build_commit", "?")),
            )
    raise NativeBenchUnavailable("llama-bench's JSON has no generation-only test")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return (errors or lines or ["no output"])[-1][:300]


def _bench_env(binary: Path) -> dict[str, str]:
    """The environment llama-bench runs in: its libraries beside it are found first."""
    found = os.environ.get("LD_LIBRARY_PATH", "")
    return {
        **os.environ,
        "LD_LIBRARY_PATH": os.pathsep.join(filter(None, (str(binary.parent), found))),
    }


def _runs(binary: Path) -> bool:
    """Whether ``binary`` starts (``--help``), its libraries found."""
    try:
        done = subprocess.run(
            [str(binary), "--help"], capture_output=True, env=_bench_env(binary), timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _step(command: Sequence[str], what: str, log: Path) -> None:
    """Run one build step, appending its output to ``log``; one line on failure."""
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise NativeBenchUnavailable(f"{what} failed: {error}") from None
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(command)}\n{done.stdout}{done.stderr}\n")
    if done.returncode != 0:
        raise NativeBenchUnavailable(
            f"{what} failed ({_last_line(done.stderr or done.stdout)}; see {log})"
        )


def _vendored_sources(version: str, work: Path, log: Path) -> Path:
    """Download ``version``'s sdist with pip (or from its cache) and unpack vendor/llama.cpp."""
    download = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
    download += ["--no-binary", ":all:", f"{PACKAGE}=={version}", "-d", str(work)]
    _step(download, f"pip download of the {PACKAGE} {version} sdist", log)
    archives = sorted(work.glob("*.tar.gz"))
    if not archives:
        raise NativeBenchUnavailable(f"pip saved no sdist of {PACKAGE} {version}")
    with tarfile.open(archives[0]) as archive:
        members = [m for m in archive.getmembers() if "/vendor/llama.cpp/" in f"{m.name}/"]
        archive.extractall(work / "src", members=members, filter="data")
    found = sorted((work / "src").glob("*/vendor/llama.cpp/CMakeLists.txt"))
    if not found:
        raise NativeBenchUnavailable(f"the {PACKAGE} {version} sdist holds no vendor/llama.cpp")
    return found[0].parent


def build_llama_bench(version: str, target: Path) -> Path:
    """Build llama-bench for ``version`` into ``target`` and return the binary. The build runs
    in a folder beside it, renamed into place once it works; a failed build leaves only its
    log (``<target>.build.log``)."""
    missing = missing_tools()
    if missing:
        raise NativeBenchUnavailable(f"cannot build llama-bench: {', '.join(missing)} not found")
    target.parent.mkdir(parents=True, exist_ok=True)
    log = target.with_name(f"{target.name}.{BUILD_LOG}")
    log.unlink(missing_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{target.name}.building-", dir=target.parent))
    try:
        sources = _vendored_sources(version, work, log)
        generator = ["-G", "Ninja"] if shutil.which("ninja") else []
        build = work / "build"
        _step(["cmake", "-S", str(sources), "-B", str(build), *generator, *CMAKE_OPTIONS],
              "cmake configure of llama.cpp", log)  # fmt: skip
        jobs = str(os.cpu_count() or 1)
        _step(["cmake", "--build", str(build), "--target", "llama-bench", "-j", jobs],
              "cmake build of llama-bench", log)  # fmt: skip
        if not _runs(work / BINARY):
            raise NativeBenchUnavailable(f"the build made no {BINARY} that runs (see {log})")
        shutil.rmtree(work / "src")  # the binary needs only build/bin (its libraries are there)
        for archive in work.glob("*.tar.gz"):
            archive.unlink()
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # gone already when the build worked
    return target / BINARY


def llama_bench_binary(environ: Mapping[str, str] | None = None) -> Path:
    """The cached llama-bench for the installed llama-cpp-python, built on first use."""
    version = installed_version()
    target = cache_dir(version, environ)
    binary = target / BINARY
    if binary.is_file() and _runs(binary):
        return binary
    print(f"building llama-bench from {PACKAGE} {version}'s llama.cpp into {target} (once)")
    return build_llama_bench(version, target)


def bench_command(
    binary: Path, model: Path, *, threads: int, n_gen: int, repetitions: int, flash_attn: bool
) -> list[str]:
    """llama-bench decoding ``n_gen`` tokens only (no prompt), JSON out."""
    return [
        str(binary), "-m", str(model), "-p", "0", "-n", str(n_gen), "-t", str(threads),
        "-r", str(repetitions), "-fa", "1" if flash_attn else "0", "-o", "json",
    ]  # fmt: skip


def run_llama_bench(
    binary: Path, model: Path, *, threads: int, n_gen: int, repetitions: int, flash_attn: bool
) -> BenchResult:
    """Run llama-bench once; its decode tokens/s (mean of its ``repetitions``)."""
    command = bench_command(
        binary, model, threads=threads, n_gen=n_gen, repetitions=repetitions, flash_attn=flash_attn
    )
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=_bench_env(binary),
            timeout=STEP_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise NativeBenchUnavailable(f"llama-bench did not run: {error}") from None
    if done.returncode != 0:
        raise NativeBenchUnavailable(f"llama-bench failed: {_last_line(done.stderr)}")
    return parse_bench_json(done.stdout)
