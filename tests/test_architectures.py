"""Architectures resolved from the module tree: the hand-written table they replace, the parts each
study needs (refused with a reason when absent), and the studies' core steps on tiny random models
of every family (Mistral, Qwen3, Gemma-2, OLMo-2, Phi-3 besides the original eight)."""

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score

from lmanatomy.errors import RegistryError
from lmanatomy.models import parse_entry
from lmanatomy.models.adapters import adapter_for
from lmanatomy.models.census import census_of_model
from lmanatomy.models.needs import missing_parts, require_parts
from lmanatomy.testing import ALL_FAMILIES, FAMILIES, NEW_FAMILIES, tiny_config, tiny_model

torch.set_num_threads(1)

# The adapter table the project used to keep by hand (one row per family), now a reference.
HAND_TABLE = {
    "llama": ("model.layers", "mlp.act_fn", "mlp.gate_proj", "model.norm"),
    "qwen2": ("model.layers", "mlp.act_fn", "mlp.gate_proj", "model.norm"),
    "gpt_neox": ("gpt_neox.layers", "mlp.act", "mlp.dense_h_to_4h", "gpt_neox.final_layer_norm"),
    "xglm": ("model.layers", "activation_fn", "fc1", "model.layer_norm"),
    "bloom": ("transformer.h", "mlp.gelu_impl", "mlp.dense_h_to_4h", "transformer.ln_f"),
    "gpt2": ("transformer.h", "mlp.act", "mlp.c_fc", "transformer.ln_f"),
}


@pytest.fixture(scope="module")
def models(tokenizer):
    return {family: tiny_model(family, tokenizer=tokenizer)[0] for family in ALL_FAMILIES}


def _entry(family: str, **overrides):
    facts = tiny_config(family, vocab_size=64, **overrides).to_dict()
    return parse_entry(
        f"tiny-{family}", {"source": "local", "train": {}, "checkpoints": ["s"], "config": facts}
    )


@pytest.mark.parametrize("family", FAMILIES)
def test_resolved_parts_equal_the_old_hand_table(models, family):
    adapter = adapter_for(models[family])
    assert (
        adapter.layers,
        adapter.ff_activation,
        adapter.ff_input,
        adapter.final_norm,
    ) == HAND_TABLE[family]


def test_phi3_fused_projections_are_named_and_its_pre_activation_refused(models):
    adapter = adapter_for(models["phi3"])
    assert dict(adapter.fused) == {
        "self_attn.qkv_proj": "query, key and value",
        "mlp.gate_up_proj": "gate and up",
    }
    assert adapter.ff_activation == "mlp.activation_fn"
    with pytest.raises(
        RegistryError,
        match=(
            "no ff input: the pre-activation is one half of the fused projection 'mlp.gate_up_proj'"
        ),
    ):
        adapter.ff_input_module(adapter.decoder_layers(models["phi3"])[0])


@pytest.mark.parametrize(
    "family, lacks",
    [
        ("llama", []),
        ("mistral", []),
        ("qwen3", []),
        ("gemma2", []),
        ("qwen2", []),
        ("phi3", ["ff_input", "pruning_groups"]),
        ("olmo2", ["pruning_groups"]),
        ("gpt_neox", ["pruning_groups"]),
        ("gpt2", ["pruning_groups"]),
        ("xglm", ["pruning_groups"]),
    ],
)
def test_missing_parts_from_registry_facts_alone(family, lacks):
    parts = ("layers", "linears", "final_norm", "ff_activation", "ff_input", "pruning_groups")
    assert [part for part, _ in missing_parts(_entry(family), parts)] == lacks


def test_the_reason_names_the_study_model_and_part():
    with pytest.raises(RegistryError) as err:
        require_parts(_entry("olmo2"), "lesion", ("layers", "pruning_groups"))
    assert str(err.value) == (
        "lesion needs the pruning groups of model 'tiny-olmo2' (olmo2): self_attn.q_norm "
        "normalises across all heads; removing a head or neuron would need it sliced too"
    )
    with pytest.raises(RegistryError, match="fused projection 'self_attn.qkv_proj'"):
        require_parts(_entry("phi3"), "lesion", ("layers", "pruning_groups"))


def test_pruning_needs_every_weight_of_a_group_to_be_sliced(models):
    """Per-head norms (Qwen3) pass; any other weight inside self_attn / mlp is named."""
    import copy

    from torch import nn

    from lmanatomy.lesion.planning import architecture_of
    from lmanatomy.models.needs import pruning_reason

    assert pruning_reason(models["qwen3"].model.layers[0], {}) == ""
    for family in ("qwen3", "gemma2"):
        assert architecture_of(models[family]).model_type == family
    model = copy.deepcopy(models["llama"])
    model.model.layers[1].mlp.ffn_norm = nn.LayerNorm(32)
    assert pruning_reason(model.model.layers[1], {}) == (
        "mlp.ffn_norm normalises across all neurons; removing a head or neuron would need it "
        "sliced too"
    )
    with pytest.raises(
        RegistryError, match="this llama model: mlp.ffn_norm normalises across all neurons"
    ):
        architecture_of(model)


