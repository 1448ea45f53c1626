"""EMD against POT, an assignment solver and a case solvable by hand; Table 2 arithmetic by hand."""

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from conftest import REPO
from lmanatomy.errors import ConfigError, DataError, NumericalError
from lmanatomy.knowledge.emd import METRICS, assemble, distances, emd2
from lmanatomy.knowledge.groups import PAPER_GROUPS, ordered_words
from lmanatomy.knowledge.plan import shard_pairs, word_pairs
from lmanatomy.knowledge.stats import (
    comparison_grid,
    headline_column,
    scores_by_metric,
    table2,
    word_comparisons,
)
from lmanatomy.report import load_paper_values

PAPER_VALUES = load_paper_values(REPO / "workflow" / "report" / "paper_values.yaml")


def test_emd_matches_pot_called_directly():
    import ot

    rng = np.random.default_rng(0)
    p1, p2 = rng.normal(size=(40, 6)), rng.normal(1.0, 2.0, size=(25, 6))
    expected = ot.emd2(ot.unif(40), ot.unif(25), ot.dist(p1, p2), numItermax=1_000_000)
    assert emd2(p1, p2) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean"])
def test_emd_of_equal_uniform_clouds_is_the_best_matching(metric):
    """Between two uniform clouds of n points the optimal plan is a permutation (Birkhoff)."""
    rng = np.random.default_rng(1)
    p1, p2 = rng.normal(size=(30, 5)), rng.normal(size=(30, 5))
    cost = cdist(p1, p2, metric=metric)
    rows, cols = linear_sum_assignment(cost)
    assert emd2(p1, p2, metric=metric) == pytest.approx(cost[rows, cols].mean(), rel=1e-10)


def test_emd_of_a_small_shift_is_the_shift():
    """Points far apart, moved by a small vector v: each point goes to its own image."""
    p1 = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    v = np.array([0.3, -0.4])
    assert emd2(p1, p1 + v, metric="euclidean") == pytest.approx(0.5)
    assert emd2(p1, p1 + v, metric="sqeuclidean") == pytest.approx(0.25)
    assert emd2(p1, p1) == 0.0
    # one cloud at two points, the other split unevenly in space: half the mass moves 2, half 0
    assert emd2(
        np.array([[0.0], [2.0]]), np.array([[0.0], [0.0]]), metric="euclidean"
    ) == pytest.approx(1.0)


def test_w2_is_the_root_of_the_squared_euclidean_optimum_and_w1_solves_its_own_problem():
    """W2 from an independent solver (scipy's assignment
    on the squared costs), W1 from the Euclidean costs."""
    rng = np.random.default_rng(3)
    p1, p2 = rng.normal(size=(20, 4)), rng.normal(0.5, 1.5, size=(20, 4))
    squared = cdist(p1, p2, "sqeuclidean")
    rows, cols = linear_sum_assignment(squared)
    assert emd2(p1, p2, metric="w2") == pytest.approx(
        np.sqrt(squared[rows, cols].mean()), rel=1e-10
    )
    plain = cdist(p1, p2)
    rows, cols = linear_sum_assignment(plain)
    assert emd2(p1, p2, metric="euclidean") == pytest.approx(plain[rows, cols].mean(), rel=1e-10)
    # W1 ≤ W2 (Jensen), and here strictly: the metrics are different quantities
    assert emd2(p1, p2, metric="euclidean") < emd2(p1, p2, metric="w2")
    with pytest.raises(ConfigError, match="knowledge.metric"):
        emd2(p1, p2, metric="cosine")


def test_emd_that_does_not_converge_raises():
    rng = np.random.default_rng(2)
    with pytest.raises(NumericalError, match="did not converge"):
        emd2(rng.normal(size=(60, 4)), rng.normal(size=(60, 4)), num_itermax=3)


def test_emd_rejects_bad_clouds():
    with pytest.raises(DataError, match="same dimension"):
        emd2(np.zeros((3, 2)), np.zeros((3, 4)))
    with pytest.raises(NumericalError, match="NaN"):
        emd2(np.array([[np.nan]]), np.array([[0.0]]))


