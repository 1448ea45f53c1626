"""Layer profiles: each study's finding as one number per decoder layer of one model.

Every profile is a long frame with the columns ``profile, layer, value, ci_low, ci_high, n`` and
``layer`` the 0-based index of the decoder layer (the index of ``model.layers``), so profiles of
different studies line up:

* lesion: a pruned range [a, b] (0-based, inclusive) is charged to each of its layers; a layer
  in two ranges gets the mean of their drops;
* redundancy: the pair of hidden states n → n+1 (hidden-state index n, 0 = embeddings) measures
  what decoder layer n does (it maps hidden state n to n+1), so it is layer n;
* language, paramact, knowledge: their own 0-based decoder-layer indices.

Intervals are what each study's outputs support and are named in ``interval``: a bootstrap over
samples (lesion, from the evaluation's per-cell interval), over target dims (redundancy), over
paired samples (paramact LLMDcos), over each dataset's samples combined over datasets (paramact's
activated share, when its tables carry the interval); counts of a deterministic selection
(language, knowledge) have none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lmanatomy.stats import bootstrap_mean, mover_mean

COLUMNS = ["profile", "layer", "value", "ci_low", "ci_high", "n", "interval"]
#: The profiles compared across studies, with the label figures and text use.
HEADLINES: dict[str, str] = {
    "lesion_drop": "lesion: score drop when pruned",
    "redundancy_r2": "redundancy: R² of n → n+1",
    "redundancy_gain": "redundancy: R² gain over identity",
    "language_top": "language: top neurons",
    "language_bottom": "language: bottom neurons",
    "knowledge_share": "knowledge: knowledge-neuron share",
    "paramact_activated": "paramact: activated share",
    "paramact_cross_llmdcos": "paramact: cross-domain LLMDcos",
}


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


def lesion_profile(
    table1: pd.DataFrame, plans: Mapping[str, object], tasks: Sequence[str] | None = None
) -> pd.DataFrame:
    """Score drop (original − lesioned) per layer, one profile per (task, share) and the headline.

    ``table1`` is Table 1's CSV (a row per task, a column per lesion with ``: ci95_low/high/n``
    details); ``plans`` are the lesion plans (``lmanatomy.lesion.planning.read_plans``). The drop's
    interval is the lesioned cell's bootstrap interval reflected around the original score (the
    original is one fixed model's score on the same samples). The headline ``lesion_drop`` is the
    mean drop over ``tasks`` (all by default) at the largest share; its interval is left out
    (the cells' intervals are not independent across tasks' layers).
    """
    from lmanatomy.lesion.report import column_label

    rows: list[dict] = []
    chosen = table1 if tasks is None else table1[table1["task"].isin(tasks)]
    largest = max(plan.share for plan in plans.values())
    headline: dict[int, list[float]] = {}
    for task_row in chosen.to_dict("records"):
        original = float(task_row["original"])
        per_layer: dict[tuple[float, int], list[tuple[float, float, float, int]]] = {}
        for plan in plans.values():
            label = column_label(plan)
            score = float(task_row[label])
            drop = original - score
            low = original - float(task_row[f"{label}: ci95_high"])
            high = original - float(task_row[f"{label}: ci95_low"])
            for layer in range(plan.layers[0], plan.layers[1] + 1):
                per_layer.setdefault((plan.share, layer), []).append(
                    (drop, low, high, int(task_row[f"{label}: n"]))
                )
                if plan.share == largest:
                    headline.setdefault(layer, []).append(drop)
        for (share, layer), cells in sorted(per_layer.items()):
            drops, lows, highs, ns = zip(*cells, strict=True)
            rows.append(
                {
                    "profile": f"lesion_drop:{task_row['task']}@{share:g}",
                    "layer": layer,
                    "value": float(np.mean(drops)),
                    "ci_low": float(np.mean(lows)),
                    "ci_high": float(np.mean(highs)),
                    "n": min(ns),
                    "interval": "95% bootstrap over samples (lesioned cell)",
                }
            )
    for layer, drops in sorted(headline.items()):
        rows.append(
            {
                "profile": "lesion_drop",
                "layer": layer,
                "value": float(np.mean(drops)),
                "ci_low": np.nan,
                "ci_high": np.nan,
                "n": len(drops),
                "interval": f"none (mean of {len(chosen)} tasks at {largest:g})",
            }
        )
    return _frame(rows)


def redundancy_profile(
    pairs: Mapping[int, pd.DataFrame], resamples: int, seed: int
) -> pd.DataFrame:
    """Mean test R² of n → n+1 and its gain over the identity baseline, per layer n.

    ``pairs`` maps the hidden-state source index n to that pair's per-dim rows (columns ``r2``,
    ``r2_gain``); the interval is a bootstrap over target dims.
    """
    rows: list[dict] = []
    for source, frame in sorted(pairs.items()):
        for profile, column in (("redundancy_r2", "r2"), ("redundancy_gain", "r2_gain")):
            mean, low, high = bootstrap_mean(frame[column].to_numpy(), resamples, seed + source)
            rows.append(
                {
                    "profile": profile,
                    "layer": int(source),
                    "value": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "n": int(frame[column].notna().sum()),
                    "interval": "95% bootstrap over target dims",
                }
            )
    return _frame(rows)


def language_profile(fig2: pd.DataFrame) -> pd.DataFrame:
    """Language-specific neurons per layer: top and bottom counts, per language and pooled.

    ``fig2`` is Fig 2's CSV (language, group, layer, count). The selection is a deterministic
    ranking of the run's texts, so the counts carry no sampling interval here.
    """
    rows: list[dict] = []
    for group in ("top", "bottom"):
        part = fig2[fig2["group"] == group]
        for (language, layer), count in part.groupby(["language", "layer"])["count"].sum().items():
            rows.append(
                {
                    "profile": f"language_{group}:{language}",
                    "layer": int(layer),
                    "value": float(count),
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "n": int(count),
                    "interval": "none (a count)",
                }
            )
        for layer, count in part.groupby("layer")["count"].sum().items():
            rows.append(
                {
                    "profile": f"language_{group}",
                    "layer": int(layer),
                    "value": float(count),
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "n": int(count),
                    "interval": "none (a count)",
                }
            )
    return _frame(rows)


def knowledge_profile(layers: pd.DataFrame) -> pd.DataFrame:
    """Knowledge-neuron share per layer at the series' final checkpoint (the study's layers.csv)."""
    rows = [
        {
            "profile": "knowledge_share",
            "layer": int(r["layer"]),
            "value": float(r["share"]),
            "ci_low": np.nan,
            "ci_high": np.nan,
            "n": int(r["neurons"]),
            "interval": "none (a count)",
        }
        for r in layers.to_dict("records")
    ]
    return _frame(rows)


def paramact_profile(
    density: pd.DataFrame, llmdcos: pd.DataFrame, resamples: int, seed: int
) -> pd.DataFrame:
    """Activated share per layer (mean over datasets) and cross-domain LLMDcos per layer.

    ``density``: the density CSV (dataset, layer, activated, parameters or ratio); ``llmdcos``:
    the per-sample LLMDcos rows (x, y, layer, llmdcos); cross-domain = pairs of different
    datasets; its interval is a bootstrap over paired samples.
    """
    rows: list[dict] = []
    ratio = (
        density["activated"] / density["parameters"]
        if "parameters" in density
        else density["ratio"]
    )
    with_ci = {"ratio_ci95_low", "ratio_ci95_high"} <= set(density.columns)
    shares = density.assign(share=ratio).groupby("layer")["share"].mean()
    for layer, part in density.assign(share=ratio).groupby("layer"):
        share, low, high = float(shares[layer]), np.nan, np.nan
        if with_ci and part[["ratio_ci95_low", "ratio_ci95_high"]].notna().all().all():
            _, (low, high) = mover_mean(
                part["share"],
                list(zip(part["ratio_ci95_low"], part["ratio_ci95_high"], strict=False)),
            )
        rows.append(
            {
                "profile": "paramact_activated",
                "layer": int(layer),
                "value": share,
                "ci_low": low,
                "ci_high": high,
                "n": len(part),
                "interval": (
                    "95% over each dataset's samples, mean over the n datasets by MOVER"
                    if low == low
                    else "none (a count over the datasets)"
                ),
            }
        )
    cross = llmdcos[llmdcos["x"] != llmdcos["y"]]
    for layer, part in cross.groupby("layer"):
        mean, low, high = bootstrap_mean(part["llmdcos"].to_numpy(), resamples, seed + int(layer))
        rows.append(
            {
                "profile": "paramact_cross_llmdcos",
                "layer": int(layer),
                "value": mean,
                "ci_low": low,
                "ci_high": high,
                "n": len(part),
                "interval": "95% bootstrap over paired samples",
            }
        )
    return _frame(rows)


def read_pair_rows(paths: Sequence[str | Path]) -> dict[int, pd.DataFrame]:
    """The redundancy study's per-pair Parquet files (``layerNN.parquet``) by source index NN."""
    return {
        int(Path(p).stem.removeprefix("layer")): pd.read_parquet(p, columns=["r2", "r2_gain"])
        for p in paths
    }


