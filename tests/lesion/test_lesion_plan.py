"""The lesion plan's arithmetic, on architecture facts alone (meta device), against hand counts."""

import pytest

from lmanatomy.errors import ConfigError
from lmanatomy.lesion import llm_pruner_args, percent_label, plan, variant_id, variant_ids
from lmanatomy.lesion.naming import layer_indices, scaled_one_based
from lmanatomy.lesion.planning import architecture_of, plan_for

# Llama-2-7B, by hand: one layer = 4·4096² (q,k,v,o)
# + 3·4096·11008 (gate, up, down) + 2·4096 (norms).
LLAMA2_LAYER = 4 * 4096**2 + 3 * 4096 * 11008 + 2 * 4096
LLAMA2_TOTAL = (
    32 * LLAMA2_LAYER + 2 * 32000 * 4096 + 4096
)  # + embed + lm_head (untied) + final norm
LLAMA2_HEAD = 4 * 128 * 4096  # q, k, v rows and o columns of one head
LLAMA2_NEURON = 3 * 4096  # gate row, up row, down column

# SmolLM2-135M: hidden 576, 9 query heads / 3 KV heads of 64, intermediate 1536, tied embeddings.
SMOL_LAYER = 576 * 576 * 2 + 576 * 192 * 2 + 3 * 576 * 1536 + 2 * 576
SMOL_TOTAL = 30 * SMOL_LAYER + 49152 * 576 + 576
SMOL_HEAD = 64 * 576 * 2  # GQA: q rows and o columns of one query head
SMOL_KV = 64 * 576 * 2  # k and v rows of one KV head
SMOL_NEURON = 3 * 576

# Llama-3-8B shapes: hidden 4096, 32 query / 8 KV heads
# of 128, intermediate 14336, vocab 128256, untied.
L3_LAYER = 4096 * 4096 * 2 + 4096 * 1024 * 2 + 3 * 4096 * 14336 + 2 * 4096
L3_TOTAL = 32 * L3_LAYER + 2 * 128256 * 4096 + 4096
L3_HEAD, L3_KV, L3_NEURON = 128 * 4096 * 2, 128 * 4096 * 2, 3 * 4096


def test_hand_counts_match_the_spec():
    assert LLAMA2_LAYER == 202_383_360 and LLAMA2_TOTAL == 6_738_415_616
    assert LLAMA2_HEAD == 2_097_152 and LLAMA2_NEURON == 12_288
    assert SMOL_TOTAL == 134_515_008
    assert L3_TOTAL == 8_030_261_248  # Llama-3-8B's published parameter count


@pytest.mark.parametrize(
    "share, heads, neurons, achieved",
    [(0.005, 1, 367, "0.490"), (0.02, 4, 1467, "1.960")],
)
def test_llama2_7b_layers_4_8(registry, share, heads, neurons, achieved):
    p = plan(registry["elyza-llama-2-7b-instruct"], layers=(3, 7), share=share)
    assert p.architecture.total_parameters == LLAMA2_TOTAL
    assert p.architecture.head_parameters == LLAMA2_HEAD
    assert p.architecture.neuron_parameters == LLAMA2_NEURON
    assert (p.heads, p.kv_heads, p.neurons) == (heads, heads, neurons)
    assert p.removed_parameters == 5 * (heads * LLAMA2_HEAD + neurons * LLAMA2_NEURON)
    assert f"{100 * p.achieved_share:.3f}" == achieved
    # LLM-Pruner's per-layer ratio: the layer's share of the removal over its prunable weights.
    assert p.ratio == pytest.approx(
        share * LLAMA2_TOTAL / 5 / (32 * LLAMA2_HEAD + 11008 * LLAMA2_NEURON)
    )


def test_llm_pruner_end_index_is_exclusive(registry):
    # The paper's 「4-8層」 = indices 3..7 = LLM-Pruner's
    # --block_*_layer_start 3 --block_*_layer_end 8.
    args = llm_pruner_args(
        plan(
            registry["elyza-llama-2-7b-instruct"],
            layers=layer_indices([4, 8], "one_based_inclusive"),
            share=0.005,
        )
    )
    assert (args["block_attention_layer_start"], args["block_attention_layer_end"]) == (3, 8)
    assert (args["block_mlp_layer_start"], args["block_mlp_layer_end"]) == (3, 8)


