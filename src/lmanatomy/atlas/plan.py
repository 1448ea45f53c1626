"""Which studies contribute to a model's atlas, and from which of their output files.

The atlas reads the studies' own declared outputs (never their intermediate shards), so it adds
one cheap job per model and reruns when any study's result changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lmanatomy.redundancy.pairs import layer_pairs

#: The studies in the order the atlas shows them.
STUDIES = ("lesion", "redundancy", "language", "knowledge", "paramact")


def _models(section: Mapping[str, Any] | None) -> list[str]:
    if not section:
        return []
    return [*(section.get("models") or []), *([section["model"]] if section.get("model") else [])]


def reasons(config: Mapping[str, Any], model: str) -> dict[str, str]:
    """Study → '' when it contributes a profile for ``model``, else why it does not."""
    enabled = set(config.get("studies") or [])
    out = {}
    for study in STUDIES:
        if study not in enabled:
            out[study] = "study not enabled in this run"
        elif model not in _models(config.get(study)):
            names = ", ".join(_models(config.get(study))) or "no model"
            out[study] = f"the {study} study runs on {names}"
        else:
            out[study] = ""
    return out


def inputs(
    config: Mapping[str, Any], model: str, results: str, num_layers: int
) -> dict[str, list[str]]:
    """The output files each contributing study gives the atlas of ``model`` (keys: study names)."""
    files: dict[str, list[str]] = {}
    contributes = {study for study, why in reasons(config, model).items() if not why}
    if "lesion" in contributes:
        files["lesion"] = [f"{results}/lesion/table1.csv", f"{results}/lesion/plans.json"]
    if "redundancy" in contributes:
        section = config["redundancy"]
        files["redundancy"] = [
            f"{results}/redundancy/{model}/pairs/layer{s:02d}.parquet"
            for s in layer_pairs(num_layers, bool(section.get("include_embedding", False)))
        ]
    if "language" in contributes:
        files["language"] = [f"{results}/language/{model}/fig2.csv"]
    if "knowledge" in contributes:
        files["knowledge"] = [f"{results}/knowledge/layers.csv"]
    if "paramact" in contributes:
        section = config["paramact"]
        files["paramact"] = [
            f"{results}/paramact/{model}/fig1_task_density.csv",
            *(
                [f"{results}/paramact/{model}/fig2_general_density.csv"]
                if section.get("general_datasets")
                else []
            ),
            f"{results}/paramact/{model}/fig3_llmdcos_boxplots.csv",
        ]
    return files