def wide(
    profiles: pd.DataFrame, layers: int, names: Sequence[str] = tuple(HEADLINES)
) -> pd.DataFrame:
    """The headline profiles side by side: index = every
    decoder layer, a column per profile present."""
    present = [name for name in names if name in set(profiles["profile"])]
    table = profiles[profiles["profile"].isin(present)].pivot(
        index="layer", columns="profile", values="value"
    )
    return table.reindex(index=range(layers), columns=present)


def read_profiles(files: Mapping[str, Sequence[str]], resamples: int, seed: int) -> pd.DataFrame:
    """Every contributing study's profiles, from the files ``lmanatomy.atlas.plan.inputs`` names."""
    parts = []
    if "lesion" in files:
        from lmanatomy.lesion.planning import read_plans

        table1, plans = files["lesion"]
        parts.append(lesion_profile(pd.read_csv(table1), read_plans(plans)))
    if "redundancy" in files:
        parts.append(redundancy_profile(read_pair_rows(files["redundancy"]), resamples, seed))
    if "language" in files:
        parts.append(language_profile(pd.read_csv(files["language"][0])))
    if "knowledge" in files:
        parts.append(knowledge_profile(pd.read_csv(files["knowledge"][0])))
    if "paramact" in files:
        *density, llmdcos = files["paramact"]
        parts.append(
            paramact_profile(
                pd.concat([pd.read_csv(p) for p in density], ignore_index=True),
                pd.read_csv(llmdcos),
                resamples,
                seed,
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)


def profile_blocks(files: Mapping[str, Sequence[str]]) -> dict[str, list[list[int]]]:
    """Profiles measured on blocks of layers: the lesion
    headline's pruned ranges (0-based, inclusive)."""
    if "lesion" not in files:
        return {}
    from lmanatomy.lesion.planning import read_plans

    ranges = sorted({plan.layers for plan in read_plans(files["lesion"][1]).values()})
    return {"lesion_drop": [list(range(first, last + 1)) for first, last in ranges]}
