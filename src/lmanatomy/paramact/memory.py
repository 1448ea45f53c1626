"""How much memory a paramact job needs, from the architecture alone.

A job holds: the weights; one working set of scores (the decoder weights' gradients, turned into
A in place, so the same size as the decoder weights); ``cache_units`` cached copies of that set
(the inputs LLMDcos is paired against); and per dataset whose counts the job computes, one
float32 running sum per decoder weight (on the device with ``running_mean: memory``; on disk,
memory-mapped, with ``running_mean: disk``). Activations for one input of T tokens add a few
hundred MB at most for the paper's inputs and are not counted. Nothing grows with the number of
samples. For Llama-2-7B (6,738,415,616 parameters, 6,476,005,376 of them in decoder-layer
weights), in bfloat16: weights 13.5 GB, working set 13.0 GB, each cached unit 13.0 GB, each
running mean 25.9 GB — a counts job (no cache, one mean) needs 52.3 GB, a pair job with
``cache_units: 1`` 39.4 GB (``memory_table`` prints these).
"""

from __future__ import annotations

from dataclasses import dataclass

from lmanatomy.errors import RegistryError
from lmanatomy.models.registry import ModelEntry

BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}


@dataclass(frozen=True)
class JobMemory:
    weights: int
    working: int
    cache: int
    means_in_memory: int
    means_on_disk: int

    @property
    def total(self) -> int:
        """Bytes of RAM (CPU) or device memory (GPU), activations aside."""
        return self.weights + self.working + self.cache + self.means_in_memory


def job_memory(
    parameters: int,
    decoder_weights: int,
    dtype: str,
    cache_units: int,
    density_datasets: int,
    running_mean: str = "memory",
) -> JobMemory:
    """Peak memory of one job (see the module docstring); all sizes in bytes."""
    size = BYTES[dtype]
    means = density_datasets * decoder_weights * 4
    return JobMemory(
        weights=parameters * size,
        working=decoder_weights * size,
        cache=cache_units * decoder_weights * size,
        means_in_memory=means if running_mean == "memory" else 0,
        means_on_disk=means if running_mean == "disk" else 0,
    )


def decoder_weight_count(entry: ModelEntry) -> int:
    """Number of scored parameters: every decoder-layer linear weight, from the architecture.

    Models that transformers cannot build without their own code (``trust_remote_code``) fall
    back to the whole parameter count, an upper bound, good enough for sizing a job.
    """
    from lmanatomy.models.adapters import iter_layer_linears
    from lmanatomy.models.loading import count_parameters, meta_model

    try:
        model = meta_model(entry)
    except RegistryError:
        return count_parameters(entry)
    return sum(module.weight.numel() for _, _, module in iter_layer_linears(model))


def memory_table(entry: ModelEntry, parameters: int, dtype: str) -> list[tuple[str, float]]:
    """(what, GB) lines for a model: the pieces a job is made of."""
    decoder = decoder_weight_count(entry)
    gb = 1e9
    one = job_memory(parameters, decoder, dtype, cache_units=1, density_datasets=1)
    return [
        ("weights", one.weights / gb),
        ("working set (A of one input)", one.working / gb),
        ("each cached unit", one.working / gb),
        ("each running mean (float32)", decoder * 4 / gb),
        (
            "counts job: no cache, one mean in memory",
            job_memory(parameters, decoder, dtype, 0, 1).total / gb,
        ),
        (
            "pair job: cache_units 1, no mean",
            job_memory(parameters, decoder, dtype, 1, 0).total / gb,
        ),
    ]
