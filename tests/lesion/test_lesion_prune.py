"""Pruning removes exactly the lowest-L1 heads and
neurons; the pruned model runs, saves and reloads."""

import json
import warnings

import pytest
import torch

from lmanatomy.errors import DataError
from lmanatomy.lesion import (
    base_reference,
    head_importance,
    load_pruned,
    neuron_importance,
    plan,
    prune_checkpoint,
    prune_model,
    read_shape_map,
    save_pruned,
    shape_map,
)
from lmanatomy.lesion.prune import kv_group_importance, layer_tensors
from lmanatomy.models import load_model
from lmanatomy.testing import save_model_dir, tiny_model

# MHA: 4 heads of 8 over 4 KV heads. GQA: 6 query heads over 2 KV heads (groups of 3, like SmolLM2's
# 9/3), once keeping the KV heads, once removing whole KV groups (LLM-Pruner's GQA path).
_GQA = dict(layers=4, hidden=48, ff=64, num_attention_heads=6, num_key_value_heads=2, head_dim=8)
SHAPES = {
    "mha": dict(
        layers=4, hidden=32, ff=64, num_attention_heads=4, num_key_value_heads=4, head_dim=8
    ),
    "gqa": _GQA,
    "gqa_groups": _GQA,
}
MODES = {"mha": "prune_kv_groups", "gqa": "keep_kv_heads", "gqa_groups": "prune_kv_groups"}
# Shares chosen so that heads go too: MHA 1 head/layer,
# GQA 1 head per KV group, GQA groups 1 of 2 KV groups.
SHARES = {"mha": 0.1, "gqa": 0.1, "gqa_groups": 0.2}


def _plan(original, layers, kind, share=None):
    return plan(
        original, layers=layers, share=SHARES[kind] if share is None else share, gqa=MODES[kind]
    )


def _reference_head_scores(layer, heads, kv_heads, head_dim):
    """Head importance with explicit loops: per channel,
    L1 of its weights in every pruned member, averaged."""
    members = (
        [("q_proj", 0)]
        + ([("k_proj", 0), ("v_proj", 0)] if heads == kv_heads else [])
        + [("o_proj", 1)]
    )
    scores = []
    for h in range(heads):
        total = 0.0
        for c in range(h * head_dim, (h + 1) * head_dim):
            per_member = []
            for name, dim in members:
                w = getattr(layer.self_attn, name).weight.detach().double()
                per_member.append(float(w[c].abs().sum() if dim == 0 else w[:, c].abs().sum()))
            total += sum(per_member) / len(per_member)
        scores.append(total)
    return scores


def _reference_neuron_scores(layer):
    mlp = layer.mlp
    g, u, d = (m.weight.detach().double() for m in (mlp.gate_proj, mlp.up_proj, mlp.down_proj))
    return [
        float((g[n].abs().sum() + u[n].abs().sum() + d[:, n].abs().sum()) / 3)
        for n in range(g.shape[0])
    ]


def _lowest(scores, k):
    return sorted(sorted(range(len(scores)), key=lambda i: (scores[i], i))[:k])


def _reference_kv_group_scores(layer, kv_heads, head_dim):
    """LLM-Pruner's GQA group importance with explicit loops (root k_proj, C = kv_heads·head_dim key
    channels): per key channel c, the mean over members of k-row L1, v-row L1, and the q-row and
    o-column L1 summed over channels c, c + C, c + 2C, … (its ``view(len // C, C).sum(0)``
    alignment); summed per KV group."""
    attn = layer.self_attn
    q, k, v, o = (
        getattr(attn, n).weight.detach().double() for n in ("q_proj", "k_proj", "v_proj", "o_proj")
    )
    channels = kv_heads * head_dim
    scores = []
    for g in range(kv_heads):
        total = 0.0
        for c in range(g * head_dim, (g + 1) * head_dim):
            folded = range(c, q.shape[0], channels)
            members = [
                float(k[c].abs().sum()),
                float(v[c].abs().sum()),
                sum(float(q[j].abs().sum()) for j in folded),
                sum(float(o[:, j].abs().sum()) for j in folded),
            ]
            total += sum(members) / 4
        scores.append(total)
    return scores


