"""Tables 1–2 and Figs 2, 4, 5 of Kojima et al. 2024, with notes that state every deviation."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from lmanatomy.errors import DataError
from lmanatomy.language.intervals import rate
from lmanatomy.language.selection import KINDS, chosen

AUTHORS_TEXTS_NOTE = (
    "Texts: the authors' own 500 per language (kojima-takeshi188/lang_neuron at 033c7b1, "
    "assets/Language/sense/<lang>.json: their PAWS-X + FLORES-200 mix), read as the positives; "
    "each language's negatives are the other languages' positives, where the authors' code scores "
    "it against its own file's 2,500 negatives (another draw of 500 per other language from the "
    "same pools)."
)
LANGUAGE_NAMES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "zh": "Chinese",
    "ja": "Japanese",
}


def seed_resolution(seeds: int) -> str:
    """What n seeds can tell apart: the 95% Wilson half-width
    of a rate at 0 (or n) hits and at n/2 hits, in points."""
    from lmanatomy.language.intervals import wilson

    def half(hits: int) -> float:
        low, high = wilson(hits, seeds)
        return (high - low) / 2 * 100

    return (
        f"a rate's 95% Wilson interval is ±{half(0):.1f} points at 0% or 100% and "
        f"±{half(seeds // 2):.1f} at {seeds // 2 / seeds:.0%}, so a difference between two "
        "conditions smaller than that is not a finding."
    )


def run_notes(
    texts_per_language: Mapping[str, int],
    seeds: int | None = None,
    skipped_ks: Sequence[int] = (),
    sampling: Mapping[str, str] | None = None,
    formats: Sequence[str] = (),
) -> list[str]:
    """What this run's texts and seeds were, and what they can resolve: facts of the run (how it
    differs from the paper's setup is derived from the configs: lmanatomy.deviations)."""
    notes = []
    if sampling:
        drawn = "; ".join(f"{name}: {how}" for name, how in sampling.items())
        notes.append(
            f"Texts drawn as {drawn} (the authors' released texts are independent draws per "
            "language)."
        )
    notes.append(
        "Texts per language: "
        + ", ".join(f"{lang} {n}" for lang, n in texts_per_language.items())
        + "."
    )
    if seeds is not None:
        notes.append(f"{seeds} generation seeds per condition: " + seed_resolution(seeds))
    if "lang_neuron" in formats:
        notes.append(AUTHORS_TEXTS_NOTE)
    if skipped_ks:
        notes.append(
            f"Skipped k = {', '.join(map(str, skipped_ks))}: top-k plus bottom-k would exceed the "
            "model's neurons."
        )
    return notes


def _finish(fig, title: str, legend: tuple | None = None) -> None:
    """Title (and a figure legend) on top; the note :func:`save` hangs below the figure."""
    _, height = fig.get_size_inches()
    fig.suptitle(title, y=1 - 0.08 / height, va="top")
    top = 1 - 0.35 / height
    if legend is not None:
        fig.legend(
            *legend,
            loc="upper center",
            bbox_to_anchor=(0.5, top),
            ncol=len(legend[1]),
            frameon=False,
        )
        top -= 0.3 / height
    fig.tight_layout(rect=(0, 0, 1, top))


# --- Table 1 -------------------------------------------------------------------------------------


def overlap_notes(k: int) -> list[str]:
    return [
        f"Entry (a, b): neurons in both language a's and language b's set of top-{k} and "
        f"bottom-{k} neurons by AP; the diagonal is 2k = {2 * k}.",
        "table1.csv splits each entry into top∩top, bottom∩bottom and crossed (top of one "
        "language ∩ bottom of the other).",
    ]


def overlap_with_intervals(split: pd.DataFrame, bounds: pd.DataFrame, texts: int) -> pd.DataFrame:
    """Table 1's CSV: each pair's counts, each followed by
    its 95% bounds, with n (texts) and the replicates."""
    from lmanatomy.language.overlap import COUNTS

    merged = split.merge(bounds, on=["language_a", "language_b"], how="left", validate="one_to_one")
    if merged["replicates"].isna().any():
        raise DataError("Table 1: a pair of languages has no bootstrap interval")
    merged["texts"] = texts
    ordered = [c for name in COUNTS for c in (name, f"{name}_lower", f"{name}_upper")]
    return merged[["language_a", "language_b", *ordered, "texts", "replicates"]]


