"""The ``lmanatomy`` command: small helpers around the workflow.

    lmanatomy census NAME [NAME ...]     layers, neurons and parameters from architecture facts
    lmanatomy run-name [CONFIG]          the run name of a config (results/<run>/)
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
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