def _saved(family, kind, tokenizer, tmp_path):
    """(kind, base folder, the model loaded back from it,
    tokenizer) for a tiny model of one family and shape."""
    model, tok = tiny_model(family, tokenizer=tokenizer, seed=3, **SHAPES[kind])
    base = save_model_dir(model, tok, tmp_path / "base")
    original, _ = load_model(base)
    return kind, base, original, tok


@pytest.fixture(params=sorted(SHAPES))
def case(request, tokenizer, tmp_path):
    return _saved("llama", request.param, tokenizer, tmp_path)


def test_removes_exactly_the_lowest_l1_heads_and_neurons(case):
    kind, base, original, _ = case
    _assert_removes_the_lowest(original, kind)


def _assert_removes_the_lowest(original, kind):
    """Pruning ``original`` in place removes the heads
    / KV groups / neurons a plain loop ranks lowest."""
    p = _plan(original, (1, 2), kind)
    cfg = original.config
    heads, kv, hd = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
    groups_mode = kv != heads and p.gqa == "prune_kv_groups"
    assert p.heads >= (1 if kv == heads else kv) and p.neurons >= 1
    expected = {}
    removed_groups = {}
    for index in p.layer_indices:
        layer = original.model.layers[index]
        head_scores = _reference_head_scores(layer, heads, kv, hd)
        if kv == heads:
            removed_heads = _lowest(head_scores, p.heads)
        elif (
            groups_mode
        ):  # the lowest KV groups by LLM-Pruner's group importance, with all their query heads
            group_scores = _reference_kv_group_scores(layer, kv, hd)
            assert kv_group_importance(
                layer_tensors(layer), p.architecture
            ).tolist() == pytest.approx(group_scores)
            removed_groups[index] = _lowest(group_scores, p.kv_heads)
            size = heads // kv
            removed_heads = [g * size + i for g in removed_groups[index] for i in range(size)]
        else:  # equal numbers from every KV group
            size = heads // kv
            removed_heads = sorted(
                g * size + i
                for g in range(kv)
                for i in _lowest(head_scores[g * size : (g + 1) * size], p.heads // kv)
            )
        expected[index] = (
            removed_heads,
            _lowest(_reference_neuron_scores(layer), p.neurons),
            layer,
        )
        assert head_importance(layer_tensors(layer), p.architecture).tolist() == pytest.approx(
            head_scores
        )
    before = {
        i: {k: v.clone() for k, v in layer_tensors(original.model.layers[i]).items()}
        for i in p.layer_indices
    }
    records = prune_model(original, p)
    for record in records:
        heads_gone, neurons_gone, layer = expected[record.layer]
        assert list(record.removed_heads) == heads_gone
        assert list(record.removed_neurons) == neurons_gone
        # The kept channels are the original weights, in order.
        kept_heads = [h for h in range(heads) if h not in heads_gone]
        q_rows = [h * hd + j for h in kept_heads for j in range(hd)]
        kept_neurons = [n for n in range(cfg.intermediate_size) if n not in neurons_gone]
        old = before[record.layer]
        assert torch.equal(layer.self_attn.q_proj.weight, old["self_attn.q_proj.weight"][q_rows])
        assert torch.equal(layer.self_attn.o_proj.weight, old["self_attn.o_proj.weight"][:, q_rows])
        kept_groups = [g for g in range(kv) if g not in removed_groups.get(record.layer, [])]
        kv_rows = q_rows if kv == heads else [g * hd + j for g in kept_groups for j in range(hd)]
        assert torch.equal(layer.self_attn.k_proj.weight, old["self_attn.k_proj.weight"][kv_rows])
        assert torch.equal(layer.self_attn.v_proj.weight, old["self_attn.v_proj.weight"][kv_rows])
        assert torch.equal(layer.mlp.down_proj.weight, old["mlp.down_proj.weight"][:, kept_neurons])
        assert torch.equal(layer.mlp.up_proj.weight, old["mlp.up_proj.weight"][kept_neurons])
        assert record.num_kv_heads == (len(kept_heads) if kv == heads else len(kept_groups))
        assert layer.self_attn.num_key_value_groups == (
            1 if kv == heads else len(kept_heads) // len(kept_groups)
        )
    # Layers outside the range are untouched.
    assert original.model.layers[0].mlp.gate_proj.weight.shape[0] == cfg.intermediate_size


def test_importance_agrees_with_torch_pruning(tokenizer):
    """Torch-Pruning's MagnitudeImportance(p=1, mean over
    the group) on its own dependency graph (MHA)."""
    import torch_pruning as tp

    model, _ = tiny_model(
        "llama", tokenizer=tokenizer, seed=5, layers=1, hidden=16, ff=32, num_key_value_heads=4
    )
    layer = model.model.layers[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = tp.DependencyGraph().build_dependency(
            model,
            example_inputs={"input_ids": torch.tensor([[1, 5, 6, 7]]), "use_cache": False},
            output_transform=lambda o: o.logits,
        )
    importance = tp.importance.MagnitudeImportance(p=1, group_reduction="mean", normalizer=None)
    mlp_group = graph.get_pruning_group(
        layer.mlp.gate_proj, tp.prune_linear_out_channels, idxs=list(range(32))
    )
    attn_group = graph.get_pruning_group(
        layer.self_attn.q_proj, tp.prune_linear_out_channels, idxs=list(range(16))
    )
    tensors = layer_tensors(layer)
    arch = plan(model, (0, 0), 0.01).architecture
    assert torch.allclose(importance(mlp_group).double(), neuron_importance(tensors), atol=1e-6)
    per_channel = importance(attn_group).double()
    assert torch.allclose(per_channel.view(4, 4).sum(1), head_importance(tensors, arch), atol=1e-6)


def test_pruned_model_runs_saves_and_reloads_to_identical_logits(case, tmp_path):
    kind, base, original, tok = case
    p = _plan(original, (1, 2), kind)
    records = prune_model(original, p)
    tok.padding_side = "left"
    batch = tok(["The quick brown fox", "素早い茶色の狐"], return_tensors="pt", padding=True)
    with torch.no_grad():
        logits = original(**batch).logits
    assert torch.isfinite(logits).all()
    generated = original.generate(
        **batch, max_new_tokens=4, do_sample=False, pad_token_id=tok.pad_token_id
    )
    assert generated.shape == (2, batch["input_ids"].shape[1] + 4)

    tensors, from_disk = prune_checkpoint(base, p)  # the workflow's path: no model built
    assert from_disk == records
    out = save_pruned(tmp_path / "pruned", tensors, shape_map(p, from_disk, base_reference(base)))
    assert sorted(x.name for x in out.iterdir()) == ["pruned_layers.safetensors", "shape_map.json"]
    mapping = read_shape_map(out)
    assert (
        mapping["layers"]["1"]["intermediate_size"] == original.config.intermediate_size - p.neurons
    )
    reloaded, _ = load_pruned(out)
    with torch.no_grad():
        assert torch.equal(reloaded(**batch).logits, logits)


def test_reload_refuses_a_changed_base(case, tmp_path):
    kind, base, original, _ = case
    p = _plan(original, (1, 1), kind, SHARES[kind] / 2)
    tensors, records = prune_checkpoint(base, p)
    out = save_pruned(tmp_path / "pruned", tensors, shape_map(p, records, base_reference(base)))
    provenance = json.loads((base / "provenance.json").read_text())
    provenance["weights_sha256"]["model.safetensors"] = "0" * 64
    (base / "provenance.json").write_text(json.dumps(provenance))
    with pytest.raises(DataError, match="sha256"):
        load_pruned(out)


def test_plan_for_another_architecture_is_refused(case, registry):
    _, _, original, _ = case
    with pytest.raises(DataError, match="architecture"):
        prune_model(original, plan(registry["smollm2-135m"], (1, 2), 0.02))


def _half_reference(weights, dims):
    """float16 importance the way a GPU computes it: weights cast to float16, each reduction
    accumulated in float32 and its result rounded to float16 (a plain loop over members)."""
    rounded = [w.half().float().abs().sum(dim=d).half() for w, d in zip(weights, dims, strict=True)]
    return (sum(r.float() for r in rounded) / len(rounded)).half()


def test_float16_importance_is_rounded_like_a_gpu_reduction(tokenizer):
    model, _ = tiny_model(
        "llama", tokenizer=tokenizer, seed=7, layers=1, hidden=16, ff=32, num_key_value_heads=4
    )
    mlp = model.model.layers[0].mlp
    tensors = layer_tensors(model.model.layers[0])
    expected = _half_reference(
        [mlp.gate_proj.weight, mlp.up_proj.weight, mlp.down_proj.weight], [1, 1, 0]
    )
    got = neuron_importance(tensors, "float16")
    assert got.dtype == torch.float16 and torch.equal(got, expected)
    # float16 is coarser than float64 but ranks the same neurons near-equally.
    exact = neuron_importance(tensors)
    assert torch.allclose(got.double(), exact, rtol=2e-3)


def test_importance_dtype_is_recorded_in_plans_and_shares(registry):
    from lmanatomy.lesion import plan_variants
    from lmanatomy.lesion.report import shares_table

    plans = plan_variants(
        registry["elyza-llama-2-7b-instruct"],
        [0.005],
        [[4, 8]],
        "one_based_inclusive",
        importance_dtype="float16",
    )
    table = shares_table(plans)
    assert table["importance_dtype"].tolist() == ["float16"] and table["indices"].tolist() == [
        "3-7"
    ]
    assert table["range"].tolist() == ["4-8"] and table["numbering"].tolist() == [
        "one_based_inclusive"
    ]


# Qwen3 (per-head q_norm / k_norm) and Gemma-2 (explicit head_dim, extra norms around the MLP): the
# same pruning groups as Llama, so the same pruning, checked against the same plain references.
FAMILY_CASES = [("qwen3", "gqa"), ("qwen3", "mha"), ("gemma2", "gqa_groups"), ("gemma2", "mha")]


@pytest.fixture(params=FAMILY_CASES, ids=[f"{f}-{k}" for f, k in FAMILY_CASES])
def family_case(request, tokenizer, tmp_path):
    return _saved(*request.param, tokenizer, tmp_path)


def test_qwen3_and_gemma2_lose_exactly_the_lowest_l1_heads_and_neurons(family_case):
    kind, _, original, _ = family_case
    _assert_removes_the_lowest(original, kind)


def test_a_pruned_model_computes_what_the_unpruned_one_does_with_those_units_silenced(
    family_case, tmp_path
):
    """Removing a head (or KV group) and a neuron is the same function as zeroing the o_proj columns
    of its query heads and the down_proj column of the neuron in the unpruned model: the reference
    needs no pruning code. It fails wherever a part indexed by head or neuron is left unsliced."""
    import copy

    kind, base, original, tok = family_case
    silenced = copy.deepcopy(original)
    p = _plan(original, (1, 2), kind)
    records = prune_model(original, p)
    hd = silenced.config.head_dim
    with torch.no_grad():
        for record in records:
            layer = silenced.model.layers[record.layer]
            for h in record.removed_heads:
                layer.self_attn.o_proj.weight[:, h * hd : (h + 1) * hd] = 0
            layer.mlp.down_proj.weight[:, list(record.removed_neurons)] = 0
        batch = tok(
            ["The quick brown fox jumps", "素早い茶色の狐"], return_tensors="pt", padding=True
        )
        assert torch.allclose(original(**batch).logits, silenced(**batch).logits, atol=1e-5)
    tensors, from_disk = prune_checkpoint(base, p)
    assert from_disk == records
    reloaded, _ = load_pruned(
        save_pruned(tmp_path / "pruned", tensors, shape_map(p, from_disk, base_reference(base)))
    )
    with torch.no_grad():
        assert torch.equal(reloaded(**batch).logits, original(**batch).logits)
