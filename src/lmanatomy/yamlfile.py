"""Reading YAML files the workflow depends on, with duplicate keys as errors.

PyYAML keeps the last of two equal keys in a mapping without a word, so a registry entry or a
config key written twice silently loses its first value. Every YAML file the workflow reads (the
registry, the run's config files) goes through :func:`load_yaml`, which refuses that naming the
file and both lines. Merge keys (``<<: *anchor``) are not duplicates: a key written after a merge
overrides the merged value, which is what anchors are for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from lmanatomy.errors import LmAnatomyError


class DuplicateKeyError(LmAnatomyError):
    """A mapping in a YAML file names the same key twice."""


class _StrictLoader(yaml.SafeLoader):
    """A SafeLoader that refuses a key written twice in one mapping."""

    source = "<string>"

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise DuplicateKeyError(
                    f"{self.source}:{line}: duplicate key '{key}' (first written at line "
                    f"{seen[key]})"
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def loads_yaml(text: str, source: str = "<string>") -> Any:
    """Parse YAML text; ``source`` names it in errors."""
    loader = _StrictLoader(text)
    loader.source = source
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def load_yaml(path: str | Path) -> Any:
    """Parse a YAML file, refusing duplicate keys with the file and line."""
    path = Path(path)
    return loads_yaml(path.read_text(encoding="utf-8"), str(path))
