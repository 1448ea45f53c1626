"""From the per-(pair, dim) rows to the poster's numbers: summaries, the top-500, frequent dims.

These functions only read the rows that :func:`lmanatomy.redundancy.fitting.fit_pair` wrote (no
torch), and say in words how a run deviates from the paper's setup.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lmanatomy.tables import atomic_write_text, to_markdown, write_table

# The poster's finding for rinna/llama-3-youko-8b: these input dims contribute most often.
POSTER_DIMS = (1421, 2352)


def read_rows(paths: Iterable[str | Path]) -> pd.DataFrame:
    """The per-(pair, dim) rows of several pair files, in pair then dim order."""
    frames = [pd.read_parquet(p) for p in paths]
    if not frames:
        raise ValueError("no layer-pair files to read")
    rows = pd.concat(frames, ignore_index=True)
    return rows.sort_values(["source_layer", "dim"], kind="stable").reset_index(drop=True)


def write_table_head(
    frame: pd.DataFrame,
    csv_path: str | Path,
    md_path: str | Path,
    rows: int,
    title: str,
    notes: Iterable[str] = (),
) -> None:
    """The whole table as CSV; its first ``rows`` rows as Markdown (long tables stay readable)."""
    write_table(frame, csv_path)
    shown = frame.head(rows)
    extra = (
        [f"First {len(shown)} of {len(frame):,} rows; the CSV has them all."]
        if len(frame) > rows
        else []
    )
    text = (
        f"## {title}\n\n"
        + to_markdown(shown)
        + "\n"
        + "\n".join(f"- {n}" for n in [*extra, *notes])
        + "\n"
    )
    atomic_write_text(md_path, text)


# The pair-level interval columns every fitted row carries (lmanatomy.redundancy.interval).
INTERVAL_COLUMNS = (
    "mean_r2_ci95_low",
    "mean_r2_ci95_high",
    "mean_gain_ci95_low",
    "mean_gain_ci95_high",
)


def pair_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per layer pair: statistics over target dims of the SVR's test R², the identity baseline's,
    and their difference (Figs 1–3 and their companions).

    ``mean/max/std/min_r2``: the SVR's R² (the poster's numbers); ``mean_r2_identity``: the
    one-feature OLS on the own dim; ``mean/max/std_gain``: SVR minus baseline, the part of the
    R² that the residual stream's carry-over does not explain; ``self_top_share``: share of
    targets whose largest-|weight| input is their own dim. NaN R² (constant targets) are left out
    and counted in ``undefined``; unconverged targets are counted in ``not_converged``.
    ``n_test`` and ``mean_r2_ci95_low/high``, ``mean_gain_ci95_low/high``: the test sentences and
    the pair's 95% bootstrap intervals over them, as the fit recorded them (pair files written
    before the intervals existed give NaN there).
    """
    groups = rows.groupby("source_layer", sort=True)
    intervals = {c: groups[c].first() if c in rows else np.nan for c in INTERVAL_COLUMNS}
    table = pd.DataFrame(
        {
            "pair": groups["pair"].first(),
            "target_layer": groups["target_layer"].first(),
            "dims": groups["dim"].size(),
            "n_test": groups["n_test"].first() if "n_test" in rows else np.nan,
            "mean_r2": groups["r2"].mean(),
            "mean_r2_ci95_low": intervals["mean_r2_ci95_low"],
            "mean_r2_ci95_high": intervals["mean_r2_ci95_high"],
            "max_r2": groups["r2"].max(),
            "std_r2": groups["r2"].std(ddof=0),
            "min_r2": groups["r2"].min(),
            "mean_r2_identity": groups["r2_identity"].mean(),
            "mean_gain": groups["r2_gain"].mean(),
            "mean_gain_ci95_low": intervals["mean_gain_ci95_low"],
            "mean_gain_ci95_high": intervals["mean_gain_ci95_high"],
            "max_gain": groups["r2_gain"].max(),
            "std_gain": groups["r2_gain"].std(ddof=0),
            "self_top_share": groups["self_rank"].apply(lambda s: float((s == 1).mean())),
            "undefined": groups["r2"].apply(lambda s: int(s.isna().sum())),
            "not_converged": groups["converged"].apply(lambda s: int((~s.astype(bool)).sum())),
            "max_kkt_violation": groups["kkt_violation"].max(),
        }
    )
    return table.reset_index()


def _join(values: Iterable[Any], fmt: str) -> str:
    return " ".join(fmt.format(v) for v in values)


# The rankings of input dims per target (column in the pair rows → column in the top list).
RANKINGS = {
    "top_inputs": "inputs",
    "top_inputs_scaled": "inputs_scaled",
    "top_inputs_other": "inputs_other",
}


