"""Benchmark results as JSON lines: {"bench", "metric", "value", "unit", ...}."""

from __future__ import annotations

import sys
from typing import Any

import orjson


def report(bench: str, metric: str, value: float, unit: str, **extra: Any) -> None:
    line = {"bench": bench, "metric": metric, "value": round(value, 3), "unit": unit, **extra}
    sys.stdout.write(orjson.dumps(line).decode() + "\n")
    sys.stdout.flush()


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]
