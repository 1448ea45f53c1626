"""The suppression test: hooks zero exactly the chosen
FF channels; the control draws from the same layers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from lmanatomy.knowledge.attribution import site_module
from lmanatomy.knowledge.suppression import (
    answer_probability,
    group_summary,
    random_like,
    suppressed,
    suppression_rows,
    word_neurons,
)
from lmanatomy.testing import tiny_model


@pytest.fixture(scope="module")
def neox():
    return tiny_model("gpt_neox", layers=3, hidden=16, ff=32)


def _activations(model, ids, site):
    seen = {}
    handles = [
        site_module(model, layer, site).register_forward_hook(
            lambda m, i, o, layer=layer: seen.__setitem__(layer, o.detach().clone())
        )
        for layer in range(3)
    ]
    with torch.no_grad():
        logits = model(input_ids=ids).logits
    for h in handles:
        h.remove()
    return seen, logits


@pytest.mark.parametrize("site", ["post", "pre"])
def test_only_the_chosen_channels_change(neox, site):
    model, tokenizer = neox
    ids = torch.tensor([tokenizer("the cat sat on the mat")["input_ids"]])
    plain, plain_logits = _activations(model, ids, site)
    chosen = {1: [3, 7, 30]}
    with suppressed(model, chosen, site):
        hit, hit_logits = _activations(model, ids, site)
    # Layer 0 is upstream of the hook: untouched. Layer
    # 1: the chosen channels are 0, the others as before.
    assert torch.equal(hit[0], plain[0])
    assert torch.all(hit[1][..., [3, 7, 30]] == 0)
    others = [c for c in range(32) if c not in (3, 7, 30)]
    assert torch.equal(hit[1][..., others], plain[1][..., others])
    assert not torch.allclose(hit_logits, plain_logits)
    # Hooks are gone after the block.
    again, again_logits = _activations(model, ids, site)
    assert torch.equal(again_logits, plain_logits)


def test_random_control_matches_counts_per_layer_and_avoids_the_chosen():
    chosen = {0: [1, 2, 3], 2: [5]}
    rng = np.random.default_rng(0)
    for _ in range(50):
        drawn = random_like(chosen, width=8, rng=rng)
        assert {layer: len(c) for layer, c in drawn.items()} == {0: 3, 2: 1}
        assert not set(drawn[0]) & {1, 2, 3} and drawn[2] != [5]
        assert len(set(drawn[0])) == 3


def test_rows_follow_from_a_plain_forward(neox):
    model, tokenizer = neox
    trajectories = pd.DataFrame(
        {"word": ["cat", "cat", "dog"], "rank": [1, 2, 1], "layer": [0, 2, 1], "neuron": [4, 9, 11]}
    )
    prompts = {"cat": ["a small pet that says", "it purrs, the"], "dog": ["it barks, the"]}
    rows = suppression_rows(
        model,
        tokenizer,
        trajectories,
        prompts,
        {"cat": " cat", "dog": " dog"},
        {"pets": ["cat", "dog"]},
        "post",
        width=32,
        draws=3,
        seed=0,
    )
    assert word_neurons(trajectories, "cat") == {0: [4], 2: [9]}
    target = tokenizer.encode(" cat", add_special_tokens=False)[0]
    with torch.no_grad():
        by_hand = []
        for prompt in prompts["cat"]:
            logits = model(input_ids=torch.tensor([tokenizer(prompt)["input_ids"]])).logits[0, -1]
            by_hand.append(torch.softmax(logits, -1)[target].item())
    cat = rows.set_index("word").loc["cat"]
    assert cat["p"] == pytest.approx(np.mean(by_hand), rel=1e-6)
    assert cat["change_knowledge"] == pytest.approx((cat["p_knowledge"] - cat["p"]) / cat["p"])
    assert list(rows["neurons"]) == [2, 1]
    summary = group_summary(rows, resamples=200, seed=0)
    assert list(summary["group"]) == ["pets", "all words"]
    assert summary.iloc[0]["difference_change"] == pytest.approx(
        (rows["change_knowledge"] - rows["change_random"]).mean()
    )
    assert np.all(answer_probability(model, tokenizer, prompts["dog"], target) > 0)
