"""Which files a dataset reads under its root, and which options a root can satisfy.

A root is a folder with the upstream files in their release layout (``data/demo``,
``../shared/data``) or ``None``: the download folder ``data/raw``, whose file list comes from
the download table (``upstream.py``), so that planning a run never needs the network. The same
resolution serves the loaders, the workflow's input functions and the config checks, so that
they can never disagree about which files a dataset needs.

Defaults: without ``splits`` (``languages``, ``subjects: all``) a dataset takes every split
(language, subject) of its format that the root holds and records the ones it lacks, because
real copies are often partial (``../shared/data`` has no JNLI train file). Values a config names
explicitly must exist.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lmanatomy.data.formats import FLORES_CODE, FLORES_LANGUAGES, FORMATS, Format, flores_file_code
from lmanatomy.data.generic import GENERIC_FORMATS, GENERIC_OPTIONS
from lmanatomy.data.upstream import LANG_NEURON_DIR, MMLU_SUBJECTS, UPSTREAM
from lmanatomy.errors import DataError

RAW_ROOT = "data/raw"  # where downloads go (root: null)


class OptionError(DataError):
    """An option of a dataset spec names something the root does not hold.

    ``option`` and ``index`` locate the value in the spec (``splits``, 1), so that the config
    check can name the key (``datasets.jnli.splits[1]``).
    """

    def __init__(self, option: str, index: int | None, message: str):
        self.option = option
        self.index = index
        super().__init__(message)


@dataclass(frozen=True)
class Resolved:
    """A dataset spec resolved against a root: the option values used and the files to read.

    ``units`` maps (split, language or subject or None) to the files read together for it, in
    reading order; ``absent`` lists the defaults the root lacks (recorded in the metadata).
    """

    format: Format
    root: str | None
    splits: tuple[str, ...]
    languages: tuple[str, ...] | None
    subjects: tuple[str, ...] | None
    text_column: str
    units: dict[tuple[str, str | None], tuple[str, ...]]
    absent: tuple[str, ...] = field(default=())
    spec: Mapping[str, Any] = field(
        default_factory=dict
    )  # generic formats: the column mapping and options

    @property
    def files(self) -> list[str]:
        """Every root-relative file read, in reading order, each once."""
        return list(dict.fromkeys(path for files in self.units.values() for path in files))

    @property
    def folder(self) -> Path:
        return Path(self.root if self.root is not None else RAW_ROOT)


def _alternatives(fmt: str, split: str, key: str | None) -> list[tuple[str, ...]]:
    """The ways a root may hold one (split, language/subject): lists of files read together."""
    if fmt == "flores200":
        return [(f"flores200/{split}/{flores_file_code(str(key))}.{split}",)]
    if fmt == "pawsx":
        name = (
            ("train.tsv" if key == "en" else "translated_train.tsv")
            if split == "train"
            else f"{split}_2k.tsv"
        )
        return [(f"pawsx/x-final/{key}/{name}",)]
    if fmt == "lang_neuron":
        return [(f"{LANG_NEURON_DIR}/{key}.json",)]
    if fmt in ("jsts", "jnli", "jcommonsenseqa"):
        return [(f"jglue/{fmt}-v1.1/{split}-v1.1.json",)]
    if fmt == "boolq":  # SuperGLUE names the dev split val.jsonl, the original release dev.jsonl
        return [(f"boolq/{split}.jsonl",)] + ([("boolq/dev.jsonl",)] if split == "val" else [])
    if fmt == "mmlu":
        return [(f"mmlu/data/{split}/{key}_{split}.csv",)]
    if fmt == "humaneval":
        return [("humaneval/HumanEval.jsonl.gz",)]
    if fmt == "knowledge_questions":
        return [("knowledge_questions/generated_data_1token.json",)]
    if fmt == "siqa":
        return [
            (
                f"siqa/socialiqa-train-dev/{split}.jsonl",
                f"siqa/socialiqa-train-dev/{split}-labels.lst",
            )
        ]
    if fmt == "hellaswag":
        return [(f"hellaswag/hellaswag_{split}.jsonl",)]
    if fmt == "stsb":
        return [(f"stsbenchmark/sts-{split}.csv",)]
    if fmt == "sick":
        return [(f"sick2014/SICK_{'test_annotated' if split == 'test' else split}.txt",)]
    if fmt == "wikitext2":  # the original zip's raw text, or the Hugging Face Parquet copy
        raw = {"validation": "valid"}.get(split, split)
        return [
            (f"wikitext2/wikitext-2-raw/wiki.{raw}.raw",),
            (f"wikitext2/wikitext-2-raw-v1/{split}-00000-of-00001.parquet",),
        ]
    raise ValueError(f"no layout for format '{fmt}'")  # c4 is globbed, see _c4_shards


def _c4_shards(root: Path | None, split: str) -> tuple[str, ...]:
    """C4 comes in shards ``c4/en/c4-<split>.NNNNN-of-MMMMM.json.gz``:
    every shard present is read."""
    prefix = f"c4/en/c4-{split}."
    if root is None:
        return tuple(sorted(p for p in UPSTREAM if p.startswith(prefix)))
    return tuple(
        sorted(
            p.relative_to(root).as_posix()
            for p in (root / "c4" / "en").glob(f"c4-{split}.*-of-*.json.gz")
        )
    )


def _unit_files(fmt: str, root: Path | None, split: str, key: str | None) -> tuple[str, ...] | None:
    """The files of one unit under ``root`` (None: the download table), or None when absent."""
    if fmt == "c4":
        return _c4_shards(root, split) or None
    for files in _alternatives(fmt, split, key):
        if all((p in UPSTREAM) if root is None else (root / p).is_file() for p in files):
            return files
    return None


def _expected(fmt: str, split: str, key: str | None) -> str:
    if fmt == "c4":
        return f"c4/en/c4-{split}.*-of-*.json.gz"
    if fmt == "mmlu" and key is None:  # no subject at all under the root
        key = "<subject>"
    return " or ".join(", ".join(files) for files in _alternatives(fmt, split, key))


def _where(root: Path | None) -> str:
    return f"under {root}" if root is not None else "in the download table"


def _mmlu_subjects(root: Path | None, splits: Sequence[str]) -> tuple[str, ...]:
    if root is None:
        return MMLU_SUBJECTS
    found = {
        p.name[: -len(f"_{s}.csv")]
        for s in splits
        for p in (root / "mmlu" / "data" / s).glob(f"*_{s}.csv")
    }
    return tuple(sorted(found))


def _check_known(values: Sequence[str], known: Sequence[str], option: str, what: str) -> None:
    for index, value in enumerate(values):
        if value not in known:
            raise OptionError(
                option, index, f"unknown {option[:-1]} '{value}' ({what}: {', '.join(known)})"
            )


def _check_languages(fmt: str, languages: Sequence[str]) -> None:
    """The papers' short codes everywhere; flores200 also takes any FLORES-200 code (kor_Hang)."""
    for index, lang in enumerate(languages):
        if lang in FLORES_LANGUAGES or (fmt == "flores200" and re.match(FLORES_CODE, str(lang))):
            continue
        extra = " or a FLORES-200 code such as kor_Hang" if fmt == "flores200" else ""
        raise OptionError(
            "languages",
            index,
            f"unknown language '{lang}' (known: {', '.join(FLORES_LANGUAGES)}{extra})",
        )


