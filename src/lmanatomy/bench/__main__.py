"""Dispatch ``python -m lmanatomy.bench <name>`` to ``lmanatomy.bench.<name>.main``."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import lmanatomy.bench as package


def one_thread() -> None:
    """Benchmarks run on one torch/BLAS thread unless ``--threads`` says otherwise: the workflow
    gives each CPU job one thread per Snakemake thread, and two threads on a busy 2-core machine
    cost several times the CPU of one (issue 22), which would make every ratio depend on load."""
    from lmanatomy.runtime import set_threads

    set_threads(1)


def main(argv: list[str]) -> int:
    names = sorted(
        m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")
    )
    if not argv or argv[0] not in names:
        print(f"usage: python -m lmanatomy.bench {{{','.join(names)}}} [options]", file=sys.stderr)
        return 2
    if not any(arg.split("=")[0] == "--threads" for arg in argv):
        one_thread()
    module = importlib.import_module(f"lmanatomy.bench.{argv[0]}")
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