def test_pairs_are_sharded_exactly_once_and_assembled_symmetrically():
    words = [f"w{i}" for i in range(7)]
    shards = list(shard_pairs(words, 4).values())
    assert [len(s) for s in shards] == [6, 5, 5, 5]
    assert sum(len(s) for s in shards) == len(word_pairs(words)) == 21
    assert sorted(p for s in shards for p in s) == sorted(word_pairs(words))
    clouds = {w: np.full((3, 2), float(i)) for i, w in enumerate(words)}
    tables = [distances(clouds, s, "euclidean", 1_000_000) for s in shards]
    matrix = assemble(tables, words)
    expected = np.abs(np.subtract.outer(range(7), range(7))) * np.sqrt(2)
    np.testing.assert_allclose(matrix.to_numpy(), expected)
    # every metric is in the shards: each point moves by |i - j|·√2, so W2² = 2|i - j|², W2 = W1
    assert list(tables[0].columns) == ["word_1", "word_2", "distance", *METRICS]
    np.testing.assert_allclose(
        assemble(tables, words, column="sqeuclidean").to_numpy(), expected**2
    )
    np.testing.assert_allclose(assemble(tables, words, column="w2").to_numpy(), expected)
    with pytest.raises(DataError, match="no column 'cosine'"):
        assemble(tables, words, column="cosine")
    with pytest.raises(DataError, match="missing"):
        assemble(tables[:-1], words)
    with pytest.raises(DataError, match="more than one"):
        assemble(tables + tables[:1], words)


GROUPS = {"A": ["a1", "a2", "a3"], "B": ["b1", "b2"]}
# Hand-made distances (upper triangle); per row, the own-group mean is the threshold.
PAIRS = {
    ("a1", "a2"): 1,
    ("a1", "a3"): 3,
    ("a2", "a3"): 2,
    ("b1", "b2"): 2,
    ("a1", "b1"): 5,
    ("a1", "b2"): 1.5,
    ("a2", "b1"): 1,
    ("a2", "b2"): 4,
    ("a3", "b1"): 2.6,
    ("a3", "b2"): 2.4,
}


def _matrix():
    words = ["a1", "a2", "a3", "b1", "b2"]
    frame = pd.DataFrame(0.0, index=words, columns=words)
    for (x, y), value in PAIRS.items():
        frame.loc[x, y] = frame.loc[y, x] = value
    return frame


def test_table2_counts_hits_against_the_own_group_mean():
    # a1: mean(1,3)=2 → b1 5 hit, b2 1.5 miss; a2: mean(1,2)=1.5 → b1 miss, b2 4 hit;
    # a3: mean(3,2)=2.5 → b1 2.6 hit, b2 2.4 miss; b1: mean 2 → a1 hit, a2 miss, a3 hit;
    # b2: mean 2 → a1 miss, a2 hit, a3 hit.
    per_word = word_comparisons(_matrix(), GROUPS).set_index("word")
    assert per_word["hits"].to_dict() == {"a1": 1, "a2": 1, "a3": 1, "b1": 2, "b2": 2}
    assert per_word.loc["a3", "group_mean"] == 2.5
    table = table2(_matrix(), GROUPS).set_index("group")
    assert (
        table.loc["A", "hits"] == 3
        and table.loc["A", "comparisons"] == 6
        and table.loc["A", "comparisons_as_paper"] == 9
    )
    assert table.loc["A", "score_corrected"] == pytest.approx(50.0)
    assert table.loc["A", "score_as_paper"] == pytest.approx(100 * 3 / 9)
    assert table.loc["B", "score_corrected"] == pytest.approx(100 * 4 / 6)
    assert table.loc["B", "score_as_paper"] == pytest.approx(50.0)
    assert (
        headline_column("as_paper") == "score_as_paper"
        and headline_column("corrected") == "score_corrected"
    )
    # The interval resamples words: a plain loop over the same seeded draws of group A's 3 words
    # (hits 1, 1, 1; 2 comparisons each, 3 as the paper counts) — every resample scores 50
    # (corrected) and 33.3 (as paper).
    assert table.loc[
        "A", ["score_corrected_ci95_low", "score_corrected_ci95_high"]
    ].tolist() == pytest.approx([50.0, 50.0])
    assert table.loc[
        "A", ["score_as_paper_ci95_low", "score_as_paper_ci95_high"]
    ].tolist() == pytest.approx([100 / 3, 100 / 3])
    with pytest.raises(ConfigError, match="knowledge.denominator"):
        headline_column("code")