@pytest.mark.parametrize(
    "share, heads, neurons",
    [
        # r = 0.005·SMOL_TOTAL/5/(9·SMOL_HEAD + 1536·SMOL_NEURON) = 0.04054: neurons 1536 -
        # int(1473.7) = 63; query channels 576 - int(552.6) = 24 < 64: no head.
        (0.005, 0, 63),
        # r = 0.16217: neurons 1536 - int(1286.9) = 250; channels 576 - int(482.6) = 94 → 1 head,
        # floored to a multiple of the 3 KV groups → 0.
        (0.02, 0, 250),
        # r = 0.40543: neurons 1536 - int(913.3) = 623; channels
        # 576 - int(342.5) = 234 → 3 heads, one per group.
        (0.05, 3, 623),
    ],
)
def test_smollm2_keep_kv_heads_by_hand(registry, share, heads, neurons):
    p = plan(registry["smollm2-135m"], layers=(4, 8), share=share, gqa="keep_kv_heads")
    assert p.architecture.total_parameters == SMOL_TOTAL
    assert (p.architecture.head_parameters, p.architecture.neuron_parameters) == (
        SMOL_HEAD,
        SMOL_NEURON,
    )
    assert (p.heads, p.kv_heads, p.neurons) == (heads, 0, neurons)
    assert p.removed_parameters == 5 * (heads * SMOL_HEAD + neurons * SMOL_NEURON)


@pytest.mark.parametrize(
    "share, groups, neurons",
    [
        # k and v count too: r = 0.005·SMOL_TOTAL/5/(9·SMOL_HEAD + 3·SMOL_KV
        # + 1536·SMOL_NEURON) = 0.03801: neurons 1536 - int(1477.6) = 59;
        # key channels 192 - int(184.7) = 8 < 64: no KV group.
        (0.005, 0, 59),
        # r = 0.15204: neurons 1536 - int(1302.5) = 234; key channels 192 - int(162.8) = 30: none.
        (0.02, 0, 234),
        # r = 0.38010: neurons 1536 - int(952.2) = 584; key
        # channels 192 - int(119.0) = 73 → 1 group = 3 query heads.
        (0.05, 1, 584),
    ],
)
def test_smollm2_prune_kv_groups_by_hand(registry, share, groups, neurons):
    p = plan(
        registry["smollm2-135m"], layers=(4, 8), share=share
    )  # LLM-Pruner's GQA path is the default
    assert p.architecture.kv_head_parameters == SMOL_KV
    assert (p.heads, p.kv_heads, p.neurons) == (3 * groups, groups, neurons)
    assert p.removed_parameters == 5 * (
        3 * groups * SMOL_HEAD + groups * SMOL_KV + neurons * SMOL_NEURON
    )


@pytest.mark.parametrize(
    "gqa, share, heads, groups, neurons, achieved",
    [
        # prune_kv_groups: r = 0.005·L3_TOTAL/5/(32·L3_HEAD + 8·L3_KV + 14336·L3_NEURON) = 0.03682 →
        # 528 neurons, key channels 1024 - int(986.3) = 38 < 128: no group; 2.0%: r = 0.14727 → 2112
        # neurons, 151 channels → 1 group.
        ("prune_kv_groups", 0.005, 0, 0, 528, "0.404"),
        ("prune_kv_groups", 0.02, 4, 1, 2112, "1.942"),
        # keep_kv_heads: r = 0.03829 → 549 neurons; 0.15317 → 2196 neurons, 627 query channels → 4
        # heads → floored to 0 (8 groups).
        ("keep_kv_heads", 0.005, 0, 0, 549, "0.420"),
        ("keep_kv_heads", 0.02, 0, 0, 2196, "1.680"),
    ],
)
def test_llama3_8b_shapes_both_gqa_modes(gqa, share, heads, groups, neurons, achieved):
    from transformers import LlamaConfig

    config = LlamaConfig(
        hidden_size=4096,
        intermediate_size=14336,
        num_hidden_layers=32,
        num_attention_heads=32,
        num_key_value_heads=8,
        vocab_size=128256,
        tie_word_embeddings=False,
    )
    p = plan(config, layers=(3, 7), share=share, gqa=gqa)
    assert p.architecture.total_parameters == L3_TOTAL
    assert (p.heads, p.kv_heads, p.neurons) == (heads, groups, neurons)
    assert p.removed_parameters == 5 * (heads * L3_HEAD + groups * L3_KV + neurons * L3_NEURON)
    assert f"{100 * p.achieved_share:.3f}" == achieved


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
    assert (
        percent_label(0.005) == "0.5%"
        and percent_label(0.02) == "2.0%"
        and percent_label(0.0025) == "0.25%"
    )
    assert variant_id(0.005, [4, 8], "one_based_inclusive") == "0.5pct_L4-8_idx3-7"
    assert variant_id(0.02, (24, 28), "zero_based_inclusive") == "2pct_L24-28_idx24-28"
    assert variant_ids([0.005, 0.02], [[4, 8], [10, 14]], "llm_pruner_start_end") == [
        "0.5pct_L4-8_idx4-7",
        "0.5pct_L10-14_idx10-13",
        "2pct_L4-8_idx4-7",
        "2pct_L10-14_idx10-13",
    ]


