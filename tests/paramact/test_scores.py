"""A(s, w) = |w · dD/dw|: against autograd written out here, and against zeroing weights."""

import re

import pytest
import torch

from lmanatomy.errors import DataError
from lmanatomy.paramact import ParameterActivation, activation_scores, decoder_weights
from lmanatomy.testing import tiny_model

TEXT = "Question: is the sky blue? Answer:"


def _double_model(tokenizer, family="llama"):
    model, tok = tiny_model(family, tokenizer=tokenizer)
    return model.double(), tok


@pytest.mark.parametrize("family", ["llama", "gpt2", "gpt_neox"])
def test_scores_equal_a_plain_autograd_computation(family, tokenizer):
    model, tok = _double_model(tokenizer, family)
    scores = activation_scores(model, tok, TEXT)
    # Independent route: full logits (no logits_to_keep),
    # .backward() into .grad, weights found by name.
    ids = tok(TEXT, return_tensors="pt").input_ids
    model.zero_grad()
    logits = model(input_ids=ids).logits[0, -1]
    D = logits.max()
    D.backward()
    assert scores.D == pytest.approx(float(D.detach()), rel=1e-12)
    assert scores.token_id == int(logits.argmax())
    # every 2-D parameter of a decoder layer, found by name
    # (model.layers.N / transformer.h.N / gpt_neox.layers.N)
    expected = {
        name: (p.grad * p).abs()
        for name, p in model.named_parameters()
        if p.ndim == 2 and re.search(r"\.(layers|h)\.\d+\.", name)
    }
    got = {}
    prefix = {"llama": "model.layers", "gpt2": "transformer.h", "gpt_neox": "gpt_neox.layers"}[
        family
    ]
    for index, names in enumerate(scores.names):
        for name, tensor in zip(names, scores.layers[index], strict=True):
            got[f"{prefix}.{index}.{name}.weight"] = tensor
    assert sorted(got) == sorted(expected)
    for name, tensor in got.items():
        torch.testing.assert_close(tensor, expected[name], rtol=1e-10, atol=1e-18, msg=name)


def test_llama_scores_cover_q_k_v_o_gate_up_down_only(tokenizer):
    model, tok = tiny_model("llama", tokenizer=tokenizer)
    weights = decoder_weights(model)
    assert len(weights) == 2
    assert weights[0].names == (
        "self_attn.q_proj",
        "self_attn.k_proj",
        "self_attn.v_proj",
        "self_attn.o_proj",
        "mlp.gate_proj",
        "mlp.up_proj",
        "mlp.down_proj",
    )
    scored = {id(p) for layer in weights for p in layer.params}
    assert (
        id(model.model.embed_tokens.weight) not in scored and id(model.lm_head.weight) not in scored
    )


def _d_of(model, ids, token):
    with torch.no_grad():
        return float(model(input_ids=ids).logits[0, -1, token])


def test_zeroing_a_weight_changes_D_by_about_A(tokenizer):
    """First-order Taylor: D(w) − D(w, w_i = 0) = w_i ∂D/∂w_i − w_i² ∂²D/∂w_i² / 2 + O(w_i³).

    The tiny model's weights are small (init std 0.02), but for some weights the curvature term
    is not negligible (e.g. query/key weights where attention is near uniform). The test measures
    it for each candidate — R = D(2w_i) − 2 D(w_i) + D(0) = w_i² ∂²D/∂w_i² + O(w_i⁴) — and keeps
    the weights where |R| < 1% of A, i.e. where the first-order statement is meant to hold. For
    those, |ΔD| must equal A within 2% (1% curvature + third-order terms + float64 noise). The
    selection never looks at ΔD, and the same check rejects |∂D/∂w| (A without the factor w).
    """
    model, tok = _double_model(tokenizer)
    ids = tok(TEXT, return_tensors="pt").input_ids
    scorer = ParameterActivation(model)
    scores = scorer.score(ids)
    base = _d_of(model, ids, scores.token_id)
    assert base == pytest.approx(scores.D, rel=1e-12)
    checked = []
    for layer in scorer.weights:
        for name, param, a in zip(
            layer.names, layer.params, scores.layers[layer.index], strict=True
        ):
            for flat in a.reshape(-1).topk(5).indices.tolist():
                with torch.no_grad():
                    saved = param.view(-1)[flat].item()
                    param.view(-1)[flat] = 0.0
                    zeroed = _d_of(model, ids, scores.token_id)
                    param.view(-1)[flat] = 2 * saved
                    doubled = _d_of(model, ids, scores.token_id)
                    param.view(-1)[flat] = saved
                estimate = float(a.reshape(-1)[flat])
                if abs(doubled - 2 * base + zeroed) >= 0.01 * estimate:
                    continue
                delta = abs(base - zeroed)
                assert delta == pytest.approx(estimate, rel=0.02), (
                    layer.index,
                    name,
                    delta,
                    estimate,
                )
                assert delta != pytest.approx(
                    estimate / abs(saved), rel=0.02
                )  # |∂D/∂w| alone fails
                checked.append(name)
    assert len(checked) >= 20 and len(set(checked)) >= 4, checked


def test_scoring_writes_no_grad_and_keeps_the_weights(tokenizer):
    model, tok = tiny_model("llama", tokenizer=tokenizer)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    activation_scores(model, tok, TEXT)
    for name, param in model.named_parameters():
        assert param.grad is None
        assert torch.equal(param, before[name])


def test_empty_text_is_an_error(tokenizer):
    model, tok = tiny_model("llama", tokenizer=tokenizer)
    with pytest.raises(DataError, match="empty"):
        activation_scores(model, tok, "")


def test_smollm2_scores_its_106m_decoder_weights(smollm2_dir):
    from lmanatomy.models import load_model

    model, tok = load_model(smollm2_dir)
    scores = activation_scores(model, tok, "The capital of France is")
    assert len(scores) == 30
    assert sum(t.numel() for layer in scores.layers for t in layer) == 106_168_320
    assert all(
        bool(torch.isfinite(t).all()) and float(t.min()) >= 0
        for layer in scores.layers
        for t in layer
    )
