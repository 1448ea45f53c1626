"""The study's chain inside Snakemake on a tiny random model: prepare → extract (EOS hidden states)
→ split → one fit job per layer pair → tables → figures; the fitted R² checked against libsvm.

That a second run gives byte-identical tables is checked on the whole reduced run (every study's
``*.csv`` and ``*.md``, redundancy's included): tests/workflow/test_reproducibility.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.svm import SVR

from conftest import REPO, run_snakemake
from lmanatomy.extract import open_store
from lmanatomy.testing import save_model_dir, tiny_model

LAYERS, HIDDEN = 4, 16
TINY = {
    "model_type": "llama",
    "hidden_size": HIDDEN,
    "intermediate_size": 32,
    "num_hidden_layers": LAYERS,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 320,
}
TABLES = ("pair_summary", "top_pairs", "frequent_dims")
FIGURES = (
    "fig1_mean_r2",
    "fig2_max_r2",
    "fig3_std_r2",
    "fig1_mean_gain",
    "fig2_max_gain",
    "fig3_std_gain",
    "r2_layer_dim",
    "fig4_paths",
)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A run folder of its own: registry, config (demo JSTS,
    40 sentences), a prepared tiny model; then the run."""
    root = tmp_path_factory.mktemp("redundancy-run")
    registry = {"tiny": {"source": "hf", "repo": "org/tiny", "revision": "a" * 40, "config": TINY}}
    (root / "models.yaml").write_text(yaml.safe_dump(registry))
    config = {
        "run": "t",
        "models_file": "models.yaml",
        "data_root": str(REPO / "data" / "demo"),
        "device": "cpu",
        "dtype": "float32",
        "studies": ["redundancy"],
        "datasets": {"jsts": {"format": "jsts", "sample": {"n": 40, "seed": 0}}},
        "probes": {
            "hidden_eos": {
                "modules": "hidden_states",
                "pool": "eos",
                "last_layer": "raw",
                "rows_per_shard": 16,
            },
            "hidden_eos_normed": {
                "modules": "hidden_states",
                "pool": "eos",
                "last_layer": "normed",
                "rows_per_shard": 16,
            },
        },
        "redundancy": {
            "models": ["tiny"],
            "dataset": "jsts",
            "probe": "hidden_eos",
            "last_layer_probe": "hidden_eos_normed",
            "train": 30,
            "test": 10,
            "top_inputs": 3,
            "top_pairs": 20,
        },
    }
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    # The model folder is written after the registry, so its fetch rule has nothing to do.
    model, tokenizer = tiny_model("llama", num_hidden_layers=LAYERS)
    save_model_dir(model, tokenizer, root / "data" / "models" / "tiny", name="tiny")
    run_snakemake(
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(root),
        "--configfile",
        str(root / "config.yaml"),
        "--cores",
        "2",
        check=True,
    )
    return root / "results" / "t"


def test_every_target_is_built(tiny_run):
    out = tiny_run / "redundancy" / "tiny"
    for table in TABLES:
        assert (out / f"{table}.csv").is_file() and (out / f"{table}.md").is_file()
    for figure in FIGURES:
        assert (out / f"{figure}.png").stat().st_size > 10_000
    # One job per layer pair between decoder layers: 1→2, 2→3, 3→4.
    assert sorted(p.name for p in (out / "pairs").iterdir()) == [
        "layer01.parquet",
        "layer02.parquet",
        "layer03.parquet",
    ]
    summary = pd.read_csv(out / "pair_summary.csv")
    assert list(summary["pair"]) == ["1→2", "2→3", "3→4"] and (summary["dims"] == HIDDEN).all()
    assert (summary["not_converged"] == 0).all()
    top = pd.read_csv(out / "top_pairs.csv")
    assert len(top) == 20 and top["r2"].is_monotonic_decreasing
    # how the run differs from the poster, derived from config/papers/baba2025.yaml
    assert (
        "`redundancy.models` — registry names of the models to analyse: this run `['tiny']`, the "
        "paper `['llama-3-youko-8b']`."
    ) in (out / "pair_summary.md").read_text()
    assert (tiny_run / "benchmarks" / "redundancy" / "tiny" / "pairs" / "layer02.tsv").is_file()
    # The last pair both ways: only its target differs, so the two fits differ.
    assert sorted(p.name for p in (out / "pairs_hidden_eos_normed").iterdir()) == [
        "layer03.parquet"
    ]
    last = pd.read_csv(out / "last_layer.csv")
    assert (
        list(last["pair"]) == ["2→3", "3→4", "3→4"]
        and last["mean_r2"].iloc[1] != last["mean_r2"].iloc[2]
    )


def test_fitted_r2_and_weights_match_libsvm_on_the_stored_hidden_states(tiny_run):
    """Independent reference: sklearn's SVR per dim on
    the same store rows and split as the fit job."""
    store = open_store(tiny_run / "activations" / "tiny" / "jsts" / "hidden_eos")
    assert store.columns == [f"hidden_states.{k}" for k in range(LAYERS + 1)]
    split = pd.read_csv(tiny_run / "redundancy" / "split.csv", dtype=str, keep_default_na=False)
    position = {key: i for i, key in enumerate(store.ids())}
    rows = {
        part: [position[k] for k in split.loc[split["split"] == part, "id"]]
        for part in ("train", "test")
    }
    assert len(rows["train"]) == 30 and len(rows["test"]) == 10
    fitted = pd.read_parquet(tiny_run / "redundancy" / "tiny" / "pairs" / "layer02.parquet")
    x = store.read("hidden_states.2").astype(np.float64)
    y = store.read("hidden_states.3").astype(np.float64)
    for dim in range(HIDDEN):
        reference = SVR(kernel="linear", C=1.0, epsilon=0.1).fit(
            x[rows["train"]], y[rows["train"], dim]
        )
        expected = r2_score(y[rows["test"], dim], reference.predict(x[rows["test"]]))
        assert abs(fitted.loc[dim, "r2"] - expected) <= 0.005, dim
        top = np.argsort(-np.abs(reference.coef_[0]), kind="stable")[:3]
        assert int(fitted.loc[dim, "top_inputs"][0]) == int(top[0]), dim
        own = LinearRegression().fit(x[rows["train"]][:, [dim]], y[rows["train"], dim])
        identity = r2_score(y[rows["test"], dim], own.predict(x[rows["test"]][:, [dim]]))
        assert abs(fitted.loc[dim, "r2_identity"] - identity) <= 1e-9, dim
        assert abs(fitted.loc[dim, "r2_gain"] - (fitted.loc[dim, "r2"] - identity)) <= 1e-9, dim