def overlap_matrix(table: pd.DataFrame, languages: Sequence[str]) -> pd.DataFrame:
    """Table 1's Markdown matrix: ``total [lower, upper]``
    per pair (the diagonal, always 2k, alone)."""
    cells = table.set_index(["language_a", "language_b"])
    rows = []
    for a in languages:
        row = {"language": a}
        for b in languages:
            cell = cells.loc[(a, b)]
            row[b] = (
                f"{cell['total']:,}"
                if a == b
                else f"{cell['total']:,} [{cell['total_lower']:,}, {cell['total_upper']:,}]"
            )
        rows.append(row)
    return pd.DataFrame(rows)


def overlap_interval_notes(facts: Mapping[str, int]) -> list[str]:
    """How Table 1's intervals were obtained and how far
    to trust them (the bootstrap's size and pool)."""
    replicates = facts["replicates"]
    notes = [
        f"[lower, upper]: 95% bootstrap interval, {replicates} replicates: the {facts['texts']} "
        "texts resampled with replacement within each language, every language's neurons "
        "re-ranked by AP and the overlaps recounted (the 2.5% and 97.5% order statistics of the "
        "replicates; table1.csv has the same bounds for every split)."
    ]
    if replicates < 40:
        notes.append(
            f"With {replicates} replicates the bounds are the replicates' minimum and maximum: a "
            "rough interval, on average narrower than a 95% one."
        )
    notes.append(
        f"Each replicate re-ranks a candidate pool of {facts['pool']:,} of the "
        f"{facts['neurons']:,} neurons (per language the {facts['per_side']:,} highest- and "
        "lowest-AP on the full sample), not all of them; the deepest full-sample rank any "
        f"replicate selected was {facts['deepest']:,}."
    )
    return notes


# --- Table 2 -------------------------------------------------------------------------------------

COLUMNS = ("before", "top", "bottom", "both")


def _cells(prefix: str, hits: int, n: int, scale: float = 1.0) -> dict[str, float]:
    """One Table 2 cell as CSV columns: the rate (%), its n and its 95% Wilson interval."""
    value = rate(hits, n)
    return {
        prefix: value["rate"] * scale,
        f"{prefix}_n": n,
        f"{prefix}_lower": value["lower"] * scale,
        f"{prefix}_upper": value["upper"] * scale,
    }


def target_probabilities(scored: pd.DataFrame, languages: Sequence[str], k: int) -> pd.DataFrame:
    """One model's Table 2 block: P(target language)
    in % with n and Wilson bounds, plus the mean row.

    The mean row's steered columns pool the languages' texts (distinct generations, equal n:
    the pooled rate is the mean). Its "before" column is one set of texts judged for every
    language, so it is P(any of the L languages) / L (the paper: L = 6), with that proportion's
    interval divided by L.
    """
    none = scored[scored["condition"] == "none"]
    if none.empty:
        raise DataError("scored generations have no 'none' (before intervention) rows")
    rows = []
    pooled = {c: [0, 0] for c in COLUMNS[1:]}
    for lang in languages:
        row: dict[str, object] = {
            "language": lang,
            **_cells("before", int((none["lid_language"] == lang).sum()), len(none)),
        }
        for condition in COLUMNS[1:]:
            part = scored[
                (scored["condition"] == condition)
                & (scored["language"] == lang)
                & (scored["k"] == k)
            ]
            if part.empty:
                raise DataError(
                    f"scored generations have no '{condition}' rows for language '{lang}' at k={k}"
                )
            hits = int(part["is_target"].sum())
            row.update(_cells(condition, hits, len(part)))
            pooled[condition][0] += hits
            pooled[condition][1] += len(part)
        rows.append(row)
    any_target = int(none["lid_language"].isin(list(languages)).sum())
    mean: dict[str, object] = {
        "language": "mean",
        **_cells("before", any_target, len(none), 1 / len(languages)),
    }
    for condition, (hits, n) in pooled.items():
        mean.update(_cells(condition, hits, n))
    return pd.DataFrame(rows + [mean])


def table2(
    scored_by_model: Mapping[str, pd.DataFrame], languages: Sequence[str], k: int
) -> pd.DataFrame:
    """Table 2: rows model × language (+ a mean row per
    model); per condition the %, n, lower, upper."""
    parts = []
    for model, scored in scored_by_model.items():
        block = target_probabilities(scored, languages, k)
        block.insert(0, "model", model)
        parts.append(block)
    return pd.concat(parts, ignore_index=True)


