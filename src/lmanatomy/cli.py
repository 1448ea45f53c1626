"""The ``lmanatomy`` command: small helpers around the workflow.

    lmanatomy census [NAME ...] [--config CONFIG | --registry FILE]
                                         layers, neurons and parameters from architecture facts
    lmanatomy plan CONFIG                the jobs a config would run and what each rule asks,
                                         per model
    lmanatomy run-name [CONFIG]          the run name of a config (results/<run>/)
    lmanatomy prompt CONFIG TASK INDEX [--data-root DIR]
                                         the exact prompt the lesion evaluator
                                         sends for one test sample (JSON)

Works from any folder: a config's ``models_file`` is resolved against the project the config
belongs to (the nearest folder above it holding a Snakefile). A user mistake prints one line
(``lmanatomy: error: ...``) and exits with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from lmanatomy.errors import LmAnatomyError

# Where the default registry lives in a source checkout (src/lmanatomy/cli.py → the project root).
CHECKOUT = Path(__file__).resolve().parents[2]
RESOURCE_KEYS = ("threads", "mem_mb", "gpu", "runtime")


class UsageError(LmAnatomyError):
    """A command-line mistake (a file that is not there, a config without a key)."""


def project_root(config: Path) -> Path | None:
    """The project a config belongs to: the nearest folder
    above it with a Snakefile (None: a user's own folder)."""
    for folder in config.resolve().parents:
        if (folder / "Snakefile").is_file():
            return folder
    return None


def workdir(config: Path) -> Path:
    """Where a config's relative paths point: its project,
    else the current folder (as for snakemake --directory)."""
    return project_root(config) or Path.cwd()


def _read_config(path: str) -> dict[str, Any]:
    from lmanatomy.yamlfile import load_yaml

    config_path = Path(path)
    if not config_path.is_file():
        raise UsageError(f"config file '{path}' not found")
    config = load_yaml(config_path)
    if not isinstance(config, dict):
        raise UsageError(f"{path}: a config is a mapping of keys")
    return config


def registry_path(args: argparse.Namespace) -> Path:
    """The registry named by --registry, else the
    --config's models_file, else the checkout's default."""
    if args.registry:
        return Path(args.registry)
    if args.config:
        config = _read_config(args.config)
        if "models_file" not in config:
            raise UsageError(f"{args.config}: no 'models_file' key")
        name = Path(config["models_file"])
        return name if name.is_absolute() else workdir(Path(args.config)) / name
    return CHECKOUT / "config" / "models.yaml"


def _census(args: argparse.Namespace) -> int:
    from lmanatomy.models.census import census_of
    from lmanatomy.models.registry import load_registry

    registry = load_registry(registry_path(args))
    names = args.names or (
        _read_config(args.config).get("census", {}).get("models", [])
        if args.config
        else list(registry)
    )
    for name in names:
        result = census_of(registry[name])
        print(
            f"{result.display}\tlayers {result.layers}\tneurons {result.neurons:,}\tparameters "
            f"{result.parameters:,}"
        )
    return 0


def parse_dry_run(output: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(rule, model) → jobs and the largest value of each resource, from ``snakemake -n`` output."""
    plan: dict[tuple[str, str], dict[str, Any]] = defaultdict(lambda: {"jobs": 0})
    for block in re.split(r"^rule |^localrule ", output, flags=re.M)[1:]:
        rule = block.split(":", 1)[0].strip()
        wildcards = dict(re.findall(r"(\w+)=([^,\s]+)", _field(block, "wildcards")))
        row = plan[(rule, wildcards.get("model", "-"))]
        row["jobs"] += 1
        values = dict(re.findall(r"(\w+)=([^,\s]+)", _field(block, "resources")))
        values["threads"] = _field(block, "threads") or "1"
        for key in RESOURCE_KEYS:
            if key in values and re.fullmatch(r"\d+(\.\d+)?", values[key]):
                row[key] = max(float(values[key]), row.get(key, 0.0))
    return dict(plan)


def _field(block: str, name: str) -> str:
    match = re.search(rf"^\s+{name}: (.*)$", block, flags=re.M)
    return match.group(1) if match else ""


def format_plan(plan: dict[tuple[str, str], dict[str, Any]]) -> str:
    """A fixed-width table: rule, model, jobs, threads, mem_mb, gpu, runtime (minutes)."""
    header = ("rule", "model", "jobs", *RESOURCE_KEYS)
    rows = [header] + [
        (
            rule,
            model,
            str(row["jobs"]),
            *(f"{row[k]:g}" if k in row else "-" for k in RESOURCE_KEYS),
        )
        for (rule, model), row in sorted(plan.items())
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def _plan(args: argparse.Namespace) -> int:
    config = Path(args.config).resolve()
    _read_config(str(config))
    snakefile = (project_root(config) or CHECKOUT) / "Snakefile"
    snakemake = Path(sys.executable).with_name("snakemake")
    # Many cores, so that Snakemake shows the threads each
    # rule asks instead of capping them to this machine's.
    command = [
        str(snakemake),
        "-n",
        "--forceall",
        "--cores",
        "1024",
        "--snakefile",
        str(snakefile),
        "--directory",
        str(workdir(config)),
        "--configfile",
        str(config),
    ]
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode != 0:
        raise UsageError(_first_error(proc.stdout + proc.stderr))
    print(format_plan(parse_dry_run(proc.stdout)))
    return 0


def _prompt(args: argparse.Namespace) -> int:
    """Bad config, task, index or data raise LmAnatomyError: main() prints it as one line."""
    import json

    from lmanatomy.lesion.prompt import read_config, sample_prompt

    result = sample_prompt(read_config(args.config), args.task, args.index, args.data_root)
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _subsets(args: argparse.Namespace) -> int:
    """Redraw data/real (or TARGET) from the full upstream
    files; the manifest records what was drawn."""
    from lmanatomy.data.subsets import draw_subsets

    manifest = draw_subsets(args.source, args.target, seed=args.seed)
    print(
        f"{len(manifest['files'])} files drawn into {args.target} (seed {args.seed}); manifest: "
        f"{args.target}/manifest.json"
    )
    return 0


def _first_error(output: str) -> str:
    """The one line of a failed dry-run that says what
    is wrong (our errors name a key or a file)."""
    for pattern in (r"config key '.*", r"^\S*Error: .*", r".*(Error|error).*"):
        match = re.search(pattern, output, flags=re.M)
        if match:
            return match.group(0).strip()
    return (
        output.strip().splitlines()[-1] if output.strip() else "snakemake failed without a message"
    )


def _run_name(args: argparse.Namespace) -> int:
    print(_read_config(args.config)["run"])
    return 0


def _results_table(args: argparse.Namespace) -> int:
    """README's results table from a run's files: printed, or written into README's marker block."""
    from lmanatomy.report.findings import replace_block, results_table, run_findings
    from lmanatomy.report.summary import load_paper_values

    results = Path(args.results)
    if not results.is_dir():
        raise LmAnatomyError(f"no results folder {results}")
    paper = load_paper_values(CHECKOUT / "workflow" / "report" / "paper_values.yaml")
    block = results_table(run_findings(results, paper), results.name)
    if args.readme:
        readme = Path(args.readme)
        readme.write_text(
            replace_block(readme.read_text(encoding="utf-8"), block, str(readme)), encoding="utf-8"
        )
    else:
        print(block, end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lmanatomy", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("census", help="layers and neurons of registry models")
    p.add_argument(
        "names",
        nargs="*",
        help="registry names (default: the config's census models, else every model)",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--registry", help="a registry file (default: the project's config/models.yaml)"
    )
    where.add_argument("--config", help="a run config; its models_file is the registry")
    p.set_defaults(func=_census)
    p = sub.add_parser("plan", help="jobs of a config and the resources each rule asks, per model")
    p.add_argument("config")
    p.set_defaults(func=_plan)
    p = sub.add_parser("run-name", help="print the run name of a config file")
    p.add_argument("config", nargs="?", default="config/config.yaml")
    p.set_defaults(func=_run_name)
    p = sub.add_parser(
        "prompt", help="the exact prompt the lesion evaluator sends for one test sample (JSON)"
    )
    p.add_argument("config")
    p.add_argument("task")
    p.add_argument("index", type=int)
    p.add_argument(
        "--data-root",
        default=None,
        help="read the datasets from this folder instead of the config's root",
    )
    p.set_defaults(func=_prompt)
    p = sub.add_parser(
        "subsets", help="draw the seeded real-data subsets (data/real) from the full upstream files"
    )
    p.add_argument(
        "source",
        nargs="?",
        default="../shared/data",
        help="folder with the full files (../shared/data layout)",
    )
    p.add_argument("target", nargs="?", default="data/real")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_subsets)
    p = sub.add_parser(
        "results-table",
        help="README's results table (Markdown) from a run's files: the findings with intervals",
    )
    p.add_argument("results", help="the run's folder, results/<run>")
    p.add_argument(
        "--readme", help="rewrite this file's results-table marker block instead of printing"
    )
    p.set_defaults(func=_results_table)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (LmAnatomyError, yaml.YAMLError, OSError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"lmanatomy: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
