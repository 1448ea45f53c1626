"""Extraction: run a model over texts with a probe's hooks and write the pooled values as shards.

The flow is plan → shards → manifest:

* **Plan.** Texts are tokenised once; every row (one per text, or one per text × position for
  ``pool: all``) gets a global index, and shard ``k`` holds rows ``[k·R, (k+1)·R)`` in dataset
  order. Everything that decides the bytes of a shard — model, dataset, probe, tokenisation,
  batch size, dtypes, library versions — goes into ``_plan.json`` and its hash, the store's
  fingerprint. A changed plan starts the store over.
* **Shards.** Within a shard, texts are batched longest first (little padding) and the pooled
  values are put back in dataset order. A batch never spans two shards, so a shard computed
  after a restart sees exactly the batches an uninterrupted run would have: a resumed store is
  byte-identical. Each shard is written to a temporary name and renamed when complete; on
  resume, an existing shard is kept only if its footer, row count, schema, fingerprint and ids
  check out, otherwise it is recomputed.
* **Manifest.** ``_manifest.json`` (plan + shard row counts and hashes) is written last: it is
  what marks the store complete.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import inspect
import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import torch
from torch import nn

from lmanatomy import __version__
from lmanatomy.errors import ExtractError, NumericalError, StoreError
from lmanatomy.extract.pooling import Pooler, widths_of
from lmanatomy.extract.probe import Probe
from lmanatomy.extract.provenance import model_info_from_object
from lmanatomy.extract.shards import (
    NUMPY_DTYPES,
    Column,
    check_shard,
    schema_description,
    shard_files,
    shard_name,
    store_schema,
    temporary_name,
    write_shard,
)
from lmanatomy.extract.store import FORMAT_VERSION, MANIFEST, PLAN, STORE_FORMAT, Store, open_store
from lmanatomy.extract.targets import Target, resolve_targets
from lmanatomy.extract.tokens import check_eos, collate, encode, eos_id, pad_id
from lmanatomy.io import atomic_write_text
from lmanatomy.models.adapters import adapter_for

log = logging.getLogger("lmanatomy.extract")
TORCH_STORE_DTYPES = {"float16": torch.float16, "float32": torch.float32}


def extract(
    model: nn.Module,
    tokenizer: Any,
    texts: Sequence[str],
    probe: Probe | Mapping[str, Any],
    out_dir: str | Path,
    ids: Sequence[str] | None = None,
    labels: Sequence[Any] | pa.Array | None = None,
    model_info: Mapping[str, Any] | None = None,
    dataset_info: Mapping[str, Any] | None = None,
    batch_size: int | None = None,
    rows_per_shard: int | None = None,
    device: str | torch.device | None = None,
    progress: bool = True,
    max_length: int | None = None,
    padding_side: str = "right",
) -> Store:
    """Capture ``probe`` for every text and write the
    store to ``out_dir``; resumes where it stopped.

    ``model`` is a causal LM in the adapters' families (its ``base_model`` runs; the LM head is
    skipped). ``ids`` default to the row numbers; ``labels`` pass through to the store.
    ``batch_size``, ``rows_per_shard`` and ``max_length`` override the probe's settings.
    ``device`` is where inputs go (default: where the model's input embeddings are); a model
    wholly on another device is moved there, one dispatched by ``device_map`` is not.
    ``padding_side`` is the extraction's own choice (the tokenizer's default is ignored): right
    padding reads positions directly; left padding gives the same values and exists so that
    this can be checked.
    """
    probe = Probe.from_spec(probe).replace(
        batch_size=batch_size, rows_per_shard=rows_per_shard, max_length=max_length
    )
    texts = list(texts)
    if not texts:
        raise ExtractError("no texts to extract")
    ids = [str(i) for i in range(len(texts))] if ids is None else [str(i) for i in ids]
    if len(ids) != len(texts):
        raise ExtractError(f"{len(ids)} ids for {len(texts)} texts")
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise ExtractError(f"id '{duplicate}' occurs more than once; ids must be unique")
    label_array = _labels(labels, len(texts))
    out_dir = Path(out_dir)
    input_device = _place(model, device)
    model_info = dict(model_info) if model_info is not None else model_info_from_object(model)
    model_name = str(model_info.get("name"))

    sequences = encode(
        tokenizer, texts, probe.max_length, ids, append_eos=probe.pool == "eos", start=probe.start
    )
    eos = eos_id(tokenizer) if probe.pool == "eos" else None
    targets = resolve_targets(model, probe)
    backbone = getattr(model, "base_model", model)
    forward = _Forward(backbone, input_device, padding_side, pad_id(tokenizer))
    was_training = model.training
    model.eval()
    try:
        columns = _columns(targets, forward, sequences[0])
        layout = _Layout(sequences, probe.pool == "all", probe.rows_per_shard)
        key_fields = _key_fields(label_array.type, probe.pool == "all")
        plan = _plan(
            model,
            model_info,
            dataset_info,
            probe,
            columns,
            key_fields,
            layout,
            padding_side,
            input_device,
            ids,
            label_array,
            sequences,
            tokenizer,
        )
        fingerprint = _fingerprint(plan)
        schema = store_schema(columns, key_fields, probe.dtype, fingerprint)
        _prepare(out_dir, plan)
        writer = _ShardWriter(out_dir, schema, fingerprint, plan["schema"], probe.dtype)
        pooler = Pooler(targets, [c.width for c in columns], probe.pool)
        bar = _progress(
            progress, layout.num_rows, f"extract {probe.name or probe.modules}/{probe.pool}"
        )
        shards = []
        with pooler, torch.inference_mode():
            for index, (start, stop) in enumerate(layout.shards()):
                expected_ids = [ids[t] for t in layout.row_text[start:stop]]
                entry = writer.existing(index, stop - start, expected_ids)
                if entry is None:
                    values = _compute_shard(
                        pooler,
                        forward,
                        layout,
                        sequences,
                        start,
                        stop,
                        probe,
                        eos,
                        ids,
                        model_name,
                        columns,
                        bar,
                    )
                    keys = _keys(layout, sequences, ids, label_array, start, stop)
                    entry = writer.write(index, keys, values)
                else:
                    bar.update(stop - start)
                shards.append(entry)
        bar.close()
    finally:
        model.train(was_training)
    manifest = {**plan, "fingerprint": fingerprint, "shards": shards}
    _write_json(out_dir / MANIFEST, manifest)
    return open_store(out_dir)


# -- inputs -------------------------------------------------------------------------------------


def _labels(labels: Sequence[Any] | pa.Array | pa.ChunkedArray | None, n: int) -> pa.Array:
    """One Arrow array for the whole store, so every shard's label column has the same type."""
    if labels is None:
        array = pa.nulls(n)
    elif isinstance(labels, pa.ChunkedArray):
        array = labels.combine_chunks()
    elif isinstance(labels, pa.Array):
        array = labels
    else:
        array = pa.array(np.asarray(labels) if isinstance(labels, np.ndarray) else list(labels))
    if len(array) != n:
        raise ExtractError(f"{len(array)} labels for {n} texts")
    return array


