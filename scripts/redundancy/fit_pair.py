"""One layer pair n -> n+1: every dim of layer n+1
regressed on layer n by linear SVR, all at once."""

from pathlib import Path

import pandas as pd
from tqdm import tqdm

from lmanatomy.extract import open_store
from lmanatomy.models import resolve_device
from lmanatomy.redundancy.fitting import SVRSettings, fit_pair, write_rows
from lmanatomy.redundancy.normed import normed_view
from lmanatomy.redundancy.pairs import pair_arrays, pair_name
from lmanatomy.runtime import script_context

with script_context(snakemake) as log:
    source = int(snakemake.wildcards.source)
    split = pd.read_csv(snakemake.input.split, dtype=str, keep_default_na=False)
    store = open_store(Path(snakemake.input.store).parent)
    if snakemake.input.normed_from:  # the last hidden state after the final norm, derived
        store = normed_view(store, Path(snakemake.input.normed_from).parent)
        log.info(
            "last hidden state: the final norm of %s applied to %s's raw one",
            snakemake.input.normed_from,
            store.store.path,
        )
    arrays = pair_arrays(store, split, source)
    device = resolve_device(snakemake.params.device)
    log.info(
        "pair %s: X %s, Y %s on %s (float64)",
        pair_name(source),
        arrays["x_train"].shape,
        arrays["y_train"].shape,
        device,
    )
    rows, model = fit_pair(
        arrays,
        source,
        SVRSettings(**snakemake.params.settings),
        snakemake.params.top_inputs,
        device,
        progress=tqdm,
    )
    log.info(
        "rank of centred X %d; iterations median %d, max %d; %d polished; mean test R² %.4f",
        model.rank_,
        int(rows["n_iter"].median()),
        int(rows["n_iter"].max()),
        int(rows["polished"].sum()),
        rows["r2"].mean(),
    )
    if not rows["converged"].all():
        log.warning(
            "%d targets did not converge (worst KKT violation %.3g)",
            int((~rows["converged"]).sum()),
            rows["kkt_violation"].max(),
        )
    write_rows(rows, snakemake.output[0])
