"""95% Wilson score intervals for the study's rates (Table 2, Fig 5, the U+FFFD shares).

A rate of h hits in n texts is an estimate; with 10 or 100 seeds per condition its uncertainty is
of the size of the effects Table 2 compares, so every rate travels with n and this interval.
Wilson rather than the normal approximation: it stays inside [0, 1] and is sensible at 0 and n
hits, which Table 2 has often (0 % German before intervention).
"""

from __future__ import annotations

import math

Z95 = 1.959963984540054  # the 0.975 quantile of the standard normal


def wilson(hits: int, n: int, z: float = Z95) -> tuple[float, float]:
    """(lower, upper) of the Wilson score interval of
    hits / n, as proportions; (nan, nan) for n = 0."""
    if hits < 0 or n < 0 or hits > n:
        raise ValueError(f"need 0 <= hits <= n, got hits={hits}, n={n}")
    if n == 0:
        return float("nan"), float("nan")
    p = hits / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(hits: int, n: int, scale: float = 100.0) -> dict[str, float]:
    """A rate with its n and Wilson interval, in percent by default: {rate, n, lower, upper}."""
    lower, upper = wilson(hits, n)
    return {"rate": scale * hits / n if n else float("nan"), "n": n, "lower": scale * lower, "upper": scale * upper}
