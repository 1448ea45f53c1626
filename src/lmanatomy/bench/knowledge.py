"""Benchmark: batched integrated gradients against the straightforward loop, same inputs.

The loop is the released code's way: one prompt, one layer, one full-sequence pass of the m
scaled copies at a time. The fast path shares each prompt's prefix through the key/value cache
and batches prompts × layers × steps into passes of one token per row.

    python -m lmanatomy.bench knowledge                       # the default run's model shape, CPU
    python -m lmanatomy.bench knowledge --model pythia-410m --device cuda --prompts 8

Memory (``--memory-rows 240,960``): the fast path at each ``max_rows``, with the rows reading
the cached prefix in place (the default) and with the per-row cache copies (``--in-place-only``:
without them), in the same process; peak RSS (sampled) on CPU, peak allocated memory on CUDA, and
the two paths' agreement.

    python -m lmanatomy.bench knowledge --model pythia-410m
    --prompts 2 --memory-rows 240,960 --skip-loop

``--model`` is a registry name (random weights built from its architecture facts, so nothing is
downloaded) or a prepared model folder. Prompts are seeded random token sequences.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import torch

from lmanatomy.bench import machine_description, timer

TOLERANCE = 1e-5


def _model(name: str, registry: str, device: str, dtype: str):
    from transformers import AutoModelForCausalLM

    from lmanatomy.models import hf_config, load_model, load_registry, resolve_dtype

    if Path(name).is_dir():
        model, _ = load_model(name, device=device, dtype=dtype)
        return model, f"{name} (prepared folder)"
    entry = load_registry(registry)[name]
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(hf_config(entry), dtype=resolve_dtype(dtype))
    return model.to(
        device
    ).eval(), f"{entry.display} (random weights from the registry's architecture facts)"


def agreement(fast: np.ndarray, reference: np.ndarray) -> tuple[float, bool]:
    """Max |Δ| relative to max |reference|, and whether every value agrees to 1e-5 relative."""
    scale = float(np.abs(reference).max()) or 1.0
    close = bool(np.allclose(fast, reference, rtol=TOLERANCE, atol=TOLERANCE * scale))
    return float(np.abs(fast - reference).max() / scale), close


def memory_rows(model, prompts, targets, layers, args) -> bool:
    """Peak memory of the fast path at each ``max_rows``, prefix read in place vs copied per row."""
    from lmanatomy.bench.extract import Timing
    from lmanatomy.knowledge.attribution import batched_attributions

    cuda = args.device.startswith("cuda")
    agree = True
    print("max_rows  prefix            CPU s    wall s   peak memory (rise during the run)")
    for rows in (int(r) for r in args.memory_rows.split(",")):
        results = {}
        for share in (True, False)[: 1 if args.in_place_only else 2]:
            timing = Timing()
            if cuda:
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
                before = torch.cuda.memory_allocated()
            results[share] = timing.add(
                lambda rows=rows, share=share: batched_attributions(
                    model,
                    prompts,
                    targets,
                    layers,
                    steps=args.steps,
                    site=args.site,
                    max_rows=rows,
                    share_prefix=share,
                )
            )
            if cuda:
                torch.cuda.synchronize()
                peak = (
                    f"GPU {torch.cuda.max_memory_allocated() / 2**20:7.0f} MiB "
                    f"(+{(torch.cuda.max_memory_allocated() - before) / 2**20:.0f})"
                )
            else:
                peak = f"RSS {timing.peak_mib:7.0f} MiB (+{timing.added_mib:.0f})"
            label = "read in place" if share else "copied per row"
            print(f"{rows:8d}  {label:15s} {timing.cpu:7.1f}  {timing.wall:7.1f}   {peak}")
        if False in results:
            error, close = agreement(results[True].scores, results[False].scores)
            agree &= close
            print(
                f"          agreement in place vs copied: max |Δ| / max = {error:.1e}; within "
                f"{TOLERANCE:g}: {close}"
            )
    return agree


def main(argv: list[str]) -> int:
    from lmanatomy.knowledge.attribution import batched_attributions, reference_attributions

    parser = argparse.ArgumentParser(
        prog="python -m lmanatomy.bench knowledge", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--model",
        default="neox-knowledge-tiny",
        help="registry name (random weights) or prepared model folder",
    )
    parser.add_argument("--registry", default="config/models.yaml")
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--length", type=int, default=32, help="tokens per prompt")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--site", default="post", choices=["post", "pre"])
    parser.add_argument(
        "--layers", default=None, help="comma-separated layer indices (default: all)"
    )
    parser.add_argument("--max-rows", type=int, default=2048)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--memory-rows",
        default=None,
        help="comma-separated max_rows: peak memory, prefix in place vs copied",
    )
    parser.add_argument(
        "--in-place-only",
        action="store_true",
        help="--memory-rows without the copies (they outgrow RAM at 960 rows)",
    )
    parser.add_argument(
        "--skip-loop",
        action="store_true",
        help="no loop comparison (it is ~12× slower at paper size)",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    model, described = _model(args.model, args.registry, args.device, args.dtype)
    vocab = model.get_output_embeddings().weight.shape[0]
    rng = np.random.default_rng(0)
    prompts = [
        rng.integers(0, vocab, size=args.length - (i % 3)).tolist() for i in range(args.prompts)
    ]
    targets = rng.integers(0, vocab, size=args.prompts).tolist()
    layers = [int(x) for x in args.layers.split(",")] if args.layers else None
    print(
        f"machine: {machine_description()}; load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    print(f"model: {described}; device {args.device}, {args.dtype}")
    print(
        f"inputs: {args.prompts} prompts of ~{args.length} tokens, m={args.steps}, site={args.site}"
    )
    if args.memory_rows:
        agree = memory_rows(model, prompts, targets, layers, args)
        if args.skip_loop:
            return 0 if agree else 1
    times: dict[str, float] = {}
    with timer(times, "batched"):
        fast = batched_attributions(
            model,
            prompts,
            targets,
            layers,
            steps=args.steps,
            site=args.site,
            max_rows=args.max_rows,
        )
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
    with timer(times, "loop"):
        slow = reference_attributions(
            model, prompts, targets, layers, steps=args.steps, site=args.site
        )
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
    error, close = agreement(fast.scores, slow.scores)
    _, n_layers, width = fast.scores.shape
    print(f"{n_layers} layers attributed × {width} FF neurons, max_rows={args.max_rows}")
    print(
        f"batched: {times['batched']:.2f} s   loop (one prompt × one layer per pass): "
        f"{times['loop']:.2f} s   speed-up {times['loop'] / times['batched']:.1f}×"
    )
    print(
        f"agreement: max |Δ| / max |loop| = {error:.1e}; every value within {TOLERANCE:g} "
        f"relative: {close}"
    )
    return 0 if close else 1
