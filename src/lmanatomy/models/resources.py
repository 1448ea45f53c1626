"""Cluster resources of a rule, derived from the model's parameter count and the job's work.

SLURM needs memory, GPUs and a time limit up front. Memory scales with the model: weights take
parameters × bytes per value; inference needs little on top, gradient passes (attribution,
parameter activations) hold weights, gradients and activations at once.

Time is estimated from the work a job does (docs/slurm.md): a :class:`Work` counts tokens
through forward passes, tokens through forward + backward passes, whole-model passes and
decoding steps; each is priced in FLOPs or bytes of weights read, divided by the target device's
sustained throughput (:data:`DEVICES`), times :data:`SAFETY`, plus loading the weights. A job
whose estimate is over the partition limit is split (:func:`shards`), not given a longer limit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}
# Memory multiple of the weights' size by kind of work, and minutes per billion parameters.
MEMORY_FACTOR = {"load": 1.2, "inference": 1.5, "gradients": 3.5, "prune": 2.5}
MINUTES_PER_BILLION = {"load": 5, "inference": 30, "gradients": 120, "prune": 20}
GPU_MEMORY_MB = 80 * 1024


@dataclass(frozen=True)
class Device:
    """Sustained (not peak) throughput of one target device;
    the figures and their sources are in docs/slurm.md."""

    flops: dict[str, float] = field(default_factory=dict)  # FLOP/s per dtype
    bandwidth: float = 0.0  # bytes of weights read per second while decoding
    disk: float = 0.0  # bytes per second when loading the weights


# GPU: an A100-80GB (the smaller of the papers' GPUs) at about a quarter of its peak: fp32 19.5
# TFLOP/s (no TF32) -> 5e12, bf16/fp16 312 TFLOP/s -> 50e12; HBM 2.0 TB/s -> 0.5e12.
# CPU: one core of this project's machine, torch fp32 matmul measured at 74 GFLOP/s (1 thread),
# halved; bf16 priced as fp32 (a CPU without AMX gains nothing from it).
DEVICES = {
    "gpu": Device(
        {"float32": 5e12, "bfloat16": 50e12, "float16": 50e12}, bandwidth=0.5e12, disk=200e6
    ),
    "cpu": Device({"float32": 37e9, "bfloat16": 37e9, "float16": 37e9}, bandwidth=5e9, disk=200e6),
}
# Estimates are multiplied by this, and a fixed start-up (Python, torch, the workflow) is added.
SAFETY = 3.0
STARTUP_MINUTES = 5
# Per-parameter work of one gradient pass beyond its FLOPs (read w and dD/dw, add |w·g| to the
# running mean, copy it to a cache slot): bytes moved per parameter, in float32.
GRADIENT_BYTES_PER_PARAMETER = 5 * 4


@dataclass(frozen=True)
class Work:
    """What one job computes, in the units its cost is counted in (docs/slurm.md).

    forward_tokens: tokens through a forward pass, 2·P FLOPs each.
    gradient_tokens: tokens through a forward + backward pass, 6·P FLOPs each.
    gradient_passes: forward + backward passes, each also moving every parameter's gradient
        (GRADIENT_BYTES_PER_PARAMETER bytes per parameter).
    decode_steps: decoding steps of a batch: every weight is read once per step.
    decode_tokens: tokens generated over all rows of all batches, 2·P FLOPs each.
    """

    forward_tokens: float = 0.0
    gradient_tokens: float = 0.0
    gradient_passes: float = 0.0
    decode_steps: float = 0.0
    decode_tokens: float = 0.0


def device_kind(device: str) -> str:
    """'cpu' for CPU runs; any other device (cuda, auto) is priced as the GPU it is on a cluster."""
    return "cpu" if device == "cpu" else "gpu"


def work_seconds(parameters: int, work: Work, device: str, dtype: str) -> float:
    """Seconds of compute and weight traffic the work
    takes on the device, before the safety factor."""
    target = DEVICES[device_kind(device)]
    if dtype not in target.flops:
        raise ValueError(f"no throughput for dtype '{dtype}' (known: {sorted(target.flops)})")
    flops = parameters * (
        2 * work.forward_tokens + 6 * work.gradient_tokens + 2 * work.decode_tokens
    )
    traffic = parameters * (
        BYTES[dtype] * work.decode_steps + GRADIENT_BYTES_PER_PARAMETER * work.gradient_passes
    )
    return flops / target.flops[dtype] + traffic / target.bandwidth


def work_minutes(parameters: int, work: Work, device: str, dtype: str) -> int:
    """A job's time limit: start-up, loading the weights,
    and the work times SAFETY (whole minutes)."""
    load = parameters * BYTES[dtype] / DEVICES[device_kind(device)].disk
    return int(
        math.ceil(
            STARTUP_MINUTES + (load + SAFETY * work_seconds(parameters, work, device, dtype)) / 60
        )
    )


def shards(
    parameters: int, work_of: Callable[[int], Work], device: str, dtype: str, limit_minutes: float
) -> int:
    """The fewest blocks whose estimates each fit the partition limit (1 when the whole work fits).

    ``work_of(count)`` is the work of the largest of ``count`` blocks. Every block pays start-up and
    loading again, so splitting shrinks the work, not the fixed part."""
    fixed = work_minutes(parameters, Work(), device, dtype)
    if fixed >= limit_minutes:
        raise ValueError(
            f"loading the model alone is estimated at {fixed} min, over the "
            f"{limit_minutes:g}-minute limit"
        )

    def fits(count: int) -> bool:
        return work_minutes(parameters, work_of(count), device, dtype) <= limit_minutes

    high = 1
    while not fits(high):  # the estimate falls as the blocks shrink: double, then bisect
        high *= 2
    low = high // 2 + 1
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if fits(middle) else (middle + 1, high)
    return high


def memory_mb(parameters: int, dtype: str = "float32", kind: str = "inference") -> int:
    """Host memory for a job: the weights times the
    kind's factor, plus 4 GiB, rounded up to 1 GiB."""
    weights = parameters * BYTES[dtype] / 2**20
    return int(math.ceil((weights * MEMORY_FACTOR[kind] + 4096) / 1024) * 1024)


def gpus(parameters: int, device: str, dtype: str = "float32", kind: str = "inference") -> int:
    """0 on CPU runs; otherwise as many 80 GB GPUs as the job's memory needs (at least one)."""
    if device == "cpu" or kind == "load":
        return 0
    return max(1, math.ceil(memory_mb(parameters, dtype, kind) / GPU_MEMORY_MB))


def runtime_minutes(parameters: int, kind: str = "inference", units: float = 1.0) -> int:
    """The older, flat estimate still used by the rules not yet priced by their work (extract,
    knowledge, lesion, downloads): minutes per billion parameters per unit of work, at least 15."""
    return max(15, int(math.ceil(parameters / 1e9 * MINUTES_PER_BILLION[kind] * units)))
