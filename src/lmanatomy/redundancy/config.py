"""Semantic checks of the ``redundancy`` config section (the schema has settled keys and types)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lmanatomy.config import check_dataset_names, check_model_names
from lmanatomy.errors import ConfigError
from lmanatomy.models.registry import ModelEntry, Registry


def hidden_size(entry: ModelEntry) -> int:
    """Width of the residual stream (the registry entry's fact), required by this study."""
    if entry.hidden_size is not None:
        return entry.hidden_size
    raise ConfigError(
        "redundancy.models",
        f"model '{entry.name}': registry config has no hidden size (hidden_size / n_embd / "
        "d_model)",
    )


def _eos_hidden_states_probe(config: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """The probe that ``redundancy.<key>`` names, checked to capture EOS-token hidden states."""
    probes = config.get("probes") or {}
    name = config["redundancy"][key]
    if name not in probes:
        raise ConfigError(
            f"redundancy.{key}",
            f"unknown probe '{name}' (the config's probes: {', '.join(sorted(probes)) or 'none'})",
        )
    probe = probes[name]
    if probe.get("modules") != "hidden_states" or probe.get("pool") != "eos":
        raise ConfigError(
            f"redundancy.{key}",
            f"probe '{name}' captures modules={probe.get('modules')}, pool={probe.get('pool')}; "
            "the study needs modules: hidden_states, pool: eos",
        )
    return probe


def check(config: Mapping[str, Any], registry: Registry) -> None:
    """Models exist and have layer pairs; the dataset
    exists; the probe captures EOS hidden states."""
    section = config["redundancy"]
    entries = check_model_names("redundancy.models", section["models"], registry)
    check_dataset_names("redundancy.dataset", section["dataset"], config)
    probe = _eos_hidden_states_probe(config, "probe")
    if section.get("last_layer_probe") is not None:
        other = _eos_hidden_states_probe(config, "last_layer_probe")
        if other.get("last_layer", "raw") == probe.get("last_layer", "raw"):
            raise ConfigError(
                "redundancy.last_layer_probe",
                f"probe '{section['last_layer_probe']}' takes the last hidden state the same way "
                f"as '{section['probe']}' (last_layer: {probe.get('last_layer', 'raw')}); it must "
                "take it the other way (raw vs normed)",
            )
    for index, entry in enumerate(entries):
        if entry.is_series:
            raise ConfigError(
                f"redundancy.models[{index}]",
                f"model '{entry.name}' is a checkpoint series; name a single model",
            )
        if entry.num_layers < 2:
            raise ConfigError(
                f"redundancy.models[{index}]",
                f"model '{entry.name}' has {entry.num_layers} layer(s): no layer pair",
            )
        if section.get("top_inputs", 5) > hidden_size(entry):
            raise ConfigError(
                "redundancy.top_inputs",
                f"{section['top_inputs']} exceeds the hidden size {hidden_size(entry)} of "
                f"'{entry.name}'",
            )
    sample = config["datasets"][section["dataset"]].get("sample") or {}
    wanted = section["train"] + section["test"]
    if "n" in sample and "per" not in sample and sample["n"] < wanted:
        raise ConfigError(
            "redundancy.train",
            f"train + test = {wanted} sentences but dataset '{section['dataset']}' samples only "
            f"{sample['n']} rows",
        )
    distinct = distinct_texts(config, section["dataset"])
    if distinct is not None and distinct < wanted:
        raise ConfigError(
            "redundancy.train",
            f"train + test = {wanted} sentences but dataset '{section['dataset']}' has only "
            f"{distinct} distinct texts (after its sampling); lower redundancy.train/test or use "
            "a larger dataset",
        )


PLAN_TIME_BYTES = (
    64 * 2**20
)  # larger datasets are counted by the job (choose_sentences), not at every dry-run


def distinct_texts(config: Mapping[str, Any], name: str) -> int | None:
    """Distinct texts of a dataset as the study's job will see them (sampling applied), or ``None``.

    The job keeps each text once (:func:`lmanatomy.redundancy.pairs.choose_sentences`), so a
    dataset with repeated texts (JSTS repeats ``sentence1``) holds fewer than its rows. Counted
    here by preparing the dataset exactly as its prepare job does, when its files are on disk
    and together under :data:`PLAN_TIME_BYTES`. Not knowable at plan time (``None``): files still
    to be downloaded (``data/raw`` before the download jobs) or a ``hf`` dataset not yet cached;
    not counted for bigger files (C4 shards), where the job's own check names the shortfall.
    """
    from lmanatomy.data import prepare_dataset
    from lmanatomy.data.layout import dataset_root, resolve
    from lmanatomy.errors import DataError

    spec, root = config["datasets"][name], dataset_root(config, name)
    try:
        resolved = resolve(spec, root)
    except DataError:
        return None  # check_datasets names what is wrong with the spec
    paths = [resolved.folder / rel for rel in resolved.files]
    if (
        not paths
        or not all(path.is_file() for path in paths)
        or sum(path.stat().st_size for path in paths) > PLAN_TIME_BYTES
    ):
        return None
    texts = prepare_dataset(spec, root, name=name).table.column("text").to_pylist()
    return len(set(texts))