@pytest.mark.parametrize(
    "numbering, expected",
    [
        ("one_based_inclusive", (3, 7)),
        ("zero_based_inclusive", (4, 8)),
        ("llm_pruner_start_end", (4, 7)),
    ],
)
def test_layer_numberings(numbering, expected):
    assert layer_indices([4, 8], numbering) == expected


def test_bad_layer_numbers_are_config_errors():
    with pytest.raises(ConfigError, match="start at 1"):
        layer_indices([0, 4], "one_based_inclusive")
    with pytest.raises(ConfigError, match="holds no layer"):
        layer_indices([4, 4], "llm_pruner_start_end")
    with pytest.raises(ConfigError, match="layer_numbering"):
        layer_indices([4, 8], "one_based")


def test_paper_config_prunes_the_papers_layers(repo, registry):
    """config/papers/harada2024.yaml: 「4-8層」 … 「24-28層」,
    1-based, are indices 3-7 … 23-27 (32 layers)."""
    import yaml

    from lmanatomy.lesion import plan_variants

    section = yaml.safe_load(
        (repo / "config" / "papers" / "harada2024.yaml").read_text(encoding="utf-8")
    )["lesion"]
    plans = plan_variants(
        registry[section["model"]],
        section["shares"],
        section["layer_ranges"],
        section["layer_numbering"],
        section["gqa"],
        section["importance_dtype"],
    )
    assert sorted({p.layers for p in plans.values()}) == [
        (3, 7),
        (9, 13),
        (13, 17),
        (19, 23),
        (23, 27),
    ]
    assert (
        "0.5pct_L4-8_idx3-7" in plans
        and plans["2pct_L24-28_idx23-27"].range_name == "24-28 [idx 23-27]"
    )
    assert {p.importance_dtype for p in plans.values()} == {"float16"}


def test_default_ranges_follow_the_stated_scaling_rule(repo):
    """config.yaml's SmolLM2 ranges = the paper's 1-based
    ranges moved from 32 to 30 layers by one rule."""
    import yaml

    section = yaml.safe_load((repo / "config" / "config.yaml").read_text(encoding="utf-8"))[
        "lesion"
    ]
    assert section["layer_numbering"] == "one_based_inclusive"
    # By hand: first' = floor((f - 1)·30/32 + 1/2) + 1 for f = 4, 10, 14, 20, 24 → 4 (2.81), 9
    # (8.44), 13 (12.19), 19 (17.81), 23 (21.56); width 5 kept.
    expected = [[4, 8], [9, 13], [13, 17], [19, 23], [23, 27]]
    assert (
        scaled_one_based([[4, 8], [10, 14], [14, 18], [20, 24], [24, 28]], 30)
        == expected
        == section["layer_ranges"]
    )
    assert scaled_one_based([[4, 8], [24, 28]], 32) == [
        [4, 8],
        [24, 28],
    ]  # the identity at the paper's depth


def test_achieved_shares_under_each_reading_of_the_papers_ranges(registry):
    """Llama-2-7B: 1-based and 0-based readings prune 5
    layers alike; LLM-Pruner's start/end reading prunes 4."""
    from lmanatomy.lesion import plan_variants
    from lmanatomy.lesion.report import reading_shares

    entry = registry["elyza-llama-2-7b-instruct"]
    plans = plan_variants(entry, [0.005], [[10, 14]], "one_based_inclusive")
    readings = reading_shares(entry, plans)["0.5pct_L10-14_idx9-13"]
    arch = architecture_of(entry)
    by_hand = {
        n: plan_for(arch, layer_indices([10, 14], n), 0.005).achieved_share * 100 for n in readings
    }
    assert readings == pytest.approx(by_hand)
    assert readings["one_based_inclusive"] == pytest.approx(readings["zero_based_inclusive"])
    # 4 layers: r = 0.005·TOTAL/4/(32·HEAD + 11008·NEURON)
    # = 0.04162 → 1 head + 459 neurons per layer.
    assert readings["llm_pruner_start_end"] == pytest.approx(
        100 * 4 * (LLAMA2_HEAD + 459 * LLAMA2_NEURON) / LLAMA2_TOTAL
    )  # 0.459%
