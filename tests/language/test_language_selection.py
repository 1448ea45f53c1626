"""Top / bottom / middle selection, the overlap table and the layer histograms."""

import numpy as np
import pytest

from lmanatomy.errors import DataError
from lmanatomy.language.neurons import NeuronTable
from lmanatomy.language.selection import (
    bottom_k,
    chosen,
    layer_histograms,
    middle_k,
    overlap_split,
    overlap_table,
    select,
    top_k,
)

LANGS = ["en", "de", "fr", "es", "zh", "ja"]


def _ranked(seed=0, layers=4, width=30):
    table = NeuronTable(
        [(layer, name, width) for layer in range(layers) for name in ("attn.q", "mlp.up")]
    )
    frame = table.frame()
    rng = np.random.default_rng(seed)
    for lang in LANGS:
        frame[f"ap_{lang}"] = np.round(rng.random(len(frame)), 2)  # ties on purpose
    for lang in LANGS:
        frame[f"median_{lang}"] = rng.normal(size=len(frame))
    return table, frame


def test_top_and_bottom_follow_ap_with_index_tiebreak():
    ap = np.array([0.5, 0.9, 0.1, 0.9, 0.1, 0.3])
    assert top_k(ap, 3).tolist() == [1, 3, 0]
    assert bottom_k(ap, 3).tolist() == [2, 4, 5]
    rng = np.random.default_rng(1)
    ap = np.round(rng.random(500), 1)
    naive = sorted(range(500), key=lambda i: (-ap[i], i))
    assert top_k(ap, 40).tolist() == naive[:40]
    assert bottom_k(ap, 40).tolist() == sorted(range(500), key=lambda i: (ap[i], i))[:40]


def test_middle_is_around_the_median():
    ap = np.arange(100, dtype=float)[::-1]  # neuron i has AP 99 - i
    middle = middle_k(ap, 10)
    assert sorted(ap[middle].tolist()) == list(range(45, 55))


def test_k_too_large_is_an_error():
    with pytest.raises(DataError, match="need 8 neurons but there are only 7"):
        top_k(np.zeros(7), 4)


def test_select_and_overlap_table():
    _, frame = _ranked()
    k = 20
    selection = select(frame, LANGS, k)
    assert len(selection) == len(LANGS) * 2 * k
    en_top = selection[(selection.language == "en") & (selection.kind == "top")]
    assert en_top["index"].tolist() == top_k(frame["ap_en"].to_numpy(), k).tolist()
    assert np.allclose(en_top["value"], frame["median_en"].to_numpy()[en_top["index"]])
    assert (en_top["module"] == frame["module"].astype(str).to_numpy()[en_top["index"]]).all()
    table = overlap_table(selection, LANGS, k)
    counts = table[LANGS].to_numpy()
    assert (counts == counts.T).all()
    assert (np.diag(counts) == 2 * k).all()
    # Independent count for one pair.
    sets = {
        lang: set(top_k(frame[f"ap_{lang}"].to_numpy(), k))
        | set(bottom_k(frame[f"ap_{lang}"].to_numpy(), k))
        for lang in LANGS
    }
    assert counts[LANGS.index("en"), LANGS.index("ja")] == len(sets["en"] & sets["ja"])
    # The split: hand counts of the four kind pairs, adding up to the paper's total.
    split = overlap_split(selection, LANGS, k).set_index(["language_a", "language_b"])
    ap = {lang: frame[f"ap_{lang}"].to_numpy() for lang in LANGS}
    top = {lang: set(top_k(ap[lang], k)) for lang in LANGS}
    bottom = {lang: set(bottom_k(ap[lang], k)) for lang in LANGS}
    for a, b in (("en", "ja"), ("de", "fr"), ("zh", "zh")):
        row = split.loc[(a, b)]
        assert row["top_top"] == len(top[a] & top[b]) and row["bottom_bottom"] == len(
            bottom[a] & bottom[b]
        )
        assert row["crossed"] == len(top[a] & bottom[b]) + len(bottom[a] & top[b])
        assert row["total"] == counts[LANGS.index(a), LANGS.index(b)]
    assert split.loc[("zh", "zh"), "crossed"] == 0
    # A smaller k reuses the first rows of a larger selection.
    small = overlap_table(selection, LANGS, 5)
    assert (np.diag(small[LANGS].to_numpy()) == 10).all()
    with pytest.raises(DataError, match="fewer than k=21"):
        chosen(selection, "en", ["top"], 21)


def test_layer_histograms_count_each_group():
    table, frame = _ranked()
    counts = layer_histograms(frame, LANGS, 25, table.num_layers)
    sums = counts.groupby(["language", "group"])["count"].sum()
    assert (sums == 25).all()
    top_layers = np.bincount(
        frame["layer"].to_numpy()[top_k(frame["ap_de"].to_numpy(), 25)], minlength=4
    )
    got = (
        counts[(counts.language == "de") & (counts.group == "top")]
        .sort_values("layer")["count"]
        .to_numpy()
    )
    assert got.tolist() == top_layers.tolist()


def test_neuron_table_locates_every_index():
    table = NeuronTable([(0, "q", 3), (0, "up", 5), (1, "q", 3), (1, "up", 5)])
    assert len(table) == 16
    located = table.locate([0, 3, 8, 15])
    assert located["module"].tolist() == ["layers.0.q", "layers.0.up", "layers.1.q", "layers.1.up"]
    assert located["channel"].tolist() == [0, 0, 0, 4]
    assert located["layer"].tolist() == [0, 0, 1, 1]
    frame = table.frame()
    assert frame.loc[8, "module"] == "layers.1.q" and frame.loc[15, "channel"] == 4
    with pytest.raises(DataError, match="out of range"):
        table.locate([16])
