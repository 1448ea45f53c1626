"""Your own model and data through the workflow: a `source: path` folder and a `jsonl` dataset run
the redundancy study and the census; unsupported structures, unknown architectures and duplicate
YAML keys are refused by `snakemake -n`, before any
job, with one line naming the entry and the part."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from conftest import REPO, run_snakemake
from lmanatomy.testing import own_weights_folder, tiny_config, tiny_tokenizer

TEXTS = [
    f"Sentence {i} is about {w}."
    for i, w in enumerate(
        [
            "cats",
            "dogs",
            "rivers",
            "hills",
            "maps",
            "trains",
            "clouds",
            "bread",
            "songs",
            "stones",
            "boats",
            "lamps",
        ]
    )
]


@pytest.fixture(scope="module")
def own_run(tmp_path_factory):
    """A run folder: a tiny Qwen3 saved as a plain folder,
    12 texts as JSON lines, redundancy + census."""
    root = tmp_path_factory.mktemp("own")
    tokenizer = tiny_tokenizer()
    own_weights_folder("qwen3", tokenizer, root / "my-model")
    (root / "texts.jsonl").write_text(
        "".join(json.dumps({"key": f"s{i}", "body": t}) + "\n" for i, t in enumerate(TEXTS))
    )
    (root / "models.yaml").write_text(
        yaml.safe_dump({"mine": {"source": "path", "path": "my-model"}})
    )
    config = {
        "run": "own",
        "models_file": "models.yaml",
        "data_root": ".",
        "device": "cpu",
        "dtype": "float32",
        "studies": ["census", "redundancy"],
        "census": {"models": ["mine"]},
        "datasets": {
            "texts": {
                "format": "jsonl",
                "files": ["texts.jsonl"],
                "columns": {"text": "body", "id": "key"},
            }
        },
        "probes": {"hidden_eos": {"modules": "hidden_states", "pool": "eos", "last_layer": "raw"}},
        "redundancy": {
            "models": ["mine"],
            "dataset": "texts",
            "probe": "hidden_eos",
            "train": 8,
            "test": 4,
            "top_inputs": 2,
            "top_pairs": 5,
        },
    }
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    targets = ["results/own/census/table3.csv", "results/own/redundancy/mine/pair_summary.csv"]
    run_snakemake(
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(root),
        "--configfile",
        str(root / "config.yaml"),
        "--cores",
        "2",
        *targets,
        check=True,
    )
    return root


def test_path_model_and_jsonl_dataset_run_a_study(own_run):
    provenance = json.loads((own_run / "data" / "models" / "mine" / "provenance.json").read_text())
    assert provenance["source"] == "path" and provenance["path"] == str(
        (own_run / "my-model").resolve()
    )
    assert set(provenance["weights_sha256"]) == {"model.safetensors"}
    prepared = pd.read_parquet(own_run / "results" / "own" / "data" / "texts.parquet")
    assert (
        list(prepared["id"]) == [f"all/s{i}" for i in range(12)] and list(prepared["text"]) == TEXTS
    )
    census = pd.read_csv(own_run / "results" / "own" / "census" / "table3.csv")
    per_layer = 16 + 8 + 8 + 16 + 32 + 32 + 16  # q, k, v, o, gate, up, down of the tiny Qwen3
    assert (census.loc[0, "layers"], census.loc[0, "neurons"]) == (2, 2 * per_layer)
    summary = pd.read_csv(own_run / "results" / "own" / "redundancy" / "mine" / "pair_summary.csv")
    assert list(summary["pair"]) == ["1→2"] and (summary["dims"] == 16).all()


def _reduced_with(tmp_path, entry_name: str, entry: dict, change) -> str:
    registry = yaml.safe_load((REPO / "config" / "test" / "models.yaml").read_text())
    registry[entry_name] = entry
    (tmp_path / "models.yaml").write_text(yaml.safe_dump(registry))
    config = yaml.safe_load((REPO / "config" / "test" / "reduced.yaml").read_text())
    config["models_file"] = str(tmp_path / "models.yaml")
    change(config)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def _refused(config: str) -> str:
    proc = run_snakemake("-n", "--configfile", config)
    assert proc.returncode != 0 and "Job stats" not in proc.stdout
    return proc.stdout + proc.stderr


def _facts(family: str) -> dict:
    return tiny_config(
        family, vocab_size=320, bos_token_id=0, eos_token_id=1, pad_token_id=2
    ).to_dict()


def test_an_unbuildable_gemma2_like_entry_is_refused_at_dry_run(tmp_path):
    facts = {
        **_facts("gemma2"),
        "model_type": "gemma9",
    }  # Gemma-2's facts under a type transformers lacks
    entry = {"source": "hf", "repo": "org/gemma9", "revision": "a" * 40, "config": facts}
    config = _reduced_with(
        tmp_path, "gemma9-tiny", entry, lambda c: c["census"].update(models=["gemma9-tiny"])
    )
    assert "model 'gemma9-tiny': model_type 'gemma9' is not built into transformers" in _refused(
        config
    )


def test_a_structure_the_lesion_study_cannot_prune_is_refused_at_dry_run(tmp_path):
    entry = {"source": "hf", "repo": "org/phi3", "revision": "a" * 40, "config": _facts("phi3")}
    config = _reduced_with(
        tmp_path, "phi3-tiny", entry, lambda c: c["lesion"].update(model="phi3-tiny")
    )
    assert (
        "config key 'lesion.model': lesion needs the pruning groups of model 'phi3-tiny' (phi3): "
        "fused projection 'self_attn.qkv_proj' (query, key and value in one Linear); the pruning "
        "groups need them apart"
    ) in _refused(config)


def test_a_registry_entry_without_a_required_key_is_refused_at_dry_run(tmp_path):
    facts = {k: v for k, v in _facts("qwen3").items() if k != "head_dim"}
    entry = {"source": "hf", "repo": "org/q3", "revision": "a" * 40, "config": facts}
    config = _reduced_with(tmp_path, "q3", entry, lambda c: None)
    assert "model 'q3' (qwen3): config lacks head_dim" in _refused(config)


def test_duplicate_keys_in_a_config_file_are_refused_at_dry_run(tmp_path):
    text = (REPO / "config" / "test" / "reduced.yaml").read_text()
    path = tmp_path / "dup.yaml"
    path.write_text(text.replace("run: reduced\n", "run: reduced\nrun: other\n", 1))
    line = text.splitlines().index("run: reduced") + 2
    assert f"{path}:{line}: duplicate key 'run'" in _refused(str(path))
