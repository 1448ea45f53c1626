"""The study around the solver: sentence split, pair
loading, summaries, top list, figures, config."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO
from lmanatomy.config import validate_config
from lmanatomy.errors import ConfigError, DataError, StoreError
from lmanatomy.redundancy.analysis import (
    LAST_LAYER_MEANING,
    baseline_note,
    deviations,
    frequent_dims,
    last_layer_table,
    pair_summary,
    poster_dims_note,
    read_rows,
    settings_note,
    top_pairs,
    write_table_head,
)
from lmanatomy.redundancy.pairs import choose_sentences, layer_pairs, pair_arrays


def test_layer_pairs():
    assert layer_pairs(30) == list(range(1, 30))  # 29 pairs 1→2 … 29→30
    assert layer_pairs(32) == list(range(1, 32))  # the paper's 31
    assert layer_pairs(3, include_embedding=True) == [0, 1, 2]
    with pytest.raises(ValueError, match="at least 2 decoder layers"):
        layer_pairs(1)


def test_choose_sentences_dedupes_is_seeded_and_disjoint():
    frame = pd.DataFrame({"id": [f"train/{i}" for i in range(30)], "text": [f"s{i % 20}" for i in range(30)]})
    split = choose_sentences(frame, train=12, test=6, seed=3)
    assert list(split.columns) == ["id", "text", "split"]
    assert split["text"].is_unique and len(split) == 18
    assert (split["split"] == "train").sum() == 12
    assert set(split["id"]) <= {f"train/{i}" for i in range(20)}  # first occurrence of each text
    assert split.equals(choose_sentences(frame, train=12, test=6, seed=3))
    assert not split.equals(choose_sentences(frame, train=12, test=6, seed=4))
    with pytest.raises(DataError, match="only 20 distinct texts"):
        choose_sentences(frame, train=15, test=6)
    with pytest.raises(ValueError, match="at least 2"):
        choose_sentences(frame, train=1, test=6)


class FakeStore:
    """ids + read(columns) like lmanatomy.extract's Store; row i of hidden_states.k is k*100 + i."""

    def __init__(self, ids, layers=4, width=3):
        self._ids = list(ids)
        self.columns = [f"hidden_states.{k}" for k in range(layers)]
        self.width = width

    def ids(self):
        return self._ids

    def read(self, columns):
        k = int(columns[0].split(".")[1])
        rows = np.arange(len(self._ids), dtype=float)[:, None] + 100.0 * k
        return np.repeat(rows, self.width, axis=1)


def test_pair_arrays_follow_the_split():
    store = FakeStore([f"train/{i}" for i in range(10)])
    split = pd.DataFrame({"id": ["train/7", "train/2", "train/5"], "text": ["a", "b", "c"], "split": ["train", "test", "train"]})
    arrays = pair_arrays(store, split, source=2)
    np.testing.assert_array_equal(arrays["x_train"][:, 0], [207, 205])
    np.testing.assert_array_equal(arrays["y_train"][:, 0], [307, 305])
    np.testing.assert_array_equal(arrays["x_test"][:, 0], [202])
    with pytest.raises(StoreError, match="not in the activation store"):
        pair_arrays(store, pd.concat([split, pd.DataFrame({"id": ["valid/1"], "text": ["d"], "split": ["test"]})]), 2)
    with pytest.raises(StoreError, match="no column"):
        pair_arrays(store, split, source=3)


