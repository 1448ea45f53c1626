"""The original's prompt states replayed into the layers a
lesion leaves untouched: same bits, fewer layers run."""

import copy
import json

import pandas as pd
import pytest
import torch
from test_lesion_end_to_end import _frames
from test_lesion_end_to_end import one_thread as one_thread  # noqa: F401 (a fixture)
from transformers import DynamicCache

from lmanatomy.errors import DataError
from lmanatomy.evaluation import TASKS, GenerationSettings, build_task, generate
from lmanatomy.lesion import ORIGINAL, plan_variants, prune_model
from lmanatomy.lesion.planning import architecture_of
from lmanatomy.lesion.replay import PromptStates
from lmanatomy.lesion.sweep import evaluate_lesions
from lmanatomy.testing import save_model_dir, tiny_model


def _gqa_model(tokenizer):
    return tiny_model(
        "llama",
        tokenizer=tokenizer,
        seed=5,
        layers=6,
        hidden=48,
        ff=64,
        num_attention_heads=6,
        num_key_value_heads=2,
        head_dim=8,
    )


def _batch(tokenizer, texts):
    """Left-padded ids and mask, as a batch's prefill sees them."""
    ids = [tokenizer(t).input_ids for t in texts]
    width = max(len(i) for i in ids)
    rows = [[tokenizer.pad_token_id] * (width - len(i)) + i for i in ids]
    mask = [[0] * (width - len(i)) + [1] * len(i) for i in ids]
    return torch.tensor(rows), torch.tensor(mask)


def _prefill_logits(model, ids, mask, hook=None):
    cache = DynamicCache(config=model.config)
    with hook(ids, mask) if hook else torch.no_grad():
        with torch.no_grad():
            out = model(input_ids=ids, attention_mask=mask, past_key_values=cache, use_cache=True)
    return out.logits, cache


def test_a_replayed_prefill_equals_the_computed_one_bit_for_bit(tokenizer, one_thread):
    """Logits and the whole KV cache after the prefill, lesion
    from layer 3: replayed vs computed (torch.equal)."""
    original, tok = _gqa_model(tokenizer)
    plan = next(
        iter(
            plan_variants(
                original, [0.1], [[3, 4]], "zero_based_inclusive", "prune_kv_groups"
            ).values()
        )
    )
    lesioned = copy.deepcopy(original)
    prune_model(lesioned, plan)
    ids, mask = _batch(tok, ["a cat sat on the mat", "dogs", "the quick brown fox jumps"])
    states = PromptStates(architecture_of(original), [3])

    with states.recording(original):
        _prefill_logits(original, ids, mask, states.prompt_pass)
    computed, computed_cache = _prefill_logits(lesioned, ids, mask)
    with states.replaying(lesioned, 3):
        replayed, replayed_cache = _prefill_logits(lesioned, ids, mask, states.prompt_pass)

    assert torch.equal(replayed, computed)
    for layer in range(6):
        assert torch.equal(replayed_cache.layers[layer].keys, computed_cache.layers[layer].keys), (
            layer
        )
        assert torch.equal(
            replayed_cache.layers[layer].values, computed_cache.layers[layer].values
        ), layer
    # the layers are back in place, and the lesion does
    # change the logits (so equality is not trivial)
    assert all(type(layer).__name__ == "LlamaDecoderLayer" for layer in lesioned.model.layers)
    assert not torch.equal(_prefill_logits(original, ids, mask)[0], computed)


def test_a_replay_refuses_other_tokens_and_a_missing_pass(tokenizer):
    original, tok = _gqa_model(tokenizer)
    ids, mask = _batch(tok, ["a cat sat on the mat", "dogs"])
    states = PromptStates(architecture_of(original), [2])
    with states.recording(original):
        _prefill_logits(original, ids, mask, states.prompt_pass)
    with pytest.raises(DataError, match="tokens differ"):
        with states.replaying(original, 2):
            _prefill_logits(original, ids.flip(0), mask.flip(0), states.prompt_pass)
    with pytest.raises(DataError, match="ran 0 prompt passes, the original 1"):
        with states.replaying(original, 2):
            pass
    with pytest.raises(RuntimeError, match="no recorded prompt states"):
        with states.replaying(original, 4):
            pass


def test_generation_with_replayed_prefixes_is_identical(tokenizer, one_thread):
    """Shared prefix + batches of different widths + decode steps: the generated texts of a lesion
    from layer 2 are the same whether layers 0-1 are replayed or computed."""
    original, tok = _gqa_model(tokenizer)
    plan = next(
        iter(
            plan_variants(
                original, [0.2], [[2, 3]], "zero_based_inclusive", "prune_kv_groups"
            ).values()
        )
    )
    lesioned = copy.deepcopy(original)
    prune_model(lesioned, plan)
    prompts = [f"Question {i}: what is {'very ' * i}big? Answer:" for i in range(5)]
    settings = GenerationSettings(batch_size=2, stop_at_blank_line=False)
    states = PromptStates(architecture_of(original), [2])
    with states.recording(original):
        generate(original, tok, prompts, 6, settings, prompt_pass=states.prompt_pass)
    with states.replaying(lesioned, 2):
        replayed = generate(lesioned, tok, prompts, 6, settings, prompt_pass=states.prompt_pass)
    assert replayed == generate(lesioned, tok, prompts, 6, settings)
    assert replayed != generate(original, tok, prompts, 6, settings)


def test_the_sweep_with_replay_writes_what_it_computes_without(
    tokenizer, tmp_path, one_thread, monkeypatch
):
    """evaluate_lesions with and without reusing the original's prompt
    states, lesions at several ranges (from layer 0: nothing to reuse;
    1, 2, 3; two shares): predictions and scores byte-identical."""
    model, tok = _gqa_model(tokenizer)
    base = save_model_dir(model, tok, tmp_path / "base")
    plans = plan_variants(
        model,
        [0.1, 0.2],
        [[0, 1], [1, 2], [2, 3], [3, 4]],
        "zero_based_inclusive",
        "prune_kv_groups",
    )
    tasks = {
        name: build_task(TASKS[name], frame, num_few_shots=1)[0]["test"]
        for name, frame in _frames().items()
    }
    settings = GenerationSettings(max_new_tokens=4, batch_size=3)
    order = [ORIGINAL, *plans]
    replays = []
    replaying = PromptStates.replaying

    def counted(self, model, start):
        replays.append(start)
        return replaying(self, model, start)

    monkeypatch.setattr(PromptStates, "replaying", counted)
    runs = {}
    for reuse in (True, False):
        runs[reuse] = {
            v: (p, json.dumps(s, sort_keys=True))
            for v, p, s, _ in evaluate_lesions(
                base, order, plans, tasks, settings, reuse_prefix_layers=reuse
            )
        }
    assert replays == [
        1,
        2,
        3,
        1,
        2,
        3,
    ]  # every lesion not starting at layer 0, in the replaying run only
    for variant in order:
        assert runs[True][variant][1] == runs[False][variant][1], variant
        pd.testing.assert_frame_equal(
            runs[True][variant][0], runs[False][variant][0], check_exact=True
        )
    assert len({tuple(runs[True][v][0]["output"]) for v in order}) > 1
