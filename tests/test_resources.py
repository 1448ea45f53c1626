"""Runtime estimates from a job's work, and the split
of work over the partition limit (models.resources)."""

import math

import pytest

from lmanatomy.models.resources import (
    BYTES,
    DEVICES,
    SAFETY,
    STARTUP_MINUTES,
    Work,
    shards,
    work_minutes,
    work_seconds,
)

P = 7_000_000_000


def test_work_is_priced_in_flops_and_bytes_by_hand():
    gpu = DEVICES["gpu"]
    work = Work(
        forward_tokens=1000,
        gradient_tokens=10,
        gradient_passes=2,
        decode_steps=64,
        decode_tokens=640,
    )
    by_hand = (
        P * (2 * 1000 + 6 * 10 + 2 * 640) / gpu.flops["bfloat16"]
        + (P * 2 * 64 + P * 20 * 2) / gpu.bandwidth
    )
    assert work_seconds(P, work, "cuda", "bfloat16") == pytest.approx(by_hand)
    assert work_seconds(P, work, "auto", "bfloat16") == work_seconds(P, work, "cuda", "bfloat16")
    load = P * BYTES["bfloat16"] / gpu.disk
    assert work_minutes(P, work, "cuda", "bfloat16") == math.ceil(
        STARTUP_MINUTES + (load + SAFETY * by_hand) / 60
    )
    assert work_seconds(P, work, "cpu", "float32") > 100 * work_seconds(P, work, "cuda", "float32")


@pytest.mark.parametrize("tokens, limit", [(1e6, 1440), (5e8, 1440), (5e8, 120), (3e9, 60)])
def test_shards_are_the_fewest_jobs_that_each_fit_the_limit(tokens, limit):
    def block(n):  # the estimate of one of n equal blocks
        return work_minutes(P, Work(gradient_tokens=tokens / n), "cuda", "bfloat16")

    n = shards(P, lambda k: Work(gradient_tokens=tokens / k), "cuda", "bfloat16", limit)
    assert block(n) <= limit
    fewest = next(k for k in range(1, 10_000) if block(k) <= limit)  # a plain search
    assert n == fewest
    assert (n == 1) == (
        work_minutes(P, Work(gradient_tokens=tokens), "cuda", "bfloat16") <= limit - 1
    )


def test_a_limit_below_loading_the_model_is_an_error():
    with pytest.raises(ValueError, match="over the 5-minute limit"):
        shards(P, lambda k: Work(forward_tokens=1 / k), "cuda", "float32", 5)
