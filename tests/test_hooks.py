"""lmanatomy.hooks against the plain module: outputs with and without the block, none left after."""

import pytest
import torch
from torch import nn

from lmanatomy.hooks import hooks


def _model() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def test_a_forward_hook_changes_the_output_only_inside_the_block():
    model, x = _model(), torch.randn(5, 3)
    plain = model(x)
    with hooks({model[1]: lambda module, args, output: torch.zeros_like(output)}) as handles:
        assert len(handles) == 1
        # zeroed activation: only the last layer's bias is left
        assert torch.equal(model(x), model[2].bias.expand(5, 2))
    assert torch.equal(model(x), plain)
    assert not model[1]._forward_hooks


def test_hooks_run_in_the_order_given_and_pre_hooks_see_the_inputs():
    model, x = _model(), torch.randn(2, 3)
    seen = []
    forward = [
        (model[0], lambda m, a, o: seen.append("first")),
        (model[0], lambda m, a, o: seen.append("second")),
    ]
    pre = [(model[2], lambda m, args, kwargs: seen.append(tuple(args[0].shape)))]
    with hooks(forward, pre):
        model(x)
    assert seen == ["first", "second", (2, 4)]
    assert not model[0]._forward_hooks and not model[2]._forward_pre_hooks


def test_an_exception_in_the_block_or_in_registration_leaves_no_hook():
    model = _model()
    with pytest.raises(RuntimeError), hooks({model[0]: lambda m, a, o: None}):
        raise RuntimeError("a failed forward pass")
    assert not model[0]._forward_hooks
    sites = [(model[0], lambda m, a, o: None), (object(), lambda m, a, o: None)]
    with pytest.raises(AttributeError), hooks(sites):
        pass
    assert not model[0]._forward_hooks