def resolve(spec: Mapping[str, Any], root: str | Path | None) -> Resolved:
    """Resolve a dataset spec (format, splits, languages, subjects, text_column) against a root.

    Raises :class:`OptionError` naming the option (and its index) when a value does not apply to
    the format or the root lacks it, and :class:`DataError` when the root holds no data at all.
    """
    name = spec.get("format")
    if name not in FORMATS:
        raise OptionError("format", None, f"unknown format '{name}' (known: {', '.join(FORMATS)})")
    if name in GENERIC_FORMATS:
        return resolve_generic(spec, root)
    generic_only = [option for option in GENERIC_OPTIONS if spec.get(option) is not None]
    if generic_only:
        raise OptionError(
            generic_only[0],
            None,
            f"option '{generic_only[0]}' applies to the generic formats "
            f"({', '.join(GENERIC_FORMATS)}), not to '{name}'",
        )
    fmt = FORMATS[name]
    folder = Path(root) if root is not None else None
    if folder is not None and not folder.is_dir():
        raise OptionError("root", None, f"data folder '{root}' does not exist")
    for option in ("languages", "subjects"):
        if spec.get(option) is not None and option not in fmt.options:
            users = [f.name for f in FORMATS.values() if option in f.options]
            raise OptionError(
                option,
                None,
                f"option '{option}' does not apply to format '{name}' (only to {', '.join(users)})",
            )
    text_column = spec.get("text_column") or fmt.text_default
    if text_column not in fmt.text_columns:
        raise OptionError(
            "text_column",
            None,
            f"format '{name}' has no text field '{text_column}' (choose from "
            f"{', '.join(fmt.text_columns)})",
        )

    explicit_splits = spec.get("splits") is not None
    splits = list(spec["splits"]) if explicit_splits else list(fmt.splits)
    _check_known(splits, fmt.splits, "splits", f"format '{name}' has")
    keys_option = (
        "languages"
        if "languages" in fmt.options
        else ("subjects" if "subjects" in fmt.options else None)
    )
    requested = spec.get(keys_option) if keys_option else None
    explicit_keys = requested is not None and requested != "all"
    if keys_option == "languages":
        _check_languages(name, requested or [])

    absent: list[str] = []
    kept_splits = []
    for index, split in enumerate(splits):
        candidates = _keys_for(
            name, folder, [split], None
        )  # a split exists if any language/subject has it
        if any(_unit_files(name, folder, split, key) is not None for key in candidates):
            kept_splits.append(split)
        elif explicit_splits:
            raise OptionError(
                "splits",
                index,
                f"split '{split}' of format '{name}' has no file {_where(folder)} "
                f"(expected {_expected(name, split, candidates[0] if candidates else None)})",
            )
        else:
            absent.append(
                f"split '{split}': no "
                f"{_expected(name, split, candidates[0] if candidates else None)} {_where(folder)}"
            )
    if not kept_splits:
        raise DataError(f"format '{name}': no data {_where(folder)}; " + "; ".join(absent))

    keys = _keys_for(name, folder, kept_splits, requested if explicit_keys else None)
    units: dict[tuple[str, str | None], tuple[str, ...]] = {}
    kept_keys: list[str] = []
    for index, key in enumerate(keys):
        found = {split: _unit_files(name, folder, split, key) for split in kept_splits}
        missing = [split for split, files in found.items() if files is None]
        if missing:  # only languages/subjects can be missing: every kept split has a file otherwise
            message = (
                f"{keys_option[:-1]} '{key}': no {_expected(name, missing[0], key)} "
                f"{_where(folder)}"
            )
            if explicit_keys or len(missing) < len(
                kept_splits
            ):  # named, or present in some splits only
                if name == "mmlu":
                    there = _mmlu_subjects(folder, kept_splits)
                    close = difflib.get_close_matches(str(key), there, n=3)
                    message += (
                        f" (did you mean {' or '.join(close)}?)"
                        if close
                        else f" (subjects there: {', '.join(there) or 'none'})"
                    )
                raise OptionError(keys_option, index if explicit_keys else None, message)
            absent.append(message)
            continue
        if key is not None:
            kept_keys.append(key)
        for split in kept_splits:
            units[(split, key)] = found[split]  # type: ignore[assignment]
    if not units:
        raise DataError(f"format '{name}': no data {_where(folder)}; " + "; ".join(absent))
    # Units in reading order: split-major, then language/subject in the requested order.
    ordered = {
        (s, k): units[(s, k)] for s in kept_splits for k in (kept_keys or [None]) if (s, k) in units
    }
    return Resolved(
        format=fmt,
        root=None if root is None else str(root),
        splits=tuple(kept_splits),
        languages=tuple(kept_keys) if keys_option == "languages" else None,
        subjects=tuple(kept_keys) if keys_option == "subjects" else None,
        text_column=text_column,
        units=ordered,
        absent=tuple(absent),
    )


