"""One reader per upstream format, each turning its files into rows of the normalised table.

Readers are strict: a file that is empty, not UTF-8, not valid JSON (or CSV, TSV, gzip), or that
lacks a key or column the format needs fails with a :class:`DataError` naming the file and,
where it applies, the line. Nothing is skipped silently, because a dataset that quietly lost
rows would change what a study measures.

Row ids are ``<split>/<key>``: the upstream id where the format has one (JSTS/JNLI
``sentence_pair_id``, JCommonsenseQA ``q_id``, BoolQ ``idx``, HumanEval ``task_id``, HellaSwag
``ind``), otherwise the 0-based position in the file, prefixed by the language, subject, word or
shard the file stands for (``dev/en/12``, ``test/global_facts/3``).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lmanatomy.data.download import verify_recorded
from lmanatomy.data.formats import Format, flores_file_code
from lmanatomy.data.layout import Resolved, resolve
from lmanatomy.errors import DataError

if TYPE_CHECKING:  # the table is built as Arrow; pandas only where a DataFrame is asked for
    import pandas as pd
    import pyarrow as pa

Row = dict[str, Any]

# ---------------------------------------------------------------- reading files strictly


def read_bytes(path: Path) -> bytes:
    """The file's bytes (gunzipped for ``.gz``); an unreadable or empty file is an error."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read: {exc}") from None
    if path.name.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{path}: not a valid gzip file ({exc})") from None
    if not data.strip():
        raise DataError(f"{path}: file is empty")
    return data


def read_text(path: Path) -> str:
    """The file decoded as UTF-8 (a leading byte-order mark dropped); other encodings are errors."""
    data = read_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"{path}, line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start})"
        ) from None
    return text.removeprefix("\ufeff")


def lines_of(text: str) -> list[str]:
    """Lines without their line ends; a final newline does not start an extra line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def json_document(path: Path) -> Any:
    """A whole-file JSON document; a syntax error names the file, line and column."""
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{path}, line {exc.lineno}: malformed JSON ({exc.msg}, column {exc.colno})"
        ) from None


def json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line of a JSON-lines file."""
    count = 0
    for lineno, line in enumerate(lines_of(read_text(path)), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{path}, line {lineno}: malformed JSON ({exc.msg}, column {exc.colno})"
            ) from None
        if not isinstance(obj, dict):
            raise DataError(
                f"{path}, line {lineno}: expected a JSON object, got {type(obj).__name__}"
            )
        count += 1
        yield lineno, obj
    if count == 0:
        raise DataError(f"{path}: no records")


_KINDS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "strings": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "any": lambda v: True,
}


def require(obj: Mapping[str, Any], kinds: Mapping[str, str], where: str) -> None:
    """Every key of ``kinds`` present in ``obj`` with a value of that kind."""
    missing = [key for key in kinds if key not in obj]
    if missing:
        raise DataError(
            f"{where}: missing key(s) {', '.join(missing)} (this format needs {', '.join(kinds)})"
        )
    for key, kind in kinds.items():
        if not _KINDS[kind](obj[key]):
            raise DataError(
                f"{where}: key '{key}' should be {kind}, got {type(obj[key]).__name__} "
                f"{str(obj[key])[:40]!r}"
            )


def check_label(value: Any, allowed: Any, where: str, key: str = "label") -> Any:
    if value not in allowed:
        raise DataError(f"{where}: {key} {value!r} is not one of {', '.join(map(repr, allowed))}")
    return value


# ---------------------------------------------------------------- one reader per format
# A reader takes (root folder, the unit's files, split, language/subject) and returns rows with
# the format's columns except split and source (and text, unless the format's text is its own).


def _flores(root: Path, files: tuple[str, ...], split: str, lang: str | None) -> list[Row]:
    path = root / files[0]
    rows = []
    for i, line in enumerate(lines_of(read_text(path))):
        if not line.strip():
            raise DataError(
                f"{path}, line {i + 1}: empty line (FLORES-200 has one sentence per line)"
            )
        rows.append(
            {"id": f"{split}/{lang}/{i}", "text": line, "label": lang, "lang": lang, "line": i}
        )
    return rows


