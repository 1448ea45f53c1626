"""The intervention hook, the batched per-seed sampler and the generation plan, on tiny models."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from lmanatomy.errors import DataError
from lmanatomy.language.intervention import NeuronIntervention, resolve_module
from lmanatomy.language.neurons import NeuronTable
from lmanatomy.language.sampling import draw, sample_batch
from lmanatomy.language.steering import generate, generation_work, plan, planned_work, shard
from lmanatomy.testing import tiny_model


@pytest.fixture(scope="module")
def llama(tokenizer):
    return tiny_model("llama", tokenizer=tokenizer)[0]


def _linears(model):
    return [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and "layers." in name
    ]


def _run_capturing(model, ids):
    """Inputs and outputs of every decoder-layer linear in one forward pass."""
    seen, handles = {}, []
    for name, module in _linears(model):
        handles.append(
            module.register_forward_hook(
                lambda m, i, o, name=name: seen.__setitem__(name, (i[0].clone(), o.clone()))
            )
        )
    with torch.no_grad():
        model(ids)
    for handle in handles:
        handle.remove()
    return seen


NEURONS = pd.DataFrame(
    {
        "module": ["layers.0.mlp.up_proj", "layers.0.mlp.up_proj", "layers.1.self_attn.k_proj"],
        "channel": [3, 17, 5],
        "value": [2.5, -1.25, 7.0],
    }
)


def test_hook_overwrites_the_chosen_channels_and_only_them(llama, tokenizer):
    ids = tokenizer(["Der Hund läuft schnell über die Wiese."], return_tensors="pt").input_ids
    plain = _run_capturing(llama, ids)
    with NeuronIntervention(llama, [NEURONS]) as intervention:
        steered = _run_capturing(llama, ids)
    assert intervention.neurons == 3
    chosen = {(m, c): v for m, c, v in NEURONS.itertuples(index=False)}
    names = [name for name, _ in _linears(llama)]
    prefix = "model."
    for name, module in _linears(llama):
        inputs, output = steered[name]
        column = name.removeprefix(prefix)
        # Every module's output is its own map of its actual input, except the chosen channels.
        expected = module(inputs).detach()
        for channel in range(output.shape[-1]):
            if (column, channel) in chosen:
                assert torch.all(output[..., channel] == chosen[(column, channel)]), (
                    column,
                    channel,
                )
            else:
                assert torch.equal(output[..., channel], expected[..., channel]), (column, channel)
    # Upstream of the first hooked module nothing changes; downstream the change propagates.
    first = names.index("model.layers.0.mlp.up_proj")
    for name in names[:first]:
        assert torch.equal(steered[name][1], plain[name][1]), name
    assert not torch.equal(
        steered["model.layers.1.mlp.down_proj"][1], plain["model.layers.1.mlp.down_proj"][1]
    )
    # The hooks are gone after the context.
    again = _run_capturing(llama, ids)
    assert all(torch.equal(again[n][1], plain[n][1]) for n in names)


def test_rows_of_a_batch_carry_their_own_pattern(llama):
    ids = torch.tensor([[0, 40, 41, 42]] * 3)
    other = pd.DataFrame({"module": ["layers.1.mlp.gate_proj"], "channel": [0], "value": [9.0]})
    with torch.no_grad():
        base = llama(ids).logits
        with NeuronIntervention(llama, [NEURONS]):
            only_a = llama(ids[:1]).logits
        with NeuronIntervention(llama, [None, NEURONS, other], [0, 1, 2]):
            mixed = llama(ids).logits
    assert torch.allclose(mixed[0], base[0], atol=1e-6)
    assert torch.allclose(mixed[1], only_a[0], atol=1e-6)
    assert not torch.allclose(mixed[2], base[2])


def test_intervention_errors(llama):
    with pytest.raises(DataError, match="has no submodule 'mlp.nope'"):
        NeuronIntervention(
            llama, [pd.DataFrame({"module": ["layers.0.mlp.nope"], "channel": [0], "value": [1.0]})]
        )
    with pytest.raises(DataError, match="output channels"):
        NeuronIntervention(
            llama,
            [pd.DataFrame({"module": ["layers.0.mlp.up_proj"], "channel": [999], "value": [1.0]})],
        )
    with pytest.raises(DataError, match="need an assignment"):
        NeuronIntervention(llama, [NEURONS, None])
    with pytest.raises(DataError, match="layers.<index>.<name>"):
        resolve_module(llama, "mlp.up_proj")


def test_neuron_table_of_a_model_names_real_modules(llama):
    table = NeuronTable.from_model(llama)
    for span in table.spans:
        assert resolve_module(llama, span.column).out_features == span.width
    assert table.columns[:3] == [
        "layers.0.self_attn.q_proj",
        "layers.0.self_attn.k_proj",
        "layers.0.self_attn.v_proj",
    ]


def test_draw_samples_the_tempered_softmax_without_truncation():
    logits = torch.linspace(0, 4, 200).unsqueeze(
        0
    )  # 200 tokens, far more than HF's default top_k=50
    temperature = 0.8
    n = 40_000
    generator = torch.Generator().manual_seed(0)
    uniforms = torch.rand(n, generator=generator, dtype=torch.float64)
    tokens = draw(logits.expand(n, -1), temperature, uniforms)
    observed = np.bincount(tokens.numpy(), minlength=200) / n
    expected = torch.softmax(logits[0].double() / temperature, -1).numpy()
    assert np.abs(observed - expected).max() < 0.01
    assert (observed[:150] > 0).sum() > 100  # low-probability tokens are drawn too
    # Inverse CDF: u just below / above a cumulative boundary picks neighbouring tokens.
    two = torch.tensor([[0.0, 0.0]])
    assert (
        draw(two, 1.0, torch.tensor([0.49])).item() == 0
        and draw(two, 1.0, torch.tensor([0.51])).item() == 1
    )


def test_each_seed_is_reproducible_whatever_its_batch(llama, tokenizer):
    prompt = [tokenizer.bos_token_id]
    alone = sample_batch(llama, prompt, [2], max_new_tokens=12)
    batch = sample_batch(llama, prompt, [1, 2, 3], max_new_tokens=12)
    assert batch[1] == alone[0]
    assert len({s.tokens for s in batch}) == 3
    # In a batch mixing an intervention on other rows, the untouched row keeps its sample.
    with NeuronIntervention(llama, [NEURONS, None], [0, 1, 0]) as intervention:
        mixed = sample_batch(llama, prompt, [7, 2, 9], max_new_tokens=12, intervention=intervention)
    assert mixed[1] == alone[0]


def test_sampling_stops_at_eos(llama, tokenizer):
    prompt = [tokenizer.bos_token_id]
    free = sample_batch(llama, prompt, [1, 2, 3, 4], max_new_tokens=20)
    assert all(len(s.tokens) == 20 and not s.stopped_at_eos for s in free)
    # Declare the tokens seed 1 and seed 3 draw at step 5 to be EOS: those rows stop there,
    # and the rows still running keep the tokens they drew before.
    stop = {free[0].tokens[4], free[2].tokens[4]}
    stopped = sample_batch(llama, prompt, [1, 2, 3, 4], max_new_tokens=20, eos_token_ids=stop)
    for s, f in zip(stopped, free, strict=True):
        cut = next((i for i, t in enumerate(f.tokens) if t in stop), None)
        if cut is None:
            assert s.tokens == f.tokens and not s.stopped_at_eos
        else:
            assert s.tokens == f.tokens[:cut] and s.stopped_at_eos
    assert stopped[0].stopped_at_eos and stopped[2].stopped_at_eos


def test_plan_and_batched_generation_agree(llama, tokenizer):
    requests = plan(["en", "de"], 2, [1, 2], [1, 2])
    assert requests.groupby(["condition", "language", "k"]).size().tolist() == [2] * 9
    selection = pd.DataFrame(
        [
            {
                "language": lang,
                "kind": kind,
                "rank": r,
                "index": 0,
                "layer": 0,
                "module": "layers.0.mlp.up_proj",
                "channel": 4 * i + 2 * (kind == "bottom") + r,
                "ap": 0.5,
                "value": 3.0 + i,
            }
            for i, lang in enumerate(["en", "de"])
            for kind in ("top", "bottom")
            for r in range(2)
        ]
    )
    one = generate(
        llama,
        tokenizer,
        requests,
        selection,
        batch_size=len(requests),
        max_new_tokens=6,
        progress=False,
    )
    small = generate(
        llama, tokenizer, requests, selection, batch_size=4, max_new_tokens=6, progress=False
    )
    assert one["text"].tolist() == small["text"].tolist()
    assert (one["n_tokens"] <= 6).all()
    # The intervention changes what is generated: "both"
    # for en at k=2 differs from "none" for some seed.
    none = one[one.condition == "none"]["text"].tolist()
    both = one[(one.condition == "both") & (one.language == "en") & (one.k == 2)]["text"].tolist()
    assert none != both


@pytest.mark.parametrize("rows, count", [(10, 3), (9, 3), (2, 5), (49, 7)])
def test_shards_are_the_plan_in_contiguous_blocks(rows, count):
    requests = pd.DataFrame({"seed": range(rows)})
    blocks = [shard(requests, i, count)["seed"].tolist() for i in range(count)]
    assert blocks == [list(b) for b in np.array_split(np.arange(rows), count)]
    with pytest.raises(DataError, match="block 3 of 3"):
        shard(requests, 3, 3)


def test_a_split_generation_is_the_unsplit_one(llama, tokenizer):
    """Generation split over jobs (language_generate_block
    + language_merge) gives the same texts."""
    requests = plan(["en", "de"], 2, [1], [1, 2, 3])
    selection = pd.DataFrame(
        [
            {
                "language": lang,
                "kind": kind,
                "rank": r,
                "index": 0,
                "layer": 0,
                "module": "layers.0.mlp.up_proj",
                "channel": 4 * i + 2 * (kind == "bottom") + r,
                "ap": 0.5,
                "value": 3.0 + i,
            }
            for i, lang in enumerate(["en", "de"])
            for kind in ("top", "bottom")
            for r in range(2)
        ]
    )
    whole = generate(
        llama, tokenizer, requests, selection, batch_size=8, max_new_tokens=5, progress=False
    )
    blocks = [
        generate(
            llama,
            tokenizer,
            shard(requests, i, 4),
            selection,
            batch_size=8,
            max_new_tokens=5,
            progress=False,
        )
        for i in range(4)
    ]
    pd.testing.assert_frame_equal(
        pd.concat(blocks, ignore_index=True), whole.reset_index(drop=True)
    )


def test_generation_work_counts_batches_and_tokens():
    # none + (top, bottom, both at k=2; both at k=1) per language = 9 groups × 3 seeds = 27 rows
    requests = plan(["en", "de"], 2, [1], [1, 2, 3])
    work = generation_work(requests, batch_size=8, max_new_tokens=5)
    assert (work.decode_steps, work.decode_tokens) == (4 * 5, 27 * 5)  # 4 batches of at most 8 rows


def test_planned_work_is_the_work_of_its_block():
    setup = {
        "languages": ["en", "de"],
        "k": 2,
        "ablation_k": [1],
        "seeds": [1, 2, 3],
        "batch_size": 8,
        "max_new_tokens": 5,
    }
    second = planned_work(setup, (1, 2))  # rows 14..26 of 27: 13 rows, 2 batches
    assert (second.decode_steps, second.decode_tokens) == (2 * 5, 13 * 5)
    assert planned_work(setup).decode_tokens == 27 * 5


def test_ablation_seeds_thin_only_the_sweep():
    from lmanatomy.language.steering import plan

    full = plan(["en", "ja"], 100, [10, 100, 1000], seeds=[1, 2, 3, 4])
    thin = plan(["en", "ja"], 100, [10, 100, 1000], seeds=[1, 2, 3, 4], ablation_seeds=[1, 2])
    sweep = (full["condition"] == "both") & (full["k"] != 100)
    # Table 2's conditions keep every seed; the extra ablation
    # ks keep seeds 1..2, the same rows as in the full plan.
    assert thin.merge(full, how="left", indicator=True)["_merge"].eq("both").all()
    assert len(thin) == len(full) - int(sweep.sum()) // 2
    kept = thin[(thin["condition"] == "both") & (thin["k"] != 100)]
    assert set(kept["seed"]) == {1, 2}
    assert (thin[thin["condition"] == "top"].groupby("language").size() == 4).all()