def _place(model: nn.Module, device: str | torch.device | None) -> torch.device:
    """The device inputs go to; moves a model that sits wholly on another device."""
    embedding = model.get_input_embeddings().weight.device
    if device is None:
        return embedding
    from lmanatomy.models.loading import resolve_device

    target = resolve_device(str(device)) if not isinstance(device, torch.device) else device
    if target.type == embedding.type and (target.index is None or target.index == embedding.index):
        return embedding
    if getattr(model, "hf_device_map", None):
        raise ExtractError(
            f"model is dispatched over devices ({embedding} first); cannot move it to {target}"
        )
    model.to(target)
    return model.get_input_embeddings().weight.device


class _Forward:
    """The model call for one padded batch (the LM head is skipped: no probe reads logits)."""

    def __init__(self, backbone: nn.Module, device: torch.device, side: str, pad: int):
        self.backbone, self.device, self.side, self.pad = backbone, device, side, pad
        parameters = inspect.signature(backbone.forward).parameters
        self.takes_positions = "position_ids" in parameters
        self.takes_cache = "use_cache" in parameters

    def batch(self, sequences: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        return collate(sequences, self.pad, self.side)

    def __call__(self, input_ids: torch.Tensor, mask: torch.Tensor) -> None:
        kwargs: dict[str, Any] = {
            "input_ids": input_ids.to(self.device),
            "attention_mask": mask.to(self.device),
        }
        if self.takes_cache:
            kwargs["use_cache"] = False
        if self.side == "left" and self.takes_positions:
            # Absolute position embeddings (GPT-2, XGLM) must count from the first real token.
            kwargs["position_ids"] = (mask.cumsum(dim=1) - 1).clamp(min=0).to(self.device)
        self.backbone(**kwargs)


def _columns(targets: list[Target], forward: _Forward, sequence: Sequence[int]) -> list[Column]:
    """Each target's width, from one forward pass over (at most) two tokens."""
    ids, mask = forward.batch([list(sequence[:2])])
    widths = widths_of(targets, forward, ids, mask)
    return [
        Column(t.column, w, t.layer, t.module_name, t.role)
        for t, w in zip(targets, widths, strict=True)
    ]


class _Layout:
    """Rows in dataset order: one per text, or one per text × position; shards of R rows."""

    def __init__(self, sequences: Sequence[Sequence[int]], per_position: bool, rows_per_shard: int):
        counts = np.array([len(s) if per_position else 1 for s in sequences], dtype=np.int64)
        self.per_position = per_position
        self.offsets = np.concatenate([[0], np.cumsum(counts)])
        self.counts = counts
        self.num_rows = int(self.offsets[-1])
        self.row_text = np.repeat(np.arange(len(sequences)), counts)
        self.rows_per_shard = rows_per_shard

    def shards(self) -> Iterable[tuple[int, int]]:
        for start in range(0, self.num_rows, self.rows_per_shard):
            yield start, min(start + self.rows_per_shard, self.num_rows)

    def texts(self, start: int, stop: int) -> range:
        """Texts with at least one row in ``[start, stop)``."""
        first = (
            int(np.searchsorted(self.offsets, start, side="right")) - 1
            if self.per_position
            else start
        )
        last = int(self.row_text[stop - 1])
        return range(int(first), last + 1)

    def rows_of(self, texts: Sequence[int]) -> np.ndarray:
        """Global row indices of the pooled output rows of a batch of texts, in batch order."""
        if not self.per_position:
            return np.asarray(texts, dtype=np.int64)
        return np.concatenate([np.arange(self.offsets[t], self.offsets[t + 1]) for t in texts])


def _key_fields(label_type: pa.DataType, per_position: bool) -> list[pa.Field]:
    fields = [pa.field("id", pa.string(), nullable=False), pa.field("label", label_type)]
    if per_position:
        fields += [
            pa.field("position", pa.int32(), nullable=False),
            pa.field("token_id", pa.int32(), nullable=False),
        ]
    return fields


def _keys(
    layout: _Layout,
    sequences: Sequence[Sequence[int]],
    ids: Sequence[str],
    labels: pa.Array,
    start: int,
    stop: int,
) -> dict[str, pa.Array]:
    texts = layout.row_text[start:stop]
    keys = {
        "id": pa.array([ids[t] for t in texts], pa.string()),
        "label": labels.take(pa.array(texts)),
    }
    if layout.per_position:
        positions = np.arange(start, stop) - layout.offsets[texts]
        keys["position"] = pa.array(positions.astype(np.int32))
        keys["token_id"] = pa.array(
            np.array(
                [sequences[t][p] for t, p in zip(texts, positions, strict=True)], dtype=np.int32
            )
        )
    return keys


# -- plan ---------------------------------------------------------------------------------------


def _inputs_hash(ids: Sequence[str], labels: pa.Array, sequences: Sequence[Sequence[int]]) -> str:
    digest = hashlib.sha256()
    for row_id, seq in zip(ids, sequences, strict=True):
        digest.update(json.dumps([row_id, seq], separators=(",", ":")).encode())
    digest.update(str(labels.type).encode())
    digest.update(json.dumps(labels.to_pylist(), default=str).encode())
    return digest.hexdigest()


def _plan(
    model: nn.Module,
    model_info: Mapping[str, Any],
    dataset_info: Mapping[str, Any] | None,
    probe: Probe,
    columns: list[Column],
    key_fields: list[pa.Field],
    layout: _Layout,
    padding_side: str,
    device: torch.device,
    ids: Sequence[str],
    labels: pa.Array,
    sequences: Sequence[Sequence[int]],
    tokenizer: Any,
) -> dict[str, Any]:
    """Everything that decides a shard's bytes. No
    paths, no times: the same inputs, the same plan."""
    adapter = adapter_for(model)
    dtype = next(model.parameters()).dtype
    schema = store_schema(columns, key_fields, probe.dtype, "")
    return {
        "format": STORE_FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "code_sha256": _code_hash(),
        "versions": {pkg: metadata.version(pkg) for pkg in ("torch", "transformers", "pyarrow")},
        "model": dict(model_info),
        "model_type": adapter.family,
        "num_layers": len(adapter.decoder_layers(model)),
        "model_dtype": str(dtype).removeprefix("torch."),
        "device": device.type,
        "dataset": dict(dataset_info) if dataset_info is not None else {"name": None},
        "probe": probe.spec(),
        "dtype": probe.dtype,
        "padding_side": padding_side,
        "tokenizer": {
            "class": type(tokenizer).__name__,
            "bos_token_id": getattr(tokenizer, "bos_token_id", None),
            "eos_token_id": getattr(tokenizer, "eos_token_id", None),
        },
        "columns": [c.as_dict() for c in columns],
        "key_columns": [f.name for f in key_fields],
        "schema": schema_description(schema),
        "num_texts": len(sequences),
        "num_tokens": int(sum(len(s) for s in sequences)),
        "num_rows": layout.num_rows,
        "rows_per_shard": probe.rows_per_shard,
        "inputs_sha256": _inputs_hash(ids, labels, sequences),
    }


def _code_hash() -> str:
    """sha256 of the code that decides a shard's bytes (this package and the adapters), so that
    a store computed by other code is started over rather than resumed."""
    import lmanatomy.models.adapters as adapters

    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")) + [Path(adapters.__file__)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False, default=str) + "\n"


def _fingerprint(plan: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical(plan).encode()).hexdigest()


def _write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, _canonical(obj))


