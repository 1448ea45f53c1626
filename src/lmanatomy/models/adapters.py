"""Architecture adapters: where the decoder layers, their linears and their FF activation live.

The studies speak of roles ("every decoder-layer Linear", "FF activation", "residual stream"),
not of module names. An adapter maps those roles onto one model's module tree. It is resolved
from the model itself (a meta-device instance built from its config is enough), so any causal LM
that transformers can build works: the decoder layers are the ModuleList as long as the config's
layer count, the linears are every ``nn.Linear`` (or GPT-2 ``Conv1D``) inside a layer, the FF
activation is the one activation module inside a layer, the final norm is the norm registered
after the layers.

Explicit knowledge is kept only for named parts a study needs and the module tree cannot tell:
which linear feeds the nonlinearity (:data:`FF_INPUT_NAMES`), which linears fuse several
projections (:data:`FUSED_PROJECTIONS`, e.g. Phi-3's ``qkv_proj`` / ``gate_up_proj``), and the
one family whose modelling code is not built in (Qwen v1, :data:`REMOTE_CODE_ADAPTERS`). A part
that cannot be resolved is recorded with its reason (:attr:`Adapter.missing`), so that a study
needing it is refused at plan time naming the part.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import torch
from torch import nn

from lmanatomy.errors import RegistryError

# The linear whose output feeds the FF nonlinearity (pre-activation), by its name in the MLP:
# gated MLPs (Llama, Mistral, Qwen2/3, Gemma-2, OLMo-2) → gate_proj; GPT-NeoX/BLOOM → dense_h_to_4h;
# GPT-2 → c_fc; XGLM/OPT → fc1; GPT-J → fc_in (Qwen v1's w2 is written down below).
FF_INPUT_NAMES = ("gate_proj", "dense_h_to_4h", "c_fc", "fc1", "fc_in")
# Linears that compute several projections in one matrix: a study that needs one of them apart
# (a pruning group, the pre-activation) must slice them, which the studies do not.
FUSED_PROJECTIONS = {
    "qkv_proj": "query, key and value",
    "query_key_value": "query, key and value",
    "c_attn": "query, key and value",
    "W_pack": "query, key and value",
    "gate_up_proj": "gate and up",
}
_ACTIVATION_CLASS = re.compile(
    r"gelu|silu|swish|relu|activation|tanh|sigmoid|mish|quickgelu", re.IGNORECASE
)
_NOT_ACTIVATION = re.compile(r"softmax|softmin|attention|dropout|norm", re.IGNORECASE)


@dataclass(frozen=True)
class LinearInfo:
    """One linear map inside a decoder layer: its dotted name relative to the layer and width."""

    name: str
    out_features: int
    in_features: int


@dataclass(frozen=True)
class Adapter:
    """Role → module path for one model's architecture.

    ``layers`` is the dotted path from the causal-LM object to the ModuleList of decoder layers;
    ``ff_activation`` and ``ff_input`` are relative to one decoder layer: the module whose output
    is the FF activation (post-nonlinearity) and the linear whose output feeds the nonlinearity
    (pre-activation). A role that the model lacks is ``None`` and ``missing[role]`` says why.
    ``fused`` maps each fused linear (relative to a layer) to what it fuses.
    """

    family: str
    layers: str
    ff_activation: str | None
    ff_input: str | None
    final_norm: str | None
    fused: Mapping[str, str] = field(default_factory=dict)
    missing: Mapping[str, str] = field(default_factory=dict)

    def decoder_layers(self, model: nn.Module) -> list[nn.Module]:
        """The ordered decoder layers of ``model``."""
        return list(_get(model, self.layers))

    def linears(self, layer: nn.Module) -> list[tuple[str, nn.Module]]:
        """Every linear map inside one decoder layer, in module-registration order.

        GPT-2's ``Conv1D`` is a linear map with transposed weight storage and counts as one.
        """
        return layer_linears(layer)

    def linear_infos(self, layer: nn.Module) -> list[LinearInfo]:
        return [LinearInfo(name, *_linear_shape(mod)) for name, mod in self.linears(layer)]

    def require(self, role: str) -> str:
        """The path of ``role``, or a :class:`RegistryError` naming the family and the reason."""
        path = getattr(self, role)
        if path is None:
            reason = self.missing.get(role, "not found in the module tree")
            raise RegistryError(
                f"architecture '{self.family}' has no {role.replace('_', ' ')}: {reason}"
            )
        return str(path)

    def ff_activation_module(self, layer: nn.Module) -> nn.Module:
        return _get(layer, self.require("ff_activation"))

    def ff_input_module(self, layer: nn.Module) -> nn.Module:
        return _get(layer, self.require("ff_input"))

    def final_norm_module(self, model: nn.Module) -> nn.Module:
        return _get(model, self.require("final_norm"))


def _get(root: nn.Module, dotted: str) -> nn.Module:
    obj: object = root
    for part in dotted.split("."):
        if not hasattr(obj, part):
            raise RegistryError(
                f"{type(root).__name__} has no module '{dotted}' (missing '{part}')"
            )
        obj = getattr(obj, part)
    return obj  # type: ignore[return-value]


def layer_linears(layer: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, module) of every linear map inside ``layer``, in registration order."""
    return [(name, mod) for name, mod in layer.named_modules() if _is_linear(mod)]


