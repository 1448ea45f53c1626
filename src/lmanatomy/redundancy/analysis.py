"""From the per-(pair, dim) rows to the poster's numbers: summaries, the top-500, frequent dims.

These functions only read the rows that :func:`lmanatomy.redundancy.fitting.fit_pair` wrote (no
torch), and say in words how a run deviates from the paper's setup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

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


def write_table_head(frame: pd.DataFrame, csv_path: str | Path, md_path: str | Path, rows: int, title: str,
                     notes: Iterable[str] = ()) -> None:
    """The whole table as CSV; its first ``rows`` rows as Markdown (long tables stay readable)."""
    write_table(frame, csv_path)
    shown = frame.head(rows)
    extra = [f"First {len(shown)} of {len(frame):,} rows; the CSV has them all."] if len(frame) > rows else []
    text = f"## {title}\n\n" + to_markdown(shown) + "\n" + "\n".join(f"- {n}" for n in [*extra, *notes]) + "\n"
    atomic_write_text(md_path, text)


def pair_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per layer pair: mean / max / std / min of test R² over target dims (Figs 1–3's numbers).

    NaN R² (constant targets) are left out of the statistics and counted in ``undefined``;
    targets whose solver did not converge are counted in ``not_converged``.
    """
    groups = rows.groupby("source_layer", sort=True)
    table = pd.DataFrame(
        {
            "pair": groups["pair"].first(),
            "target_layer": groups["target_layer"].first(),
            "dims": groups["dim"].size(),
            "mean_r2": groups["r2"].mean(),
            "max_r2": groups["r2"].max(),
            "std_r2": groups["r2"].std(ddof=0),
            "min_r2": groups["r2"].min(),
            "undefined": groups["r2"].apply(lambda s: int(s.isna().sum())),
            "not_converged": groups["converged"].apply(lambda s: int((~s.astype(bool)).sum())),
            "max_kkt_violation": groups["kkt_violation"].max(),
        }
    )
    return table.reset_index()


def _join(values: Iterable[Any], fmt: str) -> str:
    return " ".join(fmt.format(v) for v in values)


def top_pairs(rows: pd.DataFrame, count: int = 500) -> pd.DataFrame:
    """The ``count`` (pair, target dim) with the highest test R², with their top contributing dims.

    Sorted by R² descending; ties by pair then dim. ``inputs`` / ``weights`` list the input dims
    of layer n with the largest |weight| for that target, space-separated, largest first.
    """
    valid = rows[rows["r2"].notna()]
    ranked = valid.sort_values(["r2", "source_layer", "dim"], ascending=[False, True, True], kind="stable").head(count)
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(ranked) + 1),
            "pair": ranked["pair"].to_numpy(),
            "source_layer": ranked["source_layer"].to_numpy(),
            "target_dim": ranked["dim"].to_numpy(),
            "r2": ranked["r2"].to_numpy(),
            "inputs": [_join(v, "{}") for v in ranked["top_inputs"]],
            "weights": [_join(v, "{:+.4g}") for v in ranked["top_weights"]],
        }
    )


def frequent_dims(rows: pd.DataFrame, top: pd.DataFrame) -> pd.DataFrame:
    """How often each input dim is among the top contributors: in the top list and over all targets.

    ``in_top`` counts appearances in the ``inputs`` of the top (pair, dim) list (the poster's
    count), ``in_all`` over every fitted target; ``self_share`` is the share of those top
    appearances where the input dim equals the target dim (the residual stream carrying a dim
    forward). Sorted by ``in_top`` then ``in_all``, descending; dims that never appear are left out.
    """
    top_counts: dict[int, int] = {}
    self_counts: dict[int, int] = {}
    for inputs, target in zip(top["inputs"], top["target_dim"]):
        for token in str(inputs).split():
            dim = int(token)
            top_counts[dim] = top_counts.get(dim, 0) + 1
            self_counts[dim] = self_counts.get(dim, 0) + int(dim == int(target))
    all_inputs = np.concatenate([np.asarray(v, dtype=np.int64) for v in rows["top_inputs"]]) if len(rows) else np.array([], dtype=np.int64)
    all_counts = np.bincount(all_inputs) if all_inputs.size else np.array([], dtype=np.int64)
    dims = sorted(set(top_counts) | set(np.nonzero(all_counts)[0].tolist()))
    total_top = max(1, sum(top_counts.values()))
    table = pd.DataFrame(
        {
            "input_dim": np.array(dims, dtype=np.int64),
            "in_top": np.array([top_counts.get(d, 0) for d in dims], dtype=np.int64),
            "share_of_top": np.array([top_counts.get(d, 0) / total_top for d in dims]),
            "self_share": np.array([self_counts.get(d, 0) / top_counts[d] if top_counts.get(d) else np.nan for d in dims]),
            "in_all": np.array([int(all_counts[d]) if d < len(all_counts) else 0 for d in dims], dtype=np.int64),
        }
    )
    table = table.sort_values(["in_top", "in_all", "input_dim"], ascending=[False, False, True], kind="stable")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table.reset_index(drop=True)


