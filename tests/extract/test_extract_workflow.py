"""The `extract` rule end to end: a tiny registry model over a prepared dataset, by Snakemake."""

import json

import pyarrow.parquet as pq
import yaml

from conftest import REPO, run_snakemake
from lmanatomy.extract import open_store
from lmanatomy.testing import save_model_dir, tiny_model

TINY = {
    "model_type": "llama",
    "hidden_size": 16,
    "intermediate_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 320,
}


def _workdir(tmp_path):
    """A run folder: registry and config first, then the model folder (newer than the registry,
    so that its fetch rule has nothing to do); the dataset is prepared by the data rule."""
    registry = {"tiny": {"source": "hf", "repo": "org/tiny", "revision": "a" * 40, "config": TINY}}
    (tmp_path / "models.yaml").write_text(yaml.safe_dump(registry))
    config = {
        "run": "t",
        "models_file": "models.yaml",
        "data_root": str(REPO / "data" / "demo"),
        "device": "cpu",
        "dtype": "float32",
        "studies": ["census"],
        "census": {"models": ["tiny"]},
        "datasets": {
            "demo": {
                "format": "flores200",
                "splits": ["dev"],
                "languages": ["en", "ja"],
                "sample": {"n": 4, "per": "lang"},
            }
        },
        "probes": {
            "lin": {"modules": "linears", "pool": "mean", "rows_per_shard": 3},
            "eos": {"modules": "hidden_states", "pool": "eos"},
        },
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    model, tok = tiny_model("llama")
    save_model_dir(model, tok, tmp_path / "data" / "models" / "tiny", name="tiny")


def _snakemake(tmp_path, *args):
    return run_snakemake(
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(tmp_path),
        "--configfile",
        str(tmp_path / "config.yaml"),
        *args,
        check=True,
    )


def test_the_extract_rule_writes_a_store(tmp_path):
    _workdir(tmp_path)
    target = "results/t/activations/tiny/demo/lin/_manifest.json"
    _snakemake(tmp_path, "--cores", "1", target)
    store = open_store(tmp_path / target)
    data = pq.read_table(tmp_path / "results/t/data/demo.parquet")
    sidecar = json.loads((tmp_path / "results/t/data/demo.json").read_text())
    assert (
        store.ids() == data.column("id").to_pylist()
        and store.num_rows == 8
        and len(store.shards) == 3
    )
    assert store.labels().tolist() == data.column("label").to_pylist()
    assert store.manifest["model"]["name"] == "tiny"
    assert store.manifest["dataset"]["content_hash"] == sidecar["content_sha256"]
    assert store.manifest["probe"]["name"] == "lin"
    assert (tmp_path / "results/t/benchmarks/extract/tiny/demo/lin.tsv").is_file()
    assert "rows" in (tmp_path / "results/t/logs/extract/tiny/demo/lin.log").read_text()


def test_wildcards_take_only_configured_names(tmp_path):
    _workdir(tmp_path)
    ok = _snakemake(tmp_path, "-n", "results/t/activations/tiny/demo/eos/_manifest.json")
    assert "extract" in ok.stdout
    for bad in (
        "results/t/activations/tiny/demo/nope/_manifest.json",
        "results/t/activations/other/demo/lin/_manifest.json",
        "results/t/activations/tiny/other/lin/_manifest.json",
    ):
        proc = run_snakemake(
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(tmp_path),
            "--configfile",
            str(tmp_path / "config.yaml"),
            "-n",
            bad,
        )
        assert proc.returncode != 0 and "MissingRuleException" in proc.stdout + proc.stderr, bad
