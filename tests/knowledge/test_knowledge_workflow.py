"""The study's rules inside Snakemake on a tiny trained
series: train → attribute → … → Table 2, Figs 3–5."""

from __future__ import annotations

import shutil
import uuid

import pandas as pd
import pytest
import yaml

from conftest import REPO, run_snakemake

TINY = {
    "display": "tiny test series",
    "source": "local",
    "train": {
        "seed": 0,
        "steps": 12,
        "batch_size": 8,
        "warmup": 2,
        "threads": 1,
        "corpus": {
            "builder": "knowledge_qa",
            "format": "knowledge_questions",
            "root": "data/demo",
            "template": "Q. {question} A.",
            "leading_space": True,
            "groups": {"animals": ["Cat", "Dog"], "colors": ["Red", "Blue"]},
        },
    },
    "checkpoints": ["step0", "step4", "step12"],
    "config": {
        "model_type": "gpt_neox",
        "hidden_size": 16,
        "intermediate_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "hidden_act": "gelu",
        "rotary_pct": 0.25,
        "max_position_embeddings": 128,
        "use_parallel_residual": True,
        "tie_word_embeddings": False,
        "vocab_size": 1024,
        "bos_token_id": 0,
        "eos_token_id": 0,
        "pad_token_id": 1,
    },
}


@pytest.fixture()
def tiny_run(tmp_path):
    """A config and registry of their own; the run's results
    and the trained model are removed afterwards."""
    suffix = uuid.uuid4().hex[:8]
    run, model = f"test-knowledge-{suffix}", f"test-neox-{suffix}"
    with open(REPO / "config" / "models.yaml", encoding="utf-8") as fh:
        registry = yaml.safe_load(fh)
    registry[model] = TINY
    (tmp_path / "models.yaml").write_text(yaml.safe_dump(registry))
    with open(REPO / "config" / "config.yaml", encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    config.update(run=run, models_file=str(tmp_path / "models.yaml"), studies=["knowledge"])
    config["knowledge"].update(
        model=model,
        groups=TINY["train"]["corpus"]["groups"],
        template="Q. {question} A.",
        top_k=5,
        steps=3,
        emd_shards=1,
    )
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    yield run, model, tmp_path / "config.yaml"
    shutil.rmtree(REPO / "results" / run, ignore_errors=True)
    shutil.rmtree(REPO / "data" / "models" / model, ignore_errors=True)
    for log in (REPO / "data" / "models" / "logs").glob(f"train_{model}*"):
        log.unlink()


def test_the_study_runs_in_snakemake(tiny_run):
    run, model, config = tiny_run
    out = REPO / "results" / run / "knowledge"
    run_snakemake("--cores", "2", "--configfile", str(config), check=True)
    assert (REPO / "data" / "models" / model / "step12" / "provenance.json").is_file()
    table = pd.read_csv(out / "table2.csv")
    assert list(table["group"]) == ["animals", "colors"] and list(table["comparisons"]) == [4, 4]
    matrix = pd.read_csv(out / "distance_matrix.csv", index_col=0)
    assert list(matrix.index) == ["Cat", "Dog", "Red", "Blue"]
    notes = (out / "table2.md").read_text()
    assert (
        f"this run `{model}`, the paper `pythia-410m` (the released code: `pythia-410m-deduped`)."
        in notes
    )
    assert "Compare them with score_as_paper" in notes
    assert (
        "Scores under each EMD metric" in notes
        and "Held-out accuracy per checkpoint: step0" in notes
    )
    assert list(pd.read_csv(out / "distances_by_metric.csv").columns) == [
        "word_1",
        "word_2",
        "sqeuclidean",
        "euclidean",
        "w2",
    ]
    assert pd.read_csv(out / "layers.csv")["neurons"].sum() == 4 * 5
    for figure in ("fig3_distances.png", "fig4_comparison.png", "fig5_intersections.png"):
        assert (out / figure).stat().st_size > 10_000
    assert sorted(p.name for p in (out / "attributions" / "step4").iterdir()) == [
        "Blue.parquet",
        "Cat.parquet",
        "Dog.parquet",
        "Red.parquet",
    ]
