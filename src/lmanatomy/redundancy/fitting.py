"""Fitting one layer pair: one linear SVR per target dim, all at once; rows for the pair's Parquet.

One layer pair is one unit of work (one Snakemake job): :func:`fit_pair` fits every dimension of
layer n+1 on layer n and returns one row per target dimension.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from lmanatomy.redundancy.interval import pair_interval
from lmanatomy.redundancy.pairs import pair_name
from lmanatomy.redundancy.svr import BatchedLinearSVR, r2_scores
from lmanatomy.tables import write_parquet


@dataclass(frozen=True)
class SVRSettings:
    """The hyper-parameters of every fit (scikit-learn's SVR defaults, as the paper used)."""

    C: float = 1.0
    epsilon: float = 0.1
    standardize: bool = False
    tol: float = 1e-4
    max_iter: int = 20000

    @classmethod
    def from_config(cls, section: dict[str, Any]) -> SVRSettings:
        return cls(
            **{
                k: section[k]
                for k in ("C", "epsilon", "standardize", "tol", "max_iter")
                if k in section
            }
        )


def top_inputs(coef: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per target (row of ``coef``) the ``k`` input dims with the largest |weight|, and the weights.

    Ties are broken by the lower dim index, so the order is deterministic.
    """
    k = min(int(k), coef.shape[1])
    order = np.argsort(-np.abs(coef), axis=1, kind="stable")[:, :k]
    return order.astype(np.int32), np.take_along_axis(coef, order, axis=1)


def identity_baseline(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Test R² of the one-feature OLS y_d(n+1) ≈ s_d
    x_d(n) + c_d per target dim d, and the slopes s_d.

    The residual stream carries every dim forward (x_{n+1} = x_n + update), so a target is partly
    predictable from its own dim alone; the SVR's R² means "redundancy" only beyond this baseline
    (issue 15.5). Fitted on the training sentences, scored on the test ones like the SVR. A
    constant x_d gets slope 0 (the OLS then predicts the training mean).
    """
    slope, intercept = _identity_fit(arrays)
    r2, _ = r2_scores(arrays["y_test"], arrays["x_test"] * slope + intercept)
    return r2, slope


def _identity_fit(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Slope and intercept per dim of the identity baseline's OLS, on the training sentences."""
    x_train, y_train = arrays["x_train"], arrays["y_train"]
    if x_train.shape[1] != y_train.shape[1]:
        raise ValueError(
            "the identity baseline needs as many source dims as target dims, got "
            f"{x_train.shape[1]} and {y_train.shape[1]}"
        )
    xc = x_train - x_train.mean(0)
    yc = y_train - y_train.mean(0)
    variance = (xc * xc).sum(0)
    slope = np.divide((xc * yc).sum(0), variance, out=np.zeros_like(variance), where=variance > 0)
    return slope, y_train.mean(0) - slope * x_train.mean(0)


def ranked_contributions(
    coef: np.ndarray, x_train: np.ndarray, standardize: bool, k: int
) -> dict[str, list[np.ndarray]]:
    """Per target, the top-``k`` input dims under three rankings, with the values ranked on.

    * ``top_inputs`` / ``top_weights``: largest |a_j| (the poster's reading of the weights);
    * ``top_inputs_scaled`` / ``top_contributions``: largest |a_j|·sd(x_j), the spread each input
      adds to the prediction; raw |a_j| favours dims of small variance and ignores massive ones
      (with ``standardize`` every sd is 1 and the two rankings agree);
    * ``top_inputs_other`` / ``top_weights_other``: largest |a_j| with the target's own dim left
      out, so that the residual stream's self-connection does not fill the list.
    """
    sd = np.ones(coef.shape[1]) if standardize else x_train.std(0)
    inputs, weights = top_inputs(coef, k)
    scaled_inputs, contributions = top_inputs(coef * sd, k)
    own = np.arange(coef.shape[0])
    other = coef.copy()
    if coef.shape[0] == coef.shape[1]:
        other[own, own] = (
            np.nan
        )  # NumPy sorts NaN last, so the own dim is never among the top k < p
    other_inputs, other_weights = top_inputs(other, min(k, coef.shape[1] - 1))
    return {
        "top_inputs": list(inputs),
        "top_weights": list(weights),
        "top_inputs_scaled": list(scaled_inputs),
        "top_contributions": list(contributions),
        "top_inputs_other": list(other_inputs),
        "top_weights_other": list(other_weights),
    }


def self_rank(coef: np.ndarray) -> np.ndarray:
    """Per target d, the rank (1 = largest) of |a_d|, its
    own dim, among all |a_j|; ties count against it."""
    own = np.abs(np.diagonal(coef))
    return (np.abs(coef) >= own[:, None]).sum(1).astype(np.int32)


def fit_pair(
    arrays: dict[str, np.ndarray],
    source: int,
    settings: SVRSettings,
    k_inputs: int = 5,
    device: str | torch.device = "cpu",
    progress: Any = None,
) -> tuple[pd.DataFrame, BatchedLinearSVR]:
    """Fit one SVR per dimension of layer ``source+1`` on layer ``source``; one row per target dim.

    Columns: source_layer, target_layer, pair, dim, r2 (test), r2_train, r2_reason (why R² is
    NaN, else ""), r2_identity (the one-feature OLS on the own dim, :func:`identity_baseline`),
    r2_gain (r2 − r2_identity), identity_slope, self_rank (rank of the own dim by |weight|),
    converged, kkt_violation, duality_gap, n_iter, polished, n_support, intercept, the three
    rankings of :func:`ranked_contributions` (lists, largest first), and the settings (C, epsilon,
    standardize, tol, n_train, n_test), so every row says how it was obtained; and the pair's
    95% bootstrap interval over the test sentences of its mean R² and mean gain (the same on every
    row of the pair: ``mean_r2_ci95_low/high``, ``mean_gain_ci95_low/high``, ``ci_resamples``;
    :mod:`lmanatomy.redundancy.interval`).
    """
    x_train, y_train = arrays["x_train"], arrays["y_train"]
    x_test, y_test = arrays["x_test"], arrays["y_test"]
    model = BatchedLinearSVR(
        C=settings.C,
        epsilon=settings.epsilon,
        standardize=settings.standardize,
        tol=settings.tol,
        max_iter=settings.max_iter,
        device=device,
        progress=progress,
    ).fit(x_train, y_train)
    r2, reasons = model.r2(x_test, y_test)
    r2_train, _ = model.r2(x_train, y_train)
    slope, intercept = _identity_fit(arrays)
    identity_prediction = x_test * slope + intercept
    r2_identity, _ = r2_scores(y_test, identity_prediction)
    interval = pair_interval(y_test, model.predict(x_test).cpu().numpy(), identity_prediction)
    coef = model.coef_.cpu().numpy()
    dims = y_train.shape[1]
    frame = pd.DataFrame(
        {
            "source_layer": np.full(dims, source, dtype=np.int32),
            "target_layer": np.full(dims, source + 1, dtype=np.int32),
            "pair": pair_name(source),
            "dim": np.arange(dims, dtype=np.int32),
            "r2": r2,
            "r2_train": r2_train,
            "r2_reason": reasons.astype(str),
            "r2_identity": r2_identity,
            "r2_gain": r2 - r2_identity,
            "identity_slope": slope,
            "self_rank": self_rank(coef),
            "converged": model.converged_,
            "kkt_violation": model.kkt_violation_,
            "duality_gap": model.duality_gap_,
            "n_iter": model.n_iter_.astype(np.int32),
            "polished": model.polished_,
            "n_support": model.n_support_.astype(np.int32),
            "intercept": model.intercept_.cpu().numpy(),
            **ranked_contributions(coef, x_train, settings.standardize, k_inputs),
        }
    )
    for key, value in asdict(settings).items():
        frame[key] = value
    frame["n_train"] = len(x_train)
    frame["n_test"] = len(x_test)
    frame["mean_r2_ci95_low"], frame["mean_r2_ci95_high"] = interval.mean_r2
    frame["mean_gain_ci95_low"], frame["mean_gain_ci95_high"] = interval.mean_gain
    frame["ci_resamples"] = interval.resamples
    return frame, model


def write_rows(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a pair's rows as Parquet, atomically (a temporary name, then a rename)."""
    write_parquet(frame, path)
