"""The model registry: every model a run may name, where it comes from, and its architecture.

An entry carries the architecture facts (the content of the model's ``config.json``) so that the
workflow can plan without weights: the neuron census, the lesion plan and SLURM resources all
come from the entry alone. Weights are only touched by the rules that fetch, convert or train.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lmanatomy.errors import RegistryError
from lmanatomy.yamlfile import load_yaml

SOURCES = ("hf", "gguf", "local", "path")
COMMIT = re.compile(r"^[0-9a-f]{40}$")
DEFAULT_REGISTRY = Path("config/models.yaml")
DEFAULT_MODEL_ROOT = Path("data/models")


@dataclass(frozen=True)
class ModelEntry:
    """One registry entry.

    ``checkpoints`` lists the revisions of a checkpoint series (hub branches such as ``step1000``
    for Pythia, or the steps a ``local`` training saves); an entry without checkpoints is a
    single model.
    """

    name: str
    source: str
    config: Mapping[str, Any]
    display: str
    repo: str | None = None
    revision: str | None = None
    trust_remote_code: bool = False
    package: str | None = None
    file: str | None = None
    sha256: str | None = None
    checkpoints: tuple[str, ...] = ()
    train: Mapping[str, Any] = field(default_factory=dict)
    parameters: int | None = None
    notes: str = ""
    path: str | None = None
    unpinned: str | None = None

    @property
    def model_type(self) -> str:
        return str(self.config["model_type"])

    @property
    def num_layers(self) -> int:
        """Number of decoder layers, read from whichever key the architecture uses."""
        for key in ("num_hidden_layers", "n_layer", "num_layers"):
            if key in self.config:
                return int(self.config[key])
        raise RegistryError(
            f"model '{self.name}': config has no layer count (num_hidden_layers / n_layer / "
            "num_layers)"
        )

    @property
    def hidden_size(self) -> int | None:
        """Width of the residual stream, from whichever key the architecture uses; None when the
        entry's config does not state it (the studies that need it say so in their config check)."""
        return self._first_stated(("hidden_size", "n_embd", "d_model"))

    @property
    def ff_width(self) -> int | None:
        """FF (MLP) neurons per layer. GPT-2 and BLOOM configs leave it implied (``n_inner: null``,
        no key): 4 × the hidden size, as their modeling code builds it. None when not stated."""
        width = self._first_stated(("intermediate_size", "ffn_dim", "n_inner"))
        if width is None and self.model_type in ("gpt2", "bloom") and self.hidden_size:
            return 4 * self.hidden_size
        return width

    @property
    def ff_neurons(self) -> int | None:
        """FF neurons of the whole model (layers × FF
        width); None when the FF width is not stated."""
        return self.ff_width * self.num_layers if self.ff_width else None

    def _first_stated(self, keys: tuple[str, ...]) -> int | None:
        """The first of ``keys`` the config gives a value (a family's spellings of one fact)."""
        for key in keys:
            if self.config.get(key):
                return int(self.config[key])
        return None

    @property
    def is_series(self) -> bool:
        return bool(self.checkpoints)

    def final_checkpoint(self) -> str:
        if not self.checkpoints:
            raise RegistryError(f"model '{self.name}' is not a checkpoint series")
        return self.checkpoints[-1]


def model_dir(
    entry: ModelEntry, checkpoint: str | None = None, root: str | Path = DEFAULT_MODEL_ROOT
) -> Path:
    """Where the workflow keeps a model's weights: ``data/models/<name>[/<checkpoint>]``."""
    base = Path(root) / entry.name
    if entry.is_series:
        if checkpoint is None:
            raise RegistryError(
                f"model '{entry.name}' is a checkpoint series; name one of "
                f"{list(entry.checkpoints)}"
            )
        if checkpoint not in entry.checkpoints:
            raise RegistryError(
                f"model '{entry.name}' has no checkpoint '{checkpoint}' (known: "
                f"{list(entry.checkpoints)})"
            )
        return base / checkpoint
    if checkpoint is not None:
        raise RegistryError(
            f"model '{entry.name}' is a single model, not a checkpoint series (got checkpoint "
            f"'{checkpoint}')"
        )
    return base


