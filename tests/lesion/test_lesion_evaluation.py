"""The llm-jp-eval-compatible harness: prompts byte for byte, task files, scoring, generation."""

import math
import random
import re

import pandas as pd
import pytest

from conftest import SHARED_DATA
from lmanatomy.errors import DataError
from lmanatomy.evaluation import (
    TASKS,
    GenerationSettings,
    build_task,
    generate,
    render_prompt,
    score,
)
from lmanatomy.evaluation.scoring import parse_float, postprocess

SPEC = SHARED_DATA.parent / "specs" / "lesion.md"  # ../shared/specs beside the data, when present

# Literal strings of the spec (../shared/specs/lesion.md), with its "\n" written as Python escapes.
HEADER = (
    "以下は、タスクを説明する指示と、文脈のある入力の組み合わせです。"
    "要求を適切に満たす応答を書きなさい。"
)
JNLI = (
    "前提と仮説の関係をentailment、contradiction、neutralの中から回答してください。それ以外には何も含めないことを厳守してください。\n\n"
    "制約：\n- 前提から仮説が、論理的知識や常識的知識を用いて導出可能である場合はentailmentと出力\n"
    "- 前提と仮説が両立しえない場合はcontradictionと出力\n- そのいずれでもない場合はneutralと出力"
)
JSTS = (
    "日本語の文ペアの意味がどのくらい近いかを判定し、類似度を0.0〜5.0までの間の値で付与してください。0.0に近いほど文ペアの意味が異なり、"
    "5.0に近いほど文ペアの意味が似ていることを表しています。整数値のみを返し、それ以外には何も含めないことを厳守してください。"
)
JCQA = (
    "質問と回答の選択肢を入力として受け取り、選択肢から回答を選択してください。"
    "なお、回答は選択肢の番号（例：0）でするものとします。 "
    "回答となる数値をint型で返し、他には何も含めないことを厳守してください。"
)


def test_instructions_are_the_specs():
    assert TASKS["jnli"].instruction == JNLI
    assert TASKS["jsts"].instruction == JSTS
    assert TASKS["jcommonsenseqa"].instruction == JCQA
    assert (TASKS["jnli"].metrics, TASKS["jsts"].metrics, TASKS["jcommonsenseqa"].metrics) == (
        ("exact_match",),
        ("pearson", "spearman"),
        ("exact_match",),
    )


def test_instructions_match_the_spec_file_itself():
    if not SPEC.is_file():
        pytest.skip(f"{SPEC} is absent")
    text = SPEC.read_text(encoding="utf-8")
    for task in ("jnli", "jsts", "jcommonsenseqa"):
        literal = re.search(rf"^\* {task}: instruction 「(.+?)」", text, re.M).group(1)
        assert TASKS[task].instruction == literal.replace("\\n", "\n"), task
    header = re.search(r"^\* Prompt: 「(.+?)」", text, re.M).group(1).replace("\\n", "\n")
    assert render_prompt("{instruction}", [], "x").startswith(header)


def test_prompt_byte_for_byte():
    shots = [
        {"input": "前提：A\n仮説：B", "output": "entailment"},
        {"input": "前提：C\n仮説：D", "output": "neutral"},
    ]
    expected = (
        HEADER
        + "\n\n### 指示:\n"
        + JNLI
        + "\n\n### 入力:\n前提：A\n仮説：B\n\n### 応答:\nentailment"
        + "\n\n### 入力:\n前提：C\n仮説：D\n\n### 応答:\nneutral"
        + "\n\n### 入力:\n前提：E\n仮説：F\n\n### 応答:\n"
    )
    assert render_prompt(JNLI, shots, "前提：E\n仮説：F") == expected
    assert render_prompt("Do it.", [], "x", "en") == (
        "Below is an instruction that describes a task, paired with an input that provides "
        "further context. Write a response that appropriately completes the request.\n\n### "
        "Instruction:\nDo it.\n\n### Input:\nx\n\n### Response:\n"
    )


def test_inputs_byte_for_byte():
    row = {"sentence1": "犬が走る。", "sentence2": "猫が寝る。", "label": "neutral"}
    assert TASKS["jnli"].render(row) == ("前提：犬が走る。\n仮説：猫が寝る。", "neutral")
    assert TASKS["jsts"].render({**row, "label": 3.8}) == (
        "文1：犬が走る。\n文2：猫が寝る。",
        "3.8",
    )
    assert TASKS["jsts"].render({**row, "label": 4.0})[1] == "4.0"
    qa = {"question": "何？", **{f"choice{i}": f"c{i}" for i in range(5)}, "label": 3}
    assert TASKS["jcommonsenseqa"].render(qa) == (
        "質問：何？\n選択肢：0.c0,1.c1,2.c2,3.c3,4.c4",
        "3",
    )