def poster_dims_note(frequent: pd.DataFrame, hidden_size: int, model: str) -> str:
    """One sentence comparing this run's most frequent contributors with the poster's dims 1421, 2352."""
    leaders = ", ".join(str(d) for d in frequent["input_dim"].head(5))
    if hidden_size <= max(POSTER_DIMS):
        return (f"The poster reports dims {POSTER_DIMS[0]} and {POSTER_DIMS[1]} dominating for rinna/llama-3-youko-8b "
                f"(hidden size 4096); {model} has {hidden_size} dims, so they do not exist here. Most frequent here: {leaders}.")
    ranks = []
    for dim in POSTER_DIMS:
        hit = frequent.index[frequent["input_dim"] == dim]
        ranks.append(f"dim {dim}: rank {int(frequent.loc[hit[0], 'rank'])}" if len(hit) else f"dim {dim}: never among the top contributors")
    return (f"The poster reports dims {POSTER_DIMS[0]} and {POSTER_DIMS[1]} dominating for rinna/llama-3-youko-8b; "
            f"in this run ({model}) {'; '.join(ranks)}. Most frequent here: {leaders}.")


# The poster's setup, against which a run's deviations are stated.
PAPER = {"model": "llama-3-youko-8b", "display": "rinna/llama-3-youko-8b", "train": 800, "test": 200}


def deviations(model: str, section: Mapping[str, Any], probe: Mapping[str, Any], dataset_meta: Mapping[str, Any]) -> list[str]:
    """How this run differs from the poster's setup, one sentence each (empty: none known)."""
    notes = []
    if model != PAPER["model"]:
        notes.append(f"Model {model}, not the poster's {PAPER['display']}.")
    sources = dataset_meta.get("sources") or []
    if dataset_meta.get("format") != "jsts":
        notes.append(f"Sentences from dataset format '{dataset_meta.get('format')}', not JSTS sentence1.")
    elif not sources or not all(s.get("matches_upstream") for s in sources):
        notes.append("Sentences are not the upstream JGLUE JSTS files (e.g. the demo data written for this project).")
    if (section["train"], section["test"]) != (PAPER["train"], PAPER["test"]):
        notes.append(f"{section['train']} train / {section['test']} test sentences (poster: {PAPER['train']} / {PAPER['test']}).")
    if section.get("include_embedding"):
        notes.append("The embedding → layer 1 pair is included (poster: decoder layers only).")
    if probe.get("last_layer", "raw") != "raw":
        notes.append("The last hidden state is taken after the final norm (poster: the raw last-layer output).")
    if section.get("C", 1.0) != 1.0 or section.get("epsilon", 0.1) != 0.1:
        notes.append(f"SVR C={section.get('C')}, epsilon={section.get('epsilon')} (scikit-learn defaults C=1, epsilon=0.1 in the poster).")
    if section.get("standardize"):
        notes.append("Input features standardised (zero mean, unit variance on the training sentences).")
    return notes


def settings_note(rows: pd.DataFrame) -> str:
    """The fit settings and convergence, as recorded in the per-pair rows."""
    first = rows.iloc[0]
    bad = int((~rows["converged"].astype(bool)).sum())
    return (
        f"Linear ε-SVR per (pair, dim): C={first['C']:g}, epsilon={first['epsilon']:g}, "
        f"standardize={'yes' if bool(first['standardize']) else 'no'}; {int(first['n_train'])} train / {int(first['n_test'])} test "
        f"sentences; solver converged to KKT violation ≤ {first['tol']:g} (libsvm's stopping measure) for "
        f"{len(rows) - bad:,} of {len(rows):,} regressions" + (f" ({bad:,} did not; see not_converged)." if bad else ".")
    )