def _pawsx(root: Path, files: tuple[str, ...], split: str, lang: str | None) -> list[Row]:
    path = root / files[0]
    reader = csv.reader(io.StringIO(read_text(path)), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader)
    missing = [c for c in ("id", "sentence1", "sentence2", "label") if c not in header]
    if missing:
        raise DataError(
            f"{path}, line 1: missing column(s) {', '.join(missing)} in the header {header}"
        )
    index = {name: header.index(name) for name in ("sentence1", "sentence2", "label")}
    rows: list[Row] = []
    for fields in reader:
        lineno = reader.line_num
        if not fields:
            continue
        if len(fields) != len(header):
            raise DataError(
                f"{path}, line {lineno}: {len(fields)} tab-separated fields, the header has "
                f"{len(header)}"
            )
        label = fields[index["label"]]
        check_label(label, ("0", "1"), f"{path}, line {lineno}")
        s1, s2 = fields[index["sentence1"]], fields[index["sentence2"]]
        rows.append(
            {
                "id": f"{split}/{lang}/{len(rows)}",
                "label": int(label),
                "lang": lang,
                "sentence1": s1,
                "sentence2": s2,
            }
        )
    if not rows:
        raise DataError(f"{path}: no records")
    return rows


def _lang_neuron(root: Path, files: tuple[str, ...], split: str, lang: str | None) -> list[Row]:
    """The positive sentences of one of Kojima et al.'s concept files, in file order.

    The file is ``{"concept": <lang>, "group": "sense", "source": ..., "sentences": {"positive":
    [...], "negative": [...]}}`` (the layout the authors' ``selfcond/data.py`` reads). Only the
    positives become rows: they are this language's texts; the negatives are other languages'
    texts drawn for this concept, which the language study replaces by the other languages'
    positives (docs/language.md). Repeated sentences stay separate rows, as in the authors' lists.
    """
    path = root / files[0]
    data = json_document(path)
    if not isinstance(data, dict):
        raise DataError(
            f"{path}: expected a JSON object {{concept, group, sentences}}, got "
            f"{type(data).__name__}"
        )
    require(data, {"concept": "string", "sentences": "any"}, str(path))
    if data["concept"] != lang:
        raise DataError(
            f"{path}: concept '{data['concept']}' but the file stands for language '{lang}'"
        )
    sentences = data["sentences"]
    if not isinstance(sentences, dict):
        raise DataError(
            f"{path}: 'sentences' should be an object {{positive: [...], negative: [...]}}"
        )
    require(sentences, {"positive": "strings", "negative": "strings"}, f"{path}, sentences")
    if not sentences["positive"]:
        raise DataError(f"{path}: sentences.positive is empty")
    for i, text in enumerate(sentences["positive"]):
        if not text.strip():
            raise DataError(f"{path}: sentences.positive[{i}] is empty")
    return [
        {"id": f"{split}/{lang}/{i}", "text": text, "label": lang, "lang": lang}
        for i, text in enumerate(sentences["positive"])
    ]


_JGLUE_KEYS = {
    "sentence_pair_id": "string",
    "yjcaptions_id": "string",
    "sentence1": "string",
    "sentence2": "string",
}
JNLI_LABELS = ("entailment", "contradiction", "neutral")


def _jsts(root: Path, files: tuple[str, ...], split: str, key: str | None) -> list[Row]:
    path = root / files[0]
    rows = []
    for lineno, obj in json_lines(path):
        require(obj, {**_JGLUE_KEYS, "label": "number"}, f"{path}, line {lineno}")
        rows.append(_pair_row(obj, split, float(obj["label"])))
    return rows


def _jnli(root: Path, files: tuple[str, ...], split: str, key: str | None) -> list[Row]:
    path = root / files[0]
    rows = []
    for lineno, obj in json_lines(path):
        require(obj, {**_JGLUE_KEYS, "label": "string"}, f"{path}, line {lineno}")
        rows.append(
            _pair_row(obj, split, check_label(obj["label"], JNLI_LABELS, f"{path}, line {lineno}"))
        )
    return rows


def _pair_row(obj: Mapping[str, Any], split: str, label: Any) -> Row:
    return {
        "id": f"{split}/{obj['sentence_pair_id']}",
        "label": label,
        "sentence1": obj["sentence1"],
        "sentence2": obj["sentence2"],
        "yjcaptions_id": obj["yjcaptions_id"],
    }


def _jcommonsenseqa(root: Path, files: tuple[str, ...], split: str, key: str | None) -> list[Row]:
    path = root / files[0]
    choices = [f"choice{i}" for i in range(5)]
    rows = []
    for lineno, obj in json_lines(path):
        where = f"{path}, line {lineno}"
        require(
            obj,
            {"q_id": "int", "question": "string", **{c: "string" for c in choices}, "label": "int"},
            where,
        )
        label = check_label(obj["label"], range(5), where)
        rows.append(
            {
                "id": f"{split}/{obj['q_id']}",
                "label": label,
                "question": obj["question"],
                **{c: obj[c] for c in choices},
            }
        )
    return rows


