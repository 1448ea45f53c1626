"""95% Wilson score intervals for the study's rates (Table 2, Fig 5, the U+FFFD shares).

A rate of h hits in n texts is an estimate; with 10 or 100 seeds per condition its uncertainty is
of the size of the effects Table 2 compares, so every rate travels with n and this interval.
Wilson rather than the normal approximation: it stays inside [0, 1] and is sensible at 0 and n
hits, which Table 2 has often (0 % German before intervention).
"""

from __future__ import annotations

from lmanatomy.stats import wilson

__all__ = ["rate", "wilson"]


def rate(hits: int, n: int, scale: float = 100.0) -> dict[str, float]:
    """A rate with its n and Wilson interval, in percent by default: {rate, n, lower, upper}."""
    lower, upper = wilson(hits, n)
    return {
        "rate": scale * hits / n if n else float("nan"),
        "n": n,
        "lower": scale * lower,
        "upper": scale * upper,
    }