def top_pairs(rows: pd.DataFrame, count: int = 500) -> pd.DataFrame:
    """The ``count`` (pair, target dim) with the highest test R², with their top contributing dims.

    Sorted by R² descending; ties by pair then dim. Beside R²: the identity baseline and the gain
    over it. ``inputs`` / ``weights`` list the input dims of layer n with the largest |weight|,
    largest first (the poster's ranking); ``inputs_scaled`` ranks by |weight|·sd(input),
    ``inputs_other`` by |weight| without the target's own dim; ``self_rank`` is the own dim's
    rank by |weight|.
    """
    valid = rows[rows["r2"].notna()]
    ranked = valid.sort_values(
        ["r2", "source_layer", "dim"], ascending=[False, True, True], kind="stable"
    ).head(count)
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(ranked) + 1),
            "pair": ranked["pair"].to_numpy(),
            "source_layer": ranked["source_layer"].to_numpy(),
            "target_dim": ranked["dim"].to_numpy(),
            "r2": ranked["r2"].to_numpy(),
            "r2_identity": ranked["r2_identity"].to_numpy(),
            "r2_gain": ranked["r2_gain"].to_numpy(),
            "self_rank": ranked["self_rank"].to_numpy(),
            "inputs": [_join(v, "{}") for v in ranked["top_inputs"]],
            "weights": [_join(v, "{:+.4g}") for v in ranked["top_weights"]],
            "inputs_scaled": [_join(v, "{}") for v in ranked["top_inputs_scaled"]],
            "inputs_other": [_join(v, "{}") for v in ranked["top_inputs_other"]],
        }
    )


