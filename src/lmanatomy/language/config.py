"""Semantic checks of the config's ``language`` section (beyond what the JSON Schema can say)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lmanatomy.data.subsets import dataset_origin
from lmanatomy.errors import ConfigError
from lmanatomy.language.codes import lid_labels

MULTILINGUAL_FORMATS = (
    "flores200",
    "pawsx",
    "lang_neuron",
)  # formats whose rows carry their language
TEXT_FORMATS = (
    *MULTILINGUAL_FORMATS,
    "jsonl",
    "csv",
    "parquet",
    "hf",
)  # generic ones with a `lang` column
PROBE_SHAPE = {"modules": "linears", "pool": "mean", "capture": "output", "start": "bos_or_eos"}
PROBE_DEFAULTS = {"capture": "output", "start": "tokenizer"}
SAMPLINGS = {True: "same sentences across languages", False: "independent draws per language"}


def seeds(section: Mapping[str, Any]) -> list[int]:
    """Generation seeds 1..N (the paper: 1..100)."""
    return list(range(1, int(section["seeds"]) + 1))


def check(config: Mapping[str, Any], registry) -> None:
    """Models known, datasets of a multilingual format
    covering the languages, probe shape, census."""
    from lmanatomy.config import check_dataset_names, check_model_names

    section = config["language"]
    check_model_names("language.models", section["models"], registry)
    names = check_dataset_names("language.datasets", section["datasets"], config, TEXT_FORMATS)
    lid_labels(section["languages"])
    for index, name in enumerate(names):
        listed = dataset_languages(config["datasets"][name], f"language.datasets[{index}]", name)
        missing = [
            lang for lang in section["languages"] if listed is not None and lang not in listed
        ]
        if missing:
            raise ConfigError(
                f"language.datasets[{index}]",
                f"dataset '{name}' has no texts of {', '.join(missing)} (its languages: "
                f"{', '.join(listed)})",
            )
    probe = section["probe"]
    probes = config.get("probes") or {}
    if probe not in probes:
        raise ConfigError(
            "language.probe",
            f"unknown probe '{probe}' (the config's probes: {', '.join(sorted(probes)) or 'none'})",
        )
    for key, wanted in PROBE_SHAPE.items():
        value = probes[probe].get(key, PROBE_DEFAULTS.get(key))
        if value != wanted:
            raise ConfigError(
                "language.probe",
                f"probe '{probe}' has {key}: {value}; the language study needs {key}: {wanted} "
                "(per-text mean output of every linear; texts and generations start from the same "
                "token)",
            )
    unknown = [m for m in section.get("start_tokens") or {} if m not in section["models"]]
    if unknown:
        raise ConfigError("language.start_tokens", f"{', '.join(unknown)} not in language.models")
    lid = section.get("lid_model")
    if lid is not None and not Path(lid).is_file():
        raise ConfigError(
            "language.lid_model",
            f"fastText model file {lid} does not exist (give the path of a downloaded "
            "lid.176.bin, or leave it out for the shipped lid.176.ftz)",
        )
    census = (config.get("census") or {}).get("models", [])
    absent = [m for m in section["models"] if m not in census]
    if absent:
        raise ConfigError(
            "census.models",
            f"Table 3 of the language study needs the census of {', '.join(absent)}: add them to "
            "census.models",
        )
    if section["histogram_k"] < 1 or section["k"] < 1:
        raise ConfigError("language.k", "k and histogram_k must be positive")
    from lmanatomy.models.needs import neuron_count

    for model in section["models"]:
        check_sizes(section, model, neuron_count(registry[model]))


def check_sizes(section: Mapping[str, Any], model: str, neurons: int) -> None:
    """k, histogram_k and ablation_k against one model's neuron count, before any job runs.

    The selection needs 2k neurons (top-k and bottom-k) and Fig 2 needs 3 × histogram_k (top,
    middle, bottom); these would otherwise fail after extraction and ranking. An ablation k with
    2k above the count is skipped by design (the paper's list reaches 100000, beyond small models;
    Fig 5 says which were skipped), so only a list with no usable k at all is refused.
    """
    k, histogram_k = int(section["k"]), int(section["histogram_k"])
    if 2 * k > neurons:
        raise ConfigError(
            "language.k",
            f"{k}: top-{k} and bottom-{k} need {2 * k} neurons but model '{model}' has {neurons}",
        )
    if 3 * histogram_k > neurons:
        raise ConfigError(
            "language.histogram_k",
            f"{histogram_k}: Fig 2's top/middle/bottom groups need {3 * histogram_k} neurons "
            f"but model '{model}' has {neurons}",
        )
    if not any(2 * int(kk) <= neurons for kk in section["ablation_k"]):
        raise ConfigError(
            "language.ablation_k",
            f"{sorted(section['ablation_k'])}: every k needs 2k neurons, more than model "
            f"'{model}' has ({neurons})",
        )


def dataset_languages(spec: Mapping[str, Any], key: str, name: str) -> list[str] | None:
    """The languages a dataset's texts carry, where the
    config says it (else ``None``: not knowable here).

    flores200 / pawsx / lang_neuron read their ``languages`` (default: the
    paper's six). A generic dataset must map a ``lang`` column; which values it
    holds is only known once the file is read (the study's jobs then count texts
    per language and the notes show the counts), so it is not checked here.
    """
    from lmanatomy.data.formats import FLORES_LANGUAGES

    if spec["format"] in MULTILINGUAL_FORMATS:
        return list(spec.get("languages") or FLORES_LANGUAGES)
    if "lang" not in (spec.get("columns") or {}):
        raise ConfigError(
            key,
            f"dataset '{name}' maps no `lang` column (columns.lang): the language study needs "
            "each text's language",
        )
    return None


def setup(config: Mapping[str, Any], model: str, registry=None) -> dict[str, Any]:
    """Everything a language-study job needs to know about the run, as plain values (rule params).

    Includes what the table and figure notes say: the data formats and what their provenance says
    (real, a seeded subset, or demo data), the generation settings, and how the run differs from
    the paper's config (derived: lmanatomy.deviations).
    """
    from lmanatomy.deviations import deviation_note, deviation_sentences
    from lmanatomy.language import STUDY

    section = config["language"]
    names = list(section["datasets"])
    origins = {name: dataset_origin(config, name) for name in names}
    return {
        "model": model,
        "display": registry[model].display if registry is not None else model,
        "models": list(section["models"]),
        "languages": list(section["languages"]),
        "k": int(section["k"]),
        "ablation_k": sorted(int(k) for k in section["ablation_k"]),
        "histogram_k": int(section["histogram_k"]),
        "seeds": seeds(section),
        "ablation_seeds": list(range(1, int(section["ablation_seeds"]) + 1))
        if section.get("ablation_seeds")
        else None,
        "max_new_tokens": int(section["max_new_tokens"]),
        "temperature": float(section["temperature"]),
        "lid_threshold": float(section["lid_threshold"]),
        "batch_size": int(section["batch_size"]),
        "datasets": names,
        "formats": [config["datasets"][name]["format"] for name in names],
        "data_origin": origins,
        # how the run differs from config/papers/kojima2024.yaml: table notes, and a figure's line
        "differs": deviation_sentences(STUDY, config, origins),
        "differs_note": deviation_note(STUDY, config, origins),
        "sampling": {name: sampling(config["datasets"][name]) for name in names},
        "start": config["probes"][section["probe"]].get("start", PROBE_DEFAULTS["start"]),
        "start_token": (section.get("start_tokens") or {}).get(model),
        "lid_model": section.get("lid_model"),
    }


def sampling(dataset: Mapping[str, Any]) -> str:
    """How a dataset's texts were drawn per language, in words for the notes."""
    sample = dataset.get("sample")
    if sample is None:
        return (
            "the authors' texts as released" if dataset["format"] == "lang_neuron" else "all texts"
        )
    if sample.get("per") != "lang":
        return f"{sample['n']} texts drawn over all languages"
    return (
        f"{sample['n']} per language, "
        f"{SAMPLINGS[sample.get('groups', 'same_positions') == 'same_positions']}"
    )
