"""Extraction overhead: a bare forward pass against hooks + pooling + Parquet writing, same batches.

``python -m lmanatomy.bench extract [--texts N] [--scales 1,4] [--probes linears_mean,hidden_eos]``

On the default model (SmolLM2-135M) and the demo FLORES-200 sentences, in one process:

* **bare**: the model's backbone over exactly the batches the extraction forms (per shard,
  longest first), no hooks, nothing kept;
* **extract**: :func:`lmanatomy.extract.extract` into a temporary folder (hooks, pooling,
  NaN checks, Parquet shards, manifest).

It prints CPU and wall seconds of both and their ratio (goal ≤ 1.15), the process's peak resident
memory during each (sampled every 10 ms), for 1× and 4× the texts (goal: the same peak), and the
agreement of stored values with a hook-free recomputation. 1× is
``--texts`` sentences spread over all six languages; 4× repeats them four times, so that every
4× shard does exactly the work of a 1× shard and only the number of texts differs. Memory is
bounded by one shard's values (rows_per_shard × values per row), so the benchmark uses shards
small enough (default 32 rows, ≤ ``--texts``: no row repeats within a shard) that 1× already
fills several. On a shared machine single timings are noisy: at 1× each side runs ``--repeat``
times, alternating, and the fastest run of each counts.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lmanatomy.bench import machine_description

REPO = Path(__file__).resolve().parents[3]
PROBES = {
    "linears_mean": {"modules": "linears", "pool": "mean"},
    "hidden_eos": {"modules": "hidden_states", "pool": "eos", "last_layer": "raw"},
}


def spread(texts: list[str], n: int) -> list[str]:
    """``n`` texts spread evenly over ``texts`` (all
    languages at every size), repeating past its end."""
    if n <= len(texts):
        return [texts[int(i * len(texts) / n)] for i in range(n)]
    return [texts[i % len(texts)] for i in range(n)]


def flores_texts(root: Path) -> list[str]:
    files = sorted((root / "flores200" / "dev").glob("*.dev"))
    if not files:
        raise SystemExit(f"no FLORES-200 dev files under {root}")
    return [line.rstrip("\n") for f in files for line in f.read_text(encoding="utf-8").splitlines()]


class PeakMemory:
    """Peak resident set size (RSS) during a block, sampled every ``interval`` seconds."""

    def __init__(self, interval: float = 0.01):
        import psutil

        self.process = psutil.Process()
        self.interval = interval
        self.start = self.peak = 0
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(self.interval)

    def __enter__(self) -> PeakMemory:
        self.start = self.peak = self.process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


@dataclass
class Timing:
    """Fastest CPU and wall seconds over repeats; highest
    peak RSS (MiB) and its rise over the start."""

    cpu: float = float("inf")
    wall: float = float("inf")
    peak_mib: float = 0.0
    added_mib: float = 0.0

    def add(self, fn: Callable[[], Any]) -> Any:
        with PeakMemory() as memory:
            cpu, wall = time.process_time(), time.perf_counter()
            result = fn()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        self.cpu, self.wall = min(self.cpu, cpu), min(self.wall, wall)
        self.peak_mib = max(self.peak_mib, memory.peak / 2**20)
        self.added_mib = max(self.added_mib, (memory.peak - memory.start) / 2**20)
        return result

    def line(self, label: str) -> str:
        return (
            f"    {label:7s} CPU {self.cpu:7.1f} s  wall {self.wall:7.1f} s  "
            f"peak RSS {self.peak_mib:7.0f} MiB (+{self.added_mib:.0f} during the run)"
        )


def bare_batches(
    model: Any, tokenizer: Any, texts: list[str], probe: dict[str, Any]
) -> Iterator[tuple[Any, Any]]:
    """The padded batches an extraction of ``probe`` runs, in the same order."""
    from lmanatomy.extract.extraction import _Layout
    from lmanatomy.extract.probe import Probe
    from lmanatomy.extract.tokens import collate, encode, pad_id

    spec = Probe.from_spec(probe)
    ids = [str(i) for i in range(len(texts))]
    sequences = encode(tokenizer, texts, spec.max_length, ids, append_eos=spec.pool == "eos")
    layout = _Layout(sequences, spec.pool == "all", spec.rows_per_shard)
    for start, stop in layout.shards():
        order = sorted(layout.texts(start, stop), key=lambda t: (-len(sequences[t]), t))
        for first in range(0, len(order), spec.batch_size):
            yield collate(
                [sequences[t] for t in order[first : first + spec.batch_size]], pad_id(tokenizer)
            )


def bare_forward(model: Any, batches: list[tuple[Any, Any]]) -> None:
    backbone = model.base_model
    with torch.inference_mode():
        for input_ids, mask in batches:
            backbone(input_ids=input_ids, attention_mask=mask, use_cache=False)


def agreement(
    model: Any, tokenizer: Any, texts: list[str], store: Any, probe: str, sample: int = 6
) -> float:
    """Max |stored − recomputed| / max |recomputed| on a few texts, recomputed without hooks from
    output_hidden_states.

    ``linears_mean``: layer 0's and the last layer's q_proj = q_proj(input_layernorm(hidden state
    entering the layer)), averaged over tokens. ``hidden_eos``: hidden states at the EOS position
    (the last, raw, entry left out: output_hidden_states returns it normed).
    """
    layers = model.model.layers
    worst, scale = 0.0, 0.0
    for row in range(sample):
        ids = tokenizer(texts[row])["input_ids"]
        if probe == "hidden_eos" and (not ids or ids[-1] != tokenizer.eos_token_id):
            ids = ids + [tokenizer.eos_token_id]
        with torch.no_grad():
            hidden = model(torch.tensor([ids]), output_hidden_states=True).hidden_states
            if probe == "linears_mean":
                pairs = []
                for index in (0, len(layers) - 1):
                    layer = layers[index]
                    expected = layer.self_attn.q_proj(layer.input_layernorm(hidden[index][0])).mean(
                        dim=0
                    )
                    pairs.append((f"layers.{index}.self_attn.q_proj", expected))
            else:
                pairs = [(f"hidden_states.{k}", hidden[k][0, -1]) for k in range(len(layers))]
        for column, expected in pairs:
            found = store.read(column, rows=(row, row + 1))[0].astype(np.float64)
            expected = expected.double().numpy()
            worst = max(worst, float(np.abs(found - expected).max()))
            scale = max(scale, float(np.abs(expected).max()))
    return worst / scale


def run_overhead(args: argparse.Namespace) -> None:
    from lmanatomy.extract import extract
    from lmanatomy.models import load_model

    model, tokenizer = load_model(args.model, device=args.device, dtype=args.dtype)
    sentences = flores_texts(args.data)
    print(f"machine: {machine_description()}")
    print(
        f"model: {args.model} ({args.dtype}, {args.device}); texts: demo FLORES-200 dev sentences; "
        f"rows_per_shard {args.rows_per_shard}; 1× timings: fastest of {args.repeat}"
    )
    for name in args.probes:
        probe = {**PROBES[name], "rows_per_shard": args.rows_per_shard}
        warm = list(bare_batches(model, tokenizer, sentences[:16], probe))
        bare_forward(model, warm)  # first-call costs (allocator, kernels) out of the timings
        for scale in args.scales:
            texts = spread(sentences, args.texts) * scale
            batches = list(bare_batches(model, tokenizer, texts, probe))
            tokens = int(sum(int(m.sum()) for _, m in batches))
            first = scale == args.scales[0]
            bare, extraction = Timing(), Timing()
            with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
                for rep in range(args.repeat if first else 1):
                    if first or args.bare_all_scales:
                        bare.add(lambda batches=batches: bare_forward(model, batches))
                    out = Path(tmp) / f"s{rep}"
                    store = extraction.add(
                        lambda texts=texts, probe=probe, out=out: extract(
                            model, tokenizer, texts, probe, out, progress=False
                        )
                    )
                size = sum((store.path / s.file).stat().st_size for s in store.shards) / 2**20
                agree = agreement(model, tokenizer, texts, store, name) if first else None
            lines = [
                f"{name:13s} ×{scale}: {len(texts)} texts, {tokens} tokens, "
                f"{sum(store.widths.values())} values/row, {len(store.shards)} shards, {size:.1f} "
                "MiB"
            ]
            if bare.cpu < float("inf"):
                lines.append(bare.line("bare"))
            lines.append(extraction.line("extract"))
            if bare.cpu < float("inf"):
                lines.append(
                    f"    overhead (extract / bare): CPU {extraction.cpu / bare.cpu:.3f}  "
                    f"wall {extraction.wall / bare.wall:.3f}   (goal <= 1.15)"
                )
            if agree is not None:
                lines.append(
                    "    agreement with a hook-free recomputation: max |diff| / max |value| = "
                    f"{agree:.1e}"
                )
            print("\n".join(lines), flush=True)
            del batches


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lmanatomy.bench extract", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--model", type=Path, default=REPO / "data" / "models" / "smollm2-135m")
    parser.add_argument("--data", type=Path, default=REPO / "data" / "demo")
    parser.add_argument("--texts", type=int, default=120, help="base number of FLORES texts (1×)")
    parser.add_argument("--rows-per-shard", type=int, default=32)
    parser.add_argument(
        "--repeat",
        type=int,
        default=2,
        help="runs of each side at the first scale (fastest counts)",
    )
    parser.add_argument(
        "--bare-all-scales",
        action="store_true",
        help="also time the bare pass beyond the first scale",
    )
    parser.add_argument("--scales", default="1,4", help="multiples of --texts to run")
    parser.add_argument("--probes", default="linears_mean,hidden_eos")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument("--tmp", default=None, help="folder for the temporary stores")
    args = parser.parse_args(argv)
    args.scales = [int(s) for s in args.scales.split(",")]
    args.probes = [p for p in args.probes.split(",") if p]
    for name in args.probes:
        if name not in PROBES:
            parser.error(f"unknown probe '{name}' (known: {', '.join(PROBES)})")
    if args.threads:
        torch.set_num_threads(args.threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    run_overhead(args)
    return 0