@pytest.mark.parametrize("family", NEW_FAMILIES)
def test_language_neuron_table_and_ap_on_own_activations(models, family, tokenizer):
    """The language study's neuron table equals the
    census; AP on its activations equals sklearn's."""
    from lmanatomy.extract import extract
    from lmanatomy.language.ap import average_precision
    from lmanatomy.language.neurons import NeuronTable

    model = models[family]
    table = NeuronTable.from_model(model)
    assert len(table) == census_of_model(model, family, family).neurons
    texts = ["the cat sat", "le chat", "der Hund", "a dog ran", "une souris", "ein Haus"]
    labels = np.array([1, 0, 0, 1, 0, 0])
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        store = extract(
            model, tokenizer, texts, {"modules": "linears", "pool": "mean"}, tmp, progress=False
        )
        scores = store.read(store.columns[:2])
    ap = average_precision(scores, labels, device="cpu")
    expected = [average_precision_score(labels, scores[:, j]) for j in range(scores.shape[1])]
    np.testing.assert_allclose(ap, expected, rtol=1e-12)


@pytest.mark.parametrize("family", NEW_FAMILIES)
def test_paramact_scores_equal_autograd(models, family, tokenizer):
    """|w · ∂D/∂w| of every decoder-layer weight against a plain autograd pass."""
    from lmanatomy.paramact.scores import activation_scores, decoder_weights

    model = models[family]
    text = "the quick brown fox"
    result = activation_scores(model, tokenizer, text)
    weights = [p for layer in decoder_weights(model) for p in layer.params]
    ids = tokenizer(text, return_tensors="pt")["input_ids"]
    model.zero_grad()
    logits = model(ids).logits[0, -1]
    grads = torch.autograd.grad(logits.max(), weights)
    expected = [(w.detach() * g).abs() for w, g in zip(weights, grads, strict=True)]
    got = [t for layer in result.layers for t in layer]
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("family", NEW_FAMILIES)
def test_redundancy_pair_fits_on_own_hidden_states(models, family, tokenizer, tmp_path):
    """Layer n → n+1 SVR on EOS hidden states of the family: one coefficient row per target dim."""
    from lmanatomy.extract import extract
    from lmanatomy.redundancy.svr import fit_linear_svr

    texts = [
        f"text number {i} about {w}"
        for i, w in enumerate(["cats", "dogs", "rivers", "hills", "code", "maps"] * 2)
    ]
    store = extract(
        models[family],
        tokenizer,
        texts,
        {"modules": "hidden_states", "pool": "eos"},
        tmp_path,
        progress=False,
    )
    x, y = store.read("hidden_states.1"), store.read("hidden_states.2")
    assert x.shape == y.shape == (len(texts), 16)
    fit = fit_linear_svr(x, y[:, :3])
    assert np.asarray(fit.coef_).shape == (3, 16)


@pytest.mark.parametrize("family", [f for f in NEW_FAMILIES if f != "phi3"] + ["phi3"])
def test_knowledge_site_on_every_family(models, family):
    from lmanatomy.knowledge.attribution import site_module

    model = models[family]
    assert site_module(model, 1, "post") is adapter_for(model).ff_activation_module(
        adapter_for(model).decoder_layers(model)[1]
    )
    if family == "phi3":
        with pytest.raises(RegistryError, match="fused projection"):
            site_module(model, 1, "pre")
    else:
        assert site_module(model, 1, "pre").out_features == 32


@pytest.mark.parametrize(
    "package", ["extract", "knowledge", "language", "lesion", "models", "paramact", "redundancy"]
)
def test_each_package_help_lists_its_public_names_with_a_purpose(package, capsys):
    import importlib

    module = importlib.import_module(f"lmanatomy.{package}")
    text = module.help()
    assert capsys.readouterr().out.strip() == text
    lines = text.splitlines()[1:]
    assert [line.split()[0] for line in lines] == sorted(module.__all__)
    assert all(
        len(line.split(None, 1)) == 2 for line in lines
    )  # every name has its line of purpose


def test_help_shows_a_wrapped_summary_whole(tmp_path, monkeypatch):
    """A summary wrapped over two lines is one sentence in help; the next paragraph stays out."""
    from lmanatomy.lazy import summaries

    (tmp_path / "wrappedpkg").mkdir()
    (tmp_path / "wrappedpkg" / "__init__.py").write_text("")
    (tmp_path / "wrappedpkg" / "mod.py").write_text(
        'def f():\n    """First half of the summary,\n    second half.\n\n    Details."""\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert summaries("wrappedpkg", {"f": "mod"}) == [
        ("f", "First half of the summary, second half.")
    ]