def test_word_bootstrap_against_a_plain_loop():
    import numpy as np

    from lmanatomy.knowledge.stats import word_bootstrap

    hits, comparisons = np.array([5, 0, 3, 7, 2]), np.array([8, 8, 8, 8, 8])
    draws = np.random.default_rng(0).integers(0, 5, size=(1000, 5))
    scores = [100 * sum(hits[i] for i in row) / sum(comparisons[i] for i in row) for row in draws]
    assert word_bootstrap(hits, comparisons) == pytest.approx(
        tuple(np.quantile(scores, [0.025, 0.975]))
    )
    low, high = word_bootstrap(hits, comparisons)
    assert low < 100 * hits.sum() / comparisons.sum() < high
    assert np.isnan(word_bootstrap(hits[:1], comparisons[:1])).all()


# Hits per group that the paper's Table 2 implies with the released code's denominator.
PAPER_HITS = {"animals": 233, "colors": 176, "countries": 148, "languages": 206}


def test_the_papers_table2_comes_out_exactly_only_with_the_codes_denominator():
    """233/248, 176/224, 206/270 round to 94.0, 78.6, 76.3;
    with the corrected denominators no hit count does."""
    sizes = {g: len(m) for g, m in PAPER_GROUPS.items()}
    total = sum(sizes.values())
    for group, size in sizes.items():
        as_paper, corrected = size * (total - size) + size, size * (total - size)
        assert (
            round(100 * PAPER_HITS[group] / as_paper, 1)
            == PAPER_VALUES["knowledge"]["values"][group]
        )
        reproducible = [
            h
            for h in range(corrected + 1)
            if round(100 * h / corrected, 1) == PAPER_VALUES["knowledge"]["values"][group]
        ]
        assert (reproducible == []) == (group != "countries"), (
            group,
            reproducible,
        )  # countries: 142/336 = 42.26 too


def test_table2_on_the_papers_words_uses_those_denominators():
    """Every other-group word farther than the own group: corrected
    100, as the paper computed it n(38-n)/(n(38-n)+n)."""
    words = ordered_words(PAPER_GROUPS)
    matrix = pd.DataFrame(2.0, index=words, columns=words)
    for members in PAPER_GROUPS.values():
        matrix.loc[members, members] = 1.0
    for word in words:
        matrix.loc[word, word] = 0.0
    table = table2(matrix, PAPER_GROUPS).set_index("group")
    assert table["comparisons_as_paper"].to_dict() == {
        "animals": 248,
        "colors": 224,
        "countries": 350,
        "languages": 270,
    }
    assert (table["score_corrected"] == 100.0).all()
    assert table.loc["animals", "score_as_paper"] == pytest.approx(100 * 240 / 248)


def test_scores_by_metric_gives_both_columns_per_metric():
    flipped = _matrix()
    flipped.loc["a1", "b2"] = flipped.loc["b2", "a1"] = (
        9.0  # a1: b2 becomes a hit; b2: a1 becomes a hit
    )
    scores = scores_by_metric({"sqeuclidean": _matrix(), "euclidean": flipped}, GROUPS).set_index(
        ["metric", "group"]
    )
    assert scores.loc[("sqeuclidean", "A"), "score_corrected"] == pytest.approx(50.0)
    assert scores.loc[("euclidean", "A"), "score_corrected"] == pytest.approx(100 * 4 / 6)
    assert scores.loc[("euclidean", "B"), "score_as_paper"] == pytest.approx(100 * 5 / 8)


def test_a_distance_equal_to_the_mean_is_not_a_hit():
    matrix = _matrix()
    matrix.loc["a1", "b1"] = matrix.loc["b1", "a1"] = 2.0  # a1's own-group mean is exactly 2
    assert word_comparisons(matrix, GROUPS).set_index("word").loc["a1", "hits"] == 0


def test_fig4_grid_marks_self_group_hits_and_misses():
    grid = comparison_grid(_matrix(), GROUPS)
    assert grid.loc["a1", "a1"] == 0 and grid.loc["a1", "a2"] == 1
    assert grid.loc["a1", "b1"] == 3 and grid.loc["a1", "b2"] == 2
    assert grid.loc["b2", "a1"] == 2 and grid.loc["b2", "a3"] == 3


def test_table2_rejects_a_matrix_in_another_order():
    with pytest.raises(DataError, match="group order"):
        table2(_matrix().iloc[::-1, ::-1], GROUPS)
