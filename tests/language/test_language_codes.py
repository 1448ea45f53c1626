"""Any language: study languages map to fastText lid.176
labels, checked against the model and hand picks."""

import re
from pathlib import Path

import pytest

from lmanatomy.errors import ConfigError
from lmanatomy.language.codes import (
    FLORES_TO_LID,
    LID176_LABELS,
    lid_label,
    lid_labels,
    study_language,
)


def test_the_label_table_is_the_shipped_models():
    import fasttext

    from lmanatomy.language.lid import model_path

    labels = {
        label.removeprefix("__label__")
        for label in fasttext.load_model(str(model_path())).get_labels()
    }
    assert labels == LID176_LABELS and len(labels) == 176


def test_flores_codes_are_nllbs_and_map_to_existing_labels():
    import transformers.models.nllb.tokenization_nllb as nllb

    source = Path(nllb.__file__).read_text(encoding="utf-8").split("FAIRSEQ_LANGUAGE_CODES")[1]
    flores = set(re.findall(r"[a-z]{3}_[A-Z][a-z]{3}", source))
    assert set(FLORES_TO_LID) <= flores
    assert set(FLORES_TO_LID.values()) <= LID176_LABELS


def test_flores_codes_agree_with_nltks_iso_639_table_where_lid176_has_the_two_letter_label():
    from nltk.langnames import iso639short

    for code, label in FLORES_TO_LID.items():
        two = iso639short.get(code[:3])
        if len(label) == 2 and two is not None and two in LID176_LABELS:
            assert label == two, code


@pytest.mark.parametrize(
    "lang, label",
    [
        ("en", "en"),
        ("ja", "ja"),
        ("ko", "ko"),
        ("kor_Hang", "ko"),
        ("eng_Latn", "en"),
        ("zho_Hans", "zh"),
        ("zho_Hant", "zh"),
        ("yue_Hant", "yue"),
        ("arb_Arab", "ar"),
        ("pes_Arab", "fa"),
        ("als_Latn", "sq"),
        ("nob_Latn", "no"),
        ("swh_Latn", "sw"),
        ("hau_Latn", None),
        ("ary_Arab", None),
        ("prs_Arab", None),
        ("klingon", None),
    ],
)
def test_hand_picked_labels(lang, label):
    assert lid_label(lang) == label


def test_languages_without_a_label_or_sharing_one_are_refused_naming_the_entry():
    assert lid_labels(["en", "kor_Hang"]) == {"en": "en", "kor_Hang": "ko"}
    with pytest.raises(ConfigError) as info:
        lid_labels(["en", "de", "hau_Latn"])
    assert (
        info.value.key == "language.languages[2]"
        and "'hau_Latn' has no fastText lid.176 label" in str(info.value)
    )
    with pytest.raises(ConfigError) as info:
        lid_labels(["zho_Hans", "zho_Hant"])
    assert info.value.key == "language.languages[1]" and "both lid.176's 'zh'" in str(info.value)


def test_lid_labels_read_back_as_study_languages():
    labels = {"en": "en", "kor_Hang": "ko"}
    assert study_language("ko", labels) == "kor_Hang"
    assert study_language("en", labels) == "en"
    assert study_language("fr", labels) == "fr"  # not a study language: its own label
    assert study_language(None, labels) is None
