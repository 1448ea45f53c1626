"""Studies are discovered from their descriptors (lmanatomy.study); the schema and the descriptors
agree; a study that lives outside the package (tests/example_study) plugs in through two
existing files and is then discovered, validated, planned in the DAG and summarized."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO, SCHEMAS, run_timeout
from lmanatomy.errors import ConfigError, DataError, LmAnatomyError
from lmanatomy.study import Study, discover, ordered

EXAMPLE = REPO / "tests" / "example_study"


def _schema() -> dict:
    return yaml.safe_load((SCHEMAS / "config.schema.yaml").read_text(encoding="utf-8"))


def test_the_schema_lists_exactly_the_discovered_studies():
    schema = _schema()
    studies = discover()
    assert sorted(schema["properties"]["studies"]["items"]["enum"]) == sorted(
        s.name for s in studies
    )
    for study in studies:
        assert schema["properties"][study.name] == {"$ref": study.schema}, study.name
        assert study.schema_path.is_file(), study.schema_path


def test_every_study_names_files_that_exist():
    values = yaml.safe_load(
        (REPO / "workflow" / "report" / "paper_values.yaml").read_text(encoding="utf-8")
    )
    for study in discover():
        assert study.rules_path.is_file(), study.rules_path
        assert study.captions_path.is_dir(), study.captions_path
        if study.paper_config_path is not None:
            assert study.paper_config_path.is_file(), study.paper_config_path
        if study.section is not None:  # a summary section compares with the paper's numbers
            assert study.paper_values(values)["paper"].startswith(study.citation)


def test_a_study_comes_after_those_it_draws_on():
    names = [s.name for s in discover()]
    assert names.index("atlas") == len(names) - 1
    assert names.index("census") < names.index("language")


def _study(name: str, after: tuple[str, ...] = ()) -> Study:
    return Study(name=name, paper="P", citation="P", title="T", schema="x", rules="x", after=after)


def test_ordering_is_stable_and_refuses_cycles_and_unknown_names():
    a, b, c = _study("a", ("c",)), _study("b"), _study("c")
    assert [s.name for s in ordered([a, b, c])] == ["b", "c", "a"]
    with pytest.raises(LmAnatomyError, match="cycle"):
        ordered([_study("a", ("b",)), _study("b", ("a",))])
    with pytest.raises(LmAnatomyError, match="unknown studies: z"):
        ordered([_study("a", ("z",))])


# The example study ------------------------------------------------------------------------------

#: The existing files a new study edits: the schema (enum and `$ref`) and the papers' numbers.
PLUG_IN = {
    "workflow/schemas/config.schema.yaml": lambda schema: {
        **schema,
        "properties": {
            **schema["properties"],
            "studies": {
                **schema["properties"]["studies"],
                "items": {"enum": [*schema["properties"]["studies"]["items"]["enum"], "example"]},
            },
            "example": {"$ref": "../../tests/example_study/example.schema.yaml"},
        },
    },
    "workflow/report/paper_values.yaml": lambda values: {
        **values,
        "example": {
            "paper": "Example et al. 2099, Table 1",
            "models": ["smollm2-135m"],
            "values": None,
        },
    },
}


def _plug_in(root: Path) -> list[str]:
    """A copy of the workflow under ``root`` with the example
    study plugged in; the existing files it edits."""
    shutil.copytree(REPO / "workflow", root / "workflow")
    shutil.copy(REPO / "Snakefile", root / "Snakefile")
    for name in ("src", "scripts", "envs", "config", "data", "tests"):
        (root / name).symlink_to(REPO / name)
    for relative, edit in PLUG_IN.items():
        path = root / relative
        path.write_text(
            yaml.safe_dump(edit(yaml.safe_load(path.read_text(encoding="utf-8"))), sort_keys=False),
            encoding="utf-8",
        )
    return list(PLUG_IN)


@pytest.fixture
def example(monkeypatch, tmp_path) -> Path:
    """The example study importable and its entry point
    visible; a plugged-in copy of the workflow."""
    monkeypatch.syspath_prepend(str(EXAMPLE))
    assert len(_plug_in(tmp_path)) <= 3
    return tmp_path


def _config(**example) -> dict:
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
    return {**config, "run": "example", "studies": ["census", "example"], "example": example}


def test_the_example_study_is_discovered_after_the_package_studies(example):
    studies = discover()
    assert studies[-1].name == "example" and studies[-1].rules_path == EXAMPLE / "example.smk"
    assert "example" not in [s.name for s in ordered(s for s in studies if s.name != "example")]


def test_the_example_study_is_validated_by_its_schema_and_check(example, monkeypatch):
    from lmanatomy.config import validate_config

    monkeypatch.chdir(REPO)
    schemas = example / "workflow" / "schemas"
    config = _config()
    validate_config(config, schemas)
    assert config["example"] == {"greeting": "hello", "repeats": 1}  # the example schema's defaults
    with pytest.raises(ConfigError, match=r"example\.repeats.*less than the minimum"):
        validate_config(_config(repeats=0), schemas)
    with pytest.raises(ConfigError, match=r"example\.greeting.*cannot contain"):
        validate_config(_config(greeting="a|b"), schemas)


def test_the_example_study_is_planned_in_the_dag(example):
    config = example / "example.yaml"
    config.write_text(yaml.safe_dump(_config(greeting="hi", repeats=2)), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(EXAMPLE), str(REPO / "src")])}
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("snakemake")),
            "-n",
            "--forceall",
            "--configfile",
            str(config),
        ],
        cwd=example,
        env=env,
        capture_output=True,
        text=True,
        timeout=run_timeout(),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "rule example_greeting:" in proc.stdout or "localrule example_greeting:" in proc.stdout
    assert "results/example/example/greeting.md" in proc.stdout
    assert (
        "results/example/report/example/greeting.html" in proc.stdout
    )  # the report found its caption


def test_the_example_study_appears_in_the_summary(example, tmp_path):
    from lmanatomy.report.summary import load_paper_values, summarize

    results = tmp_path / "results"
    (results / "example").mkdir(parents=True)
    (results / "example" / "greeting.md").write_text(
        "| greeting |\n|---|\n| hi hi |\n", encoding="utf-8"
    )
    values = load_paper_values(example / "workflow" / "report" / "paper_values.yaml")
    differs = ["How this run differs:", "", "- `example.repeats`: this run `2`, the paper `1`.", ""]
    text = summarize(
        results,
        "example",
        ["example"],
        values,
        {"example": ["smollm2-135m"]},
        {},
        {"example": differs},
    )
    assert "### Greetings (Example et al. 2099)" in text
    section = text.split("### Greetings")[1]
    assert (
        section.index("*Paper (Example et al. 2099, Table 1):*")
        < section.index("- `example.repeats`")
        < section.index("| hi hi |")
    )


# Derived deviations ----------------------------------------------------------------------------


def test_deviations_are_derived_from_the_paper_config_with_the_schema_labels(monkeypatch):
    """The paper's own redundancy setup with three keys and the data's size changed by hand: exactly
    those keys are listed, labelled by the schema's
    descriptions, the data by its recorded origin."""
    from lmanatomy.config import validate_config
    from lmanatomy.deviations import study_deviations
    from lmanatomy.study import studies_by_name

    monkeypatch.chdir(REPO)
    config = yaml.safe_load(
        (REPO / "config" / "papers" / "baba2025.yaml").read_text(encoding="utf-8")
    )
    study = studies_by_name()["redundancy"]
    origin = {
        "jsts": {"is_demo": True, "subset": False, "text": "demo data written for this project"}
    }
    validate_config(config, SCHEMAS)
    assert study_deviations(study, config, origin)[2:] == [
        "- `redundancy`: every key is the paper's.",
        "- Data `jsts`: demo data written for this project.",
        "",
    ]
    config["redundancy"].update(train=6, standardize=True, threads=1)
    config["dtype"] = "bfloat16"
    config["probes"]["hidden_eos"]["last_layer"] = "normed"
    config["datasets"]["jsts"]["sample"]["n"] = 500
    del config["redundancy"]["top_pairs"]  # the schema's default (500) is the paper's: no deviation
    validate_config(config, SCHEMAS)
    lines = study_deviations(study, config, origin)
    with pytest.raises(DataError, match="dataset 'jsts': no recorded provenance"):
        study_deviations(study, config, {})
    assert lines[0].startswith(
        "How this run differs from the paper's setup (`config/papers/baba2025.yaml`"
    )
    assert lines[2:] == [
        "- `redundancy.train` — training sentences (distinct texts, seeded sample): this run `6`, "
        "the paper `800`.",
        "- `redundancy.standardize` — scale input features to zero mean and unit variance (train "
        "statistics) before fitting: this run `True`, the paper `False`.",
        "- `redundancy.threads` — torch threads per layer-pair job: this run `1`, the paper `8`.",
        "- `dtype` — dtype of model weights and activations during inference: this run "
        "`bfloat16`, the paper `float32`.",
        "- Data `jsts`: demo data written for this project.",
        "- `datasets.jsts.sample.n` — seeded sampling of n rows (per value of `per`, e.g. per "
        "language): this run `500`, the paper `10000`.",
        "- `probes.hidden_eos.last_layer` — hidden_states only: this run `normed`, the paper "
        "`raw`.",
        "",
    ]


def test_dataset_names_are_found_at_any_depth_of_a_section():
    from lmanatomy.deviations import named_datasets

    section = {
        "dataset": "a",
        "tasks": {"t": {"dataset": "b"}},
        "general_datasets": ["c", "zz"],
        "pairs": [{"datasets": ["a", "d"]}],
        "probe": "a_probe",
    }
    assert named_datasets(section, {"a": {}, "b": {}, "c": {}, "d": {}, "a_probe": {}}) == [
        "a",
        "b",
        "c",
        "d",
    ]


def test_a_figure_note_names_the_keys_and_a_dataset_the_paper_lacks(monkeypatch):
    from lmanatomy.config import validate_config
    from lmanatomy.deviations import deviation_note
    from lmanatomy.study import studies_by_name

    monkeypatch.chdir(REPO)
    config = yaml.safe_load(
        (REPO / "config" / "papers" / "baba2025.yaml").read_text(encoding="utf-8")
    )
    config["datasets"]["other"] = {"format": "jsts", "sample": {"n": 1000, "seed": 1}}
    config["redundancy"].update(dataset="other", seed=3)
    validate_config(config, SCHEMAS)
    origin = {"other": {"is_demo": False, "subset": False, "text": "real data, the upstream files"}}
    assert deviation_note(studies_by_name()["redundancy"], config, origin) == (
        "Differs from the paper's setup (config/papers/baba2025.yaml) in: redundancy.dataset, "
        "redundancy.seed, datasets.other. Data: other: real data, the upstream files. Values: "
        "summary.md."
    )


def test_a_label_is_the_descriptions_first_clause_outside_brackets():
    from lmanatomy.deviations import label_of

    assert (
        label_of("few-shot examples per prompt (the first train samples; llm-jp-eval: 4); more")
        == "few-shot examples per prompt (the first train samples; llm-jp-eval: 4)"
    )
    assert label_of("registry names — see docs.") == "registry names"
    assert label_of("the prompt.") == "the prompt"
