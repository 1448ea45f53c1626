"""Table 1's bootstrap intervals against a plain-loop
reference (sklearn AP, sorted lists, Python sets)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from lmanatomy.language.overlap import (
    COUNTS,
    bootstrap_overlaps,
    candidate_pool,
    intervals,
    pool_values,
    resample_within_languages,
)
from lmanatomy.language.report import overlap_interval_notes, overlap_matrix, overlap_with_intervals

LANGS = ["en", "de", "ja"]


def tiny(seed: int = 3, per_language: int = 6, neurons: int = 12) -> tuple[np.ndarray, list[str]]:
    """Texts × neurons with language-specific shifts (so rankings
    are not pure noise) and one text of another language."""
    rng = np.random.default_rng(seed)
    languages = [lang for lang in LANGS for _ in range(per_language)] + ["fr"]
    values = rng.normal(size=(len(languages), neurons)).astype(np.float32)
    for j in range(neurons):
        values[[i for i, lang in enumerate(languages) if lang == LANGS[j % 3]], j] += 1.5
    return values, languages


def reference(values, languages, pool, k, replicates, full, seed=0):
    """Per replicate: the same stratified draws in a plain loop, sklearn AP per neuron, sorted
    selections, set counts; and the deepest full-sample rank (from the top for top picks, from the
    bottom for bottom picks) ever selected."""
    rng = np.random.default_rng(seed)
    groups = list(dict.fromkeys(languages))
    neurons = range(full.shape[1])
    from_top = [
        {n: r + 1 for r, n in enumerate(sorted(neurons, key=lambda n: (-row[n], n)))}
        for row in full
    ]
    from_bottom = [
        {n: r + 1 for r, n in enumerate(sorted(neurons, key=lambda n: (row[n], n)))} for row in full
    ]
    results, deepest = [], 0
    for _ in range(replicates):
        sample = []
        for lang in groups:
            rows = [i for i, x in enumerate(languages) if x == lang]
            sample += [rows[j] for j in rng.integers(0, len(rows), len(rows))]
        tops, bottoms = [], []
        for lang in LANGS:
            labels = [languages[i] == lang for i in sample]
            ap = {
                int(n): round(
                    float(average_precision_score(labels, [values[i, n] for i in sample])), 9
                )
                for n in pool
            }
            tops.append(set(sorted(ap, key=lambda n: (-ap[n], n))[:k]))
            bottoms.append(set(sorted(ap, key=lambda n: (ap[n], n))[:k]))
            row = LANGS.index(lang)
            deepest = max(
                [
                    deepest,
                    *(from_top[row][n] for n in tops[-1]),
                    *(from_bottom[row][n] for n in bottoms[-1]),
                ]
            )
        counts = {}
        for a in range(len(LANGS)):
            for b in range(len(LANGS)):
                tt, bb = len(tops[a] & tops[b]), len(bottoms[a] & bottoms[b])
                crossed = len(tops[a] & bottoms[b]) + len(bottoms[a] & tops[b])
                counts[LANGS[a], LANGS[b]] = {
                    "total": tt + bb + crossed,
                    "top_top": tt,
                    "bottom_bottom": bb,
                    "crossed": crossed,
                }
        results.append(counts)
    return results, deepest


def full_ap(values, languages):
    return np.array(
        [
            [
                average_precision_score([x == lang for x in languages], values[:, j])
                for j in range(values.shape[1])
            ]
            for lang in LANGS
        ]
    )


@pytest.mark.parametrize("pool_size", [6, 2])
def test_bootstrap_counts_equal_the_plain_loop(pool_size):
    values, languages = tiny()
    ap = full_ap(values, languages)
    pool = candidate_pool(ap, pool_size)
    k, replicates = 2, 15
    replicated, deepest = bootstrap_overlaps(
        values[:, pool], pool, ap, languages, LANGS, k, replicates
    )
    expected, expected_deepest = reference(values, languages, pool, k, replicates, ap)
    assert len(replicated) == replicates * len(LANGS) ** 2
    for row in replicated.itertuples():
        assert {name: getattr(row, name) for name in COUNTS} == expected[row.replicate][
            row.language_a, row.language_b
        ]
    assert deepest == expected_deepest


def test_candidate_pool_is_each_languages_extremes():
    values, languages = tiny()
    ap = full_ap(values, languages)
    expected = set()
    for row in ap:
        order = sorted(range(len(row)), key=lambda n: (-row[n], n))
        expected |= set(order[:2]) | set(sorted(range(len(row)), key=lambda n: (row[n], n))[:2])
    assert candidate_pool(ap, 2).tolist() == sorted(expected)
    assert candidate_pool(ap, 100).tolist() == list(
        range(values.shape[1])
    )  # capped at half the neurons per side


def test_resampling_keeps_each_languages_rows_and_size():
    languages = ["en"] * 4 + ["de"] * 3 + ["en"]
    sample = resample_within_languages(languages, np.random.default_rng(0))
    assert len(sample) == len(languages)
    assert [languages[i] for i in sample] == ["en"] * 5 + ["de"] * 3


def test_intervals_are_order_statistics():
    counts = [
        5,
        1,
        9,
        3,
        7,
        2,
        8,
        4,
        6,
        10,
    ]  # sorted: 1 … 10; 0.025 × 9 = 0.225 → index 0; 0.975 × 9 = 8.775 → index 9
    frame = pd.DataFrame(
        {
            "replicate": range(10),
            "language_a": "en",
            "language_b": "de",
            "total": counts,
            "top_top": 0,
            "bottom_bottom": counts,
            "crossed": 0,
        }
    )
    bounds = intervals(frame).iloc[0]
    assert (bounds["total_lower"], bounds["total_upper"]) == (1, 10)
    assert (bounds["top_top_lower"], bounds["top_top_upper"]) == (0, 0)
    assert bounds["replicates"] == 10
    many = pd.concat(
        [
            frame.assign(replicate=frame["replicate"] + 10 * r, total=np.arange(10) + 10 * r)
            for r in range(10)
        ]
    )
    bounds = intervals(many).iloc[0]  # 0 … 99: 0.025 × 99 = 2.475 → 2; 0.975 × 99 = 96.525 → 97
    assert (bounds["total_lower"], bounds["total_upper"]) == (2, 97)


def test_the_csv_and_markdown_carry_the_bounds():
    split = pd.DataFrame(
        [
            {
                "language_a": a,
                "language_b": b,
                "total": 4 if a == b else 1,
                "top_top": 2 if a == b else 0,
                "bottom_bottom": 2 if a == b else 0,
                "crossed": 0 if a == b else 1,
            }
            for a in ["en", "de"]
            for b in ["en", "de"]
        ]
    )
    frame = pd.DataFrame(
        [{"replicate": r, **row} for r in range(3) for row in split.to_dict("records")]
    )
    frame.loc[
        (frame["language_a"] != frame["language_b"]) & (frame["replicate"] == 2),
        ["total", "crossed"],
    ] = 3
    table = overlap_with_intervals(split, intervals(frame), texts=10)
    assert table.columns.tolist()[:5] == [
        "language_a",
        "language_b",
        "total",
        "total_lower",
        "total_upper",
    ]
    row = table[(table["language_a"] == "en") & (table["language_b"] == "de")].iloc[0]
    assert (
        row["total"],
        row["total_lower"],
        row["total_upper"],
        row["crossed_upper"],
        row["texts"],
        row["replicates"],
    ) == (1, 1, 3, 3, 10, 3)
    matrix = overlap_matrix(table, ["en", "de"])
    assert matrix.loc[0, "en"] == "4" and matrix.loc[0, "de"] == "1 [1, 3]"
    notes = " ".join(
        overlap_interval_notes(
            {"replicates": 3, "texts": 10, "pool": 4, "per_side": 2, "neurons": 9, "deepest": 3}
        )
    )
    assert (
        "3 replicates" in notes
        and "minimum and maximum" in notes
        and "pool of 4 of the 9 neurons" in notes
    )


def test_pool_values_reads_the_pool_columns_in_order():
    from lmanatomy.language.neurons import NeuronTable

    ranked = NeuronTable([(0, "a", 3), (0, "b", 2), (1, "a", 3)]).frame()
    full = np.arange(4 * 8, dtype=np.float32).reshape(4, 8)
    modules = {"layers.0.a": full[:, 0:3], "layers.0.b": full[:, 3:5], "layers.1.a": full[:, 5:8]}
    pool = np.array([1, 3, 4, 7])
    assert np.array_equal(pool_values(modules.__getitem__, ranked, pool), full[:, pool])
