"""Integrity sweep: find truncated or damaged Parquet
files of a run and remove them before planning.

Every writer of this project writes to a temporary name and renames, so a complete-looking file
is normally complete. A disk that filled up, a copy that was cut, a file system that lost its
tail after a crash can still leave a ``*.parquet`` that Snakemake takes as up to date and a
later job fails on, or worse, reads wrongly. The workflow therefore sweeps the run's results
folder when it is parsed (``workflow/rules/common.smk``): a damaged file is removed, Snakemake
sees the output missing, rebuilds it, and everything downstream reruns because its input is new.
Snakemake does not rebuild a missing intermediate whose consumers are up to date, so the
workflow also asks for the removed outputs (``Damaged.rebuild``) from its default target.

The check is cheap — one ``stat`` and two small reads per file, never a parse of the data: a
Parquet file begins with ``PAR1`` and ends with a 4-byte little-endian footer length followed by
``PAR1``, and the footer must fit between the leading magic and that trailer. A truncated file
loses its trailer; a file cut inside its footer is caught by the length.

Some Parquet files are not declared outputs but parts vouched for by one: an activation store's
shards (its ``_manifest.json``) and a knowledge part's attribution shards (``parts/<part>.json``
lists their paths). Removing the part alone would leave the declared output in place and nothing
would rebuild it, so the files that vouch for a damaged part are removed with it. The store's
resume logic then keeps the intact shards and recomputes the missing one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"PAR1"
TRAILER = 8  # footer length (4 bytes) + magic
MIN_SIZE = len(MAGIC) + TRAILER
# The activation store's file names (lmanatomy.extract.store); repeated here so that a sweep at
# parse time does not import the store's numpy/pyarrow code.
STORE_MANIFEST = "_manifest.json"
STORE_PLAN = "_plan.json"
# Folders of a run that hold no outputs anyone reads back (and may be large).
SKIPPED_FOLDERS = ("logs", "benchmarks")


@dataclass(frozen=True)
class Damaged:
    """One damaged Parquet file, why it is damaged, and the files that vouch for it."""

    path: Path
    problem: str
    vouchers: tuple[Path, ...] = ()

    @property
    def rebuild(self) -> tuple[Path, ...]:
        """What the workflow must rebuild: the declared
        outputs vouching for the file, else the file."""
        return self.vouchers or (self.path,)

    def describe(self, removed: bool) -> str:
        verb = "removed" if removed else "would remove"
        also = f" and {', '.join(str(v) for v in self.vouchers)}" if self.vouchers else ""
        how = "" if removed else f" ({REPAIR_VARIABLE}=1 removes it)"
        return (
            f"damaged Parquet file {self.path}: {self.problem}; {verb} it{also} so that it is "
            f"rebuilt{how}"
        )


def parquet_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot be a complete Parquet file (None when magic and footer check out)."""
    path = Path(path)
    size = path.stat().st_size
    if size < MIN_SIZE:
        return f"{size} bytes, shorter than the {MIN_SIZE} of an empty Parquet file"
    with path.open("rb") as fh:
        head = fh.read(len(MAGIC))
        fh.seek(size - TRAILER)
        tail = fh.read(TRAILER)
    if head != MAGIC:
        return f"does not start with {MAGIC.decode()} (starts with {head!r})"
    if tail[4:] != MAGIC:
        return f"does not end with {MAGIC.decode()} (truncated or still being written)"
    footer = int.from_bytes(tail[:4], "little")
    if footer > size - MIN_SIZE:
        return f"footer length {footer} does not fit in the file ({size} bytes)"
    return None


def run_files(results_dir: str | Path, pattern: str) -> list[Path]:
    """Files matching ``pattern`` under a run's folder, sorted; hidden names (temporaries), logs
    and benchmarks skipped."""
    root = Path(results_dir)
    if not root.is_dir():
        return []
    found = []
    for path in root.rglob(pattern):
        parts = path.relative_to(root).parts
        if parts[0] in SKIPPED_FOLDERS or any(p.startswith(".") for p in parts):
            continue
        if path.is_file():
            found.append(path)
    return sorted(found)


def parquet_files(results_dir: str | Path) -> list[Path]:
    """Every ``*.parquet`` of a run's folder (see :func:`run_files`)."""
    return run_files(results_dir, "*.parquet")


def vouchers(path: Path, results_dir: str | Path) -> tuple[Path, ...]:
    """Files whose presence declares ``path`` complete: a store's manifest, JSON files naming it."""
    found = []
    manifest = path.parent / STORE_MANIFEST
    if manifest.is_file() and (path.parent / STORE_PLAN).is_file():
        found.append(manifest)
    names = {path.as_posix(), str(path.resolve())}
    for candidate in run_files(results_dir, "*.json"):
        if candidate not in found and _names_any(candidate, names):
            found.append(candidate)
    return tuple(found)


def _names_any(json_path: Path, names: Iterable[str]) -> bool:
    """True when a JSON file contains one of ``names`` as a string value (anywhere in it)."""
    try:
        text = json_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if not any(name in text for name in names):
        return False
    try:
        values = set(_strings(json.loads(text)))
    except json.JSONDecodeError:
        return False
    return any(name in values for name in names)


def _strings(obj: object) -> Iterable[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _strings(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _strings(value)


def find_damaged(results_dir: str | Path) -> list[Damaged]:
    """Every damaged Parquet file of a run's folder, with what vouches for it."""
    damaged = []
    for path in parquet_files(results_dir):
        try:
            problem = parquet_problem(path)
        except FileNotFoundError:  # removed meanwhile: nothing to vouch for
            continue
        except OSError as exc:
            problem = f"unreadable ({exc})"
        if problem is not None:
            damaged.append(Damaged(path, problem, vouchers(path, results_dir)))
    return damaged


def sweep(results_dir: str | Path, remove: bool, warn: Callable[[str], None]) -> list[Damaged]:
    """Find damaged Parquet files under ``results_dir``; with ``remove``, delete them and their
    vouchers. ``warn`` gets one line per damaged file (what was, or would be, removed)."""
    damaged = find_damaged(results_dir)
    for item in damaged:
        if remove:
            for path in (item.path, *item.vouchers):
                path.unlink(missing_ok=True)
        warn(item.describe(removed=remove))
    return damaged


# The switch that lets the parse-time sweep remove files. Snakemake 9 only knows whether it is
# dry-running after the Snakefile is parsed (``workflow.dryrun`` is False at parse time) and offers
# no public way to ask earlier; reading its command line needs its private argument parser. So
# removal is asked for explicitly: `make run` / `make reduced` set it, a dry run, `--lint`,
# `--report` and a plain `snakemake` without it only report (docs/reproducibility.md).
REPAIR_VARIABLE = "LMANATOMY_REPAIR"


def repair_requested(environ: Mapping[str, str]) -> bool:
    """True when the environment asks the sweep to remove damaged files (``LMANATOMY_REPAIR=1``).

    Any other value than ``1``/``0``/unset is refused: a typo must not silently turn a repair
    into a report (or the reverse).
    """
    value = environ.get(REPAIR_VARIABLE, "0").strip()
    if value not in ("0", "1", ""):
        raise ValueError(
            f"{REPAIR_VARIABLE}={value!r}: expected 1 (remove damaged files) or 0 (only report)"
        )
    return value == "1"
