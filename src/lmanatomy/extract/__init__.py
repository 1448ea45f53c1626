"""The activation store: probes (modules by adapter
role, pooled per text) written to Parquet shards.

``extract(model, tokenizer, texts, probe, out_dir, ...)`` writes a store; ``open_store(path)``
reads one, shard by shard, per column and row range. Attributes are imported on first use
(PEP 562), so that checking probes in a config — what every ``snakemake -n`` does — does not
import torch.
"""

from __future__ import annotations

from lmanatomy.lazy import lazy_exports

_EXPORTS = {
    "Probe": "probe",
    "check_probes": "probe",
    "extract": "extraction",
    "extract_dataset": "extraction",
    "Store": "store",
    "Chunk": "store",
    "open_store": "store",
    "MANIFEST": "store",
    "model_info_from_folder": "provenance",
    "dataset_info_from_sidecar": "provenance",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
