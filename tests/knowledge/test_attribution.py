"""Integrated gradients: the batched fast path against
a plain per-α loop and against completeness."""

import numpy as np
import pytest
import torch
from knowledge_fixtures import one_thread  # noqa: F401  (autouse: one torch thread)

from lmanatomy.errors import DataError
from lmanatomy.knowledge.attribution import (
    alpha_grid,
    batched_attributions,
    encode_prompt,
    integrated_gradients,
    reference_attributions,
    site_module,
    target_token,
)
from lmanatomy.testing import tiny_model

PROMPTS = [
    "The quick brown fox jumps over",
    "Question: is the sky blue? Answer:",
    "def add(a, b):\n    return",
]


@pytest.fixture(scope="module")
def neox():
    # initializer_range 0.1: a peaked next-token distribution, so layers change P(T) measurably
    return tiny_model("gpt_neox", seed=3, hidden=32, ff=64, layers=3, initializer_range=0.1)


def _replace_last(module, values):
    """A hook that puts ``values`` (a leaf) at the last position of the module's output."""

    def hook(mod, inputs, output):
        output = output.clone()
        output[0, -1, :] = values
        return output

    return module.register_forward_hook(hook)


def _activation(model, ids, module):
    seen = {}
    handle = module.register_forward_hook(
        lambda m, i, o: seen.setdefault("a", o[0, -1].detach().clone())
    )
    with torch.no_grad():
        logits = model(input_ids=ids).logits
    handle.remove()
    return seen["a"], logits


def _probability_at(model, ids, module, values, target):
    handle = _replace_last(module, values)
    try:
        return torch.softmax(model(input_ids=ids).logits[0, -1], dim=-1)[target]
    finally:
        handle.remove()


def plain_ig(model, tokenizer, prompt, target, layer, steps, site, alphas, weights):
    """Independent reference: one forward and one backward pass per α, nothing batched."""
    ids = torch.tensor([encode_prompt(tokenizer, prompt)])
    module = site_module(model, layer, site)
    base, _ = _activation(model, ids, module)
    total = torch.zeros_like(base, dtype=torch.float64)
    for alpha, weight in zip(alphas, weights, strict=True):
        point = (alpha * base).clone().requires_grad_(True)
        prob = _probability_at(model, ids, module, point, target)
        prob.backward()
        total += weight * point.grad.double()
    return (base.double() * total).numpy()


def _close(actual, expected, rtol=1e-5):
    scale = np.abs(expected).max()
    assert scale > 0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("site", ["post", "pre"])
@pytest.mark.parametrize("grid", ["inclusive", "riemann"])
def test_integrated_gradients_equals_a_plain_loop_over_alpha(neox, site, grid):
    model, tokenizer = neox
    target = tokenizer.encode(" the", add_special_tokens=False)[0]
    alphas, weights = alpha_grid(7, grid)
    for layer in range(3):
        fast = integrated_gradients(
            model, tokenizer, PROMPTS[0], target, layer, steps=7, site=site, grid=grid
        )
        slow = plain_ig(
            model, tokenizer, PROMPTS[0], target, layer, 7, site, alphas.float(), weights
        )
        assert fast.shape == (64,)
        _close(fast, slow)


def test_grids_follow_their_definitions():
    alphas, weights = alpha_grid(4, "inclusive")
    np.testing.assert_allclose(alphas, [0, 1 / 3, 2 / 3, 1])
    np.testing.assert_allclose(weights, [0.25] * 4)
    alphas, weights = alpha_grid(4, "riemann")
    np.testing.assert_allclose(alphas, [0.25, 0.5, 0.75, 1.0])
    alphas, weights = alpha_grid(4, "trapezoid")
    np.testing.assert_allclose(weights, [1 / 6, 1 / 3, 1 / 3, 1 / 6])
    with pytest.raises(ValueError, match="grid"):
        alpha_grid(4, "simpson")


