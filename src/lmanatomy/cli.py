"""The ``lmanatomy`` command: small helpers around the workflow.

    lmanatomy census NAME [NAME ...]     layers, neurons and parameters from architecture facts
    lmanatomy run-name [CONFIG]          the run name of a config (results/<run>/)
    lmanatomy prompt CONFIG TASK INDEX [--data-root DIR]
                                         the exact prompt the lesion evaluator sends for one test sample (JSON)
"""

from __future__ import annotations

import argparse
import sys

import yaml


def _census(args: argparse.Namespace) -> int:
    from lmanatomy.models import census, load_registry

    registry = load_registry(args.registry)
    for name in args.names:
        result = census(name, registry)
        print(f"{result.display}\tlayers {result.layers}\tneurons {result.neurons:,}\tparameters {result.parameters:,}")
    return 0


def _run_name(args: argparse.Namespace) -> int:
    with open(args.config, encoding="utf-8") as fh:
        print(yaml.safe_load(fh)["run"])
    return 0


def _prompt(args: argparse.Namespace) -> int:
    import json

    from lmanatomy.errors import LmAnatomyError
    from lmanatomy.lesion.prompt import read_config, sample_prompt

    try:
        result = sample_prompt(read_config(args.config), args.task, args.index, args.data_root)
    except LmAnatomyError as exc:  # bad config, task, index or data: one line, no traceback
        print(f"lmanatomy prompt: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lmanatomy", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("census", help="layers and neurons of registry models")
    p.add_argument("names", nargs="+")
    p.add_argument("--registry", default="config/models.yaml")
    p.set_defaults(func=_census)
    p = sub.add_parser("run-name", help="print the run name of a config file")
    p.add_argument("config", nargs="?", default="config/config.yaml")
    p.set_defaults(func=_run_name)
    p = sub.add_parser("prompt", help="the exact prompt the lesion evaluator sends for one test sample (JSON)")
    p.add_argument("config")
    p.add_argument("task")
    p.add_argument("index", type=int)
    p.add_argument("--data-root", default=None, help="read the datasets from this folder instead of the config's root")
    p.set_defaults(func=_prompt)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
