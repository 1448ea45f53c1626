"""plan → prune (in memory, or saved and reloaded) → evaluate → Table 1, on a tiny model in seconds;
and the table's layout."""

import json

import pandas as pd
import pytest
import torch

from lmanatomy.evaluation import TASKS, GenerationSettings, build_task, evaluate
from lmanatomy.lesion import (
    ORIGINAL,
    base_reference,
    load_pruned,
    plan_variants,
    prune_checkpoint,
    save_pruned,
    shape_map,
)
from lmanatomy.lesion.report import (
    baselines,
    fewshot_table,
    figure,
    score_columns,
    shares_table,
    table1,
    write_table1,
)
from lmanatomy.lesion.sweep import evaluate_lesions
from lmanatomy.models import load_model
from lmanatomy.testing import save_model_dir, tiny_model


def _frames():
    jsts = pd.DataFrame(
        [
            {"split": s, "sentence1": f"文{i}", "sentence2": "文", "label": float(i % 6)}
            for s, n in (("train", 4), ("valid", 4))
            for i in range(n)
        ]
    )
    mmlu = pd.DataFrame(
        [
            {
                "split": s,
                "question": f"{i}+1?",
                "A": str(i),
                "B": str(i + 1),
                "C": "x",
                "D": "y",
                "label": "B",
            }
            for s, n in (("dev", 4), ("test", 4))
            for i in range(n)
        ]
    )
    return {"jsts": jsts, "mmlu": mmlu}