# --- scoring -------------------------------------------------------------------------------------


def test_exact_match_cuts_at_the_first_blank_line():
    golds = ["entailment", "neutral", "contradiction", "neutral"]
    predictions = ["entailment\n\n### 入力:\n...", "neutral\nmore", "contradiction", " neutral"]
    # 1: extra text after a blank line is discarded; 2: a single newline is not a cut; 4: no strip.
    assert score("jnli", predictions, golds) == {"exact_match": 0.5}


def test_full_width_digits_are_normalised():
    assert score("jcommonsenseqa", ["３", "１\n\n２", "2"], ["3", "1", "4"]) == {
        "exact_match": pytest.approx(2 / 3)
    }
    assert postprocess("類似度は３．５です") == "類似度は3.5です"
    assert parse_float(postprocess("類似度は３．５です")) == 3.5


def test_float_parse():
    assert parse_float("4.0") == 4.0
    assert parse_float("わからない") == -2.0  # nothing left
    assert parse_float("3.5.1") == -2.0  # not a float after cleaning
    assert parse_float("-3") == 3.0  # the sign is deleted like every other non-[0-9.] character


def test_jsts_correlations_by_hand():
    golds = ["1.0", "2.0", "3.0"]
    # x = (1, 2, 3), y = (1, 2, 4): cov 3, var_x 2, var_y
    # 42/9 → r = 9 / sqrt(84); ranks equal → rho = 1.
    assert score("jsts", ["1", "2", "4"], golds) == {
        "pearson": pytest.approx(9 / math.sqrt(84)),
        "spearman": pytest.approx(1.0),
    }
    # Unparsable → -2: y = (1, -2, 3): cov 2, var_y 114/9 → r =
    # 6 / sqrt(228); ranks (2, 1, 3) → rho = 1 - 6·2/24 = 0.5.
    scores = score("jsts", ["1", "なし\n\n", "3"], golds)
    assert scores == {"pearson": pytest.approx(6 / math.sqrt(228)), "spearman": pytest.approx(0.5)}
    from scipy.stats import pearsonr, spearmanr

    assert scores["pearson"] == pytest.approx(pearsonr([1, 2, 3], [1, -2, 3])[0])
    assert scores["spearman"] == pytest.approx(spearmanr([1, 2, 3], [1, -2, 3])[0])


def test_nan_correlation_scores_zero():
    assert score("jsts", ["3", "3", "3"], ["1.0", "2.0", "4.0"]) == {
        "pearson": 0.0,
        "spearman": 0.0,
    }


def test_bootstrap_interval_against_a_plain_loop_and_scipy():
    import numpy as np
    from scipy.stats import bootstrap

    from lmanatomy.evaluation.scoring import bootstrap_interval

    golds = ["a", "b"] * 25
    predictions = ["a"] * 30 + ["b"] * 20  # right on 15 of the first 30 and 10 of the last 20: 0.5
    correct = [p == g for p, g in zip(predictions, golds, strict=True)]
    # The same seeded draws, averaged by a plain loop, and the 2.5 / 97.5 percentiles.
    draws = np.random.default_rng(0).integers(0, 50, size=(1000, 50))
    means = sorted(sum(correct[i] for i in row) / 50 for row in draws)
    assert bootstrap_interval("exact_match", predictions, golds) == pytest.approx(
        tuple(np.quantile(means, [0.025, 0.975]))
    )
    # scipy's percentile bootstrap (its own draws) agrees to within resampling noise.
    ref = bootstrap(
        (np.array(correct, dtype=float),),
        np.mean,
        n_resamples=4000,
        method="percentile",
        random_state=1,
    )
    low, high = bootstrap_interval("exact_match", predictions, golds)
    assert (
        abs(low - ref.confidence_interval.low) < 0.03
        and abs(high - ref.confidence_interval.high) < 0.03
    )
    assert bootstrap_interval("exact_match", golds, golds) == (1.0, 1.0)  # nothing varies


def test_undefined_correlation_and_the_constant_answer_baseline():
    from lmanatomy.evaluation.scoring import majority_baseline, undefined_correlation

    assert undefined_correlation(
        ["3", "3", "3"], ["1.0", "2.0", "4.0"]
    )  # constant predictions: llm-jp-eval's 0
    assert undefined_correlation(
        ["わからない", "なし", "?"], ["1.0", "2.0", "4.0"]
    )  # all unparsable → all -2
    assert not undefined_correlation(["3", "1", "3"], ["1.0", "2.0", "4.0"])
    assert (
        majority_baseline("exact_match", ["neutral", "entailment", "neutral", "contradiction"])
        == 0.5
    )
    assert majority_baseline("pearson", ["1.0", "2.0"]) == 0.0


