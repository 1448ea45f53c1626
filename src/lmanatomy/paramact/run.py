"""Running a job's schedule: score units, update the running means, accumulate LLMDcos per layer.

Peak memory is the model, one working set of scores (the gradient buffers, reused as A), the
cache slots and the running means — never a number of full vectors that grows with the sample
count (see :mod:`lmanatomy.paramact.memory` for the numbers).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from lmanatomy.errors import DataError
from lmanatomy.paramact.density import RunningMean, gamma_for_share
from lmanatomy.paramact.dots import layer_dot
from lmanatomy.paramact.intervals import SUBSET, ParameterSample, density_intervals
from lmanatomy.paramact.plan import Compute, Dot, Job, Pair, Unit, schedule
from lmanatomy.paramact.prompts import Draws
from lmanatomy.paramact.scores import ParameterActivation, check_finite
from lmanatomy.paramact.similarity import cosine

GAMMA_COLUMNS = ["gamma", "target_share", "share", "datasets", "parameters"]
DENSITY_COLUMNS = [
    "dataset",
    "layer",
    "parameters",
    "samples",
    "threshold",
    "activated",
    "ratio",
    "ratio_ci95_low",
    "ratio_ci95_high",
    "gap",
    "gap_ci95_low",
    "gap_ci95_high",
    "interval_weights",
]
PAIR_COLUMNS = ["x", "y", "kind", "index", "x_row", "y_row", "layer", "llmdcos"]
SAMPLE_COLUMNS = ["dataset", "draw", "row_id", "tokens", "D", "token_id"]


@dataclass
class JobResult:
    density: pd.DataFrame
    pairs: pd.DataFrame
    samples: pd.DataFrame
    passes: int
    gamma: pd.DataFrame | None = None
    by_d: pd.DataFrame | None = None


@dataclass
class _Held:
    """Scores of one unit: per layer the weight tensors, and the per-layer squared norms."""

    unit: Unit
    layers: list[list[torch.Tensor]]
    norms_sq: list[float]


def _copy_into(slot: _Held | None, held: _Held) -> _Held:
    """Copy a unit's scores into a cache slot, reusing the slot's buffers when it has them."""
    if slot is None:
        return _Held(
            held.unit, [[t.clone() for t in layer] for layer in held.layers], list(held.norms_sq)
        )
    for dst_layer, src_layer in zip(slot.layers, held.layers, strict=True):
        for dst, src in zip(dst_layer, src_layer, strict=True):
            dst.copy_(src)
    return _Held(held.unit, slot.layers, list(held.norms_sq))


def run_job(
    scorer: ParameterActivation,
    draws: Mapping[str, Draws],
    density: Mapping[str, int],
    pairs: Sequence[Pair],
    *,
    cache_units: int,
    thresholds: Sequence[float],
    running_mean: str = "memory",
    scratch: str | Path | None = None,
    means_dir: str | Path | None = None,
    log: logging.Logger | None = None,
    gamma: float | None = None,
    target_share: float | None = None,
    seed: int = 0,
    interval_weights: int = SUBSET,
) -> JobResult:
    """Score every unit the schedule asks for and return the tables of one job.

    ``density``: dataset → number of samples for its activated counts. ``thresholds``: the γ
    values at which parameters are counted. ``running_mean``: ``memory`` (on the model's device)
    or ``disk`` (float32 .npy per layer under ``scratch``). ``means_dir``: also save each
    dataset's per-parameter mean there (one .npy per layer). ``gamma``: the study's γ, whose
    pooled activated share the result's ``gamma`` table reports. ``target_share``: choose γ from
    this job's means instead, so that that share of all (dataset, parameter) means exceed it
    (:func:`~lmanatomy.paramact.density.gamma_for_share`); ``thresholds`` become γ·10^k, k = −2..2.
    Each count carries a 95% bootstrap interval over the dataset's samples, and each dataset's
    shallow − deep gap too, from every sample's A on ``interval_weights`` seeded weights per layer
    (:mod:`lmanatomy.paramact.intervals`).
    """
    from tqdm import tqdm

    for name in list(density) + [n for p in pairs for n in (p.x, p.y)]:
        if name not in draws:
            raise DataError(f"no draws for dataset '{name}'")
    plan = schedule(density, pairs, cache_units)
    sizes = scorer.layer_sizes
    if log:
        log.info(
            "schedule: %d forward+backward passes, %d LLMDcos samples, cache of %d units",
            plan.passes,
            sum(isinstance(op, Dot) for op in plan.ops),
            cache_units,
        )
    means = {
        name: RunningMean(
            sizes,
            running_mean,
            Path(scratch) / name if scratch is not None else None,
            scorer.layer_devices,
        )
        for name in density
    }
    subsets = {name: ParameterSample(sizes, interval_weights, seed) for name in density}
    slots: list[_Held | None] = [None] * max(cache_units, 0)
    work: _Held | None = None
    samples: dict[Unit, dict] = {}
    pair_rows: list[dict] = []
    progress = tqdm(total=plan.passes, desc="paramact passes", mininterval=5)
    try:
        for op in plan.ops:
            if isinstance(op, Compute):
                draw = draws[op.unit.dataset].draw(op.unit.draw)
                work = scores = None  # drop the last working set before the next one is allocated
                scores = scorer.score(draw.input_ids)
                norms = scores.layer_norms_sq()
                check_finite(norms, f"dataset '{draw.dataset}', row {draw.row_id!r}")
                work = _Held(op.unit, scores.layers, norms)
                samples.setdefault(
                    op.unit,
                    {
                        "dataset": draw.dataset,
                        "draw": draw.index,
                        "row_id": draw.row_id,
                        "tokens": scores.n_tokens,
                        "D": scores.D,
                        "token_id": scores.token_id,
                    },
                )
                if op.accumulate:
                    means[op.unit.dataset].add(scores)
                    subsets[op.unit.dataset].add(scores)
                if op.slot is not None:
                    slots[op.slot] = _copy_into(slots[op.slot], work)
                progress.update(1)
            else:
                a = slots[op.a_slot]
                b = work if op.b_slot is None else slots[op.b_slot]
                assert a is not None and b is not None and a.unit == op.a and b.unit == op.b, (
                    "schedule out of order"
                )
                x_unit, y_unit = op.pair.units(op.index)
                for layer in range(len(sizes)):
                    value = cosine(
                        layer_dot(a.layers[layer], b.layers[layer]),
                        a.norms_sq[layer],
                        b.norms_sq[layer],
                        where=f"pair {op.pair.key}, sample {op.index}, layer {layer}: ",
                    )
                    pair_rows.append(
                        {
                            "x": op.pair.x,
                            "y": op.pair.y,
                            "kind": "within" if op.pair.within else "cross",
                            "index": op.index,
                            "x_row": samples[x_unit]["row_id"],
                            "y_row": samples[y_unit]["row_id"],
                            "layer": layer,
                            "llmdcos": value,
                        }
                    )
        if target_share is not None:
            gamma = gamma_for_share(list(means.values()), target_share)
            thresholds = thresholds_around(gamma)
            if log:
                log.info(
                    "gamma %g: the one at which %.4f of the means exceed it", gamma, target_share
                )
        density_rows = []
        for name, mean in means.items():
            counts = mean.activated(thresholds)
            ratio = counts / np.asarray(sizes, dtype=float)[:, None]
            ci = density_intervals(subsets[name].values(), ratio, thresholds, seed=seed)
            for layer, size in enumerate(sizes):
                for k, threshold in enumerate(thresholds):
                    density_rows.append(
                        {
                            "dataset": name,
                            "layer": layer,
                            "parameters": size,
                            "samples": mean.count,
                            "threshold": float(threshold),
                            "activated": int(counts[layer, k]),
                            "ratio": counts[layer, k] / size,
                            "ratio_ci95_low": ci["ratio_low"][layer, k],
                            "ratio_ci95_high": ci["ratio_high"][layer, k],
                            "gap": ci["gap"][k],
                            "gap_ci95_low": ci["gap_low"][k],
                            "gap_ci95_high": ci["gap_high"][k],
                            "interval_weights": len(subsets[name].positions[layer]),
                        }
                    )
            if means_dir is not None:
                mean.save_means(Path(means_dir) / name)
        by_d = None if gamma is None or not density else counts_by_d(means, samples, density, gamma)
    finally:
        progress.close()
        for mean in means.values():
            mean.close()
        if scratch is not None and Path(scratch).is_dir() and not any(Path(scratch).iterdir()):
            Path(scratch).rmdir()
    sample_frame = pd.DataFrame(
        sorted(samples.values(), key=lambda r: (list(draws).index(r["dataset"]), r["draw"])),
        columns=SAMPLE_COLUMNS,
    )
    pair_frame = pd.DataFrame(pair_rows, columns=PAIR_COLUMNS).sort_values(
        ["x", "y", "index", "layer"], kind="stable"
    )
    density_frame = pd.DataFrame(density_rows, columns=DENSITY_COLUMNS)
    gamma_frame = (
        None if gamma is None or not density else gamma_table(density_frame, gamma, target_share)
    )
    return JobResult(
        density_frame,
        pair_frame.reset_index(drop=True),
        sample_frame,
        plan.passes,
        gamma_frame,
        by_d,
    )


BY_D_COLUMNS = ["dataset", "layer", "parameters", "D_mean", "D_all", "threshold", "activated"]


def counts_by_d(
    means: Mapping[str, RunningMean],
    samples: Mapping[Unit, dict],
    density: Mapping[str, int],
    gamma: float,
) -> pd.DataFrame:
    """Activated counts with A divided by its dataset's
    mean D (rescaled by the mean D of all counted samples).

    D, the largest logit, scales every A of an input; datasets with larger D (code) look denser.
    Counting mean(A)/D̄_X > γ/D̄ is the same as counting mean(A) > γ·D̄_X/D̄, so no second running
    mean is needed. It divides by the dataset's mean D, not each sample's own D.
    """
    d_mean = {
        name: float(
            np.mean(
                [
                    row["D"]
                    for unit, row in samples.items()
                    if unit.dataset == name and unit.draw < n
                ]
            )
        )
        for name, n in density.items()
    }
    d_all = float(
        np.mean(
            [row["D"] for unit, row in samples.items() if unit.draw < density.get(unit.dataset, 0)]
        )
    )
    rows = []
    for name, mean in means.items():
        threshold = gamma * d_mean[name] / d_all
        counts = mean.activated([threshold])[:, 0]
        rows += [
            {
                "dataset": name,
                "layer": layer,
                "parameters": size,
                "D_mean": d_mean[name],
                "D_all": d_all,
                "threshold": threshold,
                "activated": int(count),
            }
            for layer, (size, count) in enumerate(zip(mean.layer_sizes, counts, strict=True))
        ]
    return pd.DataFrame(rows, columns=BY_D_COLUMNS)


def gamma_table(density: pd.DataFrame, gamma: float, target_share: float | None) -> pd.DataFrame:
    """γ, the share of all (dataset, parameter) means
    above it in this job, and the target share if any."""
    rows = density[np.isclose(density["threshold"], gamma, rtol=1e-9, atol=0.0)]
    if rows.empty:
        raise DataError(f"gamma {gamma:g} is not among the job's thresholds")
    share = rows["activated"].sum() / rows["parameters"].sum()
    return pd.DataFrame(
        [
            {
                "gamma": gamma,
                "target_share": target_share,
                "share": share,
                "datasets": " ".join(dict.fromkeys(rows["dataset"])),
                "parameters": int(rows["parameters"].sum()),
            }
        ],
        columns=GAMMA_COLUMNS,
    )


def thresholds_around(gamma: float, decades: int = 2) -> list[float]:
    """γ·10^k for k = −decades … decades: the counts at γ and how they move when γ does."""
    return [float(gamma * 10.0**k) for k in range(-decades, decades + 1)]


def score_job(
    model_path: str | Path,
    datasets: Mapping[str, tuple[str | Path, str]],
    job: Job,
    *,
    device: str,
    dtype: str,
    seed: int,
    windows: Mapping[str, int],
    thresholds: Sequence[float],
    joined: Sequence[str] = (),
    gamma: float | None = None,
    target_share: float | None = None,
    cache_units: int,
    running_mean: str,
    scratch: str | Path,
    means_dir: str | Path | None,
    trust_remote_code: bool = False,
    log: logging.Logger | None = None,
) -> JobResult:
    """Load the model and the job's prepared datasets
    (name → (Parquet path, format)), run the job."""
    from lmanatomy.models import load_model

    model, tokenizer = load_model(model_path, device, dtype, trust_remote_code=trust_remote_code)
    draws = {}
    for name in job.datasets:
        if name not in datasets:
            raise DataError(f"job '{job.name}' needs dataset '{name}', which was not given")
        path, fmt = datasets[name]
        frame = pd.read_parquet(path)
        draws[name] = Draws(
            name, frame, fmt, tokenizer, seed, windows.get(name), joined=name in joined
        )
        if log:
            log.info(
                "dataset %s: %d rows (%s format%s%s)",
                name,
                len(frame),
                fmt,
                f", {windows[name]}-token windows" if name in windows else "",
                " of the joined text" if name in joined else "",
            )
    return run_job(
        ParameterActivation(model),
        draws,
        dict(job.density),
        job.pairs,
        cache_units=cache_units,
        thresholds=thresholds,
        running_mean=running_mean,
        scratch=scratch,
        means_dir=means_dir,
        log=log,
        gamma=gamma,
        target_share=target_share,
        seed=seed,
    )
