"""The layer atlas of one model: every study's profile
by layer, the figure, and their rank correlations."""

from lmanatomy.atlas.compare import rank_correlations
from lmanatomy.atlas.profiles import profile_blocks, read_profiles, wide
from lmanatomy.atlas.report import atlas_figure, atlas_tables, missing_notes
from lmanatomy.runtime import script_context

with script_context(snakemake, uses_torch=False) as log:
    params, out = snakemake.params, snakemake.output
    files = {study: list(snakemake.input[study]) for study in params.studies}
    profiles = read_profiles(files, params.resamples, params.seed)
    table = wide(profiles, params.layers)
    correlations = rank_correlations(
        table, params.resamples, params.seed, blocks=profile_blocks(files)
    )
    log.info(
        "%d profiles over %d layers from %s",
        profiles["profile"].nunique(),
        params.layers,
        ", ".join(files),
    )
    title = f"Layer atlas — {params.display}"
    notes = [*missing_notes(params.reasons), *params.notes]
    text = atlas_tables(
        profiles, table, correlations, title, out.csv, out.md, out.correlations, notes
    )
    atlas_figure(profiles, params.layers, title, out.png, "; ".join(params.notes) or None)
    log.info("%s", text)