def test_fewshot_repeat_and_majority_baselines_by_hand():
    from lmanatomy.evaluation.scoring import (
        bootstrap_interval,
        fewshot_repeat_baseline,
        majority_answer,
    )

    golds = ["yes", "no", "no", "yes", "no"]
    assert (
        majority_answer(golds) == "no" and majority_answer(["b", "a"]) == "a"
    )  # ties: sorted, not sample order
    assert fewshot_repeat_baseline("exact_match", golds, ["no", "yes"]) == (
        "yes",
        2 / 5,
    )  # the LAST shot's answer
    assert fewshot_repeat_baseline("pearson", ["1.0", "2.0", "4.0"], ["3"]) == (
        "3",
        0.0,
    )  # constant: undefined → 0
    # Its interval: the bootstrap of the constant answer's
    # 0/1 hits (a plain loop over the same seeded draws).
    import numpy as np

    draws = np.random.default_rng(0).integers(0, 5, size=(1000, 5))
    hits = [g == "yes" for g in golds]
    means = [sum(hits[i] for i in row) / 5 for row in draws]
    assert bootstrap_interval("exact_match", ["yes"] * 5, golds) == pytest.approx(
        tuple(np.quantile(means, [0.025, 0.975]))
    )
    with pytest.raises(ValueError, match="few-shot answer"):
        fewshot_repeat_baseline("exact_match", golds, [])


def test_score_input_errors():
    with pytest.raises(ValueError, match="2 predictions for 1 golds"):
        score("jnli", ["a", "b"], ["a"])
    with pytest.raises(DataError, match="unknown task"):
        score("nope", ["a"], ["a"])


# --- task files ----------------------------------------------------------------------------------


def _jnli_frame(train: int, valid: int) -> pd.DataFrame:
    labels = ["entailment", "contradiction", "neutral"]
    rows = [
        {
            "id": f"{split}-{i}",
            "split": split,
            "sentence1": f"{split}前提{i}",
            "sentence2": f"仮説{i}",
            "label": labels[i % 3],
        }
        for split, n in (("train", train), ("valid", valid))
        for i in range(n)
    ]
    return pd.DataFrame(rows)


def test_splits_follow_llm_jp_eval():
    files, info = build_task(TASKS["jnli"], _jnli_frame(30, 12), num_few_shots=4)
    assert set(files) == {"train", "dev", "test"}
    assert all(
        set(f) == {"instruction", "output_length", "metrics", "few_shots", "samples", "llm_jp_eval"}
        for f in files.values()
    )
    assert {f["llm_jp_eval"] for f in files.values()} == {"v1.1"} and info["llm_jp_eval"] == "v1.1"
    # test = valid in file order
    assert [s["input"] for s in files["test"]["samples"]] == [
        f"前提：valid前提{i}\n仮説：仮説{i}" for i in range(12)
    ]
    # train/dev = train shuffled the way llm-jp-eval does it (global random.seed(42)), 90 / 10
    train = [f"前提：train前提{i}\n仮説：仮説{i}" for i in range(30)]
    random.seed(42)
    random.shuffle(train)
    assert [s["input"] for s in files["train"]["samples"]] == train[:27]
    assert [s["input"] for s in files["dev"]["samples"]] == train[27:]
    assert files["test"]["few_shots"] == files["train"]["samples"][:4]
    assert files["test"]["output_length"] == 3 and "upstream" in info["fewshot_source"]


def test_without_train_split_few_shots_come_from_held_out_valid():
    files, info = build_task(TASKS["jnli"], _jnli_frame(0, 100), num_few_shots=4)
    # The last max(100 // 10, 2·4) = 10 rows are held out; the evaluated samples keep their order.
    assert [s["input"] for s in files["test"]["samples"]][:3] == [
        f"前提：valid前提{i}\n仮説：仮説{i}" for i in range(3)
    ]
    assert len(files["test"]["samples"]) == 90
    shots = {s["input"] for s in files["test"]["few_shots"]}
    assert shots <= {f"前提：valid前提{i}\n仮説：仮説{i}" for i in range(90, 100)}
    assert "held out" in info["fewshot_source"] and any("held-out" in n for n in info["notes"])


def test_too_few_rows_is_a_data_error():
    with pytest.raises(DataError, match="num_few_shots"):
        build_task(TASKS["jnli"], _jnli_frame(3, 10), num_few_shots=4)
    with pytest.raises(DataError, match="split"):
        build_task(TASKS["jnli"], _jnli_frame(10, 0), num_few_shots=1)


def test_english_tasks_render():
    boolq = {
        "question": "is water wet",
        "passage": "Water -- It is.",
        "title": "Water",
        "label": True,
    }
    assert TASKS["boolq"].render(boolq) == (
        "Passage: Water -- It is.\nQuestion: is water wet?",
        "yes",
    )
    assert TASKS["boolq"].render({**boolq, "label": "false"})[1] == "no"
    mmlu = {"question": "2+2?", "A": "3", "B": "4", "C": "5", "D": "6", "label": "B"}
    assert TASKS["mmlu"].render(mmlu) == ("Question: 2+2?\nChoices: A.3,B.4,C.5,D.6", "B")