def _token_counts(lists: Iterable[Any]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for entry in lists:
        for token in str(entry).split():
            counts[int(token)] = counts.get(int(token), 0) + 1
    return counts


def frequent_dims(rows: pd.DataFrame, top: pd.DataFrame) -> pd.DataFrame:
    """How often each dim recurs in the top list: as a
    top contributor (three rankings) and as a target.

    ``in_top`` counts appearances in the ``inputs`` of the top (pair, dim) list (the poster's
    count, by |weight|); ``self_share`` is the share of those where the input dim is the target
    dim itself (the residual stream carrying a dim forward); ``in_top_scaled`` and
    ``in_top_other`` count the same under |weight|·sd and without the own dim; ``as_target``
    counts how often the dim is itself a top-list target (a dim that is predictable in many
    layers recurs there, e.g. the poster's dim 2352); ``in_all`` counts ``inputs`` appearances over
    every fitted target. Sorted by ``in_top``, ``in_all``, ``as_target``, descending; dims that
    never appear are left out.
    """
    top_counts = _token_counts(top["inputs"])
    self_counts: dict[int, int] = {}
    for inputs, target in zip(top["inputs"], top["target_dim"], strict=True):
        for token in str(inputs).split():
            self_counts[int(token)] = self_counts.get(int(token), 0) + int(
                int(token) == int(target)
            )
    scaled, other = _token_counts(top["inputs_scaled"]), _token_counts(top["inputs_other"])
    targets = _token_counts(top["target_dim"])
    all_inputs = (
        np.concatenate([np.asarray(v, dtype=np.int64) for v in rows["top_inputs"]])
        if len(rows)
        else np.array([], dtype=np.int64)
    )
    all_counts = np.bincount(all_inputs) if all_inputs.size else np.array([], dtype=np.int64)
    dims = sorted(
        set(top_counts)
        | set(scaled)
        | set(other)
        | set(targets)
        | set(np.nonzero(all_counts)[0].tolist())
    )
    total_top = max(1, sum(top_counts.values()))
    table = pd.DataFrame(
        {
            "dim": np.array(dims, dtype=np.int64),
            "in_top": np.array([top_counts.get(d, 0) for d in dims], dtype=np.int64),
            "share_of_top": np.array([top_counts.get(d, 0) / total_top for d in dims]),
            "self_share": np.array(
                [
                    self_counts.get(d, 0) / top_counts[d] if top_counts.get(d) else np.nan
                    for d in dims
                ]
            ),
            "in_top_scaled": np.array([scaled.get(d, 0) for d in dims], dtype=np.int64),
            "in_top_other": np.array([other.get(d, 0) for d in dims], dtype=np.int64),
            "as_target": np.array([targets.get(d, 0) for d in dims], dtype=np.int64),
            "in_all": np.array(
                [int(all_counts[d]) if d < len(all_counts) else 0 for d in dims], dtype=np.int64
            ),
        }
    )
    table = table.sort_values(
        ["in_top", "in_all", "as_target", "dim"],
        ascending=[False, False, False, True],
        kind="stable",
    )
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table.reset_index(drop=True)


def poster_dims_note(frequent: pd.DataFrame, hidden_size: int, model: str) -> str:
    """One sentence comparing this run's most frequent dims with the poster's dims 1421, 2352.

    Contributors are ranked by ``in_top`` (the table's order); the most frequent top-list targets
    by ``as_target``, since the poster's claim about dim 2352 may be about either role.
    """
    contributing = frequent[frequent["in_top"] > 0]
    leaders = ", ".join(str(d) for d in contributing["dim"].head(5))
    as_target = frequent[frequent["as_target"] > 0].sort_values(
        ["as_target", "dim"], ascending=[False, True], kind="stable"
    )
    target_leaders = ", ".join(
        f"{d} ({n}×)"
        for d, n in zip(as_target["dim"].head(5), as_target["as_target"].head(5), strict=True)
    )
    here = (
        f"Most frequent contributors here: {leaders}; most frequent top-list targets: "
        f"{target_leaders or 'none'}."
    )
    if hidden_size <= max(POSTER_DIMS):
        return (
            f"The poster reports dims {POSTER_DIMS[0]} and {POSTER_DIMS[1]} dominating for "
            f"rinna/llama-3-youko-8b (hidden size 4096); {model} has {hidden_size} dims, so they "
            f"do not exist here. {here}"
        )
    ranks = []
    for dim in POSTER_DIMS:
        hit = frequent.index[(frequent["dim"] == dim) & (frequent["in_top"] > 0)]
        ranks.append(
            f"dim {dim}: rank {int(frequent.loc[hit[0], 'rank'])}"
            if len(hit)
            else f"dim {dim}: never among the top contributors"
        )
        target = frequent.loc[frequent["dim"] == dim, "as_target"]
        ranks[-1] += f", {int(target.iloc[0]) if len(target) else 0}× a top-list target"
    return (
        f"The poster reports dims {POSTER_DIMS[0]} and {POSTER_DIMS[1]} dominating for "
        f"rinna/llama-3-youko-8b; in this run ({model}) {'; '.join(ranks)}. {here}"
    )


def settings_note(rows: pd.DataFrame) -> str:
    """The fit settings and convergence, as recorded in the per-pair rows."""
    first = rows.iloc[0]
    bad = int((~rows["converged"].astype(bool)).sum())
    return (
        f"Linear ε-SVR per (pair, dim): C={first['C']:g}, epsilon={first['epsilon']:g}, "
        f"standardize={'yes' if bool(first['standardize']) else 'no'}; {int(first['n_train'])} "
        f"train / {int(first['n_test'])} test sentences; solver converged to KKT violation ≤ "
        f"{first['tol']:g} (libsvm's stopping measure) for {len(rows) - bad:,} of {len(rows):,} "
        "regressions" + (f" ({bad:,} did not; see not_converged)." if bad else ".")
    )


def baseline_note(summary: pd.DataFrame) -> str:
    """Where redundancy should be read: the SVR's R²
    next to the identity baseline, per pair range."""

    def span(column: str) -> str:
        values = summary[column].dropna()
        return f"{values.min():.2f} to {values.max():.2f}" if len(values) else "undefined"

    return (
        "Identity baseline: a one-feature OLS of each target dim on its own dim of layer n (the "
        "residual stream carries every dim forward) reaches mean test R² "
        f"{span('mean_r2_identity')} per pair, against the SVR's {span('mean_r2')}; the SVR's "
        f"mean gain over it is {span('mean_gain')} per pair, and the own dim is the "
        f"largest-|weight| input for {summary['self_top_share'].min():.0%} to "
        f"{summary['self_top_share'].max():.0%} of targets. Read redundancy from the gain (Figs "
        "1–3 companions), not from R² alone."
    )


# What the last entry of the hidden states is, by the probe's ``last_layer``.
LAST_LAYER_MEANING = {
    "raw": "raw: the last decoder layer's own output (hook)",
    "normed": "normed: after the final norm (Hugging Face's output_hidden_states[-1])",
}


def last_layer_table(
    rows: pd.DataFrame, other: pd.DataFrame, last_layer: str, other_last_layer: str
) -> pd.DataFrame:
    """The last layer pair both ways (raw and after the final norm), beside the pair before it.

    ``rows``: every pair of the main run (its probe's ``last_layer``); ``other``: the last pair
    fitted again on hidden states whose last entry is taken the other way. Only the target of
    the last pair differs between the two, so a "last layer is different" pattern that appears
    in one row only is the final norm's doing, not the last decoder layer's.
    """
    if last_layer == other_last_layer:
        raise ValueError(
            f"both fits of the last pair take the last hidden state the same way ('{last_layer}')"
        )
    last = int(rows["source_layer"].max())
    if set(other["source_layer"].unique()) != {last}:
        raise ValueError(
            f"the second fit must hold the last pair {last}→{last + 1} only, got pairs "
            f"{sorted(other['source_layer'].unique())}"
        )
    columns = [
        "pair",
        "mean_r2",
        "max_r2",
        "std_r2",
        "mean_r2_identity",
        "mean_gain",
        "max_gain",
        "self_top_share",
        "not_converged",
    ]
    parts = []
    if (rows["source_layer"] == last - 1).any():
        parts.append(
            pair_summary(rows[rows["source_layer"] == last - 1])[columns].assign(
                last_hidden_state="(not involved)"
            )
        )
    parts.append(
        pair_summary(rows[rows["source_layer"] == last])[columns].assign(
            last_hidden_state=LAST_LAYER_MEANING[last_layer]
        )
    )
    parts.append(
        pair_summary(other)[columns].assign(last_hidden_state=LAST_LAYER_MEANING[other_last_layer])
    )
    table = pd.concat(parts, ignore_index=True)
    return table[["pair", "last_hidden_state", *columns[1:]]]
