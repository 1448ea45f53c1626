"""plan → prune → save → reload → evaluate → Table 1, on a tiny model in seconds; and the table's layout."""

import json

import pandas as pd
import pytest
import torch

from lmanatomy.evaluation import GenerationSettings, TASKS, build_task, evaluate
from lmanatomy.lesion import ORIGINAL, base_reference, load_pruned, plan_variants, prune_checkpoint, save_pruned, shape_map
from lmanatomy.lesion.report import fewshot_table, figure, shares_table, table1
from lmanatomy.models import load_model
from lmanatomy.testing import save_model_dir, tiny_model


def _frames():
    jsts = pd.DataFrame(
        [{"split": s, "sentence1": f"文{i}", "sentence2": "文", "label": float(i % 6)} for s, n in (("train", 4), ("valid", 4)) for i in range(n)]
    )
    mmlu = pd.DataFrame(
        [{"split": s, "question": f"{i}+1?", "A": str(i), "B": str(i + 1), "C": "x", "D": "y", "label": "B"}
         for s, n in (("dev", 4), ("test", 4)) for i in range(n)]
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
    model, tok = tiny_model("llama", tokenizer=tokenizer, seed=2, layers=4, hidden=32, ff=64, num_attention_heads=4,
                            num_key_value_heads=4, head_dim=8)
    base = save_model_dir(model, tok, tmp_path / "base")
    plans = plan_variants(model, [0.05, 0.1], [[0, 1], [2, 3]])
    tasks = {name: build_task(TASKS[name], frame, num_few_shots=1)[0]["test"] for name, frame in _frames().items()}
    settings = GenerationSettings(max_new_tokens=4, batch_size=4)

    original, tok = load_model(base)
    _, summaries = evaluate(original, tok, tasks, settings)
    scores = {ORIGINAL: summaries}
    for variant, plan in plans.items():
        tensors, records = prune_checkpoint(base, plan)
        out = save_pruned(tmp_path / variant, tensors, shape_map(plan, records, base_reference(base)))
        pruned, tok = load_pruned(out)
        predictions, scores[variant] = evaluate(pruned, tok, tasks, settings)
        assert len(predictions) == 8 and set(predictions["task"]) == {"jsts", "mmlu"}
        assert json.dumps(scores[variant])  # plain JSON-able summaries

    frame, bold = table1(scores, plans, ["jsts", "mmlu"])
    assert list(frame.columns) == ["task", "metric", "original", "5.0% 0-1", "5.0% 2-3", "10.0% 0-1", "10.0% 2-3"]
    assert list(frame["task"]) == ["JSTS", "MMLU"] and list(frame["metric"]) == ["Pearson", "exact match"]
    assert not bold["original"].any() and bold[["5.0% 0-1", "5.0% 2-3"]].any(axis=1).all()
    assert frame.loc[1, "original"] == scores[ORIGINAL][1]["exact_match"]
    shares = shares_table(plans)
    assert list(shares["lesion"]) == list(plans)
    assert fewshot_table(scores, plans, ["jsts", "mmlu"]).shape == frame.shape
    figure(frame, plans, "tiny", "a note", str(tmp_path / "fig.png"))
    assert (tmp_path / "fig.png").stat().st_size > 0


def _plans(registry):
    return plan_variants(registry["smollm2-135m"], [0.005, 0.02], [[4, 8], [9, 13]])


def _scores(values):
    """variant → summaries with exact_match values for jnli."""
    return {v: [{"task": "jnli", "exact_match": x, "fewshot_answer_share": 0.0}] for v, x in values.items()}


def test_bold_marks_the_best_per_share_with_ties(registry):
    plans = _plans(registry)
    scores = _scores({ORIGINAL: 0.9, "0.5pct_L4-8": 0.3, "0.5pct_L9-13": 0.5, "2pct_L4-8": 0.2, "2pct_L9-13": 0.2})
    frame, bold = table1(scores, plans, ["jnli"])
    assert bold.loc[0].to_dict() == {
        "task": False, "metric": False, "original": False,
        "0.5% 4-8": False, "0.5% 9-13": True, "2.0% 4-8": True, "2.0% 9-13": True,
    }


def test_shares_table_checks_measured_counts(registry):
    plans = _plans(registry)
    table = shares_table(plans, {k: p.removed_parameters for k, p in plans.items()})
    assert table["achieved_percent"].iloc[0] == pytest.approx(100 * 5 * 63 * 1728 / 134_515_008)
    with pytest.raises(ValueError, match="the plan says"):
        shares_table(plans, {k: 0 for k in plans})