def _is_linear(module: nn.Module) -> bool:
    return isinstance(module, nn.Linear) or type(module).__name__ == "Conv1D"


def _linear_shape(module: nn.Module) -> tuple[int, int]:
    """(out_features, in_features) of an ``nn.Linear`` or a GPT-2 ``Conv1D``."""
    if isinstance(module, nn.Linear):
        return module.out_features, module.in_features
    weight = module.weight  # Conv1D stores (in, out)
    return int(weight.shape[1]), int(weight.shape[0])


def _is_activation(module: nn.Module) -> bool:
    name = type(module).__name__
    return (
        bool(_ACTIVATION_CLASS.search(name))
        and not _NOT_ACTIVATION.search(name)
        and not _is_linear(module)
    )


def _layer_count(model: nn.Module) -> int | None:
    config = getattr(model, "config", None)
    if config is None:
        return None
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    for key in ("num_hidden_layers", "n_layer", "num_layers"):
        value = getattr(text, key, None)
        if isinstance(value, int):
            return value
    return None


def find_layers(model: nn.Module) -> str:
    """Dotted path of the decoder layers: the shallowest
    ModuleList as long as the config's layer count.

    Without a layer count in the config, the longest ModuleList (shallowest on ties) is taken.
    """
    lists = [
        (name, mod)
        for name, mod in model.named_modules()
        if isinstance(mod, nn.ModuleList) and name
    ]
    count = _layer_count(model)
    if count is not None:
        lists = [(name, mod) for name, mod in lists if len(mod) == count]
    if not lists:
        raise RegistryError(f"{type(model).__name__} has no ModuleList of {count} decoder layers")
    return min(lists, key=lambda item: (-len(item[1]) if count is None else 0, item[0].count(".")))[
        0
    ]


def find_final_norm(model: nn.Module, layers: str) -> str | None:
    """The last norm module registered after the decoder
    layers in their parent (``model.norm``, ``ln_f``)."""
    parent_path, _, list_name = layers.rpartition(".")
    parent = _get(model, parent_path) if parent_path else model
    names = [name for name, _ in parent.named_children()]
    after = names[names.index(list_name) + 1 :]
    norms = [n for n in after if "norm" in type(getattr(parent, n)).__name__.lower()]
    if not norms:
        return None
    return f"{parent_path}.{norms[-1]}" if parent_path else norms[-1]


def find_ff_activation(layer: nn.Module) -> tuple[str | None, str]:
    """(path in the layer, reason if None) of the one activation module of a decoder layer."""
    found = [name for name, mod in layer.named_modules() if name and _is_activation(mod)]
    if len(found) == 1:
        return found[0], ""
    if not found:
        return None, "the nonlinearity is applied as a function, not a module that can be hooked"
    return None, (
        f"several activation modules ({', '.join(found)}); which one is the FF activation is "
        "ambiguous"
    )