@pytest.mark.parametrize("site", ["post", "pre"])
def test_attributions_sum_to_the_probability_change(neox, site):
    """Completeness: Σ_i Attr_i = P(T | a) − P(T | 0·a) as the grid gets fine."""
    model, tokenizer = neox
    prompt = PROMPTS[1]
    ids = torch.tensor([encode_prompt(tokenizer, prompt)])
    with torch.no_grad():
        target = int(model(input_ids=ids).logits[0, -1].argmax())
    for layer in range(3):
        module = site_module(model, layer, site)
        base, _ = _activation(model, ids, module)
        with torch.no_grad():
            p_full = float(_probability_at(model, ids, module, base, target))
            p_zero = float(_probability_at(model, ids, module, torch.zeros_like(base), target))
        delta = p_full - p_zero
        assert abs(delta) > 1e-3, "the test needs a layer whose activation matters"
        trapezoid = integrated_gradients(
            model, tokenizer, prompt, target, layer, steps=200, site=site, grid="trapezoid"
        )
        riemann = integrated_gradients(
            model, tokenizer, prompt, target, layer, steps=200, site=site, grid="riemann"
        )
        assert trapezoid.sum() == pytest.approx(delta, rel=1e-3, abs=1e-8)
        assert riemann.sum() == pytest.approx(delta, rel=2e-2, abs=1e-8)


@pytest.mark.parametrize("family", ["gpt_neox", "llama", "qwen2", "gpt2", "bloom", "xglm"])
def test_batching_prompts_layers_and_passes_changes_nothing(family):
    """Prompts of different lengths, all layers, passes split at odd places: same as the loop."""
    model, tokenizer = tiny_model(family, seed=1, hidden=32, ff=64, layers=3)
    prompts = [encode_prompt(tokenizer, p) for p in PROMPTS]
    targets = [tokenizer.encode(t, add_special_tokens=False)[0] for t in (" the", "The", " the")]
    reference = reference_attributions(model, prompts, targets, steps=5)
    for max_rows in (1, 13, 10_000):
        fast = batched_attributions(
            model, prompts, targets, steps=5, max_rows=max_rows, pad_token_id=tokenizer.pad_token_id
        )
        _close(fast.scores, reference.scores)
        np.testing.assert_allclose(fast.probability, reference.probability, rtol=1e-5)
        np.testing.assert_array_equal(fast.rank, reference.rank)
        np.testing.assert_allclose(fast.activation, reference.activation, rtol=1e-5, atol=1e-6)


def test_a_multi_token_target_is_rejected_naming_the_word(neox):
    _, tokenizer = neox
    with pytest.raises(DataError, match=r"' Portuguese' is \d+ tokens \['Ġ', 'P'"):
        target_token(tokenizer, " Portuguese")
    first, pieces = target_token(tokenizer, " Portuguese", multi_token="first")
    assert first == tokenizer.encode(" Portuguese", add_special_tokens=False)[0] and len(pieces) > 1
    assert target_token(tokenizer, " the") == (
        tokenizer.encode(" the", add_special_tokens=False)[0],
        ["Ġthe"],
    )


def test_integrated_gradients_refuses_a_multi_token_string_target(neox):
    model, tokenizer = neox
    with pytest.raises(DataError, match="Portuguese"):
        integrated_gradients(model, tokenizer, PROMPTS[0], " Portuguese", 0)


def test_a_prompt_without_context_is_an_error(neox):
    model, tokenizer = neox
    with pytest.raises(DataError, match="context"):
        batched_attributions(model, [[5]], [3])


