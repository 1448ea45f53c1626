"""Intervals for finding 1: the activated share per layer, and its shallow − deep gap, bootstrapped
over a dataset's samples.

The share of a layer's weights whose *mean* A over the n samples exceeds γ is one number per
(dataset, layer); how much it would move with other samples of the dataset is what a bootstrap
over samples measures. Exactly, that needs every sample's A for every weight — 13 GB per sample
for Llama-2-7B, which the streaming design never keeps. So each job also keeps each sample's A on
a seeded subset of m weights per layer (:class:`ParameterSample`, m = 4096 by default: 16 KB per
sample and layer) and resamples the *samples* on that subset:

* per resample b, s_b is the share of the subset's weights whose resampled mean exceeds γ; its
  spread over the resamples (the standard error) estimates how far the full layer's share moves
  with other samples of the dataset (the subset is a uniform draw of the layer's weights; the
  subset's own granularity adds a little spread, so the width errs wide);
* the interval is the exact full-layer share ± 1.96 standard errors; the gap's (shallow mean share
  − deep mean share) likewise, from the same resamples.

A *percentile* interval would not do: a share of thresholded means is shifted under resampling
(resampled means are noisier, so they cross γ more often than the all-sample means do; on the
skewed A of a layer where most weights are above γ the resampled shares all sit below the
estimate), and a percentile interval then misses its own estimate. The normal interval is centred on
the exact count; the point estimates stay the exact counts, only the width comes from the subset.
The unit resampled is the sample (the paper's 64 inputs per dataset), with the weights held fixed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from lmanatomy.errors import DataError
from lmanatomy.paramact.scores import Scores
from lmanatomy.stats import normal_interval, resample_indices

#: Weights per layer whose per-sample A a job keeps for the intervals.
SUBSET = 4096


class ParameterSample:
    """Each added sample's A on a fixed, seeded subset of ``size`` weights per layer.

    Positions are indices into the layer's weights flattened in the scores' order (the order
    :class:`~lmanatomy.paramact.density.RunningMean` sums them in); layers smaller than ``size``
    keep every weight.
    """

    def __init__(self, layer_sizes: Sequence[int], size: int = SUBSET, seed: int = 0):
        if size < 1:
            raise DataError(f"a parameter subset needs at least 1 weight per layer, got {size}")
        self.positions = [
            np.sort(
                np.random.default_rng([seed, layer]).choice(n, size=min(size, n), replace=False)
            )
            for layer, n in enumerate(int(n) for n in layer_sizes)
        ]
        self._rows: list[np.ndarray] = []
        self._gather: list[list[tuple[int, torch.Tensor]]] | None = None

    def _plan(self, scores: Scores) -> list[list[tuple[int, torch.Tensor]]]:
        """Per layer: (tensor index, positions inside that tensor) for the subset, built once."""
        plan = []
        for layer, tensors in enumerate(scores.layers):
            parts, offset = [], 0
            for k, tensor in enumerate(tensors):
                end = offset + tensor.numel()
                inside = (
                    self.positions[layer][
                        (self.positions[layer] >= offset) & (self.positions[layer] < end)
                    ]
                    - offset
                )
                if len(inside):
                    parts.append(
                        (k, torch.as_tensor(inside, dtype=torch.long, device=tensor.device))
                    )
                offset = end
            plan.append(parts)
        return plan

    def add(self, scores: Scores) -> None:
        """Keep one sample's A on the subset (a float32 row of all layers' subsets)."""
        if len(scores.layers) != len(self.positions):
            raise DataError(
                f"scores have {len(scores.layers)} layers, the parameter subset "
                f"{len(self.positions)}"
            )
        if self._gather is None:
            self._gather = self._plan(scores)
        row = [
            scores.layers[layer][k].detach().reshape(-1)[index].float().cpu().numpy()
            for layer, parts in enumerate(self._gather)
            for k, index in parts
        ]
        self._rows.append(np.concatenate(row))

    def values(self) -> list[np.ndarray]:
        """Per layer, the kept A as an array (samples, subset size)."""
        if not self._rows:
            raise DataError("the parameter subset has no samples")
        table = np.stack(self._rows)
        bounds = np.cumsum([0] + [len(p) for p in self.positions])
        return [table[:, a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=False)]


def density_intervals(
    subset: Sequence[np.ndarray],
    ratio: np.ndarray,
    thresholds: Sequence[float],
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, np.ndarray]:
    """95% intervals (exact estimate ± z · bootstrap SE over samples) for each layer's activated
    share and the shallow − deep gap.

    ``subset``: per layer, the samples' A on that layer's subset, (n, m_l); ``ratio``: the exact
    activated share, (layers, thresholds). Returns ``ratio_low``/``ratio_high`` (layers,
    thresholds) and ``gap``/``gap_low``/``gap_high`` (thresholds,); the gap is the mean share of
    layers 0..L/2−1 minus that of layers L/2..L−1. Fewer than 2 samples: NaN intervals.
    """
    layers = len(subset)
    ratio = np.asarray(ratio, dtype=float).reshape(layers, len(thresholds))
    half = layers // 2
    gap = ratio[:half].mean(axis=0) - ratio[half:].mean(axis=0)
    n = subset[0].shape[0]
    if n < 2:
        nan = np.full_like(ratio, np.nan)
        return {
            "ratio_low": nan,
            "ratio_high": nan.copy(),
            "gap": gap,
            "gap_low": np.full_like(gap, np.nan),
            "gap_high": np.full_like(gap, np.nan),
        }
    draws = resample_indices(n, resamples, seed)
    weights = (
        np.stack([np.bincount(row, minlength=n) for row in draws]).astype(np.float64) / n
    )  # (resamples, n)
    gammas = np.asarray(thresholds, dtype=np.float64)
    shares = np.empty((resamples, layers, len(gammas)))
    for layer, values in enumerate(subset):
        means = weights @ np.asarray(
            values, dtype=np.float64
        )  # (resamples, m): each resample's mean A per weight
        for k, gamma in enumerate(gammas):
            shares[:, layer, k] = np.count_nonzero(means > gamma, axis=1) / means.shape[1]
    low, high = normal_interval(ratio, shares, level)
    gap_low, gap_high = normal_interval(
        gap, shares[:, :half].mean(axis=1) - shares[:, half:].mean(axis=1), level
    )
    return {
        "ratio_low": np.clip(low, 0.0, 1.0),
        "ratio_high": np.clip(high, 0.0, 1.0),
        "gap": gap,
        "gap_low": gap_low,
        "gap_high": gap_high,
    }
