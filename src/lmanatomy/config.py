"""Checks on a run's config that JSON Schema cannot express.

The schema (workflow/schemas) settles keys and types; this module checks the config against the
world: that named models exist in the registry, that layer ranges fit the model, that datasets
are known. It runs in the Snakefile before any job, so a bad config never starts work. Every
error names the dotted key and the offending value.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lmanatomy.errors import ConfigError, DataError, LmAnatomyError, RegistryError
from lmanatomy.models.registry import ModelEntry, Registry, load_registry


def dotted_key(path: Sequence[Any]) -> str:
    """``['census', 'models', 0]`` → ``census.models[0]``."""
    key = ""
    for part in path:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key


def explain_schema_error(error: Any, prefix: str = "") -> ConfigError:
    """Turn a jsonschema ``ValidationError`` into one line naming the dotted key and the value.

    ``snakemake.utils.validate`` reports the whole sub-schema; a user needs the key, what is
    wrong with it and what is allowed.
    """
    from jsonschema.exceptions import best_match

    if error.context:
        error = best_match(error.context) or error
    path = list(error.absolute_path)
    join = (lambda k: f"{prefix}{k}") if prefix else (lambda k: k)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = (
            sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        )
        key = dotted_key(path + extra[:1]) or "<top level>"
        return ConfigError(join(key), f"unknown key (allowed here: {', '.join(allowed) or 'none'})")
    if error.validator == "required":
        match = re.match(r"'(.+?)' is a required property", error.message)
        key = dotted_key(path + ([match.group(1)] if match else []))
        return ConfigError(join(key or "<top level>"), "required key is missing")
    return ConfigError(join(dotted_key(path) or "<top level>"), f"{error.message}")


def schema_error(exc: BaseException, prefix: str = "") -> BaseException:
    """The :class:`ConfigError` behind a snakemake validation error (or ``exc`` itself)."""
    from jsonschema.exceptions import ValidationError

    seen: BaseException | None = exc
    while seen is not None:  # snakemake raises its error while handling jsonschema's
        if isinstance(seen, ValidationError):
            return explain_schema_error(seen, prefix)
        seen = seen.__cause__ or seen.__context__
    return exc


def check_model_names(key: str, names: Sequence[str], registry: Registry) -> list[ModelEntry]:
    """Resolve a list of registry names, failing on the first unknown one with its index."""
    entries = []
    for index, name in enumerate(names):
        if name not in registry:
            raise ConfigError(
                f"{key}[{index}]", f"unknown model '{name}' (known: {', '.join(sorted(registry))})"
            )
        entries.append(registry[name])
    return entries


def check_layer_range(key: str, layers: Sequence[int], entry: ModelEntry) -> tuple[int, int]:
    """An inclusive (first, last) decoder-layer range that must lie inside the model."""
    if len(layers) != 2:
        raise ConfigError(key, f"a layer range is [first, last], got {list(layers)}")
    first, last = int(layers[0]), int(layers[1])
    n = entry.num_layers
    if not 0 <= first <= last < n:
        raise ConfigError(
            key,
            f"layer range [{first}, {last}] is outside model '{entry.name}' (layers 0..{n - 1})",
        )
    return first, last


def check_choice(key: str, value: Any, choices: Sequence[Any]) -> Any:
    if value not in choices:
        raise ConfigError(key, f"unknown value '{value}' (known: {', '.join(map(str, choices))})")
    return value


def check_data_root(config: Mapping[str, Any]) -> None:
    root = config.get("data_root")
    if root is not None and not Path(root).is_dir():
        raise ConfigError("data_root", f"folder '{root}' does not exist")


def check_dataset_names(
    key: str,
    names: str | Sequence[str],
    config: Mapping[str, Any],
    formats: Sequence[str] | None = None,
) -> list[str]:
    """Dataset names a study section refers to: each must be in ``datasets:`` (and of ``formats``).

    ``names`` is one name (``language.dataset``: the error names ``key``) or a list (the error
    names ``key[i]``). Returns the names as a list.
    """
    datasets = config.get("datasets") or {}
    single = isinstance(names, str)
    listed = [names] if single else list(names)
    for index, name in enumerate(listed):
        at = key if single else f"{key}[{index}]"
        if name not in datasets:
            raise ConfigError(
                at,
                f"unknown dataset '{name}' (the config's datasets: "
                f"{', '.join(sorted(datasets)) or 'none'})",
            )
        fmt = datasets[name]["format"]
        if formats is not None and fmt not in formats:
            raise ConfigError(
                at, f"dataset '{name}' has format '{fmt}'; this needs one of: {', '.join(formats)}"
            )
    return listed


def check_datasets(config: Mapping[str, Any]) -> None:
    """Each entry of ``datasets:`` against its format and the root on disk (or the download table).

    Catches what the schema cannot: an option that does not apply to the format (``languages``
    on jsts), a split, language or subject the root lacks, a ``sample.per`` column the format
    does not have, a ``text_column`` that is not a text field.
    """
    from lmanatomy.data.formats import FORMATS
    from lmanatomy.data.layout import OptionError, dataset_root, resolve

    for name, spec in (config.get("datasets") or {}).items():
        key = f"datasets.{name}"
        fmt = FORMATS[spec["format"]]
        per = (spec.get("sample") or {}).get("per")
        if per is not None and per not in fmt.columns:
            raise ConfigError(
                f"{key}.sample.per",
                f"format '{fmt.name}' has no column '{per}' (columns: {', '.join(fmt.columns)})",
            )
        try:
            resolve(spec, dataset_root(config, name))
        except OptionError as exc:
            at = f"{key}.{exc.option}" + (f"[{exc.index}]" if exc.index is not None else "")
            raise ConfigError(at, str(exc)) from None
        except DataError as exc:
            raise ConfigError(key, str(exc)) from None


def section_models(section: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(dotted key, registry name) of every model a
    study section names (``model`` or ``models``)."""
    if isinstance(section.get("model"), str):
        return [("model", section["model"])]
    return [
        (f"models[{i}]", name)
        for i, name in enumerate(section.get("models") or [])
        if isinstance(name, str)
    ]


