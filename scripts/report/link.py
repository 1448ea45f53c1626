"""One figure or data file of the run for the report: a hard link to the study's file (a copy
across devices), so the report can show it without the study's rule knowing about reports."""

import os
import shutil
from pathlib import Path

from lmanatomy.runtime import script_context

with script_context(snakemake, uses_torch=False) as log:
    source, target = Path(snakemake.input[0]), Path(snakemake.output[0])
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)
    log.info("linked %s", source)
