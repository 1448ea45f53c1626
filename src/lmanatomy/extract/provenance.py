"""What a store records about where its inputs came from: the model folder and the dataset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from torch import nn

from lmanatomy.errors import DataError
from lmanatomy.models.loading import PROVENANCE

# The key under which a prepared dataset's sidecar (lmanatomy.data.prepare) records the hash of its
# rows; the first one present is recorded as the store's dataset hash.
CONTENT_HASH_KEYS = ("content_sha256", "content_hash")


def model_info_from_folder(path: str | Path, name: str | None = None) -> dict[str, Any]:
    """Registry name, source and revision or file hash,
    from a prepared model folder's provenance."""
    path = Path(path)
    try:
        provenance = json.loads((path / PROVENANCE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path} has no {PROVENANCE}; it is not a prepared model folder") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path / PROVENANCE} is not valid JSON: {exc}") from None
    info = {"name": name or provenance.get("name"), "provenance": provenance}
    for key in ("source", "repo", "revision", "package", "file", "file_sha256", "weights_sha256"):
        if key in provenance:
            info[key] = provenance[key]
    return info


def model_info_from_object(model: nn.Module) -> dict[str, Any]:
    """What can be said about an in-memory model that came with no folder."""
    config = getattr(model, "config", None)
    return {
        "name": getattr(config, "_name_or_path", None) or type(model).__name__,
        "class": type(model).__name__,
        "model_type": getattr(config, "model_type", None),
    }


def dataset_info_from_sidecar(sidecar: str | Path | None, name: str | None) -> dict[str, Any]:
    """Dataset name, its content hash and the sidecar
    JSON the data layer wrote beside the Parquet."""
    info: dict[str, Any] = {"name": name, "content_hash": None, "sidecar": None}
    if sidecar is None or not Path(sidecar).is_file():
        return info
    try:
        content = json.loads(Path(sidecar).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"dataset sidecar {sidecar} is not valid JSON: {exc}") from None
    info["sidecar"] = content
    if isinstance(content, dict):
        info["content_hash"] = next((content[k] for k in CONTENT_HASH_KEYS if k in content), None)
    return info