def _boolq(root: Path, files: tuple[str, ...], split: str, key: str | None) -> list[Row]:
    """SuperGLUE lines (question, passage "title -- text", idx, label "true"/"false") or original
    BoolQ lines (question, title, answer, passage); both become question, title, passage, label."""
    path = root / files[0]
    rows = []
    original: bool | None = None
    for lineno, obj in json_lines(path):
        where = f"{path}, line {lineno}"
        if original is None:  # the first record decides which release this file is
            original = "answer" in obj or "title" in obj
        if original:
            require(
                obj,
                {"question": "string", "title": "string", "answer": "bool", "passage": "string"},
                where,
            )
            title, passage, label = obj["title"], obj["passage"], obj["answer"]
            row_id = f"{split}/{len(rows)}"
        else:
            require(
                obj,
                {"question": "string", "passage": "string", "idx": "int", "label": "any"},
                where,
            )
            label = check_label(obj["label"], ("true", "false", True, False), where)
            label = label in ("true", True)
            title, sep, passage = obj["passage"].partition(" -- ")
            if not sep:  # no title: keep the whole passage
                title, passage = "", obj["passage"]
            row_id = f"{split}/{obj['idx']}"
        rows.append(
            {
                "id": row_id,
                "label": label,
                "question": obj["question"],
                "passage": passage,
                "title": title,
            }
        )
    return rows


def _mmlu(root: Path, files: tuple[str, ...], split: str, subject: str | None) -> list[Row]:
    path = root / files[0]
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    rows = []
    for fields in reader:
        if not fields:
            continue
        where = f"{path}, line {reader.line_num}"
        if len(fields) != 6:
            raise DataError(
                f"{where}: {len(fields)} columns, MMLU rows have 6 (question, A, B, C, D, answer)"
            )
        question, a, b, c, d, answer = fields
        check_label(answer, ("A", "B", "C", "D"), where, key="answer")
        rows.append(
            {
                "id": f"{split}/{subject}/{len(rows)}",
                "label": answer,
                "subject": subject,
                "question": question,
                "A": a,
                "B": b,
                "C": c,
                "D": d,
            }
        )
    if not rows:
        raise DataError(f"{path}: no records")
    return rows


def _humaneval(root: Path, files: tuple[str, ...], split: str, key: str | None) -> list[Row]:
    path = root / files[0]
    fields = ("prompt", "canonical_solution", "test", "entry_point")
    rows = []
    for lineno, obj in json_lines(path):
        require(
            obj, {"task_id": "string", **{f: "string" for f in fields}}, f"{path}, line {lineno}"
        )
        rows.append(
            {"id": f"{split}/{obj['task_id']}", "label": None, **{f: obj[f] for f in fields}}
        )
    return rows


def _knowledge_questions(
    root: Path, files: tuple[str, ...], split: str, key: str | None
) -> list[Row]:
    path = root / files[0]
    data = json_document(path)
    if not isinstance(data, dict) or not data:
        raise DataError(
            f"{path}: expected a non-empty JSON object {{word: [questions]}}, got "
            f"{type(data).__name__}"
        )
    rows = []
    for word, questions in data.items():
        if not _KINDS["strings"](questions) or not questions:
            raise DataError(
                f"{path}: the value of '{word}' should be a non-empty list of question strings"
            )
        for i, question in enumerate(questions):
            rows.append(
                {"id": f"{split}/{word}/{i}", "label": word, "word": word, "question": question}
            )
    return rows


def _siqa(root: Path, files: tuple[str, ...], split: str, key: str | None) -> list[Row]:
    path, labels_path = root / files[0], root / files[1]
    keys = {
        "context": "string",
        "question": "string",
        "answerA": "string",
        "answerB": "string",
        "answerC": "string",
    }
    records = []
    for lineno, obj in json_lines(path):
        require(obj, keys, f"{path}, line {lineno}")
        records.append(obj)
    labels = []
    for lineno, line in enumerate(lines_of(read_text(labels_path)), 1):
        if line.strip():
            labels.append(
                int(check_label(line.strip(), ("1", "2", "3"), f"{labels_path}, line {lineno}"))
            )
    if len(labels) != len(records):
        raise DataError(
            f"{labels_path}: {len(labels)} labels for {len(records)} questions in {path}"
        )
    return [
        {"id": f"{split}/{i}", "label": label, **{k: obj[k] for k in keys}}
        for i, (obj, label) in enumerate(zip(records, labels, strict=True))
    ]


