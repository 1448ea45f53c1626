"""The lmanatomy command and run provenance."""

import json

from conftest import REPO
from lmanatomy.cli import main
from lmanatomy.provenance import collect, to_markdown


def test_census_command(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    assert main(["census", "smollm2-135m"]) == 0
    assert "neurons 155,520" in capsys.readouterr().out


def test_census_outside_the_repository_resolves_the_registry_from_the_config(
    capsys, monkeypatch, tmp_path
):
    monkeypatch.chdir(tmp_path)
    assert main(["census", "--config", str(REPO / "config" / "test" / "reduced.yaml")]) == 0
    assert capsys.readouterr().out.startswith("SmolLM2-135M-Instruct\tlayers 30\tneurons 155,520")
    assert main(["census", "xglm-564m"]) == 0  # no config: the checkout's registry
    assert "neurons 221,184" in capsys.readouterr().out


def test_user_mistakes_are_one_line_errors(capsys, tmp_path):
    assert main(["census", "gpt-5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lmanatomy: error: unknown model 'gpt-5'") and err.count("\n") == 1
    assert main(["census", "--config", str(tmp_path / "absent.yaml")]) == 2
    assert (
        capsys.readouterr().err
        == f"lmanatomy: error: config file '{tmp_path / 'absent.yaml'}' not found\n"
    )
    dup = tmp_path / "dup.yaml"
    dup.write_text("run: a\nrun: b\n")
    assert main(["run-name", str(dup)]) == 2
    assert (
        capsys.readouterr().err
        == f"lmanatomy: error: {dup}:2: duplicate key 'run' (first written at line 1)\n"
    )


DRY_RUN = """rule extract:
    output: results/r/activations/m/d/p/_manifest.json
    wildcards: model=m, dataset=d, probe=p
    threads: 8
    resources: tmpdir=/tmp, mem_mb=2048, gpu=0, runtime=12
rule extract:
    wildcards: model=m, dataset=e, probe=p
    threads: 8
    resources: tmpdir=/tmp, mem_mb=4096, gpu=1, runtime=3
localrule prepare_dataset:
    wildcards: dataset=d
    resources: tmpdir=/tmp
"""


def test_plan_table_counts_jobs_and_takes_the_largest_resources():
    from lmanatomy.cli import format_plan, parse_dry_run

    plan = parse_dry_run(DRY_RUN)
    assert plan == {
        ("extract", "m"): {
            "jobs": 2,
            "threads": 8.0,
            "mem_mb": 4096.0,
            "gpu": 1.0,
            "runtime": 12.0,
        },
        ("prepare_dataset", "-"): {"jobs": 1, "threads": 1.0},
    }
    assert format_plan(plan).splitlines()[1].split() == [
        "extract",
        "m",
        "2",
        "8",
        "4096",
        "1",
        "12",
    ]


def test_plan_command_from_another_folder(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert main(["plan", str(REPO / "config" / "config.yaml")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["rule", "model", "jobs", "threads", "mem_mb", "gpu", "runtime"]
    extract = [line.split() for line in lines if line.startswith("extract ")]
    # the default run is on CPU: one thread per extraction job (rules/extract.smk)
    assert extract and extract[0][1] == "smollm2-135m" and extract[0][3] == "1"


def test_plan_of_a_refused_config_is_its_one_line_reason(capsys, tmp_path):
    import yaml

    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["census"]["models"] = ["gpt-5"]
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / "Snakefile").symlink_to(
        REPO / "Snakefile"
    )  # the config's project: paths resolve there
    for name in ("config", "data", "workflow", "scripts", "src", "envs"):
        (tmp_path / name).symlink_to(REPO / name)
    assert main(["plan", str(tmp_path / "c.yaml")]) == 2
    assert capsys.readouterr().err.startswith(
        "lmanatomy: error: config key 'census.models[0]': unknown model 'gpt-5'"
    )


def test_run_name_command(capsys):
    assert main(["run-name", str(REPO / "config" / "papers" / "kojima2024.yaml")]) == 0
    assert capsys.readouterr().out.strip() == "kojima2024"


def test_provenance_document(tmp_path):
    model = tmp_path / "provenance.json"
    model.write_text(
        json.dumps(
            {
                "source": "hf",
                "repo": "o/m",
                "revision": "abc",
                "weights_sha256": {"model.safetensors": "f" * 64},
            }
        )
    )
    data = tmp_path / "d.json"
    data.write_text(json.dumps({"content_sha256": "e" * 64, "rows": 12}))
    doc = collect({"run": "r", "x": 1}, {"m": model}, {"d": data})
    assert doc["models"]["m"]["revision"] == "abc"
    assert doc["software"]["torch"].startswith("2.")
    text = to_markdown(doc)
    assert "| m | hf o/m | abc | model.safetensors: ffffffffffffffff… |" in text
    assert "| d | eeeeeeeeeeeeeeee… | 12 |" in text