def _prepare(out_dir: Path, plan: Mapping[str, Any]) -> None:
    """Keep the shards of an identical earlier plan; otherwise start the store over."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MANIFEST).unlink(missing_ok=True)  # incomplete until written again
    for tmp in out_dir.glob(".part-*.tmp"):
        tmp.unlink()
    plan_path = out_dir / PLAN
    previous = None
    if plan_path.is_file():
        try:
            previous = json.loads(plan_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            previous = None
    if previous != json.loads(_canonical(plan)):
        if previous is not None or shard_files(out_dir):
            log.warning(
                "%s: the extraction plan changed (or is unreadable); starting the store over",
                out_dir,
            )
        for shard in shard_files(out_dir):
            shard.unlink()
        _write_json(plan_path, plan)


# -- shards -------------------------------------------------------------------------------------


class _ShardWriter:
    def __init__(
        self, out_dir: Path, schema: pa.Schema, fingerprint: str, description: list, dtype: str
    ):
        self.out_dir, self.schema, self.fingerprint, self.description, self.dtype = (
            out_dir,
            schema,
            fingerprint,
            description,
            dtype,
        )

    def existing(self, index: int, rows: int, expected_ids: list[str]) -> dict[str, Any] | None:
        """The manifest entry of a complete, matching shard already on disk, or None."""
        from lmanatomy.io import sha256_file

        path = self.out_dir / shard_name(index)
        if not path.exists():
            return None
        try:
            handle = check_shard(path, rows, self.description, self.fingerprint)
            found = handle.read(columns=["id"]).column("id").to_pylist()
            if found != expected_ids:
                raise StoreError(
                    f"shard {path} holds other rows (ids {found[:3]}…, expected "
                    f"{expected_ids[:3]}…)"
                )
        except StoreError as exc:
            log.warning("recomputing: %s", exc)
            path.unlink()
            return None
        except Exception as exc:  # any unreadable data page
            log.warning("recomputing shard %s: %s", path, exc)
            path.unlink()
            return None
        return {"file": path.name, "rows": rows, "sha256": sha256_file(path)}

    def write(
        self, index: int, keys: dict[str, pa.Array], values: dict[str, np.ndarray]
    ) -> dict[str, Any]:
        from lmanatomy.io import sha256_file

        tmp = self.out_dir / temporary_name(index)
        path = self.out_dir / shard_name(index)
        write_shard(tmp, keys, values, self.schema)
        digest = sha256_file(tmp)
        os.replace(tmp, path)
        return {"file": path.name, "rows": len(keys["id"]), "sha256": digest}


def _compute_shard(
    pooler: Pooler,
    forward: _Forward,
    layout: _Layout,
    sequences: Sequence[Sequence[int]],
    start: int,
    stop: int,
    probe: Probe,
    eos: int | None,
    ids: Sequence[str],
    model_name: str,
    columns: list[Column],
    bar: Any,
) -> dict[str, np.ndarray]:
    """Pooled values of rows ``[start, stop)``, batching the shard's texts longest first."""
    store_dtype = TORCH_STORE_DTYPES[probe.dtype]
    values = {
        c.name: np.empty((stop - start, c.width), dtype=NUMPY_DTYPES[probe.dtype]) for c in columns
    }
    texts = sorted(layout.texts(start, stop), key=lambda t: (-len(sequences[t]), t))
    for first in range(0, len(texts), probe.batch_size):
        batch = texts[first : first + probe.batch_size]
        input_ids, mask = forward.batch([sequences[t] for t in batch])
        if eos is not None:
            check_eos(input_ids, mask, eos, [ids[t] for t in batch])
        pooler.begin(mask.to(forward.device))
        forward(input_ids, mask)
        pooled = pooler.collect()
        rows = layout.rows_of(batch)
        keep = (rows >= start) & (rows < stop)
        if not keep.all():
            pooled = pooled[torch.from_numpy(keep)]
        stored = pooled.to(store_dtype)
        if not bool(torch.isfinite(stored).all()):
            _raise_non_finite(
                pooled, stored, rows[keep], pooler, columns, layout, ids, model_name, probe.dtype
            )
        dest = rows[keep] - start
        for column in columns:
            values[column.name][dest] = stored[:, pooler.slice_of(column.name)].numpy()
        bar.update(int(keep.sum()))
    return values