def _hellaswag(root: Path, files: tuple[str, ...], split: str, key: str | None) -> list[Row]:
    path = root / files[0]
    rows = []
    for lineno, obj in json_lines(path):
        where = f"{path}, line {lineno}"
        require(
            obj,
            {
                "ind": "int",
                "activity_label": "string",
                "ctx": "string",
                "endings": "strings",
                "label": "int",
            },
            where,
        )
        if len(obj["endings"]) != 4:
            raise DataError(f"{where}: {len(obj['endings'])} endings, HellaSwag has 4")
        label = check_label(obj["label"], range(4), where)
        rows.append(
            {
                "id": f"{split}/{obj['ind']}",
                "label": label,
                "ctx": obj["ctx"],
                "endings": obj["endings"],
                "activity_label": obj["activity_label"],
            }
        )
    return rows


def _c4(root: Path, files: tuple[str, ...], split: str, key: str | None) -> list[Row]:
    rows = []
    for rel in files:
        path = root / rel
        shard = re.search(r"\.(\d+)-of-\d+\.json\.gz$", rel)
        shard_id = shard.group(1) if shard else Path(rel).name
        for i, (lineno, obj) in enumerate(json_lines(path)):
            require(obj, {"text": "string", "url": "string"}, f"{path}, line {lineno}")
            rows.append(
                {
                    "id": f"{split}/{shard_id}/{i}",
                    "text": obj["text"],
                    "label": None,
                    "url": obj["url"],
                }
            )
    return rows


_HEADING = re.compile(r"(= )+[^=].*?( =)+")


def _wikitext2(root: Path, files: tuple[str, ...], split: str, key: str | None) -> list[Row]:
    """Paragraphs of WikiText-2 (raw): every non-blank line that is not a ``= heading =``."""
    path = root / files[0]
    if path.suffix == ".parquet":  # the Hugging Face copy: one raw line per row, column text
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as exc:  # pyarrow raises ArrowInvalid / OSError for a broken file
            raise DataError(f"{path}: not a readable Parquet file ({exc})") from None
        if "text" not in table.column_names:
            raise DataError(
                f"{path}: missing column text (columns: {', '.join(table.column_names)})"
            )
        lines = [line or "" for line in table.column("text").to_pylist()]
        if not lines:
            raise DataError(f"{path}: file is empty")
    else:
        lines = lines_of(read_text(path))
    rows = []
    for i, line in enumerate(lines):
        paragraph = line.strip()
        if paragraph and not _HEADING.fullmatch(paragraph):
            rows.append({"id": f"{split}/{i}", "text": paragraph, "label": None})
    if not rows:
        raise DataError(f"{path}: no paragraphs")
    return rows


def _similarity(value: str, column: str, where: str) -> float:
    """A gold similarity score from a text field, or an error naming the file, line and column."""
    try:
        return float(value)
    except ValueError:
        raise DataError(f"{where}: {column} {value!r} is not a number") from None


def _tab_rows(
    path: Path, lines: list[str], first: int, width: int, make: Callable[[list[str], str, int], Row]
) -> list[Row]:
    """Rows of tab-separated lines (numbered from ``first``), each of at least ``width`` fields."""
    rows: list[Row] = []
    for lineno, line in enumerate(lines, first):
        fields = line.split("\t")
        if len(fields) < width:
            raise DataError(
                f"{path}, line {lineno}: {len(fields)} tab-separated fields, expected at least "
                f"{width}"
            )
        rows.append(make(fields, f"{path}, line {lineno}", len(rows)))
    if not rows:
        raise DataError(f"{path}: no records")
    return rows


def _stsb(root: Path, files: tuple[str, ...], split: str, key: str | None) -> list[Row]:
    """STS Benchmark lines: genre, file, year, id, score, sentence1, sentence2 (some lines carry
    extra source columns)."""
    path = root / files[0]
    return _tab_rows(
        path,
        lines_of(read_text(path)),
        1,
        7,
        lambda f, where, n: {
            "id": f"{split}/{n}",
            "label": _similarity(f[4], "score", where),
            "sentence1": f[5],
            "sentence2": f[6],
            "genre": f[0],
        },
    )


SICK_HEADER = ["pair_ID", "sentence_A", "sentence_B", "relatedness_score", "entailment_judgment"]


def _sick(root: Path, files: tuple[str, ...], split: str, key: str | None) -> list[Row]:
    """SICK TSV with a header (pair_ID, sentence_A,
    sentence_B, relatedness_score, entailment_judgment)."""
    path = root / files[0]
    lines = lines_of(read_text(path))
    if not lines or lines[0].split("\t")[:5] != SICK_HEADER:
        raise DataError(f"{path}, line 1: expected the header {', '.join(SICK_HEADER)}")
    return _tab_rows(
        path,
        lines[1:],
        2,
        5,
        lambda f, where, n: {
            "id": f"{split}/{f[0]}",
            "label": _similarity(f[3], "relatedness_score", where),
            "sentence1": f[1],
            "sentence2": f[2],
            "entailment": f[4],
        },
    )


