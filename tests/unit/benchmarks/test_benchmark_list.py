"""`make bench` runs every benchmark module: the list names each one that ends with a JSON line."""

from pathlib import Path

import benchmarks

# Modules that are parts or helpers of another benchmark, not benchmarks of their own.
PARTS = {"report", "library_corpus", "boost_retention", "game_sample", "game_provider_server",
         "user_models", "loop_gaps", "native_llama_bench", "tool_check_pass"}  # fmt: skip


def test_make_bench_lists_every_benchmark_module() -> None:
    folder = Path(benchmarks.__file__).parent
    modules = {path.stem for path in folder.glob("*.py") if not path.stem.startswith("_")}
    assert set(benchmarks.NAMES) == modules - PARTS
