"""Seeded subsets of the real upstream files, small enough to commit (``data/real``).

Why: the default run should read real benchmark text, offline, without committing full files.
Each subset keeps the upstream file name, format and layout (records copied byte for byte, in
file order), so the same loaders read it; ``manifest.json`` beside the subsets records the seed,
every source file's sha256 and the rows drawn, and is what a prepared dataset's provenance reads
to say "real data, subset of n" (see :func:`origin`).

Drawing: for a file of ``N`` records, the kept records are
``numpy.random.default_rng(seed).permutation(N)[:n]`` plus the ``keep`` records (rows llm-jp-eval
2023-11 fixes as few-shots, found by id), written in file order. Files of equal length get the same
positions, so the FLORES-200 languages stay line-aligned.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import io
import json
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lmanatomy.errors import DataError

MANIFEST = "manifest.json"
DEMO_MARKER = "DEMO.json"
SEED = 0
METHOD = (
    "records in file order; keep positions numpy.random.default_rng(seed).permutation(N)[:n] "
    "plus the fixed rows (found by id); records copied byte for byte"
)


@dataclass(frozen=True)
class Draw:
    """One rule: the source files matching ``pattern``
    (relative to the source root), how many records.

    ``n`` None copies the file whole. ``records`` is how a file splits into records: ``lines``
    (JSON lines, FLORES-200 text) or ``csv`` (MMLU: a quoted field may hold a newline).
    ``keep`` names JSON-lines records always kept, as (field, values): the rows a version of
    llm-jp-eval fixes as few-shots, found by their id (not their line number, which differs).
    """

    pattern: str
    n: int | None
    records: str = "lines"
    keep: tuple[str, tuple[str, ...]] | None = None
    why: str = ""


FLORES_LANGS = ("eng_Latn", "deu_Latn", "fra_Latn", "spa_Latn", "zho_Hans", "jpn_Jpan")


def fixed_fewshot_ids(task: str, field: str) -> tuple[str, tuple[str, ...]]:
    """The ids of the train rows llm-jp-eval 2023-11 fixes as few-shots of ``task``
    (evaluation.versions names them by prepared id ``train/<id>``), as (upstream field, values)."""
    from lmanatomy.evaluation.versions import LATE_2023, VERSIONS

    rows = VERSIONS[LATE_2023].fixed_few_shots[task].rows
    return field, tuple(key[0].removeprefix("train/") for key in rows)


DRAWS: tuple[Draw, ...] = (
    *(
        Draw(
            f"flores200/dev/{lang}.dev",
            200,
            why="language study (<= 200 per language), paramact flores_en",
        )
        for lang in FLORES_LANGS
    ),
    Draw(
        "jglue/jsts-v1.1/valid-v1.1.json",
        300,
        why="lesion test samples; redundancy and paramact sentences",
    ),
    Draw(
        "jglue/jsts-v1.1/train-v1.1.json",
        1000,
        keep=fixed_fewshot_ids("jsts", "sentence_pair_id"),
        why=(
            "lesion few-shots (incl. llm-jp-eval 2023-11's fixed rows); redundancy's 800 + 200 "
            "distinct sentence1"
        ),
    ),
    Draw(
        "jglue/jnli-v1.1/valid-v1.1.json",
        300,
        why="lesion (few-shots held out: no JNLI train in the source)",
    ),
    Draw("jglue/jcommonsenseqa-v1.1/valid-v1.1.json", 300, why="lesion test samples"),
    Draw(
        "jglue/jcommonsenseqa-v1.1/train-v1.1.json",
        40,
        keep=fixed_fewshot_ids("jcommonsenseqa", "q_id"),
        why="lesion few-shots (incl. llm-jp-eval 2023-11's fixed rows)",
    ),
    Draw(
        "boolq/val.jsonl",
        400,
        why="lesion (few-shots held out: no BoolQ train in the source), paramact",
    ),
    Draw("mmlu/data/dev/*_dev.csv", None, records="csv", why="MMLU's few-shot split, complete"),
    Draw(
        "mmlu/data/test/*_test.csv",
        7,
        records="csv",
        why="lesion and paramact: 7 per subject, 399 in all",
    ),
    Draw("humaneval/HumanEval.jsonl.gz", None, why="paramact: all 164 tasks"),
    Draw(
        "knowledge_questions/generated_data_1token.json",
        None,
        why="knowledge study: all 38 words x 4 questions",
    ),
)

# License and attribution files copied beside each subset (source path -> target path).
LICENSES: dict[str, str] = {
    "flores200/LICENSE-CC-BY-SA": "flores200/LICENSE-CC-BY-SA",
    "jglue/LICENSE_from_README.txt": "jglue/LICENSE_from_README.txt",
    "mmlu/LICENSE": "mmlu/LICENSE",
    "humaneval/LICENSE": "humaneval/LICENSE",
    "knowledge_questions/LICENSE": "knowledge_questions/LICENSE",
}

# Per dataset folder: license and attribution, written into the manifest (BoolQ's source folder
# carries only its mirror repository's MIT license, not BoolQ's own, so its line is the record).
ATTRIBUTION: dict[str, str] = {
    "flores200": "FLORES-200 (NLLB Team et al., 2022), dev split; CC BY-SA 4.0",
    "jglue": (
        "JGLUE v1.1 (Kurihara, Kawahara & Shibata, LREC 2022), Yahoo Japan Corporation; CC BY-SA "
        "4.0"
    ),
    "boolq": "BoolQ (Clark et al., NAACL 2019), SuperGLUE layout; CC BY-SA 3.0",
    "mmlu": "MMLU (Hendrycks et al., ICLR 2021), github.com/hendrycks/test; MIT",
    "humaneval": "HumanEval (Chen et al., 2021), github.com/openai/human-eval; MIT",
    "knowledge_questions": "knowledge-neuron-sim question file (Ariyama et al., 2025); MIT",
}


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def split_records(data: bytes, records: str) -> list[bytes]:
    """The file's records, each with its line ending, so that ``b"".join`` gives the file back.

    ``csv``: the csv module decides where a record ends (a quoted field may span lines; MMLU also
    has unquoted fields with a stray quote, so counting quotes is not enough).
    """
    lines = data.splitlines(keepends=True)
    if records == "lines":
        return lines
    if records != "csv":
        raise DataError(f"unknown record kind '{records}' (known: lines, csv)")
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    out: list[bytes] = []
    start = 0
    for _ in reader:
        out.append(b"".join(lines[start : reader.line_num]))
        start = reader.line_num
    if start != len(lines):
        raise DataError(f"the csv module read {start} of {len(lines)} lines")
    return out


def kept_positions(records: Sequence[bytes], keep: tuple[str, tuple[str, ...]] | None) -> list[int]:
    """Positions of the JSON-lines records whose ``field``
    is one of the values (each must be found)."""
    if keep is None:
        return []
    field, values = keep
    found = {
        str(json.loads(r)[field]): i
        for i, r in enumerate(records)
        if str(json.loads(r).get(field)) in values
    }
    missing = [v for v in values if v not in found]
    if missing:
        raise DataError(f"no record with {field} = {', '.join(missing)}")
    return [found[v] for v in values]


def draw_positions(total: int, n: int, keep: Iterable[int], seed: int) -> list[int]:
    """Sorted record positions: a seeded permutation's first ``n`` plus ``keep``."""
    if n > total:
        raise DataError(f"cannot draw {n} of {total} records")
    extra = [k for k in keep if not 0 <= k < total]
    if extra:
        raise DataError(f"fixed rows {extra} are outside the file's {total} records")
    chosen = set(np.random.default_rng(seed).permutation(total)[:n].tolist()) | set(keep)
    return sorted(chosen)


