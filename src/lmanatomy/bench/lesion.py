"""Evaluation throughput of the lesion study's
harness: shared-prefix KV cache vs plain left padding.

``python -m lmanatomy.bench lesion [--model data/models/smollm2-135m] [--task jnli] [--samples 16]``

Both paths generate greedily for the same prompts in one process; the reference runs every
prompt whole (``[padding][prompt]``), the fast path runs the common few-shot prefix once and
copies its KV cache into each batch. Prints CPU and wall seconds, prompt tokens per CPU-second,
the speed ratio and the share of identical generations.
"""

from __future__ import annotations

import argparse
import time

from lmanatomy.bench import machine_description


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m lmanatomy.bench lesion")
    parser.add_argument(
        "--model", default="data/models/smollm2-135m", help="a prepared model folder"
    )
    parser.add_argument("--root", default="data/demo", help="data root in the upstream layout")
    parser.add_argument("--task", default="jnli")
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--shots", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    import torch

    from lmanatomy.data import load
    from lmanatomy.evaluation import (
        GenerationSettings,
        build_task,
        generate,
        render_prompt,
        task_spec,
    )
    from lmanatomy.models import load_model

    torch.set_num_threads(args.threads)
    spec = task_spec(args.task)
    files, _ = build_task(spec, load(spec.format, args.root), num_few_shots=args.shots)
    test = files["test"]
    prompts = [
        render_prompt(test["instruction"], test["few_shots"], s["input"], spec.language)
        for s in test["samples"][: args.samples]
    ]
    model, tokenizer = load_model(args.model)
    tokens = sum(len(ids) for ids in tokenizer(prompts).input_ids)
    print(machine_description())
    print(
        f"task {args.task}: {len(prompts)} prompts, {args.shots}-shot, {tokens} prompt tokens, "
        f"batch {args.batch_size}, max {args.max_new_tokens} new tokens, stop at the first blank "
        "line"
    )
    outputs, seconds = {}, {}
    for name, share in (("reference (plain left padding)", False), ("shared prefix", True)):
        settings = GenerationSettings(batch_size=args.batch_size, share_prefix=share)
        cpu, wall = time.process_time(), time.perf_counter()
        outputs[name] = generate(model, tokenizer, prompts, args.max_new_tokens, settings)
        seconds[name] = (time.process_time() - cpu, time.perf_counter() - wall)
        print(
            f"{name:32s} cpu {seconds[name][0]:7.2f} s  wall {seconds[name][1]:7.2f} s  "
            f"{tokens / seconds[name][0]:7.1f} prompt tokens/cpu-s"
        )
    ref, fast = outputs.values()
    (ref_cpu, _), (fast_cpu, _) = seconds.values()
    same = sum(a == b for a, b in zip(ref, fast, strict=True)) / len(ref)
    print(f"speed-up (CPU time): {ref_cpu / fast_cpu:.2f}x; identical generations: {same:.1%}")
    return 0
