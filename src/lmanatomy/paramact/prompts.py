"""What the model reads for each dataset, and which rows a run draws (seeded).

Task datasets are formatted zero-shot as in the paper's code (github.com/Qian2333/Exploring-
Activation-Patterns-of-Parameters-in-Language-Models, ``lib/dataset``), ending where the answer
would start, so that D — the largest next-token logit — is the model's answer logit:

* BoolQ: ``{passage}\\nQuestion: {question}?\\nAnswer:``
* MMLU: ``The following are multiple choice questions (with answers) about {subject}.\\n\\n``
  ``{question}\\nA. {A}\\nB. {B}\\nC. {C}\\nD. {D}\\nAnswer:``
  (subject as its file name, with underscores)
* SIQA: ``The following are multiple choice questions (with answers) about social interaction.\\n``
  ``{context}\\n{question}\\nA. {answerA}\\nB. {answerB}\\nC. {answerC}\\nAnswer:``
* HellaSwag: ``The following are multiple choice to finish a sentence (with answer) about``
  `` {activity_label}.\\n\\n{ctx}...\\nHow does the description likely end?\\n\\n`` then
  ``A. {ending}\\n\\n`` for each of the four endings, then ``Answer:``
* HumanEval: the ``prompt`` (signature and docstring) as is.

Every other format (general corpora: C4, WikiText-2, FLORES-200, ...) is read as its ``text``
column. With a token ``window`` (the paper: 256 tokens for C4 and WikiText-2), each draw is a
random window of that many tokens from one row that is longer than the window, cut from the
token stream without special tokens (as the paper's SparseGPT-style loaders do).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from lmanatomy.errors import DataError


def _boolq(row: Mapping[str, Any]) -> str:
    return f"{row['passage']}\nQuestion: {row['question']}?\nAnswer:"


def _mmlu(row: Mapping[str, Any]) -> str:
    options = "".join(f"{letter}. {row[letter]}\n" for letter in "ABCD")
    return (
        "The following are multiple choice questions (with answers) about "
        f"{row['subject']}.\n\n{row['question']}\n{options}Answer:"
    )


def _siqa(row: Mapping[str, Any]) -> str:
    options = "".join(f"{letter}. {row['answer' + letter]}\n" for letter in "ABC")
    return (
        "The following are multiple choice questions (with answers) about social interaction.\n"
        f"{row['context']}\n{row['question']}\n{options}Answer:"
    )


def _hellaswag(row: Mapping[str, Any]) -> str:
    endings = list(row["endings"])
    if len(endings) != 4:
        raise DataError(f"HellaSwag row {row.get('id')!r} has {len(endings)} endings, expected 4")
    options = "".join(
        f"{letter}. {ending}\n\n" for letter, ending in zip("ABCD", endings, strict=True)
    )
    return (
        "The following are multiple choice to finish a sentence (with answer) about "
        f"{row['activity_label']}.\n\n{row['ctx']}...\nHow does the description likely "
        f"end?\n\n{options}Answer:"
    )


def _humaneval(row: Mapping[str, Any]) -> str:
    return str(row["prompt"])


TEMPLATES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "boolq": _boolq,
    "mmlu": _mmlu,
    "siqa": _siqa,
    "hellaswag": _hellaswag,
    "humaneval": _humaneval,
}


def prompt_text(fmt: str, row: Mapping[str, Any]) -> str:
    """The string the model reads for one row of a prepared dataset of format ``fmt``."""
    template = TEMPLATES.get(fmt)
    try:
        return template(row) if template is not None else str(row["text"])
    except KeyError as exc:
        raise DataError(
            f"a '{fmt}' row lacks the column {exc} needed by its prompt format"
        ) from None


@dataclass(frozen=True)
class Draw:
    """One sampled input: which row it came from and the token ids the model reads, shape (1, T)."""

    dataset: str
    index: int
    row_id: str
    input_ids: torch.Tensor


class Draws:
    """The seeded sequence of inputs of one dataset: draw j is the j-th row of a permutation.

    The permutation is ``numpy.random.default_rng(seed).permutation(rows)``, so draws 0..n-1 are a
    sample without replacement and a run with more samples extends, never reshuffles, a smaller
    run's draws. With a ``window``, rows not longer than the window are skipped and draw j's
    window start comes from ``default_rng([seed, j])``. With ``joined`` as well, the windows are
    cut from the whole table's text joined with spaces, as the released code cuts WikiText-2
    (``" ".join(traindata['text'])``, then a random start per window): draws may overlap, as
    theirs do, and no row is skipped.
    """

    def __init__(
        self,
        name: str,
        frame: pd.DataFrame,
        fmt: str,
        tokenizer: Any,
        seed: int = 0,
        window: int | None = None,
        joined: bool = False,
    ):
        if len(frame) == 0:
            raise DataError(f"dataset '{name}' has no rows")
        if window is not None and window < 1:
            raise DataError(f"dataset '{name}': window must be at least 1 token, got {window}")
        self.name = name
        self.frame = frame.reset_index(drop=True)
        self.fmt = fmt
        self.tokenizer = tokenizer
        self.seed = seed
        self.window = window
        self.order = np.random.default_rng(seed).permutation(len(self.frame))
        self._eligible: list[int] = []  # positions in `order` usable with the window, found lazily
        self._scanned = 0
        if joined and window is None:
            raise DataError(f"dataset '{name}': joined windows need a window length")
        self.joined = joined
        self._stream: list[int] | None = None  # the joined text's tokens, tokenised on first use

    def _joined_tokens(self) -> list[int]:
        if self._stream is None:
            text = " ".join(
                prompt_text(self.fmt, self.frame.iloc[row]) for row in range(len(self.frame))
            )
            self._stream = self.tokenizer(text, add_special_tokens=False).input_ids
            if len(self._stream) <= (self.window or 0):
                raise DataError(
                    f"dataset '{self.name}': the joined text has {len(self._stream)} tokens, "
                    f"not more than the {self.window}-token window"
                )
        return self._stream

    def _row_tokens(self, row: int) -> list[int]:
        return self.tokenizer(
            prompt_text(self.fmt, self.frame.iloc[row]), add_special_tokens=False
        ).input_ids

    def _row_for(self, j: int) -> int:
        if self.window is None:
            if j >= len(self.order):
                raise DataError(
                    f"dataset '{self.name}' has {len(self.order)} rows; draw {j + 1} was asked "
                    "for (lower the sample counts)"
                )
            return int(self.order[j])
        while len(self._eligible) <= j:
            if self._scanned >= len(self.order):
                raise DataError(
                    f"dataset '{self.name}' has only {len(self._eligible)} rows longer than the "
                    f"{self.window}-token window; draw {j + 1} was asked for (lower the sample "
                    "counts or the window)"
                )
            row = int(self.order[self._scanned])
            self._scanned += 1
            if len(self._row_tokens(row)) > self.window:
                self._eligible.append(row)
        return self._eligible[j]

    def row(self, j: int) -> pd.Series:
        """The table row behind draw j (its label and fields, for scoring)."""
        return self.frame.iloc[self._row_for(j)]

    def draw(self, j: int) -> Draw:
        """Draw j (0-based)."""
        if self.joined:
            assert self.window is not None
            tokens = self._joined_tokens()
            start = int(
                np.random.default_rng([self.seed, j]).integers(0, len(tokens) - self.window)
            )
            return Draw(
                self.name,
                j,
                f"joined@{start}",
                torch.tensor([tokens[start : start + self.window]], dtype=torch.long),
            )
        row = self._row_for(j)
        row_id = str(self.frame.iloc[row]["id"]) if "id" in self.frame.columns else str(row)
        if self.window is None:
            text = prompt_text(self.fmt, self.frame.iloc[row])
            if not text:
                raise DataError(f"dataset '{self.name}', row {row_id!r}: empty input")
            ids = self.tokenizer(text, return_tensors="pt").input_ids
        else:
            tokens = self._row_tokens(row)
            start = int(
                np.random.default_rng([self.seed, j]).integers(0, len(tokens) - self.window)
            )
            ids = torch.tensor([tokens[start : start + self.window]], dtype=torch.long)
            row_id = f"{row_id}@{start}"
        return Draw(self.name, j, row_id, ids)
