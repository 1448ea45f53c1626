"""AP and positive-text median of every neuron for every target language (one model)."""

from lmanatomy.language.neurons import NeuronTable
from lmanatomy.language.study import rank
from lmanatomy.models import load_registry, resolve_device
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_parquet

with script_context(snakemake) as log:
    entry = load_registry(snakemake.params.registry)[snakemake.wildcards.lmodel]
    device = resolve_device(snakemake.params.device)
    ranked, texts = rank(
        NeuronTable.from_entry(entry),
        snakemake.input.stores,
        snakemake.input.data,
        snakemake.params.languages,
        snakemake.params.memory_mb,
        device,
    )
    log.info(
        "%d neurons × %d languages from %d texts on %s",
        len(ranked),
        len(snakemake.params.languages),
        len(texts),
        device,
    )
    write_parquet(ranked, snakemake.output.neurons)
