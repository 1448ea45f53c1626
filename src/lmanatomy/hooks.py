"""One way to put hooks on a model for the length of a block: ``with hooks(forward=...):``.

Four studies read or overwrite a module's tensor during a forward pass (extraction pools
activations, integrated gradients replaces an FF activation by a scaled copy, the language
intervention fixes neurons, paramact's pruning collects input norms). A hook left behind by an
exception silently changes every later forward pass of the same model, so each used to repeat
the same try/finally over its handles; this context manager is that try/finally, once, in the
spirit of TransformerLens's ``with model.hooks(fwd_hooks=[(site, fn)]):``. Sites are modules
(each study resolves its own names); a site may carry several hooks, which run in the order
given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from torch import nn
from torch.utils.hooks import RemovableHandle

Hook = Callable[..., Any]
Sites = Mapping[nn.Module, Hook] | Iterable[tuple[nn.Module, Hook]]


def _pairs(sites: Sites) -> list[tuple[nn.Module, Hook]]:
    return list(sites.items()) if isinstance(sites, Mapping) else list(sites)


@contextmanager
def hooks(forward: Sites = (), pre: Sites = ()) -> Iterator[list[RemovableHandle]]:
    """Register forward hooks ``fn(module, args, output)`` and pre-hooks
    ``fn(module, args, kwargs)`` (keyword arguments included: decoder layers take their hidden
    states by keyword in some architectures) for the block; all are removed when it ends,
    however it ends, and so are those already registered when a later registration fails."""
    handles: list[RemovableHandle] = []
    try:
        for module, fn in _pairs(forward):
            handles.append(module.register_forward_hook(fn))
        for module, fn in _pairs(pre):
            handles.append(module.register_forward_pre_hook(fn, with_kwargs=True))
        yield handles
    finally:
        for handle in handles:
            handle.remove()