def rows_for(source, r2, inputs, r2_identity=None, scaled=None, other=None):
    """Pair rows as fit_pair writes them; the other rankings default to the |weight| one."""
    n = len(r2)
    r2_identity = np.zeros(n) if r2_identity is None else np.asarray(r2_identity, dtype=float)
    lists = lambda given: [np.array(i) for i in (inputs if given is None else given)]  # noqa: E731
    return pd.DataFrame({
        "source_layer": source, "target_layer": source + 1, "pair": f"{source}→{source + 1}", "dim": np.arange(n),
        "r2": r2, "r2_identity": r2_identity, "r2_gain": np.asarray(r2, dtype=float) - r2_identity,
        "self_rank": [1 + list(i).index(d) if d in list(i) else len(i) + 1 for d, i in enumerate(inputs)],
        "converged": True, "kkt_violation": 1e-5, "top_inputs": lists(None),
        "top_weights": [np.linspace(1, 0.5, len(i)) for i in inputs],
        "top_inputs_scaled": lists(scaled), "top_inputs_other": lists(other),
        "C": 1.0, "epsilon": 0.1, "standardize": False, "tol": 1e-4, "n_train": 8, "n_test": 4,
    })


def test_summary_top_list_and_frequent_dims():
    rows = pd.concat([
        rows_for(1, [0.5, 0.9, np.nan, 0.1], [[1, 0], [1, 3], [2, 1], [0, 2]]),
        rows_for(2, [0.95, 0.2, 0.3, 0.9], [[0, 1], [3, 1], [2, 0], [3, 2]]),
    ], ignore_index=True)
    summary = pair_summary(rows)
    assert summary["pair"].tolist() == ["1→2", "2→3"]
    np.testing.assert_allclose(summary["mean_r2"], [np.mean([0.5, 0.9, 0.1]), np.mean([0.95, 0.2, 0.3, 0.9])])
    np.testing.assert_allclose(summary["std_r2"], [np.std([0.5, 0.9, 0.1]), np.std([0.95, 0.2, 0.3, 0.9])])
    assert summary["max_r2"].tolist() == [0.9, 0.95]
    assert summary["undefined"].tolist() == [1, 0]
    top = top_pairs(rows, count=3)
    # 0.9 twice: pair 1→2 before 2→3 (ties by pair, then dim).
    assert list(zip(top["pair"], top["target_dim"], strict=True)) == [("2→3", 0), ("1→2", 1), ("2→3", 3)]
    assert top["inputs"].tolist() == ["0 1", "1 3", "3 2"]
    frequent = frequent_dims(rows, top)
    counts = dict(zip(frequent["dim"], frequent["in_top"], strict=True))
    assert counts == {1: 2, 3: 2, 0: 1, 2: 1}
    assert frequent["dim"].tolist()[:2] == [1, 3]  # in_top 2 each; dim 1 is in more lists overall
    assert dict(zip(frequent["dim"], frequent["in_all"], strict=True)) == {0: 4, 1: 5, 2: 4, 3: 3}
    assert frequent.loc[frequent["dim"] == 3, "self_share"].item() == 0.5  # (2→3, dim 3) lists 3 itself
    # Top targets: (2→3, 0), (1→2, 1), (2→3, 3).
    assert dict(zip(frequent["dim"], frequent["as_target"], strict=True)) == {0: 1, 1: 1, 2: 0, 3: 1}
    note = poster_dims_note(frequent, hidden_size=4, model="tiny")
    assert "1421 and 2352" in note and "do not exist here" in note
    assert "Most frequent contributors here: 1, 3" in note and "top-list targets: 0 (1×), 1 (1×), 3 (1×)" in note