def _raise_non_finite(
    pooled: torch.Tensor,
    stored: torch.Tensor,
    rows: np.ndarray,
    pooler: Pooler,
    columns: list[Column],
    layout: _Layout,
    ids: Sequence[str],
    model_name: str,
    dtype: str,
) -> None:
    """NumericalError naming the first module (forward order) and row (dataset order) affected."""
    column = next(
        c.name
        for c in columns
        if not bool(torch.isfinite(stored[:, pooler.slice_of(c.name)]).all())
    )
    block, stored = pooled[:, pooler.slice_of(column)], stored[:, pooler.slice_of(column)]
    bad_rows = (~torch.isfinite(stored)).any(dim=1).nonzero()[:, 0]
    row = int(bad_rows[int(np.argmin(rows[bad_rows.numpy()]))])  # the first in dataset order
    global_row = int(rows[row])
    text = int(layout.row_text[global_row])
    where = f"row '{ids[text]}'" + (
        f" position {global_row - int(layout.offsets[text])}" if layout.per_position else ""
    )
    raw = block[row]
    if bool(torch.isfinite(raw).all()):
        value = float(raw[~torch.isfinite(stored[row])][0])
        raise NumericalError(
            f"model '{model_name}': module '{column}' at {where} has value {value:g}, which "
            f"overflows {dtype} storage ({int(bad_rows.numel())} rows affected); store this probe "
            "as float32"
        )
    kind = "NaN" if bool(torch.isnan(raw).any()) else "inf"
    raise NumericalError(
        f"model '{model_name}': module '{column}' produced {kind} at {where} "
        f"({int(bad_rows.numel())} rows affected)"
    )


