"""The whole language chain on a tiny random model in seconds: store → AP → selection → tables,
figures → steered generation → language identification → Table 2 and Fig 5 points.

Extraction goes through the activation store API (lmanatomy.extract), as the workflow does. With
``../shared/data`` present, the same chain also runs on a sample of the real FLORES-200 dev files.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from conftest import REPO
from lmanatomy.extract import extract_dataset
from lmanatomy.language.neurons import NeuronTable
from lmanatomy.language.report import (
    activation_distributions,
    k_ablation,
    plot_activation_distributions,
    plot_k_ablation,
    plot_layer_histograms,
    target_probabilities,
)
from lmanatomy.language.selection import layer_histograms, overlap_table, select
from lmanatomy.language.steering import generate, plan
from lmanatomy.language.study import StackedStore, load_texts, rank, score_texts
from lmanatomy.testing import save_model_dir, tiny_model

LANGS = ["en", "de", "fr", "es", "zh", "ja"]
PROBE = {"modules": "linears", "pool": "mean"}


def _dataset(frame: pd.DataFrame, path) -> str:
    frame[["id", "text", "label", "lang"]].to_parquet(path, index=False)
    return str(path)


def _run_chain(tmp_path, data_paths, k=5, langs=LANGS):
    model, tokenizer = tiny_model("llama")
    model_dir = save_model_dir(model, tokenizer, tmp_path / "model")
    stores = [
        str(
            extract_dataset(model_dir, p, PROBE, tmp_path / f"store{i}", progress=False).path
            / "_manifest.json"
        )
        for i, p in enumerate(data_paths)
    ]
    table = NeuronTable.from_model(model)
    ranked, texts = rank(table, stores, data_paths, langs, memory_mb=1)
    assert len(ranked) == len(table)
    # AP through the store equals sklearn on the stored values, for a few neurons and languages.
    stacked = StackedStore(
        stores,
        load_texts(data_paths),
        [p.split("/")[-1].removesuffix(".parquet") for p in data_paths],
    )
    for index in (0, len(table) // 2, len(table) - 1):
        row = ranked.iloc[index]
        values = stacked.read(row["module"])[:, row["channel"]]
        for lang in ("en", "ja"):
            expected = average_precision_score(texts["lang"] == lang, values)
            assert abs(row[f"ap_{lang}"] - expected) <= 1e-9
            assert row[f"median_{lang}"] == pytest.approx(np.median(values[texts["lang"] == lang]))
    selection = select(ranked, langs, k)
    overlap = overlap_table(selection, langs, k)[langs].to_numpy()
    assert (overlap == overlap.T).all() and (np.diag(overlap) == 2 * k).all()
    counts = layer_histograms(ranked, langs, 10, table.num_layers)
    hist = activation_distributions(
        stacked.read, selection, stacked.texts["lang"].tolist(), langs, k, bins=8
    )
    plot_layer_histograms(counts, langs, 10, "tiny", tmp_path / "fig2.png", "tiny random model")
    plot_activation_distributions(hist, langs, k, "tiny", tmp_path / "fig4.png", None)
    requests = plan(langs, k, [1, k], [1, 2])
    generations = generate(
        model, tokenizer, requests, selection, batch_size=64, max_new_tokens=6, progress=False
    )
    assert len(generations) == len(requests) == 2 * (1 + len(langs) * 4)
    scored = score_texts(generations, str(model_dir), data_paths, langs, 0.5)
    block = target_probabilities(scored, langs, k)
    assert block["language"].tolist() == langs + ["mean"]
    assert (
        (
            (block[["before", "top", "bottom", "both"]] >= 0)
            & (block[["before", "top", "bottom", "both"]] <= 100)
        )
        .all()
        .all()
    )
    points = k_ablation(scored, langs, [1, k])
    plot_k_ablation(points, langs, "tiny", tmp_path / "fig5.png", None)
    for name in ("fig2.png", "fig4.png", "fig5.png"):
        assert (tmp_path / name).stat().st_size > 0
    return ranked


def test_chain_on_a_tiny_model(tmp_path):
    from lmanatomy.data import load

    frame = load("flores200", REPO / "data" / "demo", splits=["dev"], languages=LANGS)
    sample = frame.groupby("lang", sort=False).head(8)
    # Two datasets read as one (as FLORES-200 and PAWS-X would be): rows keep their language.
    first = _dataset(sample.iloc[::2], tmp_path / "flores.parquet")
    second = _dataset(sample.iloc[1::2], tmp_path / "other.parquet")
    ranked = _run_chain(tmp_path, [first, second])
    assert ranked[[f"ap_{lang}" for lang in LANGS]].to_numpy().max() <= 1.0


def test_chain_on_real_flores(tmp_path, shared_data):
    from lmanatomy.data import load

    frame = load("flores200", shared_data, splits=["dev"], languages=LANGS)
    assert frame.groupby("lang").size().min() == 997
    sample = frame.groupby("lang", sort=False).sample(n=10, random_state=0)
    _run_chain(tmp_path, [_dataset(sample, tmp_path / "flores.parquet")])


KOREAN = [
    "오늘은 날씨가 아주 좋습니다.",
    "우리는 공원에 산책하러 갑니다.",
    "이 책은 정말 재미있어요.",
    "저는 매일 아침 커피를 마십니다.",
    "기차가 역에 도착했습니다.",
    "내일은 비가 올 것 같아요.",
    "그녀는 한국어를 배우고 있습니다.",
    "시장에서 과일을 샀어요.",
]


def test_chain_with_a_seventh_language_from_a_jsonl_lang_column(tmp_path):
    """Any language: Korean texts from a generic jsonl
    (``lang: kor_Hang``) beside the demo FLORES six."""
    import json

    from lmanatomy.data import load, prepare_dataset

    (tmp_path / "ko.jsonl").write_text(
        "".join(
            json.dumps({"sentence": t, "language": "kor_Hang"}, ensure_ascii=False) + "\n"
            for t in KOREAN
        ),
        encoding="utf-8",
    )
    korean = prepare_dataset(
        {
            "format": "jsonl",
            "files": ["ko.jsonl"],
            "columns": {"text": "sentence", "lang": "language"},
        },
        tmp_path,
    ).table.to_pandas()
    flores = (
        load("flores200", REPO / "data" / "demo", splits=["dev"], languages=LANGS)
        .groupby("lang", sort=False)
        .head(8)
    )
    langs = LANGS + ["kor_Hang"]
    paths = [
        _dataset(flores, tmp_path / "flores.parquet"),
        _dataset(korean, tmp_path / "korean.parquet"),
    ]
    ranked = _run_chain(tmp_path, paths, langs=langs)
    assert "ap_kor_Hang" in ranked.columns