READERS: dict[str, Callable[[Path, tuple[str, ...], str, str | None], list[Row]]] = {
    "flores200": _flores,
    "pawsx": _pawsx,
    "lang_neuron": _lang_neuron,
    "jsts": _jsts,
    "jnli": _jnli,
    "jcommonsenseqa": _jcommonsenseqa,
    "boolq": _boolq,
    "mmlu": _mmlu,
    "humaneval": _humaneval,
    "knowledge_questions": _knowledge_questions,
    "siqa": _siqa,
    "hellaswag": _hellaswag,
    "c4": _c4,
    "wikitext2": _wikitext2,
    "stsb": _stsb,
    "sick": _sick,
}

# ---------------------------------------------------------------- the normalised table


def arrow_schema(fmt: Format) -> pa.Schema:
    """The Arrow (and Parquet) schema of a format's normalised table."""
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
        "null": pa.null(),
        "list<string>": pa.list_(pa.string()),
    }
    return pa.schema([pa.field(name, types[kind]) for name, kind in fmt.column_types.items()])


def _check_parallel(
    resolved: Resolved, rows_per_unit: Mapping[tuple[str, str | None], int]
) -> None:
    """FLORES-200 files of one split are a parallel
    corpus: line i is one sentence in every language."""
    for split in resolved.splits:
        counts = {key: n for (s, key), n in rows_per_unit.items() if s == split}
        if len(set(counts.values())) > 1:
            detail = ", ".join(f"{flores_file_code(str(k))} {n}" for k, n in counts.items())
            raise DataError(
                f"{resolved.folder}/flores200/{split}: the language files are not parallel "
                f"(lines: {detail})"
            )


def _generic_reader(
    resolved: Resolved,
) -> Callable[[Path, tuple[str, ...], str, str | None], list[Row]]:
    """The reader of a generic format: one file per unit, columns mapped by the spec."""
    from lmanatomy.data.generic import read_generic

    return lambda folder, files, split, key: read_generic(folder, files, split, resolved.spec)


def read_columns(resolved: Resolved) -> dict[str, list[Any]]:
    """Read every file of a resolved spec: column name → values, columns in contract order."""
    fmt = resolved.format
    folder = resolved.folder
    for rel in resolved.files:
        verify_recorded(folder / rel)  # files fetched by the workflow carry the hash accepted then
    reader = READERS[fmt.name] if fmt.name in READERS else _generic_reader(resolved)
    rows: list[Row] = []
    sizes: dict[tuple[str, str | None], int] = {}
    for (split, key), files in resolved.units.items():
        unit = reader(folder, files, split, key)
        for row in unit:
            row["split"] = split
            row["source"] = files[0]
        sizes[(split, key)] = len(unit)
        rows.extend(unit)
    if fmt.name == "flores200":
        _check_parallel(resolved, sizes)
    text_column = resolved.text_column
    columns = {c: [row[text_column if c == "text" else c] for row in rows] for c in fmt.columns}
    seen: dict[str, str] = {}
    for row_id, source in zip(columns["id"], columns["source"], strict=True):
        if row_id in seen:
            files = sorted({str(folder / seen[row_id]), str(folder / source)})
            raise DataError(f"{', '.join(files)}: duplicate id '{row_id}'")
        seen[row_id] = source
    return columns


def read_table(resolved: Resolved) -> pa.Table:
    """The normalised table of a resolved spec as Arrow (what the workflow writes)."""
    import pyarrow as pa

    return pa.Table.from_pydict(read_columns(resolved), schema=arrow_schema(resolved.format))


def load_table(format: str, root: str | Path | None, **options: Any) -> pa.Table:
    """:func:`load` as an Arrow table."""
    return read_table(resolve({"format": format, **options}, root))


def load(
    format: str,
    root: str | Path | None,
    *,
    splits: list[str] | None = None,
    languages: list[str] | None = None,
    subjects: str | list[str] | None = None,
    text_column: str | None = None,
) -> pd.DataFrame:
    """Read one upstream format from a data root into the normalised table.

    ``root`` is a folder in the upstream layout, or None for the download folder ``data/raw``.
    Options default to every split (language, subject) the root holds; see
    :func:`lmanatomy.data.layout.resolve`.
    """
    options = {
        "splits": splits,
        "languages": languages,
        "subjects": subjects,
        "text_column": text_column,
    }
    return load_table(format, root, **options).to_pandas()
