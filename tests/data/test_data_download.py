"""Downloads against a local HTTP server: pinned and first-seen hashes, mismatches, cut transfers.

Also checks the download table itself: every upstream URL pinned to a full commit or revision,
and the pinned hashes equal to the real files in ../shared/data.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import re
import subprocess
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest

from conftest import REPO
from lmanatomy.data import (
    FORMATS,
    UPSTREAM,
    Upstream,
    download,
    fetch,
    load,
    resolve,
    sha256_file,
    unpack,
)
from lmanatomy.data.download import read_record, record_path, verify_recorded
from lmanatomy.data.generic import GENERIC_FORMATS
from lmanatomy.errors import DataError

DEMO = REPO / "data" / "demo"
SHA_ZERO = "0" * 64


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the test's folder; ``/cut/<file>`` promises the whole file and sends half of it."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.path.startswith("/cut/"):
            data = (Path(self.directory) / self.path[len("/cut/") :]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture()
def server(tmp_path):
    """(folder served, base URL) of an HTTP server on 127.0.0.1 for this test."""
    served = tmp_path / "served"
    served.mkdir()
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: Handler(*a, directory=str(served))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_verifies_and_records(server, tmp_path):
    served, url = server
    source = DEMO / "jglue" / "jsts-v1.1" / "valid-v1.1.json"
    (served / "valid.json").write_bytes(source.read_bytes())
    expected = hashlib.sha256(source.read_bytes()).hexdigest()
    dest = tmp_path / "raw" / "jglue" / "jsts-v1.1" / "valid-v1.1.json"
    assert download(f"{url}/valid.json", dest, expected) == expected
    assert dest.read_bytes() == source.read_bytes()
    assert record_path(dest).read_text() == f"{expected}  valid-v1.1.json\n"
    assert leftovers(dest.parent) == ["valid-v1.1.json", "valid-v1.1.json.sha256"]


def test_sha_mismatch_names_file_and_both_hashes(server, tmp_path):
    served, url = server
    (served / "f.json").write_bytes(b'{"a": 1}\n')
    actual = hashlib.sha256(b'{"a": 1}\n').hexdigest()
    dest = tmp_path / "raw" / "f.json"
    with pytest.raises(DataError) as info:
        download(f"{url}/f.json", dest, SHA_ZERO)
    message = str(info.value)
    assert message.startswith(f"{dest}: sha256 mismatch for {url}/f.json")
    assert f"expected {SHA_ZERO} (pinned), got {actual}" in message
    assert leftovers(dest.parent) == []  # no file, no temporary, no record


def test_interrupted_transfer_leaves_nothing(server, tmp_path):
    served, url = server
    (served / "big.bin").write_bytes(bytes(range(256)) * 4096)
    dest = tmp_path / "raw" / "big.bin"
    with pytest.raises(
        DataError, match=re.escape(str(dest)) + r".*(IncompleteRead|transfer ended after)"
    ):
        download(f"{url}/cut/big.bin", dest, None)
    assert leftovers(dest.parent) == []


def test_http_error_names_the_file(server, tmp_path):
    _, url = server
    dest = tmp_path / "raw" / "missing.json"
    with pytest.raises(
        DataError, match=re.escape(f"{dest}: download of {url}/missing.json failed: HTTPError")
    ):
        download(f"{url}/missing.json", dest, None)
    assert leftovers(dest.parent) == []


def test_trust_on_first_use(server, tmp_path):
    """Unpinned: the first download records its hash; a later download or read must match it."""
    served, url = server
    (served / "t.txt").write_bytes(b"first version\n")
    dest = tmp_path / "raw" / "t.txt"
    first = download(f"{url}/t.txt", dest, None)
    assert read_record(dest) == first == hashlib.sha256(b"first version\n").hexdigest()
    assert download(f"{url}/t.txt", dest, None) == first  # same bytes again: fine
    (served / "t.txt").write_bytes(b"upstream changed\n")
    dest.unlink()
    with pytest.raises(
        DataError,
        match=r"sha256 mismatch .*expected " + first + r" \(recorded at the first download",
    ):
        download(f"{url}/t.txt", dest, None)
    assert (
        not dest.exists() and read_record(dest) == first
    )  # the record survives; nothing replaced it
    dest.write_bytes(b"edited on disk\n")
    with pytest.raises(
        DataError,
        match=re.escape(f"{dest}: sha256 mismatch with the hash recorded when it was fetched"),
    ):
        verify_recorded(dest)


def test_git_blob_id_is_checked(server, tmp_path):
    served, url = server
    (served / "h.jsonl").write_bytes(b'{"ind": 1}\n')
    blob = subprocess.run(
        ["git", "hash-object", str(served / "h.jsonl")], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert download(f"{url}/h.jsonl", tmp_path / "ok" / "h.jsonl", None, git_blob=blob)
    dest = tmp_path / "bad" / "h.jsonl"
    with pytest.raises(
        DataError,
        match=rf"{re.escape(str(dest))}: git blob id mismatch .*expected {'1' * 40}.*got {blob}",
    ):
        download(f"{url}/h.jsonl", dest, None, git_blob="1" * 40)
    assert leftovers(dest.parent) == []


def test_loading_a_tampered_download_fails(server, tmp_path):
    served, url = server
    source = DEMO / "humaneval" / "HumanEval.jsonl.gz"
    (served / "HumanEval.jsonl.gz").write_bytes(source.read_bytes())
    root = tmp_path / "raw"
    download(
        f"{url}/HumanEval.jsonl.gz", root / "humaneval" / "HumanEval.jsonl.gz", sha256_file(source)
    )
    assert len(load("humaneval", root)) == 28
    data = source.read_bytes()
    (root / "humaneval" / "HumanEval.jsonl.gz").write_bytes(
        data[:-1] + bytes([data[-1] ^ 1])
    )  # one bit flipped
    with pytest.raises(DataError, match="sha256 mismatch with the hash recorded"):
        load("humaneval", root)


def _archives(folder: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(folder / "a.tar.gz", "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    with zipfile.ZipFile(folder / "a.zip", "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


@pytest.mark.parametrize("archive", ["a.tar.gz", "a.zip"])
def test_unpack_a_member(server, tmp_path, archive):
    served, url = server
    members = {
        "x-final/en/dev_2k.tsv": b"id\tsentence1\tsentence2\tlabel\n1\ta\tb\t1\n",
        "x-final/ja/dev_2k.tsv": b"other\n",
    }
    _archives(served, members)
    raw = tmp_path / "raw"
    download(f"{url}/{archive}", raw / archive, None)
    dest = raw / "pawsx" / "x-final" / "en" / "dev_2k.tsv"
    sha = unpack(raw / archive, "x-final/en/dev_2k.tsv", dest)
    assert dest.read_bytes() == members["x-final/en/dev_2k.tsv"] and read_record(dest) == sha
    with pytest.raises(
        DataError, match=re.escape(f"{raw / archive}: has no member 'x-final/fr/dev_2k.tsv'")
    ):
        unpack(raw / archive, "x-final/fr/dev_2k.tsv", raw / "fr.tsv")
    assert not (raw / "fr.tsv").exists()
    with pytest.raises(DataError, match="sha256 mismatch"):
        unpack(raw / archive, "x-final/ja/dev_2k.tsv", raw / "ja.tsv", SHA_ZERO)
    assert not (raw / "ja.tsv").exists()


def test_fetch_uses_the_table_entry(server, tmp_path):
    served, url = server
    source = DEMO / "knowledge_questions" / "generated_data_1token.json"
    (served / "k.json").write_bytes(source.read_bytes())
    entry = Upstream(
        "knowledge_questions/generated_data_1token.json", f"{url}/k.json", sha256_file(source)
    )
    fetch(entry.path, tmp_path / "raw", entry)
    assert len(load("knowledge_questions", tmp_path / "raw")) == 152
    with pytest.raises(DataError, match="not in the download table"):
        fetch("nothing/here.json", tmp_path / "raw")


# ---------------------------------------------------------------- the download table


def test_every_url_is_pinned():
    for path, entry in UPSTREAM.items():
        assert (entry.url is None) != (entry.archive is None), path
        if entry.url is None:
            assert entry.archive in UPSTREAM and entry.member, path
            continue
        if "githubusercontent.com" in entry.url or "huggingface.co" in entry.url:
            assert re.search(r"/[0-9a-f]{40}/", entry.url), (
                f"{path}: URL not pinned to a full commit"
            )
        else:
            # storage buckets have no commits: the hash is trusted on first use, and the table says
            # so
            assert entry.sha256 is None and "not pinned" in entry.note, path
        if entry.sha256 is None:
            assert entry.note, f"{path}: an unpinned file must say why"
        else:
            assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256), path


@pytest.mark.parametrize("fmt", sorted(set(FORMATS) - set(GENERIC_FORMATS)))
def test_the_table_covers_every_format(fmt):
    """Planning a download (root: null) resolves every
    upstream format's default splits from the table alone."""
    resolved = resolve({"format": fmt}, None)
    assert set(resolved.splits) == set(FORMATS[fmt].splits)
    assert all(path in UPSTREAM for path in resolved.files)


@pytest.mark.shared_data
def test_pinned_hashes_match_the_real_files(shared_data):
    """The shared README's sha256 list, the table, and the files on disk all agree."""
    readme = (shared_data / "README.md").read_text(encoding="utf-8")
    listed = dict((path, sha) for sha, path in re.findall(r"^([0-9a-f]{64}) (\S+)$", readme, re.M))
    assert len(listed) == 20
    for path, sha in listed.items():
        assert UPSTREAM[path].sha256 == sha, path
    on_disk = sorted(
        p.relative_to(shared_data).as_posix()
        for p in (shared_data / "mmlu" / "data").rglob("*.csv")
    )
    assert len(on_disk) == 171
    for path in list(listed) + on_disk:
        assert sha256_file(shared_data / path) == UPSTREAM[path].sha256, path
