"""The lesion plan's arithmetic, on architecture facts alone (meta device), against hand counts."""

import pytest

from lmanatomy.errors import ConfigError
from lmanatomy.lesion import llm_pruner_args, percent_label, plan, variant_id, variant_ids

# Llama-2-7B, by hand: one layer = 4·4096² (q,k,v,o) + 3·4096·11008 (gate, up, down) + 2·4096 (norms).
LLAMA2_LAYER = 4 * 4096**2 + 3 * 4096 * 11008 + 2 * 4096
LLAMA2_TOTAL = 32 * LLAMA2_LAYER + 2 * 32000 * 4096 + 4096  # + embed + lm_head (untied) + final norm
LLAMA2_HEAD = 4 * 128 * 4096  # q, k, v rows and o columns of one head
LLAMA2_NEURON = 3 * 4096  # gate row, up row, down column

# SmolLM2-135M: hidden 576, 9 query heads / 3 KV heads of 64, intermediate 1536, tied embeddings.
SMOL_LAYER = 576 * 576 * 2 + 576 * 192 * 2 + 3 * 576 * 1536 + 2 * 576
SMOL_TOTAL = 30 * SMOL_LAYER + 49152 * 576 + 576
SMOL_HEAD = 64 * 576 * 2  # GQA: q rows and o columns only, the KV heads stay
SMOL_NEURON = 3 * 576


def test_hand_counts_match_the_spec():
    assert LLAMA2_LAYER == 202_383_360 and LLAMA2_TOTAL == 6_738_415_616
    assert LLAMA2_HEAD == 2_097_152 and LLAMA2_NEURON == 12_288
    assert SMOL_TOTAL == 134_515_008


@pytest.mark.parametrize(
    "share, heads, neurons, achieved",
    [(0.005, 1, 367, "0.490"), (0.02, 4, 1467, "1.960")],
)
def test_llama2_7b_layers_4_8(registry, share, heads, neurons, achieved):
    p = plan(registry["elyza-llama-2-7b-instruct"], layers=(4, 8), share=share)
    assert p.architecture.total_parameters == LLAMA2_TOTAL
    assert p.architecture.head_parameters == LLAMA2_HEAD
    assert p.architecture.neuron_parameters == LLAMA2_NEURON
    assert (p.heads, p.kv_heads, p.neurons) == (heads, heads, neurons)
    assert p.removed_parameters == 5 * (heads * LLAMA2_HEAD + neurons * LLAMA2_NEURON)
    assert f"{100 * p.achieved_share:.3f}" == achieved
    # LLM-Pruner's per-layer ratio: the layer's share of the removal over its prunable weights.
    assert p.ratio == pytest.approx(share * LLAMA2_TOTAL / 5 / (32 * LLAMA2_HEAD + 11008 * LLAMA2_NEURON))


def test_llm_pruner_end_index_is_exclusive(registry):
    args = llm_pruner_args(plan(registry["elyza-llama-2-7b-instruct"], layers=(4, 8), share=0.005))
    assert (args["block_attention_layer_start"], args["block_attention_layer_end"]) == (4, 9)
    assert (args["block_mlp_layer_start"], args["block_mlp_layer_end"]) == (4, 9)


@pytest.mark.parametrize(
    "share, heads, neurons",
    [
        # r = 0.005·SMOL_TOTAL/5/(9·SMOL_HEAD + 1536·SMOL_NEURON) = 0.04054: neurons 1536 - int(1473.7) = 63;
        # query channels 576 - int(552.6) = 24 < 64: no head.
        (0.005, 0, 63),
        # r = 0.16217: neurons 1536 - int(1286.9) = 250; channels 576 - int(482.6) = 94 → 1 head,
        # floored to a multiple of the 3 KV groups → 0.
        (0.02, 0, 250),
        # r = 0.40543: neurons 1536 - int(913.3) = 623; channels 576 - int(342.5) = 234 → 3 heads, one per group.
        (0.05, 3, 623),
    ],
)
def test_smollm2_gqa_by_hand(registry, share, heads, neurons):
    p = plan(registry["smollm2-135m"], layers=(4, 8), share=share)
    assert p.architecture.total_parameters == SMOL_TOTAL
    assert (p.architecture.head_parameters, p.architecture.neuron_parameters) == (SMOL_HEAD, SMOL_NEURON)
    assert (p.heads, p.kv_heads, p.neurons) == (heads, 0, neurons)
    assert p.removed_parameters == 5 * (heads * SMOL_HEAD + neurons * SMOL_NEURON)


def test_plan_from_a_transformers_config_and_a_model_agree(registry):
    from lmanatomy.models import hf_config, meta_model

    entry = registry["smollm2-135m"]
    a = plan(entry, (13, 17), 0.02)
    assert plan(hf_config(entry), (13, 17), 0.02) == a
    assert plan(meta_model(entry), (13, 17), 0.02) == a


@pytest.mark.parametrize("layers", [(28, 32), (-1, 3), (5, 4)])
def test_layer_range_outside_the_model_is_a_config_error(registry, layers):
    with pytest.raises(ConfigError, match="layers"):
        plan(registry["smollm2-135m"], layers=layers, share=0.005)


def test_share_that_cannot_be_met_is_a_config_error(registry):
    with pytest.raises(ConfigError, match="share"):
        plan(registry["smollm2-135m"], layers=(4, 4), share=0.5)


def test_names():
    assert percent_label(0.005) == "0.5%" and percent_label(0.02) == "2.0%" and percent_label(0.0025) == "0.25%"
    assert variant_id(0.005, [4, 8]) == "0.5pct_L4-8" and variant_id(0.02, (24, 28)) == "2pct_L24-28"
    assert variant_ids([0.005, 0.02], [[4, 8], [10, 14]]) == ["0.5pct_L4-8", "0.5pct_L10-14", "2pct_L4-8", "2pct_L10-14"]
