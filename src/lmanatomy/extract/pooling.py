"""Forward hooks that pool each captured module over tokens as the forward pass runs.

Pooling inside the hook keeps only ``[batch, width]`` per module (``[real tokens, width]`` for
``pool: all``) instead of every module's ``[batch, tokens, width]`` output, so memory stays flat
and the model's own activations are freed as usual. Each hook writes into one float32 buffer
``[rows, sum of widths]`` allocated before the forward pass: no small tensors outlive the
model's large temporaries (which would fragment the heap), and the batch crosses to the CPU in
one copy. The mean is a masked sum (one batched matrix-vector product per module) divided by the
number of real tokens; pad positions never contribute, whichever side the padding is on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import Any

import torch
from torch import nn

from lmanatomy.errors import ExtractError
from lmanatomy.extract.targets import Target
from lmanatomy.extract.tokens import last_positions
from lmanatomy.hooks import hooks


class Pooler:
    """Hooks for a list of targets and their widths; ``begin(mask)`` before each forward,
    ``collect()`` after it."""

    def __init__(self, targets: Sequence[Target], widths: Sequence[int], pool: str):
        if len(widths) != len(targets):
            raise ValueError(f"{len(widths)} widths for {len(targets)} targets")
        self.targets = list(targets)
        self.pool = pool
        offsets = [0]
        for width in widths:
            offsets.append(offsets[-1] + int(width))
        self._slices = {
            t.column: slice(offsets[i], offsets[i + 1]) for i, t in enumerate(self.targets)
        }
        self.total = offsets[-1]
        self._hooks = ExitStack()
        self._mask: torch.Tensor | None = None
        self._buffer: torch.Tensor | None = None
        self._context: dict[tuple[torch.device, torch.dtype], dict[str, torch.Tensor]] = {}
        self._seen: set[str] = set()

    def slice_of(self, column: str) -> slice:
        """Where a column's values lie in a collected buffer."""
        return self._slices[column]

    # -- hooks -------------------------------------------------------------------------------
    def attach(self) -> Pooler:
        forward, pre = hook_sites(self.targets, self._store)
        self._hooks.enter_context(hooks(forward, pre))
        return self

    def detach(self) -> None:
        self._hooks.close()

    def __enter__(self) -> Pooler:
        return self.attach()

    def __exit__(self, *exc: Any) -> None:
        self.detach()

    # -- pooling -----------------------------------------------------------------------------
    def begin(self, mask: torch.Tensor) -> None:
        """Set the attention mask (``[batch, tokens]``, 1 = real token) of the coming forward."""
        self._mask = mask
        self._context.clear()
        self._seen.clear()
        rows = int(mask.sum()) if self.pool == "all" else mask.shape[0]
        self._buffer = torch.empty((rows, self.total), dtype=torch.float32, device=mask.device)

    def _ctx(self, device: torch.device, dtype: torch.dtype) -> dict[str, torch.Tensor]:
        key = (device, dtype)
        if key not in self._context:
            assert self._mask is not None
            mask = self._mask.to(device)
            ctx = {"bool": mask.bool()}
            if self.pool == "mean":
                ctx["weights"] = mask.to(dtype)[:, None, :]
            elif self.pool in ("last", "eos"):
                ctx["rows"] = torch.arange(mask.shape[0], device=device)
                ctx["last"] = last_positions(mask)
            self._context[key] = ctx
        return self._context[key]

    def _store(self, column: str, x: Any) -> None:
        if self._mask is None or self._buffer is None:
            return  # the model ran outside an extraction batch (e.g. a user's own call)
        check_shape(column, x, self._mask.shape)
        ctx = self._ctx(x.device, x.dtype)
        if self.pool == "mean":
            pooled = torch.bmm(ctx["weights"], x)[:, 0, :]  # masked sum; divided in collect()
        elif self.pool in ("last", "eos"):
            pooled = x[ctx["rows"], ctx["last"]]
        else:
            pooled = x[ctx["bool"]]
        self._buffer[:, self._slices[column]].copy_(pooled)
        self._seen.add(column)

    def collect(self) -> torch.Tensor:
        """``[rows, sum of widths]`` float32 on the CPU: one row per text (per real token for
        ``all``, in batch order then position order), columns in target order."""
        missing = [t.column for t in self.targets if t.column not in self._seen]
        if missing:
            raise ExtractError(
                f"module '{missing[0]}' did not run during the forward pass ({len(missing)} "
                "modules missing)"
            )
        assert self._buffer is not None and self._mask is not None
        buffer = self._buffer
        if self.pool == "mean":
            buffer /= self._mask.sum(dim=1, keepdim=True).to(buffer)
        self._buffer, self._mask = None, None
        return buffer.cpu()


def hook_sites(
    targets: Sequence[Target], store: Callable[[str, Any], None]
) -> tuple[list[Any], list[Any]]:
    """The (module, hook) pairs that hand each target's tensor to ``store``: forward hooks for
    outputs, pre-hooks for inputs (``lmanatomy.hooks.hooks(forward, pre)``)."""
    forward = [(t.module, _output_hook(t.column, store)) for t in targets if t.capture == "output"]
    pre = [(t.module, _input_hook(t.column, store)) for t in targets if t.capture != "output"]
    return forward, pre


def _output_hook(column: str, store: Callable[[str, Any], None]) -> Callable[..., None]:
    def hook(module: nn.Module, args: Any, output: Any) -> None:
        store(column, output[0] if isinstance(output, (tuple, list)) else output)

    return hook


def _input_hook(column: str, store: Callable[[str, Any], None]) -> Callable[..., None]:
    def hook(module: nn.Module, args: Any, kwargs: dict[str, Any]) -> None:
        store(column, args[0] if args else kwargs.get("hidden_states"))

    return hook


def check_shape(column: str, x: Any, batch_tokens: Sequence[int]) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 3 or tuple(x.shape[:2]) != tuple(batch_tokens):
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ExtractError(
            f"module '{column}' gave {shape}; expected [batch, tokens, width] with batch, tokens "
            f"= {tuple(batch_tokens)}"
        )


def widths_of(
    targets: Sequence[Target],
    forward: Callable[[torch.Tensor, torch.Tensor], None],
    input_ids: torch.Tensor,
    mask: torch.Tensor,
) -> list[int]:
    """Each target's width, read off the tensors of one forward pass over a small batch."""
    found: dict[str, int] = {}

    def record(column: str, x: Any) -> None:
        check_shape(column, x, mask.shape)
        found[column] = int(x.shape[-1])

    with hooks(*hook_sites(targets, record)), torch.inference_mode():
        forward(input_ids, mask)
    missing = [t.column for t in targets if t.column not in found]
    if missing:
        raise ExtractError(
            f"module '{missing[0]}' did not run during the forward pass ({len(missing)} modules "
            "missing)"
        )
    return [found[t.column] for t in targets]
