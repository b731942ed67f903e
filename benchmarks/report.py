"""The benchmarks' shared output: a readable table, then the contract's JSON line last."""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def print_table(title: str, rows: Sequence[Sequence[object]], headers: Sequence[str]) -> None:
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print(title)
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print()


def emit(name: str, metrics: Mapping[str, float], notes: str) -> None:
    """Print the contract's last line: ``{"benchmark", "metrics", "notes"}``."""
    rounded = {key: round(value, 4) for key, value in metrics.items()}
    print(json.dumps({"benchmark": name, "metrics": rounded, "notes": notes}))
