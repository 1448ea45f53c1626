"""Wrap what ``ruff format`` leaves over the line length: comments, docstrings, string literals.

Usage: ``python scripts/dev/wrap_long_lines.py [--width 100] PATH ...`` (files or folders), run on
the unformatted tree before ``ruff format`` (``scripts/dev/ruff-finish.sh`` does both).

The formatter wraps code but never words inside comments, docstrings or strings, so after it a
long sentence stays one long line. This tool works on the source as written and learns where each
string will sit from a formatted copy made in a temporary folder:

* comment lines and docstring paragraphs over the width are rewrapped, words and their order kept
  (a paragraph is the long line and the lines that continue it at the same indent; bullets,
  fields, doctests and lines with runs of spaces, such as usage tables, end it or are left alone);
* a string literal that would end past the width becomes an implicit concatenation of pieces
  split at spaces outside ``{...}`` (parenthesised where its position needs it); the pieces of an
  existing concatenation are reflowed together when they share quotes and kind.

A file is written only when its syntax tree is the original's up to docstring whitespace (the
values of all other strings are compared exactly). What could not be wrapped is printed, to fix
by hand.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tokenize
import unicodedata
from dataclasses import dataclass
from pathlib import Path

OPENING = "([{"
CLOSING = ")]}"
STATEMENT_START = (
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.NEWLINE,
    tokenize.NL,
    tokenize.ENCODING,
)
BREAK = re.compile(r"^(>>>|\.\.|:|[-*+] |\d+[.)] |```|\|)")
BULLET = re.compile(r"^([-*+] |\d+[.)] )")


def width(text: str) -> int:
    """Display width as ruff counts it: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def tokens(source: str) -> list[tokenize.TokenInfo]:
    return list(tokenize.generate_tokens(io.StringIO(source).readline))


def is_docstring(toks: list[tokenize.TokenInfo], first: int, last: int | None = None) -> bool:
    """Strings that are a whole expression statement (docstrings, and strings used as comments)."""
    before = toks[first - 1].type if first else tokenize.ENCODING
    after = toks[(first if last is None else last) + 1].type
    return before in STATEMENT_START and after == tokenize.NEWLINE


# ---------------------------------------------------------------------------------- words


def glue_code_spans(words: list[str]) -> list[str]:
    """Keep ``inline code`` spans in one piece: a line break inside one would split the code."""
    out: list[str] = []
    for word in words:
        if out and out[-1].count("``") % 2 == 1:
            out[-1] += " " + word
        else:
            out.append(word)
    return out


def greedy_fill(words: list[str], first: str, rest: str, limit: int, suffix: str) -> list[str]:
    """As many words a line as fit: ``first`` prefixes the first line, ``rest`` the others."""
    lines: list[str] = []
    current, prefix = "", first
    for k, word in enumerate(words):
        candidate = f"{current} {word}" if current else word
        end = suffix if k == len(words) - 1 else ""
        if current and width(prefix + candidate + end) > limit:
            lines.append(prefix + current)
            prefix, current = rest, word
        else:
            current = candidate
    lines.append(prefix + current + suffix)
    return lines


def fill(words: list[str], first: str, rest: str, limit: int, suffix: str = "") -> list[str]:
    """Greedy fill, balanced when it would leave a short last line (a word or two of a sentence
    alone on its line): the narrowest width that needs no more lines."""
    lines = greedy_fill(words, first, rest, limit, suffix)
    if len(lines) == 1 or width(lines[-1].strip()) >= limit // 4:
        return lines
    narrower = limit
    while narrower > limit // 2:
        if len(greedy_fill(words, first, rest, narrower - 1, suffix)) > len(lines):
            break
        narrower -= 1
    return greedy_fill(words, first, rest, narrower, suffix)


# ---------------------------------------------------------------------------------- comments


def comment_lines(source: str) -> set[int]:
    """0-based numbers of the lines that hold only a comment."""
    return {
        t.start[0] - 1
        for t in tokens(source)
        if t.type == tokenize.COMMENT and t.line.strip().startswith("#")
    }


