"""Score one paramact job: A = |w·dD/dw| per input,
activated counts per layer, LLMDcos per layer."""

import pandas as pd

from lmanatomy.paramact.plan import job_from_params
from lmanatomy.paramact.run import BY_D_COLUMNS, GAMMA_COLUMNS, score_job
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake, seed=snakemake.params.seed) as log:
    job = job_from_params(snakemake.params.job)
    datasets = {
        name: (path, snakemake.params.formats[name])
        for name, path in zip(snakemake.params.datasets, snakemake.input.data, strict=True)
    }
    result = score_job(
        snakemake.params.model_path,
        datasets,
        job,
        device=snakemake.params.device,
        dtype=snakemake.params.dtype,
        seed=snakemake.params.seed,
        windows=snakemake.params.windows,
        joined=snakemake.params.joined,
        thresholds=snakemake.params.thresholds,
        cache_units=snakemake.params.cache_units,
        running_mean=snakemake.params.running_mean,
        scratch=snakemake.params.scratch,
        means_dir=snakemake.output.get("means"),  # declared only with keep_means
        trust_remote_code=snakemake.params.trust_remote_code,
        log=log,
        gamma=snakemake.params.gamma,
        target_share=snakemake.params.target_share,
    )
    log.info(
        "job %s: %d passes, %d density rows, %d LLMDcos rows",
        job.name,
        result.passes,
        len(result.density),
        len(result.pairs),
    )
    write_table(result.density, snakemake.output.density)
    write_table(result.pairs, snakemake.output.pairs)
    write_table(result.samples, snakemake.output.samples)
    write_table(
        result.gamma if result.gamma is not None else pd.DataFrame(columns=GAMMA_COLUMNS),
        snakemake.output.gamma,
    )
    write_table(
        result.by_d if result.by_d is not None else pd.DataFrame(columns=BY_D_COLUMNS),
        snakemake.output.by_d,
    )