class _NoProgress:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(enabled: bool, total: int, desc: str) -> Any:
    if not enabled:
        return _NoProgress()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="row", mininterval=5.0)


def extract_dataset(
    model_dir: str | Path,
    dataset: str | Path,
    probe: Probe | Mapping[str, Any],
    out_dir: str | Path,
    model_name: str | None = None,
    dataset_name: str | None = None,
    probe_name: str | None = None,
    device: str = "cpu",
    dtype: str = "float32",
    progress: bool = True,
) -> Store:
    """The workflow's extraction: a prepared model folder × a prepared dataset Parquet → a store.

    Reads the dataset's ``id``, ``text`` and ``label`` columns and records the model folder's
    provenance and the dataset's sidecar JSON (``<name>.json`` beside the Parquet) in the manifest.
    """
    import pyarrow.parquet as pq

    from lmanatomy.errors import DataError
    from lmanatomy.extract.provenance import dataset_info_from_sidecar, model_info_from_folder
    from lmanatomy.models.loading import load_model

    dataset = Path(dataset)
    try:
        table = pq.read_table(dataset, columns=["id", "text", "label"])
    except Exception as exc:
        raise DataError(f"{dataset}: cannot read columns id, text, label: {exc}") from None
    if table.num_rows == 0:
        raise DataError(f"{dataset} has no rows")
    dataset_info = dataset_info_from_sidecar(
        dataset.with_suffix(".json"), dataset_name or dataset.stem
    )
    embedded = (table.schema.metadata or {}).get(b"lmanatomy.content_sha256", b"").decode()
    if embedded and dataset_info["content_hash"] and embedded != dataset_info["content_hash"]:
        raise DataError(
            f"{dataset}: content sha256 {embedded} differs from {dataset.with_suffix('.json')}'s "
            f"{dataset_info['content_hash']}; the sidecar belongs to another preparation"
        )
    model, tokenizer = load_model(model_dir, device=device, dtype=dtype)
    return extract(
        model,
        tokenizer,
        table.column("text").to_pylist(),
        Probe.from_spec(probe, probe_name),
        out_dir,
        ids=table.column("id").to_pylist(),
        labels=table.column("label"),
        model_info=model_info_from_folder(model_dir, model_name),
        dataset_info=dataset_info,
        progress=progress,
    )