def wrap_comments(lines: list[str], limit: int, problems: list[str], name: str) -> list[str]:
    """Rewrap every comment-only line over ``limit`` with the comment lines that continue it."""
    i = 0
    while i < len(lines):
        line = lines[i].rstrip("\n")
        lead_match = re.match(r"^(\s*)(#[:!]? ?)", line)
        if (
            not lead_match
            or width(line) <= limit
            or line.startswith("#!")
            or i not in comment_lines("".join(lines))
        ):
            i += 1
            continue
        lead = lead_match.group(0)
        text = line[len(lead) :]
        bullet = BULLET.match(text)
        marker = bullet.group(1) if bullet else ""
        hang = lead + " " * len(marker)
        body = [text[len(marker) :]]
        j = i + 1
        others = comment_lines("".join(lines))
        while j < len(lines) and j in others:
            following = lines[j].rstrip("\n")
            rest = following[len(hang) :]
            if not following.startswith(hang) or not rest or rest[0] == " " or BREAK.match(rest):
                break
            body.append(rest.strip())
            j += 1
        if "  " in " ".join(body).strip():
            problems.append(f"{name}:{i + 1}: comment with runs of spaces left as it is")
            i += 1
            continue
        new = fill(glue_code_spans(" ".join(body).split()), lead + marker, hang, limit)
        if any(width(x) > limit for x in new):
            problems.append(f"{name}:{i + 1}: a comment word longer than the line")
        lines[i:j] = [x + "\n" for x in new]
        i += len(new)
    return lines


# ---------------------------------------------------------------------------------- docstrings


def docstring_spans(source: str) -> list[tuple[int, int]]:
    """0-based (first, last) lines of each statement string that starts its line."""
    toks = tokens(source)
    spans = []
    for k, t in enumerate(toks):
        if t.type == tokenize.STRING and is_docstring(toks, k):
            if t.start[1] == len(t.line) - len(t.line.lstrip()):
                spans.append((t.start[0] - 1, t.end[0] - 1))
    return spans


def wrap_docstring(
    lines: list[str], start: int, end: int, limit: int, problems: list[str], name: str
) -> None:
    """Rewrap the paragraphs of one docstring that hold a line over ``limit`` (in place)."""
    indent = re.match(r"^(\s*)", lines[start]).group(1)
    i = start
    while i <= end:
        line = lines[i].rstrip("\n")
        if width(line) <= limit:
            i += 1
            continue
        if i == start:
            lead = re.match(r'^\s*[rRuUbB]?("""|\'\'\')\s*', line).group(0)
        else:
            lead = re.match(r"^\s*", line).group(0)
        text = line[len(lead) :]
        bullet = BULLET.match(text)
        marker = bullet.group(1) if bullet else ""
        base = indent if i == start else lead
        hang = base + " " * len(marker)
        body = [text[len(marker) :]]
        j = i + 1
        while j <= end:
            following = lines[j].rstrip("\n")
            stripped = following.strip()
            own_indent = len(following) - len(following.lstrip())
            if (
                not stripped
                or own_indent != len(hang)
                or BREAK.match(stripped)
                or stripped in ('"""', "'''")
            ):
                break
            body.append(stripped)
            j += 1
        joined = " ".join(body).rstrip()
        suffix = ""
        if j - 1 == end and joined.endswith(('"""', "'''")):
            joined, suffix = joined[:-3], joined[-3:]
        if "  " in joined.strip():
            problems.append(f"{name}:{i + 1}: docstring line with runs of spaces left as it is")
            i += 1
            continue
        new = fill(glue_code_spans(joined.split()), lead + marker, hang, limit, suffix)
        if any(width(x) > limit for x in new):
            problems.append(f"{name}:{i + 1}: a docstring word longer than the line")
        lines[i:j] = [x + "\n" for x in new]
        end += len(new) - (j - i)
        i += len(new)


# ---------------------------------------------------------------------------------- strings


@dataclass(frozen=True)
class Literal:
    """One single-line string token: prefix letters, quote character, body between the quotes."""

    prefix: str
    quote: str
    body: str

    @staticmethod
    def parse(text: str) -> Literal | None:
        match = re.match(r"([A-Za-z]*)(\"|')", text)
        prefix, quote = match.group(1), match.group(2)
        if text[len(prefix) :].startswith(quote * 3):
            return None
        return Literal(prefix, quote, text[len(prefix) + 1 : -1])

    @property
    def is_f(self) -> bool:
        return "f" in self.prefix.lower()

    @property
    def kind(self) -> str:
        """The prefix without f: strings of one kind can share a piece."""
        return self.prefix.lower().replace("f", "")


Segment = tuple[bool, str]  # (from an f-string, text as written in it)


def has_placeholder(body: str) -> bool:
    return re.search(r"(?<!\{)\{(?!\{)", body.replace("{{", "")) is not None