def _sources(source_root: Path, draw: Draw) -> list[str]:
    if "*" not in draw.pattern:
        return [draw.pattern]
    folder = source_root / Path(draw.pattern).parent
    names = (
        sorted(p.name for p in folder.iterdir() if fnmatch.fnmatch(p.name, Path(draw.pattern).name))
        if folder.is_dir()
        else []
    )
    if not names:
        raise DataError(f"{source_root}: no file matches {draw.pattern}")
    return [str(Path(draw.pattern).parent / name) for name in names]


def draw_file(
    source_root: Path, target_root: Path, rel: str, draw: Draw, seed: int
) -> dict[str, Any]:
    """Write one subset file and return its manifest entry."""
    path = source_root / rel
    if not path.is_file():
        raise DataError(f"source file {path} is missing (rule {draw.pattern})")
    data = path.read_bytes()
    entry: dict[str, Any] = {"path": rel, "source_sha256": sha256_bytes(data), "why": draw.why}
    if draw.n is None:
        out = data
        entry.update({"drawn": "complete file"})
    else:
        records = split_records(data, draw.records)
        fixed = kept_positions(records, draw.keep)
        kept = draw_positions(len(records), draw.n, fixed, seed)
        out = b"".join(records[i] for i in kept)
        entry.update(
            {"source_rows": len(records), "rows": len(kept), "n": draw.n, "positions": kept}
        )
        if draw.keep is not None:
            entry["fixed"] = {
                "why": "llm-jp-eval 2023-11's fixed few-shots",
                "field": draw.keep[0],
                "values": list(draw.keep[1]),
                "positions": fixed,
            }
    target = target_root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(out)
    entry["sha256"] = sha256_bytes(out)
    return entry