def test_baseline_gain_and_the_other_rankings_reach_the_tables():
    rows = pd.concat([
        rows_for(1, [0.5, 0.9], [[0, 1], [1, 0]], r2_identity=[0.4, 0.2], scaled=[[1], [0]], other=[[1], [0]]),
        rows_for(2, [0.8, 0.6], [[1, 0], [1, 0]], r2_identity=[0.7, 0.7], scaled=[[1], [1]], other=[[1], [0]]),
    ], ignore_index=True)
    summary = pair_summary(rows)
    np.testing.assert_allclose(summary["mean_r2_identity"], [0.3, 0.7])
    np.testing.assert_allclose(summary["mean_gain"], [0.4, 0.0], atol=1e-12)
    np.testing.assert_allclose(summary["max_gain"], [0.7, 0.1])
    np.testing.assert_allclose(summary["std_gain"], [np.std([0.1, 0.7]), np.std([0.1, -0.1])])
    assert summary["self_top_share"].tolist() == [1.0, 0.5]
    top = top_pairs(rows, count=4)
    assert top["r2_gain"].round(6).tolist() == [0.7, 0.1, -0.1, 0.1]
    assert top["inputs_scaled"].tolist() == ["0", "1", "1", "1"]
    frequent = frequent_dims(rows, top).set_index("dim")
    assert frequent.loc[1, "in_top_scaled"] == 3 and frequent.loc[0, "in_top_scaled"] == 1
    assert frequent.loc[0, "in_top_other"] == 2 and frequent.loc[1, "in_top_other"] == 2
    note = baseline_note(summary)
    assert "0.30 to 0.70" in note and "0.00 to 0.40" in note and "50% to 100%" in note


def test_poster_dims_are_ranked_when_the_model_has_them():
    frequent = pd.DataFrame({"rank": [1, 2, 3], "dim": [2352, 7, 1421], "in_top": [9, 3, 0], "as_target": [4, 0, 2]})
    note = poster_dims_note(frequent, hidden_size=4096, model="llama-3-youko-8b")
    assert "dim 1421: never among the top contributors, 2× a top-list target" in note
    assert "dim 2352: rank 1, 4× a top-list target" in note


def test_notes_say_how_the_run_deviates(tmp_path):
    section = {"train": 256, "test": 64, "C": 1.0, "epsilon": 0.1, "standardize": True, "include_embedding": False}
    demo = {"format": "jsts", "origin": {"is_demo": True, "subset": False, "text": "demo data written for this project"}}
    notes = deviations("smollm2-135m", section, {"last_layer": "raw"}, demo)
    assert any("not the poster's rinna/llama-3-youko-8b" in n for n in notes)
    assert any("demo data" in n for n in notes)
    assert any("256 train / 64 test" in n for n in notes)
    assert any("standardised" in n for n in notes)
    paper = {"train": 800, "test": 200, "C": 1.0, "epsilon": 0.1, "standardize": False}
    assert deviations("llama-3-youko-8b", paper, {"last_layer": "raw"}, {"format": "jsts", "origin": {"is_demo": False, "subset": False, "text": "real data, the upstream files"}}) == []
    subset = {"format": "jsts", "origin": {"is_demo": False, "subset": True, "text": "real data, subset of 9 of 99 rows"}}
    assert "Sentences: JSTS sentence1, real data, subset of 9 of 99 rows." in deviations("llama-3-youko-8b", paper, {}, subset)
    rows = rows_for(1, [0.5, 0.7], [[0], [1]])
    rows.loc[1, "converged"] = False
    assert "1 of 2 regressions (1 did not" in settings_note(rows)
    write_table_head(pd.DataFrame({"a": range(5)}), tmp_path / "t.csv", tmp_path / "t.md", rows=2, title="T", notes=["n"])
    assert len(pd.read_csv(tmp_path / "t.csv")) == 5
    assert "First 2 of 5 rows" in (tmp_path / "t.md").read_text()


def test_read_rows_orders_pairs(tmp_path):
    from lmanatomy.redundancy.fitting import write_rows

    write_rows(rows_for(2, [0.1], [[0]]), tmp_path / "b.parquet")
    write_rows(rows_for(1, [0.2, 0.3], [[0], [1]]), tmp_path / "a.parquet")
    rows = read_rows([tmp_path / "b.parquet", tmp_path / "a.parquet"])
    assert rows["source_layer"].tolist() == [1, 1, 2]
    assert not list(tmp_path.glob(".*tmp*"))


