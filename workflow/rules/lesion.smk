# The lesion study (Harada et al. 2024): prune a share of the whole model from a few consecutive
# layers (one lesion per share × layer range), evaluate the original and every lesion llm-jp-eval
# style (one job per model, or one per lesion), then Table 1, its figure and the requested-vs-achieved shares.

from lmanatomy.lesion.config import fewshot_download, task_root
from lmanatomy.lesion.naming import ORIGINAL, variant_ids

# Rules exist when the study is enabled (its section is then validated against the registry and
# the datasets).
LESION = study_section("lesion")


include: "functions/lesion.smk"


if LESION:
    LESION_DIR = f"{RESULTS}/lesion"
    LESION_MODEL = LESION["model"]
    LESION_TASKS = list(LESION["tasks"])
    LESION_VARIANTS = variant_ids(
        LESION["shares"], LESION["layer_ranges"], LESION["layer_numbering"]
    )
    LESION_SPLITS = ["train", "dev", "test", "info"]

    TARGETS["lesion"] = [
        f"{LESION_DIR}/table1.csv",
        f"{LESION_DIR}/table1.md",
        f"{LESION_DIR}/fewshot_answers.csv",
        f"{LESION_DIR}/fewshot_answers.md",
        f"{LESION_DIR}/figure_score_vs_layers.png",
        f"{LESION_DIR}/shares.csv",
        f"{LESION_DIR}/shares.md",
    ]

    localrules:
        lesion_plan,
        lesion_task,
        lesion_table1,

    rule lesion_plan:
        output:
            plans=f"{LESION_DIR}/plans.json",
            csv=f"{LESION_DIR}/shares.csv",
            md=f"{LESION_DIR}/shares.md",
        log:
            f"{LOGS}/lesion/plan.log",
        benchmark:
            f"{BENCH}/lesion/plan.tsv"
        conda:
            "../../envs/pytorch.yaml"
        params:
            model=LESION_MODEL,
            entry=REGISTRY.raw_entry(LESION_MODEL),
            shares=LESION["shares"],
            layer_ranges=LESION["layer_ranges"],
            numbering=LESION["layer_numbering"],
            gqa=LESION["gqa"],
            importance_dtype=LESION["importance_dtype"],
        script:
            "../../scripts/lesion/plan.py"

    rule lesion_task:
        input:
            data=lesion_task_data,
            # the llm-jp-eval version's fixed few-shot rows, when the dataset's root lacks their file
            fewshot_file=lesion_fewshot_file,
        output:
            **{
                split: f"{LESION_DIR}/tasks/{{task}}/{split}.json"
                for split in LESION_SPLITS
            },
        log:
            f"{LOGS}/lesion/task_{{task}}.log",
        benchmark:
            f"{BENCH}/lesion/task_{{task}}.tsv"
        wildcard_constraints:
            task=alternation(LESION_TASKS),
        conda:
            "../../envs/analysis.yaml"
        params:
            dataset=lesion_task_dataset,
            num_few_shots=lesion_num_few_shots,
            llm_jp_eval=LESION["llm_jp_eval"],
            root=lesion_task_root,
        script:
            "../../scripts/lesion/task.py"

    # Evaluation: the original and every lesion, each lesion pruned in memory from the loaded
    # original (lmanatomy.lesion.sweep). per_model: one job loads the model once for all of them;
    # per_lesion: one job each (in parallel on a cluster's GPUs). Same scores either way.
    LESION_EVALUATED = [ORIGINAL, *LESION_VARIANTS]
    LESION_EVAL_PARAMS = dict(
        model=LESION_MODEL,
        tasks=LESION_TASKS,
        max_num_samples={
            task: settings.get("max_num_samples", LESION["max_num_samples"])
            for task, settings in LESION["tasks"].items()
        },
        generation=LESION["generation"],
        device=DEVICE,
        dtype=DTYPE,
    )
    if LESION["evaluation_jobs"] == "per_model":

        rule lesion_evaluate:
            input:
                base=model_ready(LESION_MODEL),
                plans=f"{LESION_DIR}/plans.json",
                tasks=expand(
                    f"{LESION_DIR}/tasks/{{task}}/test.json", task=LESION_TASKS
                ),
            output:
                predictions=expand(
                    f"{LESION_DIR}/eval/{{variant}}/predictions.parquet",
                    variant=LESION_EVALUATED,
                ),
                scores=expand(
                    f"{LESION_DIR}/eval/{{variant}}/scores.json",
                    variant=LESION_EVALUATED,
                ),
            log:
                f"{LOGS}/lesion/evaluate.log",
            benchmark:
                f"{BENCH}/lesion/evaluate.tsv"
            priority: 10
            conda:
                TORCH_ENV
            threads: 1
            resources:
                mem_mb=mem_mb_for(LESION_MODEL, "inference"),
                gpu=gpus_for(LESION_MODEL, "inference"),
                runtime=runtime_for(LESION_MODEL, "inference", len(LESION_EVALUATED)),
            params:
                **LESION_EVAL_PARAMS,
                variants=LESION_EVALUATED,
            script:
                "../../scripts/lesion/evaluate.py"

    else:

        rule lesion_evaluate:
            input:
                base=model_ready(LESION_MODEL),
                plans=f"{LESION_DIR}/plans.json",
                tasks=expand(
                    f"{LESION_DIR}/tasks/{{task}}/test.json", task=LESION_TASKS
                ),
            output:
                predictions=[f"{LESION_DIR}/eval/{{variant}}/predictions.parquet"],
                scores=[f"{LESION_DIR}/eval/{{variant}}/scores.json"],
            log:
                f"{LOGS}/lesion/evaluate_{{variant}}.log",
            benchmark:
                f"{BENCH}/lesion/evaluate_{{variant}}.tsv"
            wildcard_constraints:
                variant=alternation(LESION_EVALUATED),
            priority: 10
            conda:
                TORCH_ENV
            threads: 1
            resources:
                mem_mb=mem_mb_for(LESION_MODEL, "inference"),
                gpu=gpus_for(LESION_MODEL, "inference"),
                runtime=runtime_for(LESION_MODEL, "inference"),
            params:
                **LESION_EVAL_PARAMS,
                variants=lesion_variant,
            script:
                "../../scripts/lesion/evaluate.py"

    rule lesion_table1:
        input:
            plans=f"{LESION_DIR}/plans.json",
            scores=expand(
                f"{LESION_DIR}/eval/{{variant}}/scores.json",
                variant=[ORIGINAL, *LESION_VARIANTS],
            ),
            infos=expand(f"{LESION_DIR}/tasks/{{task}}/info.json", task=LESION_TASKS),
            paper_values=Path(workflow.basedir) / "workflow/report/paper_values.yaml",
        output:
            csv=f"{LESION_DIR}/table1.csv",
            md=f"{LESION_DIR}/table1.md",
            fewshot_csv=f"{LESION_DIR}/fewshot_answers.csv",
            fewshot_md=f"{LESION_DIR}/fewshot_answers.md",
            figure=f"{LESION_DIR}/figure_score_vs_layers.png",
        log:
            f"{LOGS}/lesion/table1.log",
        benchmark:
            f"{BENCH}/lesion/table1.tsv"
        conda:
            "../../envs/analysis.yaml"
        params:
            model=LESION_MODEL,
            display=REGISTRY[LESION_MODEL].display,
            tasks=LESION_TASKS,
        script:
            "../../scripts/lesion/table1.py"