def split_words(literal: Literal) -> list[list[Segment]]:
    """Words of a body, each ending in its spaces or its ``\\n`` escapes; f-strings never split
    inside ``{...}``."""
    words: list[list[Segment]] = []
    current, depth, i, body = "", 0, 0, literal.body
    while i < len(body):
        char = body[i]
        if char == "\\":
            escape = body[i : i + 2]
            current += escape
            i += 2
            if escape == "\\n" and depth == 0 and body[i : i + 2] != "\\n":
                words.append([(literal.is_f, current)])
                current = ""
            continue
        if literal.is_f and depth == 0 and char in "{}" and body[i + 1 : i + 2] == char:
            current += char * 2
            i += 2
            continue
        if literal.is_f and char == "{":
            depth += 1
        if literal.is_f and char == "}":
            depth -= 1
        current += char
        if char == " " and depth == 0 and body[i + 1 : i + 2] != " ":
            words.append([(literal.is_f, current)])
            current = ""
        i += 1
    if current:
        words.append([(literal.is_f, current)])
    return words


def render(segments: list[Segment], quote: str, kind: str) -> str:
    """One piece: an f-string when a segment has a placeholder, else a plain string."""
    if any(is_f and has_placeholder(text) for is_f, text in segments):
        text = "".join(
            t if is_f else t.replace("{", "{{").replace("}", "}}") for is_f, t in segments
        )
        return f"{kind}f{quote}{text}{quote}"
    text = "".join(t.replace("{{", "{").replace("}}", "}") if f else t for f, t in segments)
    return f"{kind}{quote}{text}{quote}"


def reflow(literals: list[Literal], limit: int) -> list[str] | None:
    """The pieces of a concatenation refilled to ``limit`` columns, or None if they cannot mix."""
    if len({lit.quote for lit in literals}) != 1 or len({lit.kind for lit in literals}) != 1:
        return None
    kind, quote = literals[0].kind, literals[0].quote
    if kind and (len({lit.prefix.lower() for lit in literals}) != 1 or literals[0].is_f):
        return None
    words: list[list[Segment]] = []
    for literal in literals:
        more = split_words(literal)
        if words and more and not words[-1][-1][1].endswith(" "):
            words[-1] = words[-1] + more.pop(0)
        words += more
    pieces: list[list[Segment]] = []
    current: list[Segment] = []
    for word in words:
        if current and width(render(current + word, quote, kind)) > limit:
            pieces.append(current)
            current = []
        current = current + word
    if current:
        pieces.append(current)
    return [render(piece, quote, kind) for piece in pieces]


def string_groups(toks: list[tokenize.TokenInfo]) -> list[tuple[list[int], int, bool]]:
    """Runs of adjacent string tokens: (token indices, bracket depth, has a comment inside)."""
    groups, depth, k = [], 0, 0
    while k < len(toks):
        t = toks[k]
        if t.type == tokenize.OP and t.string in OPENING:
            depth += 1
        elif t.type == tokenize.OP and t.string in CLOSING:
            depth -= 1
        elif t.type == tokenize.STRING:
            members, j, commented = [k], k + 1, False
            while j < len(toks) and toks[j].type in (
                tokenize.NL,
                tokenize.COMMENT,
                tokenize.STRING,
            ):
                if toks[j].type == tokenize.STRING:
                    members.append(j)
                commented |= toks[j].type == tokenize.COMMENT
                j += 1
            groups.append((members, depth, commented))
            k = members[-1] + 1
            continue
        k += 1
    return groups


def split_strings(
    source: str, formatted: Formatted, limit: int, problems: list[str], name: str
) -> str:
    """Split the string groups that end past ``limit`` once formatted (``formatted`` gives the
    columns)."""
    toks, ftoks = tokens(source), tokens(formatted.text)
    flines = formatted.text.splitlines()
    mine = [k for k, t in enumerate(toks) if t.type == tokenize.STRING]
    theirs = [k for k, t in enumerate(ftoks) if t.type == tokenize.STRING]
    matcher = difflib.SequenceMatcher(
        None, [toks[k].string for k in mine], [ftoks[k].string for k in theirs], autojunk=False
    )
    to_formatted = {
        mine[a + n]: theirs[b + n]
        for a, b, size in matcher.get_matching_blocks()
        for n in range(size)
    }
    offsets = [0]
    for line in source.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    edits = []
    for members, depth, commented in string_groups(toks):
        if is_docstring(toks, members[0], members[-1]):
            continue
        placed = [to_formatted.get(k) for k in members]
        long = [
            k
            for k, f in zip(members, placed, strict=True)
            if f is not None
            and toks[k].start[0] == toks[k].end[0]
            and ftoks[f].start[0] in formatted.long_lines
        ]
        if not long:
            continue
        literals = [Literal.parse(toks[k].string) for k in members]
        first = ftoks[placed[0] if placed[0] is not None else to_formatted[long[0]]]
        fline = flines[first.start[0] - 1]
        starts_line = fline[: first.start[1]].strip() == ""
        column = first.start[1] if starts_line else len(fline) - len(fline.lstrip()) + 4
        where = f"{name}:{toks[members[0]].start[0]}"
        if commented or any(lit is None for lit in literals):
            problems.append(f"{where}: strings with comments or triple quotes left as they are")
            continue
        pieces = reflow(literals, limit - column - 1)
        if pieces is None:
            problems.append(f"{where}: strings of different quotes or kinds left as they are")
            continue
        if len(pieces) == 1 and (starts_line or column + width(pieces[0]) + 1 > limit):
            if first.start[1] + width(pieces[0]) + 1 > limit:
                problems.append(f"{where}: a string with no space to split at")
            continue
        parenthesise = depth == 0 or not starts_line
        indent = " " * (toks[members[0]].start[1] + parenthesise)
        text = ("\n" + indent).join(pieces)
        if parenthesise:
            text = f"({text})"
        start, end = toks[members[0]].start, toks[members[-1]].end
        edits.append((offsets[start[0] - 1] + start[1], offsets[end[0] - 1] + end[1], text))
    for start, end, text in sorted(edits, reverse=True):
        source = source[:start] + text + source[end:]
    return source