def test_figures_render_deterministically(tmp_path):
    from lmanatomy.plots import save
    from lmanatomy.redundancy import figures

    rng = np.random.default_rng(0)
    rows = pd.concat([rows_for(s, rng.uniform(-0.2, 1, 40), rng.integers(0, 40, size=(40, 3)).tolist()) for s in range(1, 8)], ignore_index=True)
    rows.loc[5, "r2"] = np.nan
    summary, top = pair_summary(rows), top_pairs(rows, 50)
    frequent = frequent_dims(rows, top)
    outputs = []
    for attempt in range(2):
        stats = ("mean_r2", "max_r2", "std_r2", "mean_gain", "max_gain", "std_gain")
        paths = [tmp_path / f"{attempt}_{name}.png" for name in (*stats, "full", "paths")]
        for path, stat in zip(paths, stats, strict=False):  # the last two paths are the other figures
            save(figures.pair_stat_heatmap(summary, stat, "t"), path, note="note")
        save(figures.layer_dim_heatmap(rows, "t"), paths[-2], note="note")
        save(figures.paths_figure(top, frequent, 40, list(range(1, 8)), "t"), paths[-1], note="note")
        outputs.append([p.read_bytes() for p in paths])
    assert outputs[0] == outputs[1]
    with pytest.raises(ValueError, match="unknown statistic"):
        figures.pair_stat_heatmap(summary, "median_r2", "t")


