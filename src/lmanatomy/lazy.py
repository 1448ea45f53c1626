"""Package attributes imported on first use (PEP 562).

Checking a config — what every ``snakemake -n`` does — imports packages such as
``lmanatomy.models`` and ``lmanatomy.extract`` for light helpers; importing torch for them would
cost seconds. A package lists its exports (name → submodule) and gets ``__getattr__`` and
``__dir__`` that import the submodule when an attribute is first used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """(``__getattr__``, ``__dir__``) for ``package``
    exporting ``name`` from ``package.<module>``."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module '{package}' has no attribute '{name}'")
        value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(exports)

    namespace.setdefault("help", lambda: print_help(package, exports))
    return __getattr__, __dir__


def summaries(package: str, exports: Mapping[str, str]) -> list[tuple[str, str]]:
    """(name, summary of its docstring: the first paragraph, on one line) of every export, in
    name order (imports the submodules)."""
    rows = []
    for name in sorted(exports):
        value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        if not callable(value):  # a table: its own type's docstring would say nothing about it
            rows.append((name, f"({type(value).__name__}, see {package}.{exports[name]})"))
            continue
        doc = (getattr(value, "__doc__", None) or "").strip()
        # The whole first paragraph: a summary wrapped to the line length is still one sentence.
        rows.append((name, " ".join(doc.split("\n\n")[0].split()) if doc else "(no docstring)"))
    return rows


def print_help(package: str, exports: Mapping[str, str]) -> str:
    """``<package>.help()``: the public names with a
    one-line purpose each; also returned as text."""
    rows = summaries(package, exports)
    width = max((len(name) for name, _ in rows), default=0)
    text = "\n".join(
        [f"{package}: public API"] + [f"  {name.ljust(width)}  {line}" for name, line in rows]
    )
    print(text)
    return text
