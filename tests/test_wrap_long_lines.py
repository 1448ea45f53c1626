"""scripts/dev/wrap_long_lines.py: what it wraps fits the line once formatted and means the same."""

from __future__ import annotations

import importlib.util
import io
import shutil
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

from conftest import REPO

RUFF = Path(sys.executable).with_name("ruff")
pytestmark = pytest.mark.skipif(not RUFF.exists(), reason="ruff is not installed")

SOURCE = '''\
def message(n, items):
    """A docstring whose summary line runs well past the hundred columns that the project allows us."""
    # A comment that also runs past the line length, with ``inline code spans`` that must stay whole.
    text = f"{n} items of {len(items)}: {', '.join(items)}; a long message that the formatter cannot wrap at all"
    return text + "then a {brace} and a plain string that is also far too long to fit on one line of code"


LABELS = {"key": "a dictionary value that is long enough to end past the line length once formatted"}
# 日本語のコメントは全角文字なので一文字が二桁を占める、 だから 短く見えても 長い行に なることがある ので 折り返す。
'''


def _tool():
    spec = importlib.util.spec_from_file_location(
        "wrap_long_lines", REPO / "scripts/dev/wrap_long_lines.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _project(tmp_path: Path, source: str) -> tuple[Path, Path]:
    """A one-file project with the repository's ruff settings: (its pyproject.toml, the file)."""
    config = tmp_path / "pyproject.toml"
    shutil.copy(REPO / "pyproject.toml", config)
    path = tmp_path / "sample.py"
    path.write_text(source, encoding="utf-8")
    return config, path


def _comment_words(source: str) -> list[str]:
    toks = tokenize.generate_tokens(io.StringIO(source).readline)
    return [w for t in toks if t.type == tokenize.COMMENT for w in t.string.lstrip("#").split()]


def test_wrapped_lines_fit_and_keep_their_words_and_values(tmp_path):
    tool = _tool()
    config, path = _project(tmp_path, SOURCE)
    problems: list[str] = []
    formatted = tool.formatted_copies([path], str(RUFF), config)[path]
    assert tool.wrap_file(path, formatted, 100, problems) and problems == []
    subprocess.run([str(RUFF), "format", "--quiet", "--config", str(config), str(path)], check=True)
    wrapped = path.read_text(encoding="utf-8")
    # Widths by hand: a full-width character counts two columns, as ruff's E501 counts it.
    assert all(sum(1 + (ord(c) > 0x3000) for c in line) <= 100 for line in wrapped.splitlines())
    before: dict = {}
    after: dict = {}
    exec(SOURCE, before)
    exec(wrapped, after)
    assert after["message"](3, ["a", "b"]) == before["message"](3, ["a", "b"])
    assert after["LABELS"] == before["LABELS"]
    assert after["message"].__doc__.split() == before["message"].__doc__.split()
    assert _comment_words(wrapped) == _comment_words(SOURCE)
    assert "``inline code spans``" in wrapped


def test_a_string_without_spaces_is_reported_not_broken(tmp_path):
    tool = _tool()
    source = f'TOKEN = "{"x" * 120}"\n'  # not a URL: E501 lets a line ending in a URL through
    config, path = _project(tmp_path, source)
    problems: list[str] = []
    formatted = tool.formatted_copies([path], str(RUFF), config)[path]
    assert not tool.wrap_file(path, formatted, 100, problems)
    assert path.read_text(encoding="utf-8") == source
    assert problems == [f"{path}:1: a string with no space to split at"]
