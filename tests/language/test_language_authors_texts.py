"""The authors' own texts (kojima-takeshi188/lang_neuron,
assets/Language/sense/<lang>.json) as a dataset.

Files in the authors' layout are written here; the pinned download is checked with ``file://``
URLs (no network): the right bytes are accepted,
other bytes refused naming the file and both hashes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from lmanatomy.data import UPSTREAM, fetch, load, resolve, sha256_file
from lmanatomy.data.download import git_blob_sha1
from lmanatomy.data.layout import dataset_input_paths
from lmanatomy.data.upstream import LANG_NEURON_COMMIT, LANG_NEURON_DIR, LANG_NEURON_FILES
from lmanatomy.errors import DataError

PAPER_CONFIG = REPO / "config" / "papers" / "kojima2024.yaml"


def write_concept(
    root: Path, lang: str, positive: list[str], negative: list[str], concept: str | None = None
) -> Path:
    """One concept file as the authors lay it out: {concept,
    group, source, sentences: {positive, negative}}."""
    path = root / LANG_NEURON_DIR / f"{lang}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "concept": concept or lang,
        "group": "sense",
        "source": "language",
        "sentences": {"positive": positive, "negative": negative},
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def test_positives_become_rows_in_file_order(tmp_path):
    write_concept(tmp_path, "en", ["A cat.", "A dog.", "A cat."], ["Eine Katze.", "猫です。"])
    write_concept(tmp_path, "ja", ["猫です。", "犬です。"], ["A cat.", "Un chat."])
    frame = load("lang_neuron", tmp_path, languages=["en", "ja"])
    assert frame["id"].tolist() == [
        "sense/en/0",
        "sense/en/1",
        "sense/en/2",
        "sense/ja/0",
        "sense/ja/1",
    ]
    assert frame["text"].tolist() == [
        "A cat.",
        "A dog.",
        "A cat.",
        "猫です。",
        "犬です。",
    ]  # a repeated sentence stays a row
    assert frame["lang"].tolist() == frame["label"].tolist() == ["en"] * 3 + ["ja"] * 2
    assert set(frame["split"]) == {"sense"}
    assert frame["source"].tolist()[0] == f"{LANG_NEURON_DIR}/en.json"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(concept="de"), "concept 'de' but the file stands for language 'en'"),
        (lambda d: d["sentences"].pop("positive"), r"missing key\(s\) positive"),
        (lambda d: d["sentences"].update(positive=[]), "sentences.positive is empty"),
        (
            lambda d: d["sentences"].update(positive=["ok", "  "]),
            r"sentences.positive\[1\] is empty",
        ),
        (lambda d: d["sentences"].update(negative="x"), "key 'negative' should be strings"),
    ],
)
def test_a_malformed_file_is_refused_naming_it(tmp_path, edit, message):
    path = write_concept(tmp_path, "en", ["A cat."], ["Un chat."])
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DataError, match=re.escape(str(path)) + ".*" + message):
        load("lang_neuron", tmp_path, languages=["en"])


def test_the_download_table_pins_every_file_at_the_commit():
    for lang, (blob, sha) in LANG_NEURON_FILES.items():
        entry = UPSTREAM[f"{LANG_NEURON_DIR}/{lang}.json"]
        assert entry.url == (
            "https://raw.githubusercontent.com/kojima-takeshi188/lang_neuron/"
            f"{LANG_NEURON_COMMIT}/assets/Language/sense/{lang}.json"
        )
        assert (entry.git_blob, entry.sha256) == (blob, sha) and entry.pinned
    assert sorted(LANG_NEURON_FILES) == ["de", "en", "es", "fr", "ja", "zh"]


def _local(entry, tmp_path: Path, content: bytes):
    """The download-table entry with its URL pointing at a local file holding ``content``."""
    served = tmp_path / "served" / Path(entry.path).name
    served.parent.mkdir(parents=True, exist_ok=True)
    served.write_bytes(content)
    return dataclasses.replace(entry, url=served.as_uri())


def test_a_wrong_file_is_refused_with_both_hashes(tmp_path):
    path = f"{LANG_NEURON_DIR}/en.json"
    content = write_concept(tmp_path / "src", "en", ["A cat."], ["Un chat."]).read_bytes()
    actual = hashlib.sha256(content).hexdigest()
    raw = tmp_path / "raw"
    with pytest.raises(DataError) as info:
        fetch(path, raw, _local(UPSTREAM[path], tmp_path, content))
    message = str(info.value)
    assert message.startswith(f"{raw / path}: sha256 mismatch")
    assert f"expected {UPSTREAM[path].sha256} (pinned), got {actual}" in message
    assert not (raw / path).exists()


def test_the_pinned_bytes_are_accepted(tmp_path):
    """With the table's hashes replaced by those of a local file, the same path is fetched and read:
    what the pin checks is exactly the sha256 and the git blob id."""
    path = f"{LANG_NEURON_DIR}/ja.json"
    source = write_concept(tmp_path / "src", "ja", ["猫です。"], ["A cat."])
    entry = dataclasses.replace(
        _local(UPSTREAM[path], tmp_path, source.read_bytes()),
        sha256=sha256_file(source),
        git_blob=git_blob_sha1(source),
    )
    raw = tmp_path / "raw"
    assert fetch(path, raw, entry) == sha256_file(source)
    assert load("lang_neuron", raw, languages=["ja"])["text"].tolist() == ["猫です。"]
    wrong_blob = dataclasses.replace(entry, git_blob="0" * 40)
    with pytest.raises(DataError, match="git blob id mismatch"):
        fetch(path, tmp_path / "raw2", wrong_blob)


def test_the_paper_config_reads_the_authors_texts_by_default():
    config = yaml.safe_load(PAPER_CONFIG.read_text(encoding="utf-8"))
    assert config["language"]["datasets"] == ["authors"]
    assert config["datasets"]["authors"]["format"] == "lang_neuron"
    assert {"flores", "pawsx"} <= set(config["datasets"])  # our own 1:1 mix stays available
    paths = dataset_input_paths(config, "authors")
    assert paths == [
        f"data/raw/{LANG_NEURON_DIR}/{lang}.json" for lang in ["en", "de", "fr", "es", "zh", "ja"]
    ]
    assert all(UPSTREAM[p.removeprefix("data/raw/")].pinned for p in paths)


def test_the_paper_plan_downloads_and_prepares_them(dry_run):
    plan = dry_run("config/papers/kojima2024.yaml")
    for lang in ["en", "de", "fr", "es", "zh", "ja"]:
        assert f"data/raw/{LANG_NEURON_DIR}/{lang}.json" in plan
    assert "results/kojima2024/data/authors.parquet" in plan


@pytest.mark.shared_data
def test_the_real_files_when_present(shared_data):
    folder = shared_data / LANG_NEURON_DIR
    if not folder.is_dir():
        pytest.skip(
            f"{folder} is absent (the authors' texts are downloaded by the paper config's jobs)"
        )
    for lang, (_, sha) in LANG_NEURON_FILES.items():
        assert sha256_file(folder / f"{lang}.json") == sha, lang
    frame = load("lang_neuron", shared_data)
    assert frame.groupby("lang").size().to_dict() == {lang: 500 for lang in LANG_NEURON_FILES}
    assert resolve({"format": "lang_neuron"}, shared_data).files == [
        f"{LANG_NEURON_DIR}/{lang}.json" for lang in ["en", "de", "fr", "es", "zh", "ja"]
    ]


def test_the_notes_say_which_texts_were_read():
    from lmanatomy.language.report import AUTHORS_TEXTS_NOTE, run_notes

    six = {lang: 500 for lang in ["en", "de", "fr", "es", "zh", "ja"]}
    assert AUTHORS_TEXTS_NOTE in run_notes(six, 100, formats=["lang_neuron"])
    assert AUTHORS_TEXTS_NOTE not in run_notes(six, 100, formats=["flores", "pawsx"])
    assert "033c7b1" in AUTHORS_TEXTS_NOTE and "own file's 2,500 negatives" in AUTHORS_TEXTS_NOTE
