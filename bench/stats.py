"""Small statistics helpers: medians over repeated runs, latency percentiles."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def median(values: Sequence[float]) -> float:
    """The median, so one noisy run on a shared 2-core box does not decide a figure."""
    return float(statistics.median(values))


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in 0..1); exact for the sample taken."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def rate(count: int, seconds: float) -> float:
    """Items per second, guarded against a zero-length interval."""
    return count / max(seconds, 1e-9)


def ratio(value: float, baseline: float) -> float:
    return value / baseline if baseline else float("nan")
