"""Models: the registry, loading by source, architectures
read from the model, and the neuron census.

Attributes are imported on first use (PEP 562), so that reading the registry and validating a
config — what every ``snakemake -n`` does — does not pay for importing torch.
"""

from __future__ import annotations

from lmanatomy.lazy import lazy_exports

_EXPORTS = {
    "REMOTE_CODE_ADAPTERS": "adapters",
    "Adapter": "adapters",
    "resolve_adapter": "adapters",
    "LinearInfo": "adapters",
    "adapter_for": "adapters",
    "iter_layer_linears": "adapters",
    "parameter_count": "adapters",
    "Census": "census",
    "census": "census",
    "census_of": "census",
    "census_of_model": "census",
    "census_table": "census",
    "verify_census": "census",
    "convert_gguf": "loading",
    "count_parameters": "loading",
    "fetch_hf": "loading",
    "hf_config": "loading",
    "load_model": "loading",
    "link_path_model": "loading",
    "check_facts": "facts",
    "check_against_config_json": "facts",
    "required_keys": "facts",
    "STUDY_NEEDS": "needs",
    "missing_parts": "needs",
    "require_parts": "needs",
    "meta_model": "loading",
    "package_file": "loading",
    "read_provenance": "loading",
    "resolve_device": "loading",
    "resolve_dtype": "loading",
    "sha256_file": "loading",
    "ModelEntry": "registry",
    "Registry": "registry",
    "load_registry": "registry",
    "model_dir": "registry",
    "parse_entry": "registry",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
