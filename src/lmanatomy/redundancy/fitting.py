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

from lmanatomy.redundancy.pairs import pair_name
from lmanatomy.redundancy.svr import BatchedLinearSVR
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
    def from_config(cls, section: dict[str, Any]) -> "SVRSettings":
        return cls(**{k: section[k] for k in ("C", "epsilon", "standardize", "tol", "max_iter") if k in section})


def top_inputs(coef: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per target (row of ``coef``) the ``k`` input dims with the largest |weight|, and the weights.

    Ties are broken by the lower dim index, so the order is deterministic.
    """
    k = min(int(k), coef.shape[1])
    order = np.argsort(-np.abs(coef), axis=1, kind="stable")[:, :k]
    return order.astype(np.int32), np.take_along_axis(coef, order, axis=1)


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
    NaN, else ""), converged, kkt_violation, duality_gap, n_iter, polished, n_support, intercept,
    top_inputs / top_weights (lists, largest |weight| first), and the settings (C, epsilon,
    standardize, tol, n_train, n_test), so every row says how it was obtained.
    """
    x_train, y_train = arrays["x_train"], arrays["y_train"]
    x_test, y_test = arrays["x_test"], arrays["y_test"]
    model = BatchedLinearSVR(
        C=settings.C, epsilon=settings.epsilon, standardize=settings.standardize, tol=settings.tol,
        max_iter=settings.max_iter, device=device, progress=progress,
    ).fit(x_train, y_train)
    r2, reasons = model.r2(x_test, y_test)
    r2_train, _ = model.r2(x_train, y_train)
    coef = model.coef_.cpu().numpy()
    inputs, weights = top_inputs(coef, k_inputs)
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
            "converged": model.converged_,
            "kkt_violation": model.kkt_violation_,
            "duality_gap": model.duality_gap_,
            "n_iter": model.n_iter_.astype(np.int32),
            "polished": model.polished_,
            "n_support": model.n_support_.astype(np.int32),
            "intercept": model.intercept_.cpu().numpy(),
            "top_inputs": list(inputs),
            "top_weights": list(weights),
        }
    )
    for key, value in asdict(settings).items():
        frame[key] = value
    frame["n_train"] = len(x_train)
    frame["n_test"] = len(x_test)
    return frame, model


def write_rows(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a pair's rows as Parquet, atomically (a temporary name, then a rename)."""
    write_parquet(frame, path)