def resolve_generic(spec: Mapping[str, Any], root: str | Path | None) -> Resolved:
    """A generic-format spec (lmanatomy.data.generic): its files under the root, one unit per file.

    ``hf`` datasets always live in the download folder (their cached Parquet), whatever the root.
    """
    from lmanatomy.data.generic import SpecError, check_spec, spec_files, split_name

    try:
        check_spec(spec)
    except SpecError as exc:
        raise OptionError(exc.option, None, str(exc)) from None
    if spec["format"] == "hf":
        root = None
    folder = Path(root) if root is not None else None
    if folder is not None and not folder.is_dir():
        raise OptionError("root", None, f"data folder '{root}' does not exist")
    files = spec_files(spec)
    if folder is not None:
        for index, rel in enumerate(files):
            if not (folder / rel).is_file():
                raise OptionError("files", index, f"file '{rel}' not found under {folder}")
    split = split_name(spec)
    return Resolved(
        format=FORMATS[spec["format"]],
        root=None if root is None else str(root),
        splits=(split,),
        languages=None,
        subjects=None,
        text_column="text",
        units={(split, rel): (rel,) for rel in files},
        spec=dict(spec),
    )


def _keys_for(
    fmt: str, root: Path | None, splits: Sequence[str], requested: Sequence[str] | None
) -> list[str | None]:
    """Languages or subjects to read (the requested ones, else every known one), or [None]."""
    if requested is not None:
        return list(requested)
    if fmt in ("flores200", "pawsx", "lang_neuron"):
        return list(FLORES_LANGUAGES)
    if fmt == "mmlu":
        return list(_mmlu_subjects(root, splits))
    return [None]


def dataset_root(config: Mapping[str, Any], name: str) -> str | None:
    """The root of a named dataset: its own ``root`` if
    the key is given (even null), else ``data_root``."""
    spec = config["datasets"][name]
    return spec["root"] if "root" in spec else config.get("data_root")


def dataset_input_paths(config: Mapping[str, Any], name: str) -> list[str]:
    """The files (paths as the workflow sees them) that preparing dataset ``name`` reads.

    With a null root these are ``data/raw/<path>`` paths, which the download rules produce.
    """
    root = dataset_root(config, name)
    resolved = resolve(config["datasets"][name], root)
    return [str(resolved.folder / path) for path in resolved.files]