def table2_display(table: pd.DataFrame) -> pd.DataFrame:
    """Table 2 for Markdown: each cell "rate [lower, upper]" (%), n in its own column."""
    shown = table[["model", "language"]].copy()
    shown["n"] = [f"{b} / {s}" for b, s in zip(table["before_n"], table["top_n"], strict=True)]
    for column in COLUMNS:
        shown[column] = [
            f"{v:.1f} [{lo:.1f}, {hi:.1f}]"
            for v, lo, hi in zip(
                table[column], table[f"{column}_lower"], table[f"{column}_upper"], strict=True
            )
        ]
    return shown


def table2_notes(setup: Mapping[str, object], start: str, lid: str) -> list[str]:
    """Table 2's notes, read from the run: generation
    settings, start token, identifier, intervals."""
    seeds = list(setup["seeds"])  # type: ignore[arg-type]
    k, n = setup["k"], len(setup["languages"])  # type: ignore[arg-type]
    return [
        f"Probability (%) that a text generated from the start token alone ({start}; temperature "
        f"{setup['temperature']:g}, no top-k/top-p, at most {setup['max_new_tokens']} new tokens, "
        f"stop at EOS, seeds {seeds[0]}..{seeds[-1]}) is in the target language.",
        f"A text counts as language l when {lid} predicts l with probability > "
        f"{setup['lid_threshold']:g}.",
        f"before: no intervention; top / bottom / both: the target language's top-{k}, bottom-{k} "
        "or both sets of neurons fixed to their median activation over the language's texts, at "
        "every position.",
        "Brackets: 95% Wilson interval; n = texts before intervention / per steered cell. Mean "
        f"rows pool the {n} languages' steered texts; their 'before' is P(any of the {n} "
        f"languages) / {n} with that interval / {n} (one set of texts, {n} judgements).",
    ]


def start_description(generations: pd.DataFrame, start_rule: str) -> str:
    """The start token(s) the generations used, for the
    notes: e.g. "</s> (id 2) by rule bos_or_eos"."""
    pairs = sorted(set(zip(generations["start_token"], generations["start_id"], strict=True)))
    return (
        "; ".join(f"{token} (id {ids})" for token, ids in pairs)
        + f", the same token that starts every extracted text (probe start: {start_rule})"
    )


def replacement_shares(scored: pd.DataFrame) -> pd.DataFrame:
    """Per condition, language and k: the share (%) of
    texts with U+FFFD, with n, Wilson bounds and causes."""
    from lmanatomy.language.decoding import CAUSES

    rows = []
    for (condition, lang, k), part in scored.groupby(["condition", "language", "k"], sort=True):
        causes = part["replacement"].value_counts()
        hits = int(len(part) - causes.get("none", 0))
        rows.append(
            {
                "condition": condition,
                "language": lang,
                "k": int(k),
                **_cells("share", hits, len(part)),
                **{cause: int(causes.get(cause, 0)) for cause in CAUSES[1:]},
            }
        )
    return pd.DataFrame(rows)


# --- Fig 2 ---------------------------------------------------------------------------------------