# --- generation ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny64(tokenizer):
    from lmanatomy.testing import tiny_model

    model, tok = tiny_model(
        "llama", tokenizer=tokenizer, seed=1, layers=2, hidden=32, ff=64, head_dim=8
    )
    # float64 so that no near-tie flips between computation orders; SDPA because transformers' eager
    # float64 mask overflows to NaN on fully padded query rows (float32 is fine either way).
    model.config._attn_implementation = "sdpa"
    return model.double(), tok


def test_shared_prefix_generation_equals_plain_left_padding(tiny64):
    """Sharing the few-shot prefix's KV cache gives the
    reference's tokens (float64, so no near-ties flip)."""
    model, tok = tiny64
    shots = [{"input": f"前提：文{i}\n仮説：文", "output": "neutral"} for i in range(2)]
    prompts = [
        render_prompt(JNLI, shots, text)
        for text in ("前提：犬\n仮説：猫", "前提：とても長い入力の文です\n仮説：短い", "x")
    ]
    settings = GenerationSettings(batch_size=2, stop_at_blank_line=False)
    shared = generate(model, tok, prompts, 6, settings)
    plain = generate(
        model,
        tok,
        prompts,
        6,
        GenerationSettings(batch_size=2, share_prefix=False, stop_at_blank_line=False),
    )
    one_by_one = [
        generate(
            model, tok, [p], 6, GenerationSettings(share_prefix=False, stop_at_blank_line=False)
        )[0]
        for p in prompts
    ]
    assert shared == plain == one_by_one


def test_stops_once_a_blank_line_appears(tiny64):
    model, tok = tiny64
    prompts = ["The quick brown fox", "Question: is the sky blue? Answer:"]
    full = generate(model, tok, prompts, 12, GenerationSettings(stop_at_blank_line=False))
    stopped = generate(model, tok, prompts, 12, GenerationSettings())
    for long, short in zip(full, stopped, strict=True):
        assert long.startswith(short)
        assert postprocess(long) == postprocess(short)  # nothing that is scored is lost
        if "\n\n" in long:
            assert short.count("\n\n") >= 1 and len(short) <= len(long)


def test_generation_is_deterministic_and_in_input_order(tiny64):
    model, tok = tiny64
    prompts = ["a", "bbbbbbbbbb", "cc", "ddd dd"]
    out = generate(model, tok, prompts, 4, GenerationSettings(batch_size=3))
    assert out == generate(model, tok, prompts, 4, GenerationSettings(batch_size=1))
    assert [generate(model, tok, [p], 4)[0] for p in prompts] == out


# --- real files -----------------------------------------------------------------------------------


@pytest.mark.parametrize("task", sorted(TASKS))
def test_every_task_builds_from_the_demo_data(repo, task):
    from lmanatomy.data import load

    spec = TASKS[task]
    files, info = build_task(spec, load(spec.format, repo / "data" / "demo"), num_few_shots=4)
    test = files["test"]
    assert len(test["samples"]) > 0 and len(test["few_shots"]) == 4
    assert all(s["output"] for s in test["samples"])
    if task == "jnli":  # the demo has a JNLI train split: valid is the test set, in file order
        assert "upstream" in info["fewshot_source"] and test["samples"][0]["input"].startswith(
            "前提："
        )


@pytest.mark.shared_data
def test_real_jnli_without_train_split_holds_out_the_end_of_valid(shared_data):
    from lmanatomy.data import load

    frame = load("jnli", shared_data)
    assert set(frame["split"]) == {"valid"}  # the real-data folder lacks JNLI train
    files, info = build_task(TASKS["jnli"], frame, num_few_shots=4)
    valid = frame[frame["split"] == "valid"]
    first = valid.iloc[0]
    assert files["test"]["samples"][0] == {
        "input": f"前提：{first['sentence1']}\n仮説：{first['sentence2']}",
        "output": first["label"],
    }
    assert len(files["test"]["samples"]) == len(valid) - len(valid) // 10
    assert "held out" in info["fewshot_source"]


def test_sampling_is_a_seeded_setting(tiny64):
    model, tok = tiny64
    prompts = ["The quick brown fox", "素早い茶色の狐"]
    sampled = GenerationSettings(
        do_sample=True, temperature=1.5, top_p=0.9, seed=7, stop_at_blank_line=False
    )
    assert generate(model, tok, prompts, 8, sampled) == generate(model, tok, prompts, 8, sampled)
    assert sampled.to_dict()["temperature"] == 1.5 and sampled.to_dict()["do_sample"] is True
