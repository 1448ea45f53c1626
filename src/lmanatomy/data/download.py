"""Getting upstream files onto disk, verified: download, unpack, and the recorded sha256.

Every file the workflow fetches is streamed to a temporary name beside its destination, hashed
on the way, checked, and only then renamed; an interrupted or wrong transfer leaves nothing that
looks like data. Next to each fetched file a record ``<file>.sha256`` (``sha256sum`` format)
holds the hash that was accepted. For files whose hash the download table pins, that is the
pinned hash; for the others it is the hash seen on the first download (trust on first use), and
a later download or read of the same path must reproduce it.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import tarfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from lmanatomy.data.upstream import UPSTREAM, Upstream
from lmanatomy.errors import DataError
from lmanatomy.io import (  # sha256_file: also for this module's callers
    atomic_write_text,
    digest_file,
    sha256_file,
)

CHUNK = 1 << 20


def git_blob_sha1(path: str | Path) -> str:
    """The id git gives the file's content (``git hash-object``): how repositories pin bytes."""
    return digest_file(path, hashlib.sha1(f"blob {Path(path).stat().st_size}\0".encode()))


def record_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".sha256")


def read_record(path: str | Path) -> str | None:
    """The sha256 recorded when ``path`` was fetched, or None when it was not fetched by us."""
    record = record_path(path)
    if not record.is_file():
        return None
    text = record.read_text(encoding="utf-8").split()
    if not text or len(text[0]) != 64:
        raise DataError(f"{record}: not a sha256 record (expected '<64 hex digits>  <file name>')")
    return text[0]


def _write_record(path: Path, sha256: str) -> None:
    atomic_write_text(record_path(path), f"{sha256}  {path.name}\n")


def verify_recorded(path: str | Path) -> str | None:
    """Check a fetched file against its record; return its sha256 (None when there is no record)."""
    expected = read_record(path)
    if expected is None:
        return None
    actual = sha256_file(path)
    if actual != expected:
        raise DataError(
            f"{path}: sha256 mismatch with the hash recorded when it was fetched "
            f"({record_path(path)}): expected {expected}, got {actual}"
        )
    return actual


def _expected_hash(dest: Path, sha256: str | None) -> tuple[str | None, str]:
    """The hash a fetch of ``dest`` must produce, and where that expectation comes from."""
    if sha256 is not None:
        return sha256.lower(), "pinned"
    recorded = read_record(dest)
    origin = (
        f"recorded at the first download in {record_path(dest)}; delete that file to trust a new "
        "upstream version"
    )
    return recorded, origin if recorded else "not pinned"


def _finish(
    tmp: Path, dest: Path, name: str, sha256: str | None, git_blob: str | None, actual: str
) -> str:
    """Check a complete temporary file and move it into place with its record, or delete it."""
    expected, origin = _expected_hash(dest, sha256)
    try:
        if expected is not None and actual != expected:
            raise DataError(
                f"{dest}: sha256 mismatch for {name}: expected {expected} ({origin}), got {actual}"
            )
        if git_blob is not None and (blob := git_blob_sha1(tmp)) != git_blob:
            raise DataError(
                f"{dest}: git blob id mismatch for {name}: expected {git_blob} (upstream "
                f"repository), got {blob}"
            )
    except DataError:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, dest)
    _write_record(dest, actual)
    return actual


def _temporary(dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    return dest.with_name(f".{dest.name}.part-{os.getpid()}")


def _copy_hashed(source: BinaryIO, tmp: Path, expected_size: int | None, name: str) -> str:
    digest = hashlib.sha256()
    size = 0
    with open(tmp, "wb") as out:
        for block in iter(lambda: source.read(CHUNK), b""):
            digest.update(block)
            out.write(block)
            size += len(block)
    if expected_size is not None and size != expected_size:
        raise DataError(f"{name}: transfer ended after {size} of {expected_size} bytes")
    return digest.hexdigest()


def download(
    url: str,
    dest: str | Path,
    sha256: str | None,
    *,
    git_blob: str | None = None,
    timeout: float = 60.0,
) -> str:
    """Fetch ``url`` to ``dest``, verified; return its sha256.

    ``sha256=None`` means not pinned: the hash recorded by an earlier download of ``dest`` is
    then required, and without one the hash seen now is recorded. A mismatch, an HTTP error or
    an interrupted transfer deletes the temporary file and raises :class:`DataError` naming the
    file (and for a mismatch, the expected and the actual hash).
    """
    dest = Path(dest)
    tmp = _temporary(dest)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            length = (
                response.headers.get("Content-Length") if hasattr(response, "headers") else None
            )
            actual = _copy_hashed(response, tmp, int(length) if length else None, f"{dest} ({url})")
    except DataError:
        tmp.unlink(missing_ok=True)
        raise
    except (
        urllib.error.URLError,
        http.client.HTTPException,
        OSError,
        ValueError,
    ) as exc:  # HTTP errors, cut transfers, bad URLs
        tmp.unlink(missing_ok=True)
        raise DataError(f"{dest}: download of {url} failed: {type(exc).__name__}: {exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return _finish(tmp, dest, url, sha256, git_blob, actual)


@contextlib.contextmanager
def _open_member(archive: Path, member: str) -> Iterator[BinaryIO]:
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            try:
                info = zf.getinfo(member)
            except KeyError:
                raise DataError(f"{archive}: has no member '{member}'") from None
            with zf.open(info) as fh:
                yield fh
        return
    try:
        with tarfile.open(archive) as tf:
            try:
                info = tf.getmember(member)
            except KeyError:
                raise DataError(f"{archive}: has no member '{member}'") from None
            fh = tf.extractfile(info)
            if fh is None:
                raise DataError(f"{archive}: member '{member}' is not a regular file")
            yield fh
    except tarfile.TarError as exc:
        raise DataError(f"{archive}: not a readable tar or zip archive: {exc}") from exc


def unpack(archive: str | Path, member: str, dest: str | Path, sha256: str | None = None) -> str:
    """Extract one member of a tar or zip archive to ``dest`` (temporary file, check, rename)."""
    archive, dest = Path(archive), Path(dest)
    verify_recorded(archive)
    tmp = _temporary(dest)
    try:
        with _open_member(archive, member) as fh:
            actual = _copy_hashed(fh, tmp, None, f"{dest} ({archive}:{member})")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return _finish(tmp, dest, f"{archive}:{member}", sha256, None, actual)


def fetch(path: str, raw_root: str | Path, entry: Upstream | None = None) -> str:
    """Bring the download-table file ``path`` into
    ``raw_root`` (download or unpack); return its sha256."""
    entry = entry or UPSTREAM.get(path)
    if entry is None:
        raise DataError(f"{path}: not in the download table (src/lmanatomy/data/upstream.py)")
    raw_root = Path(raw_root)
    if entry.url is not None:
        return download(entry.url, raw_root / path, entry.sha256, git_blob=entry.git_blob)
    assert entry.archive is not None and entry.member is not None
    return unpack(raw_root / entry.archive, entry.member, raw_root / path, entry.sha256)
