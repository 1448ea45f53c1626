"""Cross-study lesion: a language's neurons (language study) fixed to 0 or their mean, the
evaluator's tasks scored."""

from pathlib import Path

import pandas as pd

from lmanatomy.atlas.lesions import lesions_figure, run_lesions
from lmanatomy.evaluation import GenerationSettings
from lmanatomy.evaluation.harness import save_predictions
from lmanatomy.evaluation.tasks import load_task
from lmanatomy.language.neurons import NeuronTable
from lmanatomy.language.study import StackedStore, load_texts
from lmanatomy.models import load_model, load_registry
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake) as log:
    p, out = snakemake.params, snakemake.output
    section = p.section
    tasks = {
        name: load_task(path)
        for name, path in zip(section["tasks"], snakemake.input.tasks, strict=True)
    }
    entry = load_registry(p.registry)[p.model]
    store = StackedStore(
        snakemake.input.stores,
        load_texts(snakemake.input.data),
        [Path(d).stem for d in snakemake.input.data],
    )
    model, tokenizer = load_model(
        Path(snakemake.input.model).parent, device=p.device, dtype=p.dtype
    )
    predictions, table = run_lesions(
        model,
        tokenizer,
        tasks,
        pd.read_parquet(snakemake.input.selection),
        NeuronTable.from_entry(entry).frame(),
        store.read,
        section,
        GenerationSettings(**p.generation),
        log.info,
    )
    save_predictions(predictions, out.predictions)
    title = f"Language neurons ablated, tasks scored — {p.display}"
    notes = [
        f"Top-{section['k']} neurons of each ablated language (language study), fixed to 0 (zero) "
        "or to their mean over all the study's texts (mean); control: as many neurons per layer "
        "drawn at random from the same layers' other neurons. Change = accuracy after − before on "
        "the same samples; 95% paired bootstrap over samples.",
        f"Tasks: the lesion study's task files and prompts ({', '.join(section['tasks'])}), up to "
        f"{section.get('max_num_samples')} samples each. Not in any of the five papers.",
    ]
    write_table(table, out.csv, out.md, title=title, notes=notes, digits=3)
    lesions_figure(
        table,
        title,
        out.png,
        f"Top-{section['k']} neurons per language vs as many random neurons of the same "
        "layers; bars: accuracy change on the same samples, 95% paired bootstrap (table notes).",
    )
