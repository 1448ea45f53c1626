"""Finding 3 (STS): Spearman per layer against scipy, the
bootstrap interval, the pair table on real JSTS pairs."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import spearmanr

from lmanatomy.errors import DataError
from lmanatomy.paramact import ParameterActivation, llmdcos
from lmanatomy.paramact.sts import (
    Interval,
    bootstrap_spearman,
    spearman_columns,
    sts_pairs,
    sts_statistics,
    sts_table,
)
from lmanatomy.testing import tiny_model

# Hand-made: 7 pairs, ties in gold (2.0 twice, 4.5 twice) and in one column (0.3 three times).
GOLD = np.array([0.0, 2.0, 2.0, 3.1, 4.5, 4.5, 5.0])
COLUMNS = np.array(
    [
        [0.10, 0.30, 0.90],
        [0.20, 0.30, 0.80],
        [0.25, 0.30, 0.85],
        [0.40, 0.50, 0.20],
        [0.35, 0.60, 0.10],
        [0.70, 0.55, 0.15],
        [0.90, 0.80, 0.05],
    ]
)


def test_spearman_per_column_equals_scipy_with_ties():
    ours = spearman_columns(GOLD, COLUMNS)
    expected = [spearmanr(GOLD, COLUMNS[:, k]).statistic for k in range(COLUMNS.shape[1])]
    np.testing.assert_allclose(ours, expected, rtol=1e-12)
    assert ours[2] < 0 < ours[0]


def test_constant_column_has_no_correlation():
    assert np.isnan(spearman_columns(GOLD, np.ones((7, 1)))[0])


def test_bootstrap_interval_is_seeded_and_brackets_a_clear_correlation():
    rng = np.random.default_rng(1)
    gold = rng.uniform(0, 5, 60)
    values = np.column_stack([gold + rng.normal(0, 0.5, 60), rng.normal(0, 1, 60)])
    rho, low, high = bootstrap_spearman(gold, values, Interval(resamples=300, seed=3))
    again = bootstrap_spearman(gold, values, Interval(resamples=300, seed=3))
    np.testing.assert_array_equal(low, again[1])
    assert low[0] > 0.7 and low[0] <= rho[0] <= high[0]
    assert low[1] < 0 < high[1]  # no correlation: the interval straddles 0


def test_statistics_layout_and_deep_sum():
    rows = []
    for i, g in enumerate(GOLD):
        for layer in range(6):
            rows.append(
                {
                    "dataset": "x",
                    "index": i,
                    "row_id": str(i),
                    "gold": g,
                    "layer": layer,
                    "llmdcos": COLUMNS[i, layer % 3] + 0.01 * layer,
                }
            )
    stats = sts_statistics(pd.DataFrame(rows), num_layers=6, interval=Interval(resamples=50))
    assert list(stats["layers"]) == ["0", "1", "2", "3", "4", "5", "sum 3-3"]
    summed = np.array(
        [COLUMNS[i, 0] + 0.03 for i in range(7)]
    )  # L/2..L-3 of 6 layers = layer 3 only
    assert stats["spearman"].iloc[-1] == pytest.approx(spearmanr(GOLD, summed).statistic)


def test_sts_pairs_checks_columns_and_size():
    frame = pd.DataFrame({"sentence1": ["a", "b"], "sentence2": ["c", "d"], "label": [1.0, 2.0]})
    with pytest.raises(DataError, match="3 STS pairs"):
        sts_pairs(frame, 3, 0)
    with pytest.raises(DataError, match="'label'"):
        sts_pairs(frame.drop(columns="label"), 1, 0)


def test_pair_table_on_real_jsts_pairs(shared_data, tokenizer):
    path = shared_data / "jglue" / "jsts-v1.1" / "valid-v1.1.json"
    if not path.exists():
        pytest.skip("../shared/data has no JSTS")
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[:40]]
    frame = pd.DataFrame(
        {
            "id": [r["sentence_pair_id"] for r in lines],
            "sentence1": [r["sentence1"] for r in lines],
            "sentence2": [r["sentence2"] for r in lines],
            "label": [float(r["label"]) for r in lines],
        }
    )
    torch.set_num_threads(1)
    model, tok = tiny_model("llama", tokenizer=tokenizer)
    scorer = ParameterActivation(model)
    pairs = sts_pairs(frame, 4, seed=0)
    table = sts_table(scorer, tok, "jsts", pairs)
    assert len(table) == 4 * scorer.num_layers and set(table["gold"]) <= set(frame["label"])
    first = pairs.iloc[0]
    direct = llmdcos(
        scorer.score(scorer.tokenize(tok, first.sentence1)),
        scorer.score(scorer.tokenize(tok, first.sentence2)),
    )
    np.testing.assert_allclose(table[table["index"] == 0]["llmdcos"], direct, rtol=1e-12)
    assert ((table["llmdcos"] >= 0) & (table["llmdcos"] <= 1 + 1e-9)).all()


def test_a_split_pair_table_is_the_unsplit_one(tokenizer):
    """STS split over jobs (paramact_sts_block +
    paramact_sts_merge): the blocks in order are the whole table."""
    from lmanatomy.tables import block_of

    words = ["red", "blue", "cat", "dog", "runs", "sleeps", "small", "large"]
    frame = pd.DataFrame(
        {
            "sentence1": [
                f"the {a} {b}" for a, b in zip(words, words[1:] + words[:1], strict=True)
            ],
            "sentence2": [f"a {b} {a}" for a, b in zip(words, words[::-1], strict=True)],
            "label": [float(i % 5) for i in range(len(words))],
        }
    )
    torch.set_num_threads(1)
    model, tok = tiny_model("llama", tokenizer=tokenizer)
    scorer = ParameterActivation(model)
    pairs = sts_pairs(frame, 5, seed=3)
    whole = sts_table(scorer, tok, "sts", pairs)
    blocks = [sts_table(scorer, tok, "sts", block_of(pairs, i, 2)) for i in range(2)]
    pd.testing.assert_frame_equal(pd.concat(blocks, ignore_index=True), whole)
    assert sorted(set(whole["index"])) == [0, 1, 2, 3, 4]