@pytest.fixture
def one_thread():
    """Tiny matmuls on a shared machine: one thread avoids OpenMP spin-waiting."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_tiny_end_to_end(tokenizer, tmp_path, one_thread):
    model, tok = tiny_model(
        "llama",
        tokenizer=tokenizer,
        seed=2,
        layers=4,
        hidden=32,
        ff=64,
        num_attention_heads=4,
        num_key_value_heads=4,
        head_dim=8,
    )
    base = save_model_dir(model, tok, tmp_path / "base")
    plans = plan_variants(model, [0.05, 0.1], [[0, 1], [2, 3]], "zero_based_inclusive")
    tasks = {
        name: build_task(TASKS[name], frame, num_few_shots=1)[0]["test"]
        for name, frame in _frames().items()
    }
    settings = GenerationSettings(max_new_tokens=4, batch_size=4)

    scores, golds = {}, {}
    for variant, predictions, scores[variant], records in evaluate_lesions(
        base, [ORIGINAL, *plans], plans, tasks, settings
    ):
        assert len(predictions) == 8 and set(predictions["task"]) == {"jsts", "mmlu"}
        golds = predictions.groupby("task")["gold"].apply(list).to_dict()
        assert json.dumps(scores[variant])  # plain JSON-able summaries
        assert [r.layer for r in records] == (
            [] if variant == ORIGINAL else list(plans[variant].layer_indices)
        )
    summaries = scores[ORIGINAL]

    frame, bold = table1(scores, plans, ["jsts", "mmlu"])
    lesions = [
        "5.0% 0-1 [idx 0-1]",
        "5.0% 2-3 [idx 2-3]",
        "10.0% 0-1 [idx 0-1]",
        "10.0% 2-3 [idx 2-3]",
    ]
    assert score_columns(frame) == ["original", *lesions]
    assert list(frame["task"]) == ["JSTS", "MMLU"] and list(frame["metric"]) == [
        "Pearson",
        "exact match",
    ]
    assert not bold["original"].any()
    assert frame.loc[1, "original"] == scores[ORIGINAL][1]["exact_match"]
    for column in score_columns(frame):  # every cell: n and a 95% interval around its score
        assert frame[f"{column}: n"].tolist() == [4, 4]
        assert (frame[f"{column}: ci95_low"] <= frame[column] + 1e-12).all()
        assert (frame[column] <= frame[f"{column}: ci95_high"] + 1e-12).all()
    shares = shares_table(plans)
    assert list(shares["lesion"]) == list(plans)
    assert (
        fewshot_table(scores, plans, ["jsts", "mmlu"]).shape
        == frame[["task", "metric", *score_columns(frame)]].shape
    )
    write_table1(frame, bold, str(tmp_path / "t.csv"), str(tmp_path / "t.md"), "tiny", ["a note"])
    assert pd.read_csv(tmp_path / "t.csv").shape == frame.shape
    assert "| task | metric | original | 5.0% 0-1 [idx 0-1] |" in (tmp_path / "t.md").read_text()
    # The two baselines beside the table, by hand from the same samples:
    # the majority gold's share and the share of golds equal to the last
    # few-shot answer (JSTS: a constant answer's Pearson is undefined → 0).
    shot = str(tasks["mmlu"]["few_shots"][-1]["output"])
    mmlu = golds["mmlu"]
    assert frame.loc[1, "majority class: score"] == max(mmlu.count(g) for g in mmlu) / len(mmlu)
    assert frame.loc[1, "repeat last few-shot answer: score"] == sum(g == shot for g in mmlu) / len(
        mmlu
    )
    assert frame.loc[1, "repeat last few-shot answer: answer"] == shot
    assert (
        frame.loc[0, "majority class: score"] == 0.0
        and frame.loc[0, "repeat last few-shot answer: score"] == 0.0
    )
    for name in ("majority class", "repeat last few-shot answer"):
        assert (frame[f"{name}: ci95_low"] <= frame[f"{name}: score"]).all()
        assert (frame[f"{name}: score"] <= frame[f"{name}: ci95_high"]).all()
    text = (tmp_path / "t.md").read_text()
    assert (
        "### Baselines on the same samples" in text
        and "### 95% bootstrap interval of every cell" in text
    )
    low, high = frame.loc[1, "original: ci95_low"], frame.loc[1, "original: ci95_high"]
    assert f"| MMLU | exact match | [{low:.2f}, {high:.2f}] |" in text
    figure(frame, plans, "tiny", "a note", str(tmp_path / "fig.png"), baselines(summaries))
    assert (tmp_path / "fig.png").stat().st_size > 0


def _plans(registry):
    return plan_variants(
        registry["smollm2-135m"],
        [0.005, 0.02],
        [[4, 8], [9, 13]],
        "zero_based_inclusive",
        "keep_kv_heads",
    )


def _scores(values, metric="exact_match", task="jnli", undefined=()):
    """variant → summaries with ``metric`` values for one task (``undefined``: variants whose
    correlation is undefined)."""
    return {
        v: [
            {
                "task": task,
                metric: x,
                "samples": 50,
                f"{metric}_ci95": [x - 0.1, x + 0.1],
                f"{metric}_undefined": v in undefined,
                "fewshot_answer_share": 0.0,
            }
        ]
        for v, x in values.items()
    }


A, B, C, D = (
    "0.5% 4-8 [idx 4-8]",
    "0.5% 9-13 [idx 9-13]",
    "2.0% 4-8 [idx 4-8]",
    "2.0% 9-13 [idx 9-13]",
)


def test_bold_marks_only_a_strict_best_per_share(registry):
    plans = _plans(registry)
    ids = list(plans)
    scores = _scores({ORIGINAL: 0.9, ids[0]: 0.3, ids[1]: 0.5, ids[2]: 0.2, ids[3]: 0.2})
    frame, bold = table1(scores, plans, ["jnli"])
    assert bold.loc[0, ["original", A, B, C, D]].to_dict() == {
        "original": False,
        A: False,
        B: True,
        C: False,
        D: False,
    }
    # A lead the printed precision hides is no best either: 0.301 and 0.304 both print as 0.30.
    frame, bold = table1(
        _scores({ORIGINAL: 0.9, ids[0]: 0.301, ids[1]: 0.304, ids[2]: 0.2, ids[3]: 0.4}),
        plans,
        ["jnli"],
    )
    assert bold.loc[0, [A, B, C, D]].tolist() == [False, False, False, True]


def test_undefined_pearson_prints_with_a_star_and_a_footnote(registry, tmp_path):
    plans = _plans(registry)
    ids = list(plans)
    scores = _scores(
        {ORIGINAL: 0.3, ids[0]: 0.0, ids[1]: 0.0, ids[2]: 0.1, ids[3]: -0.1},
        "pearson",
        "jsts",
        undefined={ids[0]},
    )
    frame, bold = table1(scores, plans, ["jsts"])
    assert frame.loc[0, f"{A}: undefined"] and not frame.loc[0, f"{B}: undefined"]
    write_table1(frame, bold, str(tmp_path / "t.csv"), str(tmp_path / "t.md"), "t", [])
    md = (tmp_path / "t.md").read_text()
    assert "| 0.00* | 0.00 |" in md and "0.00*: the correlation is undefined" in md
    table = pd.read_csv(tmp_path / "t.csv")
    assert table.loc[0, f"{A}: n"] == 50 and table.loc[0, f"{C}: ci95_high"] == pytest.approx(0.2)


def test_shares_table_checks_measured_counts(registry):
    plans = _plans(registry)
    table = shares_table(plans, {k: p.removed_parameters for k, p in plans.items()})
    assert table["achieved_percent"].iloc[0] == pytest.approx(100 * 5 * 63 * 1728 / 134_515_008)
    assert table["gqa"].iloc[0] == "keep_kv_heads" and table["indices"].iloc[0] == "4-8"
    with pytest.raises(ValueError, match="the plan says"):
        shares_table(plans, {k: 0 for k in plans})


def test_one_job_for_all_lesions_scores_byte_identical_to_one_job_per_pruned_model(
    tokenizer, tmp_path, one_thread
):
    """evaluate_lesions (one load, lesions pruned in memory, layers restored between them) vs the
    per-job path (prune → save → reload each pruned model in a fresh load). GQA with whole KV groups
    removed, overlapping ranges, and the original evaluated *after* lesions, so a restore that
    missed anything would show."""
    model, tok = tiny_model(
        "llama",
        tokenizer=tokenizer,
        seed=3,
        layers=4,
        hidden=48,
        ff=64,
        num_attention_heads=6,
        num_key_value_heads=2,
        head_dim=8,
    )
    base = save_model_dir(model, tok, tmp_path / "base")
    plans = plan_variants(model, [0.2], [[0, 1], [1, 2]], "zero_based_inclusive", "prune_kv_groups")
    assert [p.kv_heads for p in plans.values()] == [1, 1]  # each lesion removes a whole KV group
    tasks = {
        name: build_task(TASKS[name], frame, num_few_shots=1)[0]["test"]
        for name, frame in _frames().items()
    }
    settings = GenerationSettings(max_new_tokens=4, batch_size=4)
    first, second = plans
    order = [first, ORIGINAL, second]

    one_job = {
        v: (p, json.dumps(s, sort_keys=True).encode())
        for v, p, s, _ in evaluate_lesions(base, order, plans, tasks, settings)
    }

    assert list(one_job) == order
    for variant in order:
        if variant == ORIGINAL:
            model, tok = load_model(base)
        else:
            tensors, records = prune_checkpoint(base, plans[variant])
            model, tok = load_pruned(
                save_pruned(
                    tmp_path / variant,
                    tensors,
                    shape_map(plans[variant], records, base_reference(base)),
                )
            )
        predictions, summaries = evaluate(model, tok, tasks, settings)
        assert one_job[variant][1] == json.dumps(summaries, sort_keys=True).encode(), variant
        pd.testing.assert_frame_equal(one_job[variant][0], predictions, check_exact=True)
    # The lesions did change what the model says (so equal outputs are not equal by default).
    outputs = {v: tuple(one_job[v][0]["output"]) for v in order}
    assert len(set(outputs.values())) > 1


def test_resolution_note_by_hand():
    from lmanatomy.lesion.report import resolution_note

    # n = 40 at accuracy 0.5: 1.96·sqrt(0.25/40) = 0.155,
    # 1.96·sqrt(0.5/40) = 0.219; JSTS (Pearson) is not a share.
    paper = {
        "columns": ["original", "a", "b"],
        "values": {"JNLI": [0.5, 0.4, 0.3], "JSTS": [0.9, 0.1, 0.1], "BoolQ": [0.6, 0.5, 0.55]},
    }
    note = resolution_note(
        [{"task": "boolq", "samples": 40}, {"task": "jsts", "samples": 4}], paper
    )
    assert "BoolQ n = 40: ±0.15 per cell, ±0.22 between two cells." in note and "JSTS n" not in note
    # the paper's effects from its table (paper_values.yaml),
    # exact-match tasks only: drops 0.2 and 0.1
    assert (
        "largest lesion effects are 10-20 points of exact match (JNLI 0.50 → 0.30 at b, BoolQ "
        "0.60 → 0.50 at a)"
    ) in note