# ---------------------------------------------------------------------------------- checks


class _Normalise(ast.NodeTransformer):
    """Adjacent f-string constants merged: splitting an f-string may change only that."""

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        self.generic_visit(node)
        values: list[ast.expr] = []
        for value in node.values:
            if values and isinstance(value, ast.Constant) and isinstance(values[-1], ast.Constant):
                values[-1] = ast.Constant(values[-1].value + value.value)
            else:
                values.append(value)
        node.values = values
        return node


def same_program(before: str, after: str) -> bool:
    def normal(source: str) -> str:
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                if isinstance(node.value.value, str):
                    node.value.value = " ".join(node.value.value.split())
        return ast.dump(_Normalise().visit(tree))

    return normal(before) == normal(after)


# ---------------------------------------------------------------------------------- driver


def python_files(paths: list[Path]) -> list[Path]:
    files = []
    for path in paths:
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


@dataclass(frozen=True)
class Formatted:
    """A file as ``ruff format`` would write it, and the lines ``ruff check`` finds too long there
    (E501 with the project's settings, per-file ignores included)."""

    text: str
    long_lines: frozenset[int]


def formatted_copies(files: list[Path], ruff: str, config: Path) -> dict[Path, Formatted]:
    """Each file formatted in a temporary copy of the project (its pyproject.toml, same paths)."""
    project = config.resolve().parent
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copy(config, root / "pyproject.toml")
        copies = {}
        for path in files:
            copy = root / path.resolve().relative_to(project)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, copy)
            copies[path] = copy
        subprocess.run([ruff, "format", "--quiet", "."], cwd=root, check=True)
        check = [ruff, "check", "--select", "E501", "--output-format", "json", "--exit-zero", "."]
        report = subprocess.run(check, cwd=root, capture_output=True, text=True, check=True)
        long: dict[Path, set[int]] = {}
        for finding in json.loads(report.stdout):
            long.setdefault(Path(finding["filename"]).resolve(), set()).add(
                finding["location"]["row"]
            )
        return {
            path: Formatted(
                copy.read_text(encoding="utf-8"), frozenset(long.get(copy.resolve(), ()))
            )
            for path, copy in copies.items()
        }


def wrap_file(path: Path, formatted: Formatted, limit: int, problems: list[str]) -> bool:
    """Wrap one file in place; False (and a problem) when the result would change the program."""
    if not formatted.long_lines:
        return False
    original = path.read_text(encoding="utf-8")
    lines = wrap_comments(original.splitlines(keepends=True), limit, problems, str(path))
    for start, end in sorted(docstring_spans("".join(lines)), reverse=True):
        wrap_docstring(lines, start, end, limit, problems, str(path))
    text = split_strings("".join(lines), formatted, limit, problems, str(path))
    if text == original:
        return False
    if not same_program(original, text):
        problems.append(f"{path}: wrapping would change the program; left as it is")
        return False
    path.write_text(text, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--width", type=int, default=100)
    parser.add_argument("--ruff", default=str(Path(sys.executable).with_name("ruff")))
    args = parser.parse_args(argv)
    files = python_files(args.paths)
    formatted = formatted_copies(files, args.ruff, Path("pyproject.toml"))
    problems: list[str] = []
    changed = [path for path in files if wrap_file(path, formatted[path], args.width, problems)]
    print(f"wrapped long lines in {len(changed)} of {len(files)} files")
    print("\n".join(problems))
    return 0


if __name__ == "__main__":
    sys.exit(main())