def test_benchmark_runs_and_reports_agreement(capsys, monkeypatch, repo):
    from lmanatomy.bench.knowledge import main

    monkeypatch.chdir(repo)
    assert main(["--prompts", "2", "--length", "6", "--steps", "3", "--layers", "0,3"]) == 0
    out = capsys.readouterr().out
    assert "speed-up" in out and "within 1e-05 relative: True" in out
    assert (
        main(
            [
                "--prompts",
                "2",
                "--length",
                "6",
                "--steps",
                "3",
                "--layers",
                "0,3",
                "--memory-rows",
                "6,60",
                "--skip-loop",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert (
        out.count("read in place") == 2
        and out.count("copied per row") == 2
        and "within 1e-05: True" in out
    )


def test_shared_prefix_attention_equals_attention_over_each_rows_own_copy_of_the_cache():
    """Independent reference: per row, softmax over [its prompt's prefix keys, its own key]."""
    from types import SimpleNamespace

    from lmanatomy.knowledge.attribution import (
        PromptPrefix,
        SharedPrefix,
        shared_prefix_attention,
    )

    gen = torch.Generator().manual_seed(0)
    kv_heads, groups, dim = 2, 2, 8
    heads = kv_heads * groups
    lengths = [5, 3, 4]  # prompts of different lengths, none padded
    prompts = [
        PromptPrefix(
            (torch.randn(kv_heads, n, dim, generator=gen),),
            (torch.randn(kv_heads, n, dim, generator=gen),),
        )
        for n in lengths
    ]
    rows_of = [
        0,
        2,
        0,
        1,
        2,
        0,
        -1,
    ]  # rows in any order; the last row belongs to no prompt (a pass's fill)
    slots_of = [4, 0, 1, 2, 5, 0, -1]  # each row's fixed place among its prompt's 6 slots
    query = torch.randn(len(rows_of), heads, 1, dim, generator=gen)
    own_k, own_v = (
        torch.randn(len(rows_of), kv_heads, 1, dim, generator=gen),
        torch.randn(len(rows_of), kv_heads, 1, dim, generator=gen),
    )
    rows = tuple(torch.tensor([r for r, p in enumerate(rows_of) if p == q]) for q in range(3))
    slots = tuple(torch.tensor([slots_of[r] for r in rows[q].tolist()]) for q in range(3))
    prefix = SharedPrefix(tuple(prompts), rows, slots, slots_per_prompt=6)
    module = SimpleNamespace(layer_idx=0, training=False)
    out, _ = shared_prefix_attention(
        module, query, own_k, own_v, None, scaling=dim**-0.5, shared_prefix=prefix
    )
    for r, p in enumerate(rows_of):
        for h in range(heads):
            kv = h // groups
            keys = [prompts[p].keys[0][kv]] if p >= 0 else []
            values = [prompts[p].values[0][kv]] if p >= 0 else []
            k = torch.cat([*keys, own_k[r, kv]]).double()
            v = torch.cat([*values, own_v[r, kv]]).double()
            weights = torch.softmax(k @ query[r, h, 0].double() * dim**-0.5, dim=0)
            torch.testing.assert_close(out[r, 0, h].double(), weights @ v, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("family, extra", [("gpt_neox", {}), ("llama", {"num_key_value_heads": 2})])
def test_reading_the_prefix_in_place_equals_copying_it_per_row(family, extra):
    from lmanatomy.knowledge.attribution import shares_prefix

    model, tokenizer = tiny_model(family, seed=2, hidden=32, ff=64, layers=2, **extra)
    assert shares_prefix(model)
    prompts = [encode_prompt(tokenizer, p) for p in PROMPTS]
    targets = [tokenizer.encode(" the", add_special_tokens=False)[0]] * 3
    copied = batched_attributions(
        model,
        prompts,
        targets,
        steps=4,
        max_rows=17,
        pad_token_id=tokenizer.pad_token_id,
        share_prefix=False,
    )
    shared = batched_attributions(
        model,
        prompts,
        targets,
        steps=4,
        max_rows=17,
        pad_token_id=tokenizer.pad_token_id,
        share_prefix=True,
    )
    _close(shared.scores, copied.scores)
    np.testing.assert_allclose(shared.probability, copied.probability, rtol=1e-6)
    assert model.config._attn_implementation == "eager"  # restored after the passes


def test_a_model_without_the_attention_interface_cannot_be_forced_to_share():
    model, tokenizer = tiny_model("bloom", seed=1, hidden=32, ff=64, layers=2)
    with pytest.raises(ValueError, match="does not route attention"):
        batched_attributions(
            model, [encode_prompt(tokenizer, PROMPTS[0])], [5], steps=2, share_prefix=True
        )


@pytest.mark.parametrize("family, extra", [("gpt_neox", {}), ("llama", {"num_key_value_heads": 2})])
def test_a_rows_result_is_the_same_bits_whichever_rows_share_its_pass(family, extra):
    """Full passes, partial passes, a resumed job's subset
    of prompts, another prompt order: identical bytes."""
    model, tokenizer = tiny_model(family, seed=2, hidden=32, ff=64, layers=3, **extra)
    texts = PROMPTS + ["A cat is an", "Tokyo is the capital of"]
    prompts = [encode_prompt(tokenizer, p) for p in texts]
    targets = [tokenizer.encode(" the", add_special_tokens=False)[0]] * len(prompts)

    def run(indices, max_rows):
        result = batched_attributions(
            model,
            [prompts[i] for i in indices],
            [targets[i] for i in indices],
            steps=4,
            max_rows=max_rows,
        )
        return {
            i: (result.scores[k].tobytes(), result.probability[k], result.activation[k].tobytes())
            for k, i in enumerate(indices)
        }

    for max_rows in (
        20,
        48,
    ):  # passes of 5 units: prompts split across passes; of 12: whole prompts, a short last pass
        whole = run(range(len(prompts)), max_rows)
        for indices in ([1], [4, 0], [3, 2, 1], [2, 4]):
            assert run(indices, max_rows) == {i: whole[i] for i in indices}, (max_rows, indices)
