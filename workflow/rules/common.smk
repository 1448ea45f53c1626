# Config loading and validation, path helpers and input functions shared by every rule file.

import re
import sys
from pathlib import Path

from snakemake.logging import logger

# The library lives in src/; putting it on the path here (and in PYTHONPATH for the jobs) makes
# the workflow run from a source checkout and inside `conda:` environments alike.
SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC)
os.environ.update(
    PYTHONPATH=os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p)
)
# Idle OpenMP threads sleep instead of spinning. Jobs share the cores with each other (and often
# with other work): spinning threads of a 2-thread torch job on a busy 2-core machine burnt 2.7×
# the CPU time of a sleeping pair for the same forward passes, and took longer (docs/benchmarks.md).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from lmanatomy.config import check_yaml_files, fill_defaults, validate_config
from lmanatomy.envs import torch_env
from lmanatomy.integrity import repair_requested, sweep
from lmanatomy.data import RAW_ROOT, UPSTREAM, dataset_input_paths, dataset_root
from lmanatomy.data.generic import hf_cache_path
from lmanatomy.data.upstream import downloaded_paths, unpacked_paths
from lmanatomy.models import count_parameters, model_dir
from lmanatomy.models.corpora import corpus_inputs
from lmanatomy.models import resources as model_resources
from lmanatomy.study import discover

# Snakemake keeps the last of two equal keys in a config file silently; refuse that first.
check_yaml_files(
    workflow.config_settings.configfiles
    or [Path(workflow.basedir) / "config" / "config.yaml"]
)
SCHEMAS = Path(workflow.basedir) / "workflow" / "schemas"
REGISTRY = validate_config(config, SCHEMAS)


def schema_filled(study, section):
    """``section`` with the defaults of the study's schema filled in, as validate_config fills an
    enabled study's: rule files read every key plainly (a default lives in the schema only), also
    from the stand-in section of a study the config leaves off (its rules exist, never run).
    """
    fill_defaults(section, {"$ref": f"{study}.schema.yaml"}, SCHEMAS)
    return section


RUN = config["run"]
RESULTS = f"results/{RUN}"
LOGS = f"results/{RUN}/logs"
BENCH = f"results/{RUN}/benchmarks"
STUDIES = config["studies"]
# Every study (lmanatomy.study): package-scanned and from entry points, each after those it draws
# on. The Snakefile includes their rule files in this order.
STUDY_LIST = discover()
DEVICE = config["device"]
DTYPE = config["dtype"]
# Conda env (--sdm conda) of rules that ask for a GPU: the CUDA build of torch unless device is
# cpu (envs/*.yaml are generated from the lock: make envs).
TORCH_ENV = str(Path(workflow.basedir) / torch_env(DEVICE))
# Integrity sweep: a truncated or damaged Parquet file of this run is removed, with the manifest
# that vouches for it, before the DAG is built, so that Snakemake rebuilds it and reruns what
# follows (lmanatomy.integrity). It removes only when LMANATOMY_REPAIR=1 (set by `make run`):
# otherwise (dry runs, lint, a plain `snakemake`) it reports. Jobs on a cluster node parse this
# file too; only the main process sweeps.
SWEPT = (
    sweep(RESULTS, remove=repair_requested(os.environ), warn=logger.warning)
    if workflow.is_main_process
    else []
)
# Named datasets (config `datasets:`); studies take f"{RESULTS}/data/{name}.parquet" as input.
DATASETS = config.get("datasets") or {}
# `format: hf` datasets by their cached Parquet path under data/raw (the fetch_hf_dataset rule's output).
HF_DATASETS = {
    hf_cache_path(spec): spec for spec in DATASETS.values() if spec["format"] == "hf"
}


def names_matching(source, series):
    """Regex alternation of registry names with a given source, for wildcard constraints."""
    return alternation(
        n for n, e in REGISTRY.items() if e.source == source and e.is_series == series
    )


def alternation(names):
    """Regex alternation of exact names, for wildcard constraints (matches nothing when empty)."""
    return "|".join(re.escape(n) for n in names) or "(?!)"


def dataset_files(wildcards):
    """Input function: the files preparing {dataset} reads; with a null root, data/raw downloads."""
    return dataset_input_paths(config, wildcards.dataset)


def model_path(name, checkpoint=None):
    """data/models/<name>[/<checkpoint>]: a prepared model folder."""
    return str(model_dir(REGISTRY[name], checkpoint))


def model_ready(name, checkpoint=None):
    """The file whose existence marks a model folder complete (written last)."""
    return f"{model_path(name, checkpoint)}/provenance.json"


def model_provenance_files(name):
    """Key → provenance.json of a model's folder(s): one per checkpoint for a series."""
    entry = REGISTRY[name]
    if entry.is_series:
        return {f"{name}@{c}": model_ready(name, c) for c in entry.checkpoints}
    return {name: model_ready(name)}


_PARAMETERS = {}