def plot_layer_histograms(
    counts: pd.DataFrame, languages: Sequence[str], n: int, model: str, path: str, note: str | None
) -> None:
    """Fig 2: per language, how many of the top / middle / bottom-n neurons lie in each layer."""
    from lmanatomy.plots import figure, save

    cols = min(3, len(languages))
    rows = math.ceil(len(languages) / cols)
    fig, axes = figure(
        rows, cols, width=4.2 * cols, height=3.0 * rows + 0.6, squeeze=False, sharex=True
    )
    styles = {"top": ("tab:red", "o"), "middle": ("tab:gray", "s"), "bottom": ("tab:blue", "^")}
    for position, lang in enumerate(languages):
        ax = axes[position // cols][position % cols]
        for group, (color, marker) in styles.items():
            part = counts[(counts["language"] == lang) & (counts["group"] == group)].sort_values(
                "layer"
            )
            ax.plot(
                part["layer"],
                part["count"],
                color=color,
                marker=marker,
                markersize=3,
                label=f"{group}-{n}",
            )
        ax.set_title(f"{LANGUAGE_NAMES.get(lang, lang)} ({lang})")
        ax.set_xlabel("layer")
        ax.set_ylabel("neurons")
    for position in range(len(languages), rows * cols):
        axes[position // cols][position % cols].axis("off")
    legend = axes[0][0].get_legend_handles_labels()
    _finish(
        fig,
        f"Fig 2: layers of the top, middle and bottom {n} neurons by AP — {model}",
        legend,
    )
    save(fig, path, note)


# --- Fig 4 ---------------------------------------------------------------------------------------


def neuron_values(read_module: Callable[[str], np.ndarray], neurons: pd.DataFrame) -> np.ndarray:
    """Per-text values (n_texts, len(neurons)) of the given neurons, reading each module once."""
    columns: list[np.ndarray | None] = [None] * len(neurons)
    for module, group in neurons.reset_index(drop=True).groupby("module", sort=True):
        values = np.asarray(read_module(str(module)))
        for position, channel in zip(group.index, group["channel"], strict=True):
            columns[position] = values[:, int(channel)]
    return np.stack(columns, axis=1)


def activation_distributions(
    read_module: Callable[[str], np.ndarray],
    selection: pd.DataFrame,
    text_languages: Sequence[str],
    languages: Sequence[str],
    k: int,
    bins: int = 40,
) -> pd.DataFrame:
    """Fig 4's histograms: per language and kind, the
    values of its k neurons on target vs other texts.

    Values are pooled over the k neurons; the bins span the 0.5–99.5 % quantiles of the pooled
    values of both text groups (outliers fall into the edge bins) and the counts are normalised
    to densities per group, since there are five times more other texts than target texts.
    """
    text_languages = np.asarray(text_languages, dtype=object)
    wanted = pd.concat([chosen(selection, lang, KINDS, k) for lang in languages], ignore_index=True)
    distinct = wanted.drop_duplicates("index").sort_values("index").reset_index(drop=True)
    values = neuron_values(read_module, distinct)
    position = {int(index): i for i, index in enumerate(distinct["index"])}
    rows = []
    for lang in languages:
        target = text_languages == lang
        for kind in KINDS:
            part = wanted[(wanted["language"] == lang) & (wanted["kind"] == kind)]
            block = values[:, [position[int(i)] for i in part["index"]]]
            low, high = np.quantile(block, [0.005, 0.995])
            if not high > low:
                low, high = low - 0.5, high + 0.5
            edges = np.linspace(low, high, bins + 1)
            for group, mask in (("target", target), ("other", ~target)):
                raw = block[mask].ravel()
                clipped = int(((raw < low) | (raw > high)).sum())
                pooled = np.clip(raw, low, high)
                counts, _ = np.histogram(pooled, bins=edges)
                density = counts / (counts.sum() * np.diff(edges))
                for b in range(bins):
                    rows.append(
                        {
                            "language": lang,
                            "kind": kind,
                            "texts": group,
                            "bin_left": edges[b],
                            "bin_right": edges[b + 1],
                            "count": int(counts[b]),
                            "density": float(density[b]),
                            "mean": float(block[mask].mean()),
                            "clipped": clipped,
                        }
                    )
    return pd.DataFrame(rows)


FIG4_CLIPPING = (
    "Each panel's bins span the 0.5–99.5 % quantiles of its pooled values; values beyond them are "
    "clipped into the edge bins (counted in fig4.csv's 'clipped' column), so the outer bins "
    "include the tails."
)


def plot_activation_distributions(
    hist: pd.DataFrame, languages: Sequence[str], k: int, model: str, path: str, note: str | None
) -> None:
    """Fig 4: rows top / bottom neurons, columns languages; target-language texts vs the others."""
    from lmanatomy.plots import figure, save

    fig, axes = figure(
        len(KINDS), len(languages), width=2.6 * len(languages), height=5.6, squeeze=False
    )
    for r, kind in enumerate(KINDS):
        for c, lang in enumerate(languages):
            ax = axes[r][c]
            for group, color in (("target", "tab:red"), ("other", "tab:gray")):
                part = hist[
                    (hist["language"] == lang) & (hist["kind"] == kind) & (hist["texts"] == group)
                ]
                edges = np.append(part["bin_left"].to_numpy(), part["bin_right"].to_numpy()[-1])
                label = f"{lang} texts" if group == "target" else "other languages"
                ax.stairs(
                    part["density"].to_numpy(),
                    edges,
                    color=color,
                    fill=group == "other",
                    alpha=0.45 if group == "other" else 1.0,
                    label=label,
                )
            ax.set_title(f"{lang}: {kind}-{k}")
            ax.set_xlabel("mean activation")
            if c == 0:
                ax.set_ylabel("density")
            ax.legend(fontsize=6, loc="upper right")
    _finish(
        fig,
        f"Fig 4: activations of each language's top / bottom {k} neurons on its texts vs the "
        f"others — {model}",
    )
    save(fig, path, note)


# --- Fig 5 ---------------------------------------------------------------------------------------


def k_ablation(scored: pd.DataFrame, languages: Sequence[str], ks: Sequence[int]) -> pd.DataFrame:
    """Fig 5's points: per language and k (0 = no intervention),
    P(target) in % with n and Wilson bounds, and mean BLEU-4.

    BLEU is averaged over the texts identified as the target language (NaN when there is none).
    """
    rows = []
    none = scored[scored["condition"] == "none"]
    for lang in languages:
        base = none[none["lid_language"] == lang]
        rows.append(
            {
                "language": lang,
                "k": 0,
                "target_texts": len(base),
                **_cells("probability", len(base), len(none)),
                "bleu": float(base["bleu"].mean()) if len(base) else float("nan"),
            }
        )
        for k in sorted(ks):
            part = scored[
                (scored["condition"] == "both") & (scored["language"] == lang) & (scored["k"] == k)
            ]
            if part.empty:
                raise DataError(
                    f"scored generations have no 'both' rows for language '{lang}' at k={k}"
                )
            hits = part[part["is_target"]]
            rows.append(
                {
                    "language": lang,
                    "k": int(k),
                    "target_texts": len(hits),
                    **_cells("probability", len(hits), len(part)),
                    "bleu": float(hits["bleu"].mean()) if len(hits) else float("nan"),
                }
            )
    return pd.DataFrame(rows).rename(columns={"probability_n": "texts"})


def plot_k_ablation(
    points: pd.DataFrame, languages: Sequence[str], model: str, path: str, note: str | None
) -> None:
    """Fig 5: P(target language) (95% Wilson error bars)
    and BLEU-4 against log10 k, one line per language.

    No intervention is drawn as each language's own point (hollow square, with its interval) at a
    "none" position left of the smallest k, rather than as six horizontal lines that coincide
    whenever two languages share a level (several are at 0 % before intervention).
    """
    from lmanatomy.plots import figure, save

    fig, axes = figure(1, 2, width=11, height=4.6)
    steered = points[points["k"] > 0]
    ticks = sorted(steered["k"].unique())
    none_x = math.log10(ticks[0]) - 1
    for i, lang in enumerate(languages):
        dodge = 0.04 * (i - (len(languages) - 1) / 2)  # keep the error bars apart
        part = steered[steered["language"] == lang].sort_values("k")
        base = points[(points["language"] == lang) & (points["k"] == 0)]
        x = np.log10(part["k"].to_numpy()) + dodge
        line = axes[0].errorbar(
            x,
            part["probability"],
            yerr=_bars(part),
            marker="o",
            markersize=4,
            capsize=2,
            label=lang,
        )[0]
        color = line.get_color()
        axes[0].errorbar(
            [none_x + dodge],
            base["probability"],
            yerr=_bars(base),
            marker="s",
            markersize=5,
            capsize=2,
            color=color,
            markerfacecolor="white",
            linestyle="none",
        )
        axes[1].plot(x, part["bleu"], marker="o", color=color, label=lang)
        axes[1].plot(
            [none_x + dodge],
            base["bleu"],
            marker="s",
            color=color,
            markerfacecolor="white",
            linestyle="none",
        )
    for ax, label in (
        (axes[0], "P(target language) (%)"),
        (axes[1], "BLEU-4 of target-language texts"),
    ):
        ax.set_xticks([none_x, *np.log10(ticks)])
        ax.set_xticklabels(["none", *[f"{math.log10(t):g}" for t in ticks]])
        ax.axvline(none_x + 0.5, color="0.8", linewidth=0.8)
        ax.set_xlabel("log10 k (top-k and bottom-k fixed); none = no intervention")
        ax.set_ylabel(label)
    axes[0].set_ylim(-2, 102)
    axes[0].set_title("target-language probability (bars: 95% Wilson)")
    axes[1].set_title("BLEU-4 against the language's texts")
    _finish(fig, f"Fig 5: k-ablation — {model}", axes[0].get_legend_handles_labels())
    save(fig, path, note)


def _bars(part: pd.DataFrame) -> np.ndarray:
    """Error-bar lengths below and above each probability (clipped at 0 against rounding)."""
    return np.clip(
        [
            part["probability"] - part["probability_lower"],
            part["probability_upper"] - part["probability"],
        ],
        0,
        None,
    )
