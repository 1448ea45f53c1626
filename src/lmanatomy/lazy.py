"""Package attributes imported on first use (PEP 562).

Checking a config — what every ``snakemake -n`` does — imports packages such as
``lmanatomy.models`` and ``lmanatomy.extract`` for light helpers; importing torch for them would
cost seconds. A package lists its exports (name → submodule) and gets ``__getattr__`` and
``__dir__`` that import the submodule when an attribute is first used.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str], namespace: dict[str, Any]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """(``__getattr__``, ``__dir__``) for ``package`` exporting ``name`` from ``package.<module>``."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module '{package}' has no attribute '{name}'")
        value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