def parameters_of(name):
    if name not in _PARAMETERS:
        _PARAMETERS[name] = count_parameters(REGISTRY[name])
    return _PARAMETERS[name]


def mem_mb_for(name, kind="inference"):
    return model_resources.memory_mb(parameters_of(name), DTYPE, kind)


def gpus_for(name, kind="inference"):
    return model_resources.gpus(parameters_of(name), DEVICE, DTYPE, kind)


def runtime_for(name, kind="inference", units=1.0):
    return model_resources.runtime_minutes(parameters_of(name), kind, units)


# Input, params and resources functions of what a wildcard names, written once instead of a
# lambda per rule; models go by each study's own wildcard (`model`, `lmodel`, `redundancy_model`,
# `amodel`):  model=of_model(model_ready, "lmodel"), mem_mb=of_model(mem_mb_for, "model", "gradients")
def of_wildcard(fact, wildcard, *args):
    """A function of the job's wildcards: ``fact(<the value of {wildcard}>, *args)``."""

    def of_wildcards(wildcards):
        return fact(getattr(wildcards, wildcard), *args)

    of_wildcards.__name__ = f"{fact.__name__}_of_{wildcard}"
    return of_wildcards


def of_model(fact, wildcard="model", *args):
    """A function of the job's wildcards: ``fact(<the model {wildcard} names>, *args)``."""
    return of_wildcard(fact, wildcard, *args)


def entry_fact(attribute, wildcard="model"):
    """A function of the job's wildcards: a registry fact (display, num_layers…) of the model."""

    def fact(name):
        return getattr(REGISTRY[name], attribute)

    fact.__name__ = attribute
    return of_model(fact, wildcard)


# The partition limit (minutes) a job's runtime estimate must fit; work over it is split into jobs.
MAX_RUNTIME = float(config.get("max_runtime", 1440))


def work_runtime(name, work):
    """Runtime (minutes) of a job doing `work` (models.resources.Work) with model `name`."""
    return model_resources.work_minutes(parameters_of(name), work, DEVICE, DTYPE)


def work_shards(name, work_of):
    """Jobs a work is split into so that each fits MAX_RUNTIME (1 when it fits); work_of(n) is the
    work of the largest of n blocks."""
    return model_resources.shards(
        parameters_of(name), work_of, DEVICE, DTYPE, MAX_RUNTIME
    )


# `local` models (trained by the workflow) → the name of the rule that trains each.
LOCAL_MODELS = {
    name: re.sub(r"\W", "_", f"train_{name}")
    for name, entry in REGISTRY.items()
    if entry.source == "local"
}


# Each study's rule file registers its targets; `rule all` builds those of the enabled studies.
TARGETS = {}


def study_section(name):
    """The config section of study `name` when the run enables it (`studies:`), else None.

    The one switch every study's rules ask (each study's rules and targets exist when it is enabled).
    """
    return {s.name: s for s in STUDY_LIST}[name].section_of(config)


def rebuild_targets(wildcards):
    """Input function of the default target: the outputs the integrity sweep removed. Snakemake does not
    rebuild a missing intermediate when everything downstream is up to date; asking for it does
    (and its consumers then rerun). Only paths the workflow can produce: a removed leftover of another
    config is not asked for."""
    removed = [str(p) for item in SWEPT if not item.path.exists() for p in item.rebuild]
    return [f for f in removed if any(r.is_producer(f) for r in workflow.rules)]


def study_targets():
    """Every target of every study the config enables, in the order the config lists them."""
    return [target for study in STUDIES for target in TARGETS.get(study, [])]


def path_model_config(wildcards):
    """The config.json of a `path` model's folder (the folder is linked, not copied)."""
    return f"{REGISTRY[wildcards.model].path}/config.json"


def probe_settings(wildcards):
    """The config's settings of probe {probe} (modules, pooling, dtype, shard size…)."""
    return config["probes"][wildcards.probe]


# The atlas's inputs (workflow/rules/atlas.smk): the contributing studies' output files.
def atlas_study_files(wildcards):
    """The contributing studies' output files, named by study."""
    from lmanatomy.atlas.plan import inputs

    return inputs(
        config, wildcards.amodel, RESULTS, REGISTRY[wildcards.amodel].num_layers
    )


def atlas_language_stores(wildcards):
    """The language study's activation stores of the model (the neurons' means over all texts)."""
    return [
        f"{RESULTS}/activations/{wildcards.amodel}/{name}/{config['language']['probe']}/_manifest.json"
        for name in config["language"]["datasets"]
    ]


def summary_data_facts(wildcards):
    """The provenance (data/<name>.json) of every dataset an enabled study reads: the summary
    says what data each study ran on from these facts (lmanatomy.deviations)."""
    from lmanatomy.deviations import named_datasets

    names = [n for s in STUDIES for n in named_datasets(config[s], DATASETS)]
    return [f"{RESULTS}/data/{n}.json" for n in dict.fromkeys(names)]
