"""Download one upstream file into data/raw, verified against its pinned (or first-seen) sha256."""

from lmanatomy.data import download
from lmanatomy.runtime import script_context

with script_context(snakemake, uses_torch=False) as log:
    params = snakemake.params
    log.info(
        "downloading %s -> %s (sha256 %s)",
        params.url,
        snakemake.output[0],
        params.sha256 or "not pinned",
    )
    sha256 = download(params.url, snakemake.output[0], params.sha256, git_blob=params.git_blob)
    log.info("sha256 %s", sha256)
