"""Checks of the ``paramact`` config section that the schema cannot express."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lmanatomy.config import check_dataset_names, check_model_names
from lmanatomy.errors import ConfigError
from lmanatomy.models.registry import Registry
from lmanatomy.paramact.plan import canonical, study_pairs


def check(config: Mapping[str, Any], registry: Registry) -> None:
    """Models exist and are deep enough, every named
    dataset is in ``datasets:``, overrides match pairs."""
    section = config["paramact"]
    for entry in check_model_names("paramact.models", section["models"], registry):
        if entry.num_layers < 5:
            raise ConfigError(
                "paramact.models",
                f"model '{entry.name}' has {entry.num_layers} layers; "
                "the LLMDcos summary averages layers L/2 .. L-3, which needs at least 5",
            )
    gamma = section["gamma"]
    if gamma != "auto" and (isinstance(gamma, (str, bool)) or not gamma > 0):
        raise ConfigError("paramact.gamma", f"must be a positive number or auto, got {gamma!r}")
    if gamma == "auto":
        if "gamma_target_share" not in section:
            raise ConfigError(
                "paramact.gamma_target_share", "gamma: auto needs a target activated share"
            )
        if section.get("jobs", "single") != "single":
            raise ConfigError(
                "paramact.gamma",
                "gamma: auto needs jobs: single (one job sees every dataset's means)",
            )
    for model in section.get("gamma_overrides", {}):
        if model not in section["models"]:
            raise ConfigError(
                f"paramact.gamma_overrides.{model}", f"'{model}' is not one of paramact.models"
            )
    for key in ("task_datasets", "general_datasets", "heatmap_datasets"):
        check_dataset_names(f"paramact.{key}", list(section.get(key, [])), config)
    for index, pair in enumerate(section.get("boxplot_pairs", [])):
        check_dataset_names(f"paramact.boxplot_pairs[{index}]", list(pair), config)
    overlap = set(section["task_datasets"]) & set(section.get("general_datasets", []))
    if overlap:
        raise ConfigError(
            "paramact.general_datasets",
            f"dataset(s) {', '.join(sorted(overlap))} are also task datasets",
        )
    keys = {(p.x, p.y) for p in study_pairs(section)}
    for index, override in enumerate(section.get("pair_sample_overrides", [])):
        x, y = override["pair"]
        check_dataset_names(f"paramact.pair_sample_overrides[{index}].pair", [x, y], config)
        named = set(section["task_datasets"]) | set(section.get("general_datasets", []))
        named |= set(section.get("heatmap_datasets", [])) | {
            n for p in section.get("boxplot_pairs", []) for n in p
        }
        if not {x, y} <= named or canonical(section, x, y) not in keys:
            raise ConfigError(
                f"paramact.pair_sample_overrides[{index}].pair",
                f"[{x}, {y}] is neither a boxplot pair nor a pair of heatmap datasets",
            )
    for name in section.get("windows", {}):
        check_dataset_names(f"paramact.windows.{name}", name, config)
    for index, name in enumerate(section.get("joined_windows", [])):
        if name not in section.get("windows", {}):
            raise ConfigError(
                f"paramact.joined_windows[{index}]",
                f"'{name}' has no entry in paramact.windows (a window length)",
            )
    check_sts(section, config)
    check_validation(section, config)


STS_FORMATS = ("stsb", "sick", "jsts")


def check_sts(section: Mapping[str, Any], config: Mapping[str, Any]) -> None:
    """STS datasets exist and are sentence-pair formats with a gold similarity."""
    names = list((section.get("sts") or {}).get("datasets", []))
    check_dataset_names("paramact.sts.datasets", names, config, formats=STS_FORMATS)


def check_validation(section: Mapping[str, Any], config: Mapping[str, Any]) -> None:
    """Validation datasets exist; the density profile comes from a dataset the study counts."""
    validation = section.get("validation")
    if not validation:
        return
    check_dataset_names("paramact.validation.calibration", validation["calibration"], config)
    check_dataset_names(
        "paramact.validation.calibration_sets", list(validation["calibration_sets"]), config
    )
    check_dataset_names("paramact.validation.evaluation", list(validation["evaluation"]), config)
    counted = list(section["task_datasets"]) + list(section.get("general_datasets", []))
    if validation["density_dataset"] not in counted:
        raise ConfigError(
            "paramact.validation.density_dataset",
            f"'{validation['density_dataset']}' is not a task or general dataset of paramact (its "
            "counts are needed)",
        )