@pytest.fixture
def default_config():
    with open(REPO / "config" / "config.yaml", encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    config["models_file"] = str(REPO / "config" / "models.yaml")
    config["data_root"] = str(REPO / "data" / "demo")
    # The demo JSTS: 320 rows with 320 distinct sentence1, all of them, at the sizes it holds.
    config["datasets"][config["redundancy"]["dataset"]].pop("sample", None)
    config["redundancy"].update(train=256, test=64)
    config["studies"] = ["redundancy"]
    return config


@pytest.mark.parametrize(
    "change,key,message",
    [
        (lambda c: c["redundancy"].update(models=["nope-1b"]), "redundancy.models[0]", "unknown model 'nope-1b'"),
        (lambda c: c["redundancy"].update(dataset="nope"), "redundancy.dataset", "unknown dataset 'nope'"),
        (lambda c: c["redundancy"].update(probe="nope"), "redundancy.probe", "unknown probe 'nope'"),
        (lambda c: c["redundancy"].update(probe="linears_mean"), "redundancy.probe", "needs modules: hidden_states, pool: eos"),
        (lambda c: c["redundancy"].update(top_inputs=1000), "redundancy.top_inputs", "exceeds the hidden size 576"),
        (lambda c: c["datasets"][c["redundancy"]["dataset"]].update(sample={"n": 100}), "redundancy.train", "samples only 100 rows"),
        (lambda c: c["redundancy"].update(train=1), "redundancy.train", "minimum of 2"),
        # the demo JSTS has 320 distinct sentence1 texts (the default run asks for exactly 256 + 64)
        (lambda c: c["redundancy"].update(train=300), "redundancy.train", "has only 320 distinct texts"),
        (lambda c: c["redundancy"].update(C=0), "redundancy.C", "less than or equal to the minimum of 0"),
        (lambda c: c["redundancy"].update(unknown=1), "redundancy.unknown", "unknown key"),
        (lambda c: c["redundancy"].update(last_layer_probe="nope"), "redundancy.last_layer_probe", "unknown probe 'nope'"),
        (lambda c: c["redundancy"].update(last_layer_probe="hidden_eos"), "redundancy.last_layer_probe", "the same way"),
        (lambda c: c["redundancy"].update(last_layer_probe="linears_mean"), "redundancy.last_layer_probe", "needs modules"),
    ],
)
def test_config_errors_name_the_key(default_config, change, key, message):
    config = copy.deepcopy(default_config)
    change(config)
    with pytest.raises(ConfigError, match=message) as info:
        validate_config(config, REPO / "workflow" / "schemas")
    assert info.value.key == key


def test_config_defaults_are_filled(default_config):
    config = copy.deepcopy(default_config)
    for key in ("seed", "standardize", "tol", "threads", "include_embedding", "max_iter"):
        config["redundancy"].pop(key, None)
    validate_config(config, REPO / "workflow" / "schemas")
    section = config["redundancy"]
    assert (section["seed"], section["standardize"], section["tol"], section["threads"], section["max_iter"]) == (0, False, 1e-4, 1, 20000)


def test_last_layer_table_shows_the_last_pair_both_ways():
    rows = pd.concat([rows_for(s, [0.1 * s, 0.1 * s + 0.05], [[0], [1]]) for s in (1, 2, 3)], ignore_index=True)
    normed = rows_for(3, [0.9, 0.7], [[1], [1]], r2_identity=[0.5, 0.5])
    table = last_layer_table(rows, normed, "raw", "normed")
    assert table["pair"].tolist() == ["2→3", "3→4", "3→4"]
    assert table["last_hidden_state"].tolist() == ["(not involved)", LAST_LAYER_MEANING["raw"], LAST_LAYER_MEANING["normed"]]
    np.testing.assert_allclose(table["mean_r2"], [0.225, 0.325, 0.8])
    np.testing.assert_allclose(table["mean_gain"], [0.225, 0.325, 0.3])
    with pytest.raises(ValueError, match="same way"):
        last_layer_table(rows, normed, "raw", "raw")
    with pytest.raises(ValueError, match="last pair 3→4 only"):
        last_layer_table(rows, rows_for(2, [0.5], [[0]]), "raw", "normed")



def test_run_summary_reads_redundancy_from_the_gain(tmp_path):
    from lmanatomy.report.summary import redundancy_section

    rows = pd.concat([rows_for(1, [0.5, 0.9], [[0], [1]], r2_identity=[0.4, 0.6]),
                      rows_for(2, [0.8, 0.6], [[0], [1]], r2_identity=[0.7, 0.7])], ignore_index=True)
    out = tmp_path / "redundancy" / "tiny"
    out.mkdir(parents=True)
    pair_summary(rows).to_csv(out / "pair_summary.csv", index=False)
    frequent_dims(rows, top_pairs(rows, 3)).to_csv(out / "frequent_dims.csv", index=False)
    text = "\n".join(redundancy_section(tmp_path, {"values": {"frequent_dims": [1421, 2352]}},
                                        {"models": {"redundancy": ["tiny"]}, "displays": {}}))
    assert "mean R² per layer pair 0.700 to 0.700" in text
    assert "already reaches 0.500 to 0.700" in text and "mean gain over it, where redundancy between layers shows, is 0.000 to 0.200" in text
    assert "largest in pair 1→2" in text


def test_a_path_model_whose_tokenizer_has_no_eos_is_refused_at_plan_time(default_config, tmp_path):
    """Pool eos needs an EOS token: a `source: path` folder's
    tokenizer is on disk, so this fails before any job."""
    from lmanatomy.testing import own_weights_folder, tiny_tokenizer

    tokenizer = tiny_tokenizer(add_bos=False)
    tokenizer.eos_token = None
    own_weights_folder("llama", tokenizer, tmp_path / "mine")
    registry = tmp_path / "models.yaml"
    registry.write_text((REPO / "config" / "models.yaml").read_text(encoding="utf-8")
                        + f"\nmine:\n  source: path\n  path: {tmp_path / 'mine'}\n", encoding="utf-8")
    config = copy.deepcopy(default_config)
    config["models_file"] = str(registry)
    config["redundancy"]["models"] = ["mine"]
    with pytest.raises(ConfigError, match=r"needs an EOS token .* tokenizer of model 'mine' .* has none") as info:
        validate_config(config, REPO / "workflow" / "schemas")
    assert info.value.key == "redundancy.models[0]"
    tokenizer.eos_token = "</s>"  # the same folder with an EOS token passes
    tokenizer.save_pretrained(tmp_path / "mine")
    validate_config(config, REPO / "workflow" / "schemas")