def find_ff_input(layer: nn.Module, ff_activation: str | None) -> tuple[str | None, str]:
    """(path, reason if None) of the linear feeding the
    FF nonlinearity, by its name (FF_INPUT_NAMES)."""
    parent = ff_activation.rpartition(".")[0] if ff_activation else ""
    linears = [
        name
        for name, mod in layer.named_modules()
        if _is_linear(mod) and name.rpartition(".")[0] == parent
    ]
    for candidate in FF_INPUT_NAMES:
        for name in linears:
            if name.rpartition(".")[2] == candidate:
                return name, ""
    fused = [name for name in linears if name.rpartition(".")[2] in FUSED_PROJECTIONS]
    if fused:
        return None, (
            f"the pre-activation is one half of the fused projection '{fused[0]}' "
            f"({FUSED_PROJECTIONS[fused[0].rpartition('.')[2]]})"
        )
    return None, f"no linear named one of {', '.join(FF_INPUT_NAMES)} beside the FF activation"


def resolve_adapter(model: nn.Module) -> Adapter:
    """The adapter of a built model, read from its module tree (see the module docstring)."""
    family = str(getattr(getattr(model, "config", None), "model_type", type(model).__name__))
    layers = find_layers(model)
    first = _get(model, layers)[0]
    ff_activation, why_act = find_ff_activation(first)
    ff_input, why_input = find_ff_input(first, ff_activation)
    final_norm = find_final_norm(model, layers)
    missing = {
        role: why for role, why in (("ff_activation", why_act), ("ff_input", why_input)) if why
    }
    if final_norm is None:
        missing["final_norm"] = "no norm module registered after the decoder layers"
    fused = {
        name: FUSED_PROJECTIONS[name.rpartition(".")[2]]
        for name, _ in layer_linears(first)
        if name.rpartition(".")[2] in FUSED_PROJECTIONS
    }
    return Adapter(family, layers, ff_activation, ff_input, final_norm, fused, missing)


# Families whose modelling code is not built into transformers (trust_remote_code): their module
# tree cannot be built offline, so the parts are written down. Qwen (v1) applies SiLU as a function
# to w2's output (modeling_qwen.py QWenMLP: a1 * F.silu(a2) with a2 = w2(x)).
REMOTE_CODE_ADAPTERS: dict[str, Adapter] = {
    "qwen": Adapter(
        "qwen",
        layers="transformer.h",
        ff_activation=None,
        ff_input="mlp.w2",
        final_norm="transformer.ln_f",
        fused={"attn.c_attn": FUSED_PROJECTIONS["c_attn"]},
        missing={
            "ff_activation": "Qwen (v1) applies SiLU as a function (remote code), no module to hook"
        },
    ),
}

_CACHE: weakref.WeakKeyDictionary[nn.Module, Adapter] = weakref.WeakKeyDictionary()


def adapter_for(model_or_type: nn.Module | str) -> Adapter:
    """The adapter of a model object (resolved from its modules, cached per object).

    A ``model_type`` string resolves only for the remote-code families of
    :data:`REMOTE_CODE_ADAPTERS`; every other family needs its (meta-device) model.
    """
    if isinstance(model_or_type, str):
        if model_or_type in REMOTE_CODE_ADAPTERS:
            return REMOTE_CODE_ADAPTERS[model_or_type]
        raise RegistryError(
            f"no architecture adapter for model_type '{model_or_type}' without its model; "
            "build it (lmanatomy.models.meta_model) and pass the model"
        )
    cached = _CACHE.get(model_or_type)
    if cached is not None:
        return cached
    model_type = getattr(getattr(model_or_type, "config", None), "model_type", None)
    if model_type in REMOTE_CODE_ADAPTERS:
        return REMOTE_CODE_ADAPTERS[model_type]
    adapter = resolve_adapter(model_or_type)
    _CACHE[model_or_type] = adapter
    return adapter


def iter_layer_linears(model: nn.Module) -> Iterator[tuple[int, str, nn.Module]]:
    """(layer index, name within the layer, module) for every decoder-layer linear of ``model``."""
    adapter = adapter_for(model)
    for index, layer in enumerate(adapter.decoder_layers(model)):
        for name, module in adapter.linears(layer):
            yield index, name, module


def parameter_count(model: nn.Module) -> int:
    """Parameters of ``model``; ``parameters()`` already yields tied weights once."""
    return sum(param.numel() for param in model.parameters())


def is_meta(model: nn.Module) -> bool:
    return any(p.device == torch.device("meta") for p in model.parameters())
