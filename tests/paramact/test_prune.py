"""Validation pruning: the ratio allocation keeps the global sparsity; pruning removes exactly the
lowest-scoring weights of each row, checked with plain loops on a tiny model."""

import copy

import numpy as np
import pytest
import torch

from lmanatomy.errors import ConfigError
from lmanatomy.models.adapters import adapter_for
from lmanatomy.paramact.prune import allocate_ratios, prune_model, row_mask
from lmanatomy.testing import tiny_model


@pytest.mark.parametrize("sizes", [[10, 10, 10, 10, 10], [7, 100, 3, 55, 20]])
def test_allocation_sums_to_the_global_sparsity(sizes):
    density = [0.02, 0.11, 0.09, 0.05, 0.01]
    ratios = allocate_ratios(density, sizes, 0.5, 0.07)
    pruned = sum(r * n for r, n in zip(ratios, sizes, strict=True))
    assert pruned == pytest.approx(0.5 * sum(sizes), rel=1e-12)
    assert np.argmin(ratios) == 1 and np.abs(ratios - 0.5).max() == pytest.approx(0.07)
    assert list(np.argsort(ratios)) == list(np.argsort(-np.asarray(density), kind="stable"))


def test_allocation_rejects_ratios_outside_the_unit_interval():
    with pytest.raises(ConfigError, match="spread"):
        allocate_ratios([0.0, 1.0], [1, 1], 0.5, 0.6)
    np.testing.assert_array_equal(allocate_ratios([0.3, 0.3], [4, 9], 0.4, 0.1), [0.4, 0.4])


def _lowest_by_loop(scores: torch.Tensor, ratio: float) -> set[tuple[int, int]]:
    k = int(scores.shape[1] * ratio)
    chosen = set()
    for i, row in enumerate(scores.tolist()):
        order = sorted(range(len(row)), key=lambda j: (row[j], j))
        chosen |= {(i, j) for j in order[:k]}
    return chosen


def test_row_mask_equals_a_plain_loop_with_ties():
    scores = torch.tensor([[3.0, 1.0, 1.0, 2.0, 0.5], [0.0, 0.0, 0.0, 1.0, 2.0]])
    mask = row_mask(scores, 0.6)
    assert {tuple(ix) for ix in mask.nonzero().tolist()} == _lowest_by_loop(scores, 0.6)


def _inputs_seen(model, layer_index, calibration):
    """Σ x² per input feature of each linear of one
    layer, by plain hooks over full forward passes."""
    adapter = adapter_for(model)
    linears = adapter.linears(adapter.decoder_layers(model)[layer_index])
    sums = {name: 0.0 for name, _ in linears}
    hooks = [
        m.register_forward_hook(
            lambda mod, inp, out, name=name: sums.__setitem__(
                name, sums[name] + (inp[0].double().reshape(-1, inp[0].shape[-1]) ** 2).sum(0)
            )
        )
        for name, m in linears
    ]
    with torch.no_grad():
        for ids in calibration:
            model(input_ids=ids.reshape(1, -1))
    for h in hooks:
        h.remove()
    return sums


@pytest.mark.parametrize("criterion", ["magnitude", "wanda"])
def test_pruning_removes_exactly_the_lowest_scoring_weights(tokenizer, criterion):
    torch.set_num_threads(1)
    model, _ = tiny_model("llama", tokenizer=tokenizer, layers=3)
    dense = copy.deepcopy(model)
    calibration = [
        torch.randint(3, 300, (12,), generator=torch.Generator().manual_seed(s)) for s in range(3)
    ]
    ratios = [0.25, 0.5, 0.4]
    reached = prune_model(model, ratios, calibration, criterion)
    adapter = adapter_for(model)
    for index, ratio in enumerate(ratios):
        # the inputs layer `index` saw: earlier layers pruned, this one still dense
        probe = copy.deepcopy(model)
        dense_layer = dict(adapter.linears(adapter.decoder_layers(dense)[index]))
        for name, module in adapter.linears(adapter.decoder_layers(probe)[index]):
            module.weight.data.copy_(dense_layer[name].weight.data)
        norms = _inputs_seen(probe, index, calibration) if criterion == "wanda" else {}
        zeros = total = 0
        for name, module in adapter.linears(adapter.decoder_layers(model)[index]):
            original = dense_layer[name].weight.detach().abs().double()
            scores = (
                original * norms[name].sqrt().reshape(1, -1) if criterion == "wanda" else original
            )
            pruned = {tuple(ix) for ix in (module.weight == 0).nonzero().tolist()}
            assert pruned == _lowest_by_loop(scores.float(), ratio), (index, name)
            zeros, total = zeros + len(pruned), total + module.weight.numel()
        assert reached[index] == pytest.approx(zeros / total)