def check_model_structures(config: Mapping[str, Any], registry: Registry) -> None:
    """Each model a study names has the parts and special tokens the study needs
    (lmanatomy.models.needs), at plan time.

    The census runs whenever the config has a ``census`` section; the other studies when enabled.
    """
    from lmanatomy.models.needs import needs_of, require_parts, require_tokens, token_needs

    probes = config.get("probes") or {}
    studies = (["census"] if "census" in config else []) + [
        s for s in config.get("studies", []) if s != "census"
    ]
    for study in studies:
        section = config.get(study) or {}
        probe = probes.get(section["probe"]) if isinstance(section.get("probe"), str) else None
        needs = needs_of(study, section, probe)
        for key, name in section_models(section):
            if name not in registry:
                continue  # the study's own check names the unknown model
            try:
                require_parts(registry[name], study, needs)
                require_tokens(registry[name], study, token_needs(probe))
            except RegistryError as exc:
                raise ConfigError(f"{study}.{key}", str(exc)) from None


def check_registry_facts(registry: Registry) -> None:
    """Required keys and divisibility of every registry entry (lmanatomy.models.facts)."""
    from lmanatomy.models.facts import check_facts

    for entry in registry.values():
        try:
            check_facts(entry)
        except RegistryError as exc:
            where = f"{registry.path}: " if registry.path else ""
            raise ConfigError("models_file", f"{where}{exc}") from None


def check_config(config: Mapping[str, Any], registry: Registry | None = None) -> None:
    """Run every semantic check for the studies the config enables."""
    if registry is None:
        try:
            registry = load_registry(config["models_file"])
        except RegistryError as exc:
            raise ConfigError("models_file", str(exc)) from None
    check_data_root(config)
    check_datasets(config)
    for study in config.get("studies", []):
        if study not in config:
            raise ConfigError(
                "studies", f"study '{study}' is enabled but the config has no '{study}' section"
            )
    if "census" in config:
        check_model_names("census.models", config["census"]["models"], registry)
    if "probes" in config:
        from lmanatomy.extract.probe import check_probes

        check_probes(config["probes"])
    check_registry_facts(registry)
    check_model_structures(config, registry)
    # In the studies' dependency order (lmanatomy.study), whatever the config's order: a study that
    # draws on others (the atlas, `after=` on its descriptor) is checked after them, so a mistake
    # in a study's own section is reported as that section's.
    from lmanatomy.study import discover

    for study in discover():
        if study.enabled(config):
            study.run_check(config, registry)


def check_yaml_files(paths: Sequence[str | Path]) -> None:
    """Config files parsed strictly: a duplicate key is an error naming the file and both lines."""
    from lmanatomy.yamlfile import load_yaml

    for path in paths:
        try:
            load_yaml(path)
        except LmAnatomyError as exc:
            raise ConfigError("configfile", str(exc)) from None


def _schema_validate(data: Any, schema: Path, prefix: str = "") -> None:
    """``snakemake.utils.validate`` (which also fills schema defaults), with a one-line error."""
    from snakemake.utils import validate

    try:
        validate(data, str(schema))
    except Exception as exc:  # snakemake wraps jsonschema's error in a WorkflowError
        raise schema_error(exc, prefix) from None


def _load_schema(path: Path) -> dict[str, Any]:
    import yaml

    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def fill_defaults(instance: Any, schema: Mapping[str, Any], base: Path) -> None:
    """Set schema ``default`` values, following relative ``$ref`` files.

    ``snakemake.utils.validate`` fills defaults of the top-level schema only; study sections live
    in their own schema files, so their defaults are filled here.
    """
    if "$ref" in schema:
        ref = base / schema["$ref"]
        fill_defaults(instance, _load_schema(ref), ref.parent)
        return
    if isinstance(instance, dict):
        for key, sub in schema.get("properties", {}).items():
            if key not in instance and "default" in sub:
                instance[key] = copy.deepcopy(sub["default"])
            if key in instance:
                fill_defaults(instance[key], sub, base)
    if isinstance(instance, list) and isinstance(schema.get("items"), Mapping):
        for item in instance:
            fill_defaults(item, schema["items"], base)


def validate_config(config: dict[str, Any], schema_dir: str | Path) -> Registry:
    """Validate a run's config and its model registry; return the registry.

    Order matters: the config schema first (keys and types, defaults filled in), then the
    registry file's schema, then the checks against the registry (model names, layer ranges).
    """
    from lmanatomy.yamlfile import load_yaml

    schema_dir = Path(schema_dir)
    _schema_validate(config, schema_dir / "config.schema.yaml")
    fill_defaults(config, _load_schema(schema_dir / "config.schema.yaml"), schema_dir)
    models_file = Path(config["models_file"])
    if not models_file.is_file():
        raise ConfigError("models_file", f"file '{models_file}' does not exist")
    try:
        raw_registry = load_yaml(models_file)
    except LmAnatomyError as exc:
        raise ConfigError("models_file", str(exc)) from None
    _schema_validate(raw_registry, schema_dir / "models.schema.yaml", prefix=f"{models_file}: ")
    try:
        registry = load_registry(models_file)
    except RegistryError as exc:
        raise ConfigError("models_file", str(exc)) from None
    check_config(config, registry)
    return registry