class Registry(Mapping[str, ModelEntry]):
    """Name → :class:`ModelEntry`, with lookups that fail naming the unknown model."""

    def __init__(
        self,
        entries: Mapping[str, ModelEntry],
        path: Path | None = None,
        raw: Mapping[str, Any] | None = None,
    ):
        self._entries = dict(entries)
        self.path = path
        self._raw = dict(raw or {})

    def raw_entry(self, name: str) -> dict[str, Any]:
        """The entry as written in the registry file (for ``parse_entry``).

        Rules pass this to their jobs as a parameter instead of the whole registry file as an
        input, so that editing one entry re-runs only the work that depends on that model.
        """
        self[name]  # fail naming the unknown model
        return dict(self._raw[name])

    def __getitem__(self, name: str) -> ModelEntry:
        try:
            return self._entries[name]
        except KeyError:
            where = f" in {self.path}" if self.path else ""
            raise RegistryError(
                f"unknown model '{name}'{where}; known models: {sorted(self._entries)}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def _require(entry: Mapping[str, Any], key: str, name: str, kind: type | tuple[type, ...]) -> Any:
    if key not in entry:
        raise RegistryError(f"model '{name}': missing key '{key}'")
    value = entry[key]
    if not isinstance(value, kind):
        raise RegistryError(f"model '{name}': key '{key}' must be {kind}, got {value!r}")
    return value


def parse_entry(name: str, raw: Mapping[str, Any]) -> ModelEntry:
    """Check one raw YAML entry and turn it into a :class:`ModelEntry`."""
    if not isinstance(raw, Mapping):
        raise RegistryError(f"model '{name}': entry must be a mapping, got {raw!r}")
    source = _require(raw, "source", name, str)
    if source not in SOURCES:
        raise RegistryError(
            f"model '{name}': key 'source' must be one of {SOURCES}, got '{source}'"
        )
    if source == "path":
        return _path_entry(name, raw)
    config = _require(raw, "config", name, Mapping)
    if "model_type" not in config:
        raise RegistryError(f"model '{name}': key 'config' needs 'model_type'")
    common = dict(
        name=name,
        source=source,
        config=dict(config),
        display=str(raw.get("display", name)),
        checkpoints=tuple(str(c) for c in raw.get("checkpoints", ())),
        parameters=raw.get("parameters"),
        notes=str(raw.get("notes", "")),
        trust_remote_code=bool(raw.get("trust_remote_code", False)),
    )
    if source == "hf":
        repo = _require(raw, "repo", name, str)
        if not common["checkpoints"]:
            revision = _require(raw, "revision", name, str)
        else:
            revision = raw.get("revision")
        unpinned = raw.get("unpinned")
        if revision is not None and not COMMIT.match(revision) and not unpinned:
            raise RegistryError(
                f"model '{name}': revision '{revision}' is not a full 40-hex commit hash; pin the "
                "commit, or say why it may move with `unpinned: <reason>`"
            )
        return ModelEntry(
            repo=repo, revision=revision, unpinned=str(unpinned) if unpinned else None, **common
        )
    if source == "gguf":
        return ModelEntry(
            package=_require(raw, "package", name, str),
            file=_require(raw, "file", name, str),
            sha256=raw.get("sha256"),
            **common,
        )
    train = _require(raw, "train", name, Mapping)
    if not common["checkpoints"]:
        raise RegistryError(
            f"model '{name}': a 'local' model must list the 'checkpoints' its training saves"
        )
    return ModelEntry(train=dict(train), **common)


def _path_entry(name: str, raw: Mapping[str, Any]) -> ModelEntry:
    """A ``source: path`` entry: a folder of the user's
    own weights; its config.json is the architecture.

    Facts the entry writes under ``config`` must agree with config.json (a check, not an override).
    A relative path is relative to the working directory, like every path of a config.
    """
    folder = Path(_require(raw, "path", name, str))
    config_json = folder / "config.json"
    if not config_json.is_file():
        raise RegistryError(
            f"model '{name}': folder '{folder}' has no config.json (source: path needs "
            "config.json, safetensors and a tokenizer)"
        )
    if not any(folder.glob("*.safetensors")):
        raise RegistryError(
            f"model '{name}': folder '{folder}' has no .safetensors weights (lm-anatomy never "
            "loads pickled weights)"
        )
    with config_json.open(encoding="utf-8") as fh:
        facts = json.load(fh)
    if "model_type" not in facts:
        raise RegistryError(f"model '{name}': {config_json} has no 'model_type'")
    for key, value in (raw.get("config") or {}).items():
        if facts.get(key) != value:
            raise RegistryError(
                f"model '{name}': entry says config.{key}={value!r} but {config_json} says "
                f"{facts.get(key)!r}"
            )
    return ModelEntry(
        name=name,
        source="path",
        config=facts,
        display=str(raw.get("display", name)),
        path=str(folder),
        parameters=raw.get("parameters"),
        notes=str(raw.get("notes", "")),
        trust_remote_code=bool(raw.get("trust_remote_code", False)),
    )


def load_registry(path: str | Path = DEFAULT_REGISTRY) -> Registry:
    """Read and check ``config/models.yaml`` (or another
    registry file); duplicate keys are errors."""
    path = Path(path)
    if not path.is_file():
        raise RegistryError(f"model registry file not found: {path}")
    raw = load_yaml(path)
    if not isinstance(raw, Mapping) or not raw:
        raise RegistryError(
            f"model registry {path} must be a non-empty mapping of model name → entry"
        )
    entries = {str(name): parse_entry(str(name), entry) for name, entry in raw.items()}
    return Registry(entries, path, raw={str(name): entry for name, entry in raw.items()})
