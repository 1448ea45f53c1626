"""The exact prompt of one test sample per task and llm-jp-eval version (``lmanatomy prompt``).

2023-11: the expected strings are written out from a real llm-jp-eval log of November 2023, the
run on ELYZA-japanese-Llama-2-7b-instruct in AUGMXNT/shisa (commit a8101645,
eval/logs/elyza-7b-instruct/output_eval.json, first record of each task, ``{input}`` filled in).
v1.1: the layout written out, the sample and few-shot read from the demo files independently of
the project's loaders (JSON lines, ``random.Random(42).shuffle`` of the train rows).
"""

import json
import random

import pytest

from conftest import REPO
from lmanatomy.cli import main
from lmanatomy.evaluation import render_prompt

PAPER = str(REPO / "config" / "papers" / "harada2024.yaml")
DEFAULT = str(REPO / "config" / "config.yaml")

HEAD_2023 = "以下はタスクを説明する指示と、追加の背景情報を提供する入力の組み合わせです。要求を適切に満たす回答を書いてください。\n### 指示\n"
JNLI_INSTRUCTION = (
    "前提と仮説の関係をentailment、contradiction、neutralの中から回答してください。それ以外には何も含めないことを厳守してください。\n\n"
    "制約：\n- 前提から仮説が、論理的知識や常識的知識を用いて導出可能である場合はentailmentと出力\n"
    "- 前提と仮説が両立しえない場合はcontradictionと出力\n- そのいずれでもない場合はneutralと出力"
)
LOGGED = {
    "jcommonsenseqa": (
        HEAD_2023
        + "質問と回答の選択肢を入力として受け取り、選択肢から回答を選択してください。なお、回答は選択肢の番号（例：0）でするものとします。 "
        "回答となる数値をint型で返し、他には何も含めないことを厳守してください。"
        "\n\n### 入力：\n質問：主に子ども向けのもので、イラストのついた物語が書かれているものはどれ？\n選択肢：0.世界,1.写真集,2.絵本,3.論文,4.図鑑\n### 回答：\n2"
        "\n\n### 入力：\n質問：未成年者を監護・教育し，彼らを監督し，彼らの財産上の利益を守る法律上の義務をもつ人は？\n"
        "選択肢：0.浮浪者,1.保護者,2.お坊さん,3.宗教者,4.預言者\n### 回答：\n1"
        "\n\n### 入力：\n質問：数字の１を表すときに使う体は？\n選択肢：0.胸,1.肉球,2.背中,3.人差し指,4.親指\n### 回答：\n3"
        "\n\n### 入力：\n質問：火を起こすとあらわれるもくもくするものは？\n選択肢：0.歯の変色,1.ガス,2.中毒,3.爆発,4.煙\n### 回答：\n4"
        "\n\n### 入力：\n質問：電子機器で使用される最も主要な電子回路基板の事をなんと言う？\n"
        "選択肢：0.掲示板,1.パソコン,2.マザーボード,3.ハードディスク,4.まな板\n### 回答：\n",
        "2",
    ),
    "jsts": (
        HEAD_2023
        + "日本語の文ペアの意味がどのくらい近いかを判定し、類似度を0〜5までの間の値で付与してください。0に近いほど文ペアの意味が異なり、"
        "5に近いほど文ペアの意味が似ていることを表しています。整数値のみを返し、それ以外には何も含めないことを厳守してください。"
        "\n\n### 入力：\n文1：川べりでサーフボードを持った人たちがいます。\n文2：トイレの壁に黒いタオルがかけられています。\n### 回答：\n0.0"
        "\n\n### 入力：\n文1：二人の男性がジャンボジェット機を見ています。\n文2：2人の男性が、白い飛行機を眺めています。\n### 回答：\n3.799999952316284"
        "\n\n### 入力：\n文1：男性が子供を抱き上げて立っています。\n文2：坊主頭の男性が子供を抱いて立っています。\n### 回答：\n4.0"
        "\n\n### 入力：\n文1：野球の打者がバットを構えている横には捕手と審判が構えており、右端に次の打者が控えています。\n"
        "文2：野球の試合で打者がバットを構えています。\n### 回答：\n2.200000047683716"
        "\n\n### 入力：\n文1：レンガの建物の前を、乳母車を押した女性が歩いています。\n文2：厩舎で馬と女性とが寄り添っています。\n### 回答：\n",
        "0.0",
    ),
    "jnli": (
        HEAD_2023
        + JNLI_INSTRUCTION
        + "\n\n### 入力：\n前提：柵で囲まれたテニスコートでは、女子シングルスが行われています。\n仮説：柵で囲まれたテニスコートでは、女子ダブルスが行われています。\n### 回答：\ncontradiction"
        "\n\n### 入力：\n前提：二人の男性がジャンボジェット機を見ています。\n仮説：2人の男性が、白い飛行機を眺めています。\n### 回答：\nneutral"
        "\n\n### 入力：\n前提：坊主頭の男性が子供を抱いて立っています。\n仮説：男性が子供を抱き上げて立っています。\n### 回答：\nentailment"
        "\n\n### 入力：\n前提：手すりにクマのぬいぐるみが引っかかっている。\n仮説：柵の間にはクマのぬいぐるみがはさんでおいてあります。\n### 回答：\nneutral"
        "\n\n### 入力：\n前提：時計がついている場所にパブリックマーケットセンターとかかれた看板が設置されています。\n"
        "仮説：屋根の上に看板があり時計もついています。\n### 回答：\n",
        "neutral",
    ),
}
JNLI_TRAIN = "jglue/jnli-v1.1/train-v1.1.json"


