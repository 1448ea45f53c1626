"""Neuron census: Table 3 of Kojima et al. 2024 exactly, from architecture facts alone."""

import pytest
import torch

from lmanatomy.errors import RegistryError
from lmanatomy.models import adapter_for, count_parameters, parse_entry
from lmanatomy.models.census import census, census_of_model, verify_census
from lmanatomy.testing import ALL_FAMILIES, save_model_dir, tiny_model

TABLE3 = {
    "xglm-564m": (24, 221_184),
    "xglm-1.7b": (24, 442_368),
    "xglm-2.9b": (48, 884_736),
    "bloom-560m": (24, 221_184),
    "bloom-1b7": (24, 442_368),
    "bloom-3b": (30, 691_200),
    "llama-2-7b": (32, 1_359_872),
    "llama-2-13b": (40, 2_129_920),
    "smollm2-135m": (30, 155_520),
}


@pytest.mark.parametrize("name", sorted(TABLE3))
def test_census_equals_table3(name, registry):
    result = census(name, registry)
    assert (result.layers, result.neurons) == TABLE3[name]


def test_parameter_counts_match_the_published_sizes(registry):
    # Llama-2-7B's whole-model count is the denominator of the lesion study's shares.
    assert count_parameters(registry["llama-2-7b"]) == 6_738_415_616
    assert count_parameters(registry["smollm2-135m"]) == 134_515_008


def _hand_count(family: str, hidden=16, ff=32, layers=2) -> int:
    """Output widths per layer written out by hand from each family's module list."""
    kv = (
        hidden // 2
    )  # tiny Llama-like configs use 4 query heads and 2 KV heads (head_dim = hidden / 4)
    llama_like = hidden + kv + kv + hidden + ff + ff + hidden  # q, k, v, o, gate, up, down
    per_layer = {
        "llama": llama_like,
        "qwen2": llama_like,
        "mistral": llama_like,
        "qwen3": llama_like,  # q_norm / k_norm are norms, not linears
        "gemma2": llama_like,  # its four layer norms are not linears either
        "olmo2": llama_like,
        "phi3": (hidden + kv + kv)
        + hidden
        + 2 * ff
        + hidden,  # fused qkv_proj, o, fused gate_up_proj, down
        "gpt_neox": 3 * hidden + hidden + ff + hidden,
        "xglm": 4 * hidden + ff + hidden,
        "bloom": 3 * hidden + hidden + 4 * hidden + hidden,  # BLOOM's MLP is always 4 × hidden
        "gpt2": 3 * hidden + hidden + ff + hidden,
    }[family]
    return layers * per_layer


@pytest.mark.parametrize("family", ALL_FAMILIES)
def test_adapter_finds_every_linear(family, tokenizer):
    model, _ = tiny_model(family, tokenizer=tokenizer)
    result = census_of_model(model, family, family)
    assert result.layers == 2
    assert result.neurons == _hand_count(family)
    adapter = adapter_for(model)
    layer = adapter.decoder_layers(model)[0]
    # The FF activation module is really on the forward path: hooking it sees ff-wide outputs.
    seen = []
    handle = adapter.ff_activation_module(layer).register_forward_hook(
        lambda m, i, o: seen.append(o.shape[-1])
    )
    with torch.no_grad():
        model(**tokenizer("a b c", return_tensors="pt"))
    handle.remove()
    expected_width = 4 * 16 if family == "bloom" else 32
    assert seen == [expected_width]


def test_adapter_for_a_bare_model_type_needs_the_model():
    with pytest.raises(
        RegistryError, match="no architecture adapter for model_type 'mamba' without its model"
    ):
        adapter_for("mamba")


def test_verify_census_against_real_weights(tmp_path, tokenizer):
    model, _ = tiny_model("llama", tokenizer=tokenizer)
    folder = save_model_dir(model, tokenizer, tmp_path / "tiny")
    facts = model.config.to_dict()
    good = parse_entry(
        "tiny", {"source": "local", "train": {}, "checkpoints": ["s"], "config": facts}
    )
    assert verify_census(good, folder).neurons == census_of_model(model, "t", "t").neurons
    wrong = dict(facts, intermediate_size=64)
    bad = parse_entry(
        "tiny", {"source": "local", "train": {}, "checkpoints": ["s"], "config": wrong}
    )
    with pytest.raises(RegistryError, match="neurons_per_layer"):
        verify_census(bad, folder)
