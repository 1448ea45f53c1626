"""Validation experiments 1 and 2 for one model: prune (dense / uniform / density-derived ratios,
each calibration set), score every pruned model on every evaluation set."""

import pandas as pd

from lmanatomy.models import load_model
from lmanatomy.paramact.prompts import Draws
from lmanatomy.paramact.report import at_gamma, read_gamma
from lmanatomy.paramact.validation import plan_from, run_validation
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake, seed=snakemake.params.seed) as log:
    section = snakemake.params.section
    model, tokenizer = load_model(
        snakemake.params.model_path,
        snakemake.params.device,
        snakemake.params.dtype,
        trust_remote_code=snakemake.params.trust_remote_code,
    )
    draws = {
        name: Draws(
            name,
            pd.read_parquet(path),
            snakemake.params.formats[name],
            tokenizer,
            snakemake.params.seed,
            snakemake.params.windows.get(name),
            joined=name in snakemake.params.joined,
        )
        for name, path in zip(snakemake.params.datasets, snakemake.input.data, strict=True)
    }
    density = pd.concat([pd.read_csv(p) for p in snakemake.input.density], ignore_index=True)
    gamma, _ = read_gamma(snakemake.input.gamma)
    profile = at_gamma(
        density[density["dataset"] == section["density_dataset"]], gamma
    ).sort_values("layer")
    log.info("density profile: %s at gamma %g", section["density_dataset"], gamma)
    runs, ratios = run_validation(
        model,
        tokenizer,
        draws,
        plan_from(section),
        profile["ratio"].tolist(),
        calibration_samples=section["calibration_samples"],
        eval_samples=section["eval_samples"],
        evaluation=section["evaluation"],
        log=log,
    )
    write_table(runs, snakemake.output.runs)
    write_table(ratios, snakemake.output.ratios)
