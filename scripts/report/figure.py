"""One figure of the run for the report: a hard link to the study's PNG (a copy across devices)."""

import os
import shutil
from pathlib import Path

from lmanatomy.runtime import script_context

with script_context(snakemake, uses_torch=False) as log:
    source, target = Path(snakemake.input.png), Path(snakemake.output.png)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)
    log.info("linked %s", source)