def _prompt(capsys, monkeypatch, *argv):
    monkeypatch.chdir(REPO)
    assert main(["prompt", *argv]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("task", ["jcommonsenseqa", "jsts"])
def test_paper_config_sends_the_logged_late_2023_prompt(task, shared_data, capsys, monkeypatch):
    out = _prompt(capsys, monkeypatch, PAPER, task, "0", "--data-root", str(shared_data))
    prompt, gold = LOGGED[task]
    assert out["prompt"] == prompt and out["gold"] == gold and out["llm_jp_eval"] == "2023-11"
    assert len(out["few_shots"]) == 4


def test_paper_config_jnli_uses_the_fixed_train_rows(shared_data, capsys, monkeypatch):
    """JNLI's fixed few-shots are rows of JNLI train, which
    ../shared/data lacks: the downloaded upstream file serves."""
    places = [shared_data / JNLI_TRAIN, REPO / "data" / "raw" / JNLI_TRAIN]
    if not any(p.is_file() for p in places):
        pytest.skip(
            f"JNLI train ({JNLI_TRAIN}) is in neither {places[0].parent} nor {places[1].parent}: the "
            "2023-11 few-shots need it (the workflow downloads it, pinned to JGLUE commit 28cfe195 and its git blob id)"
        )
    out = _prompt(capsys, monkeypatch, PAPER, "jnli", "0", "--data-root", str(shared_data))
    assert (out["prompt"], out["gold"]) == LOGGED["jnli"]


def test_paper_config_jnli_without_the_train_file_is_a_clear_error(
    shared_data, capsys, monkeypatch
):
    if (REPO / "data" / "raw" / JNLI_TRAIN).is_file() or (shared_data / JNLI_TRAIN).is_file():
        pytest.skip("JNLI train is present here")
    import importlib

    monkeypatch.setattr(
        importlib.import_module("lmanatomy.data.download"), "download", _no_network
    )  # never the network
    monkeypatch.chdir(REPO)
    assert main(["prompt", PAPER, "jnli", "0", "--data-root", str(shared_data)]) == 2
    err = capsys.readouterr().err
    assert JNLI_TRAIN in err and "2023-11" in err and "no network here" in err


def _no_network(*args, **kwargs):
    raise OSError("no network here")


def _json_lines(path):
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


V11_HEAD = "以下は、タスクを説明する指示と、文脈のある入力の組み合わせです。要求を適切に満たす応答を書きなさい。\n\n### 指示:\n"
V11_INPUTS = {
    "jnli": lambda r: (f"前提：{r['sentence1']}\n仮説：{r['sentence2']}", r["label"]),
    "jsts": lambda r: (f"文1：{r['sentence1']}\n文2：{r['sentence2']}", str(float(r["label"]))),
    "jcommonsenseqa": lambda r: (
        f"質問：{r['question']}\n選択肢：" + ",".join(f"{i}.{r[f'choice{i}']}" for i in range(5)),
        str(r["label"]),
    ),
}


@pytest.mark.parametrize("task", sorted(V11_INPUTS))
def test_default_config_sends_the_v1_1_prompt(task, capsys, monkeypatch):
    """Default config: the real subsets, 1-shot; the shot is the first
    train row after llm-jp-eval's seed-42 shuffle (JNLI has no train
    file: the last 10% of valid are held out as its train split)."""
    from lmanatomy.evaluation.tasks import TASKS

    folder = REPO / "data" / "real" / "jglue" / f"{task}-v1.1"
    valid = _json_lines(folder / "valid-v1.1.json")
    if (folder / "train-v1.1.json").is_file():
        train = _json_lines(folder / "train-v1.1.json")
    else:
        held = len(valid) // 10
        train, valid = valid[-held:], valid[:-held]
    random.Random(42).shuffle(train)
    shot, sample = V11_INPUTS[task](train[0]), V11_INPUTS[task](valid[0])
    expected = (
        V11_HEAD
        + TASKS[task].instruction
        + f"\n\n### 入力:\n{shot[0]}\n\n### 応答:\n{shot[1]}"
        + f"\n\n### 入力:\n{sample[0]}\n\n### 応答:\n"
    )
    out = _prompt(capsys, monkeypatch, DEFAULT, task, "0")
    assert (out["prompt"], out["gold"], out["llm_jp_eval"]) == (expected, sample[1], "v1.1")


def test_english_analogues_of_both_layouts():
    shots = [{"input": "Question: a?", "output": "yes"}]
    head = (
        "Below is an instruction that describes a task, paired with an input that provides further context. "
        "Write a response that appropriately completes the request."
    )
    assert render_prompt("Do it.", shots, "Question: b?", "en", "2023-11") == (
        head
        + "\n### Instruction\nDo it.\n\n### Input:\nQuestion: a?\n### Response:\nyes\n\n### Input:\nQuestion: b?\n### Response:\n"
    )
    assert render_prompt("Do it.", shots, "Question: b?", "en", "v1.1") == (
        head
        + "\n\n### Instruction:\nDo it.\n\n### Input:\nQuestion: a?\n\n### Response:\nyes\n\n### Input:\nQuestion: b?\n\n### Response:\n"
    )


@pytest.mark.parametrize(
    "argv, words",
    [
        (["jnli", "99"], "test samples 0..3"),
        (["squad", "0"], "not a task of this config"),
    ],
)
def test_bad_task_or_index_is_one_clear_line(argv, words, capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    assert main(["prompt", DEFAULT, *argv]) == 2
    assert words in capsys.readouterr().err


def test_fixed_few_shot_rows_missing_from_the_data_are_named():
    import pandas as pd

    from lmanatomy.errors import DataError
    from lmanatomy.evaluation import TASKS, build_task

    frame = pd.DataFrame(
        [
            {
                "id": f"{s}/{i}",
                "split": s,
                "question": "q",
                **{f"choice{c}": "c" for c in range(5)},
                "label": 0,
            }
            for s in ("train", "valid")
            for i in range(3)
        ]
    )
    with pytest.raises(DataError, match="train/3"):  # the version's 4th fixed row is absent
        build_task(TASKS["jcommonsenseqa"], frame, 4, "2023-11")
    with pytest.raises(DataError, match="fixes 4 few-shots"):
        build_task(TASKS["jcommonsenseqa"], frame, 5, "2023-11")


def _write_jnli(folder, rows):
    folder.mkdir(parents=True, exist_ok=True)
    keys = {"sentence_pair_id": "0", "yjcaptions_id": "0-0-0"}
    (folder / "train-v1.1.json").write_text(
        "".join(
            json.dumps(
                {
                    **keys,
                    "sentence_pair_id": str(i),
                    "sentence1": a,
                    "sentence2": b,
                    "label": label,
                },
                ensure_ascii=False,
            )
            + "\n"
            for i, (a, b, label) in enumerate(rows)
        ),
        encoding="utf-8",
    )


def test_fixed_jnli_rows_come_from_the_train_file_of_another_root(tmp_path):
    """A dataset without JNLI train: the version's rows are found by their
    sentences in the upstream file, their labels read from it (here a stand-in
    file whose labels differ from the log's, to show they are read)."""
    import pandas as pd

    from lmanatomy.evaluation import TASKS, build_task, fixed_fewshot_frame
    from lmanatomy.evaluation.versions import VERSIONS

    pairs = VERSIONS["2023-11"].fixed_few_shots["jnli"].rows
    _write_jnli(
        tmp_path / "jglue" / "jnli-v1.1",
        [("他の文。", "別の文。", "neutral")] + [(a, b, "entailment") for a, b in reversed(pairs)],
    )
    valid = pd.DataFrame(
        [
            {
                "id": "valid/0",
                "split": "valid",
                "sentence1": "前",
                "sentence2": "後",
                "label": "neutral",
            }
        ]
    )
    shots = fixed_fewshot_frame("jnli", "2023-11", valid, str(tmp_path), download=False)
    files, info = build_task(TASKS["jnli"], valid, 4, "2023-11", shots)
    assert [s["input"] for s in files["test"]["few_shots"]] == [
        f"前提：{a}\n仮説：{b}" for a, b in pairs
    ]
    assert {s["output"] for s in files["test"]["few_shots"]} == {"entailment"}
    assert "train-v1.1.json" in info["fewshot_source"] and files["test"]["samples"] == [
        {"input": "前提：前\n仮説：後", "output": "neutral"}
    ]
    assert (
        fixed_fewshot_frame("jsts", "v1.1", valid, str(tmp_path)) is None
    )  # v1.1 fixes no few-shots


def test_workflow_downloads_the_fixed_few_shot_file_only_when_the_root_lacks_it(tmp_path):
    from lmanatomy.lesion.config import fewshot_download

    config = {
        "data_root": str(tmp_path),
        "datasets": {"jnli": {"format": "jnli"}, "jsts": {"format": "jsts"}},
        "lesion": {
            "llm_jp_eval": "2023-11",
            "tasks": {"jnli": {"dataset": "jnli"}, "jsts": {"dataset": "jsts"}},
        },
    }
    assert fewshot_download(config, "jnli") == ["data/raw/jglue/jnli-v1.1/train-v1.1.json"]
    _write_jnli(tmp_path / "jglue" / "jnli-v1.1", [("a", "b", "neutral")])
    assert fewshot_download(config, "jnli") == []
    config["lesion"]["llm_jp_eval"] = "v1.1"
    assert fewshot_download(config, "jsts") == []


@pytest.mark.parametrize("task", ["jcommonsenseqa", "jsts"])
def test_the_committed_real_subsets_give_the_logged_2023_11_few_shots(task, capsys, monkeypatch):
    """data/real keeps the train rows 2023-11 fixes as
    few-shots: each shot is in the logged prompt, in order."""
    out = _prompt(capsys, monkeypatch, PAPER, task, "0", "--data-root", str(REPO / "data" / "real"))
    logged = LOGGED[task][0]
    blocks = [
        f"\n\n### 入力：\n{shot['input']}\n### 回答：\n{shot['output']}"
        for shot in out["few_shots"]
    ]
    assert len(blocks) == 4 and all(block in logged for block in blocks)
    assert [logged.index(block) for block in blocks] == sorted(
        logged.index(block) for block in blocks
    )
