"""Knowledge neurons and their formation trajectories.

Per word, the attribution of every neuron at every checkpoint is the mean over the word's
prompts (stored in the shards). The word's knowledge neurons are its top-k neurons by that mean
at the *final* checkpoint; the trajectory of a neuron is its attribution across the checkpoints,
so P_T, the word's point cloud, is a k × n_checkpoints matrix. The released code multiplies the
attributions by 10^6 before everything else (``scale``); distances scale with it, hit rates do not.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lmanatomy.errors import ConfigError, DataError
from lmanatomy.io import atomic_path
from lmanatomy.knowledge.shards import read_word, shard_metadata, shard_path
from lmanatomy.stats import wilson

KEY_COLUMNS = ("word", "rank", "layer", "neuron")
# A layer holding at least this share of all words' knowledge neurons is reported as a pile-up.
PILE_UP_SHARE = 0.5


def top_k_neurons(final: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest values of ``final``,
    largest first; ties go to the lower index."""
    final = np.asarray(final)
    if not 1 <= k <= final.size:
        raise ConfigError(
            "knowledge.top_k",
            f"top_k={k} must be between 1 and the number of FF neurons ({final.size})",
        )
    order = np.lexsort((np.arange(final.size), -final))
    return order[:k]


def word_trajectories(
    root: str | Path, checkpoints: Sequence[str], words: Sequence[str], k: int, scale: float = 1.0
) -> pd.DataFrame:
    """One row per (word, knowledge neuron): rank, layer, neuron and one column per checkpoint."""
    frames = []
    for word in words:
        layers, neurons, matrix = read_word(root, checkpoints, word)
        chosen = top_k_neurons(matrix[-1], k)
        frame = pd.DataFrame(
            {
                "word": word,
                "rank": np.arange(1, k + 1),
                "layer": layers[chosen].astype(int),
                "neuron": neurons[chosen].astype(int),
            }
        )
        values = pd.DataFrame(matrix[:, chosen].T * scale, columns=list(checkpoints))
        frames.append(pd.concat([frame, values], axis=1))
    return pd.concat(frames, ignore_index=True)


def write_trajectories(frame: pd.DataFrame, path: str | Path) -> None:
    """Write the trajectories table as Parquet, atomically."""
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def read_trajectories(path: str | Path) -> pd.DataFrame:
    frame = pd.read_parquet(path)
    missing = [c for c in KEY_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: not a trajectories table (missing {missing})")
    return frame


def checkpoint_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in KEY_COLUMNS]


def point_clouds(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """word → P_T (k × n_checkpoints, float64) from a trajectories table."""
    columns = checkpoint_columns(frame)
    if not columns:
        raise DataError("the trajectories table has no checkpoint columns")
    return {
        str(word): group[columns].to_numpy(dtype=np.float64)
        for word, group in frame.groupby("word", sort=False)
    }


def intersections(frame: pd.DataFrame, words: Sequence[str]) -> pd.DataFrame:
    """|S_T1 ∩ S_T2| of the final checkpoint's
    knowledge-neuron sets, words × words (diagonal: k)."""
    sets = {
        str(w): set(zip(g["layer"], g["neuron"], strict=True))
        for w, g in frame.groupby("word", sort=False)
    }
    missing = [w for w in words if w not in sets]
    if missing:
        raise DataError(f"the trajectories table lacks word(s) {missing}")
    counts = [[len(sets[a] & sets[b]) for b in words] for a in words]
    return pd.DataFrame(counts, index=list(words), columns=list(words))


def answer_summary(
    root: str | Path, checkpoints: Sequence[str], words: Sequence[str]
) -> pd.DataFrame:
    """Per checkpoint: how often the model's greedy
    answer is the target word, and the mean P(target).

    Read from the shards' metadata; it shows when the knowledge the neurons carry was learned.
    """
    rows = []
    for checkpoint in checkpoints:
        ranks, probs, first_only = [], [], []
        for word in words:
            meta = shard_metadata(shard_path(root, checkpoint, word))
            ranks += meta["rank"]
            probs += meta["probability"]
            if meta.get("first_token_only"):
                first_only.append(word)
        correct = int(np.sum(np.asarray(ranks) == 0))
        low, high = wilson(correct, len(ranks))
        rows.append(
            {
                "checkpoint": checkpoint,
                "prompts": len(ranks),
                "correct": correct,
                "accuracy": correct / len(ranks),
                "accuracy_low": low,
                "accuracy_high": high,
                "mean_probability": float(np.mean(probs)),
                "first_token_only": " ".join(first_only),
            }
        )
    return pd.DataFrame(rows)


def layer_shares(frame: pd.DataFrame, n_layers: int | None = None) -> pd.DataFrame:
    """Per layer: how many of all words' knowledge neurons sit there, and their share.

    Layers without any knowledge neuron are listed too (up to ``n_layers``), so a pile-up in one
    layer is visible as such.
    """
    counts = frame["layer"].astype(int).value_counts()
    layers = range(int(n_layers) if n_layers else int(counts.index.max()) + 1)
    neurons = [int(counts.get(layer, 0)) for layer in layers]
    total = sum(neurons)
    return pd.DataFrame(
        {"layer": list(layers), "neurons": neurons, "share": [n / total for n in neurons]}
    )


def pile_up_note(shares: pd.DataFrame) -> str:
    """One sentence on where the knowledge neurons sit,
    saying so when one layer holds most of them."""
    top = shares.loc[shares["share"].idxmax()]
    spread = ", ".join(
        f"L{int(layer)} {s:.0%}" for layer, s in zip(shares["layer"], shares["share"], strict=True)
    )
    if top["share"] >= PILE_UP_SHARE:
        return (
            f"Knowledge neurons pile into one layer: {top['share']:.0%} of all words' knowledge "
            f"neurons sit in layer {int(top['layer'])} ({spread}; {1 / len(shares):.0%} each if "
            "spread evenly)."
        )
    return f"Knowledge neurons by layer: {spread} (no layer holds {PILE_UP_SHARE:.0%} or more)."