def draw_subsets(
    source_root: str | Path,
    target_root: str | Path,
    *,
    seed: int = SEED,
    draws: Sequence[Draw] = DRAWS,
) -> dict[str, Any]:
    """Draw every rule's files from ``source_root`` into
    ``target_root``; write and return the manifest."""
    source_root, target_root = Path(source_root), Path(target_root)
    if not source_root.is_dir():
        raise DataError(
            f"source root {source_root} is not a folder (expected the ../shared/data layout)"
        )
    files = [
        draw_file(source_root, target_root, rel, draw, seed)
        for draw in draws
        for rel in _sources(source_root, draw)
    ]
    for src, dst in LICENSES.items():
        (target_root / dst).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source_root / src, target_root / dst)
    manifest = {
        "what": (
            "seeded subsets of real upstream data files, in their upstream layout (lm-anatomy "
            "data/real)"
        ),
        "drawn_by": "lmanatomy subsets SOURCE_ROOT TARGET_ROOT (lmanatomy.data.subsets)",
        "seed": seed,
        "method": METHOD,
        "licenses": ATTRIBUTION,
        "files": files,
    }
    (target_root / MANIFEST).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return manifest


# ---------------------------------------------------------------- the provenance fact


def read_manifest(root: str | Path) -> dict[str, Any] | None:
    """The subset manifest of a data root, or the demo
    marker's content, or None (plain upstream files)."""
    for name in (MANIFEST, DEMO_MARKER):
        path = Path(root) / name
        if path.is_file():
            try:
                return json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}: not valid JSON ({exc})") from None
    return None


def origin(root: str | Path, rels: Sequence[str]) -> dict[str, Any]:
    """The one fact every output uses to say what data
    it read: ``is_demo``, ``subset`` and a sentence.

    Taken from the root's ``manifest.json`` (real subsets) or ``DEMO.json`` (the demo data), never
    guessed from the path or the content. A root with neither holds upstream files as they are.
    """
    manifest = read_manifest(root)
    if manifest is None:
        return {"is_demo": False, "subset": False, "text": "real data, the upstream files"}
    if manifest.get("demo"):
        return {"is_demo": True, "subset": False, "text": "demo data written for this project"}
    entries: Mapping[str, Mapping[str, Any]] = {e["path"]: e for e in manifest["files"]}
    missing = [rel for rel in rels if rel not in entries]
    if missing:
        raise DataError(f"{Path(root) / MANIFEST}: lists no entry for {', '.join(missing)}")
    used = [entries[rel] for rel in rels]
    drawn = [e for e in used if "rows" in e]
    if not drawn:
        return {
            "is_demo": False,
            "subset": False,
            "text": f"real data, complete upstream file{'s' if len(used) > 1 else ''}",
        }
    n, total = sum(e["rows"] for e in drawn), sum(e["source_rows"] for e in drawn)
    source = (
        f"{drawn[0]['path']} (sha256 {drawn[0]['source_sha256'][:12]})"
        if len(drawn) == 1
        else f"{len(drawn)} upstream files (sha256 in {Path(root) / MANIFEST})"
    )
    text = (
        f"real data, subset of {n:,} of {total:,} rows drawn with seed {manifest['seed']} from "
        f"{source}"
    )
    if len(drawn) < len(used):
        text += (
            f"; {len(used) - len(drawn)} complete file{'s' if len(used) - len(drawn) > 1 else ''}"
        )
    return {
        "is_demo": False,
        "subset": True,
        "rows": n,
        "source_rows": total,
        "seed": manifest["seed"],
        "text": text,
    }


def dataset_origin(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The origin fact of a named dataset of ``config`` before it is prepared (plan-time notes).

    The same :func:`origin` that ``prepare_dataset`` records in the sidecar, from the same files,
    so a plan-time note and the prepared provenance cannot disagree.
    """
    from lmanatomy.data.layout import dataset_root, resolve

    spec = (config.get("datasets") or {}).get(name)
    if spec is None:
        raise DataError(f"datasets: no dataset named '{name}'")
    root = dataset_root(config, name)
    if root is None:
        return {
            "is_demo": False,
            "subset": False,
            "text": "real data, the upstream files (downloaded)",
        }
    resolved = resolve(spec, root)
    return origin(resolved.folder, resolved.files)
