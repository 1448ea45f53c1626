"""Where the U+FFFD characters in generated texts come from.

Generated texts are decoded as whole sequences (all new tokens in one ``tokenizer.decode``), so
a character whose UTF-8 bytes span several byte-level tokens is joined before decoding; a
U+FFFD left in such a text comes from the bytes the model drew, not from decoding token by
token. Two causes remain, told apart by where the U+FFFD stands:

* ``cut_at_budget``: only a trailing run of U+FFFD, in a text that ran out of new tokens
  (not stopped at EOS): the last character's bytes were cut by the token budget;
* ``model_bytes``: a U+FFFD anywhere else, or at the end of a text the model ended with EOS:
  the model drew a byte sequence that is not valid UTF-8.
"""

from __future__ import annotations

from collections.abc import Sequence

REPLACEMENT = "\ufffd"
CAUSES = ("none", "cut_at_budget", "model_bytes")


def replacement_cause(text: str, stopped_at_eos: bool) -> str:
    """One of :data:`CAUSES` for one generated text."""
    if REPLACEMENT not in text:
        return "none"
    body = text.rstrip(REPLACEMENT)
    if REPLACEMENT not in body and not stopped_at_eos:
        return "cut_at_budget"
    return "model_bytes"


def replacement_causes(texts: Sequence[str], stopped_at_eos: Sequence[bool]) -> list[str]:
    if len(texts) != len(stopped_at_eos):
        raise ValueError(f"{len(texts)} texts but {len(stopped_at_eos)} stop flags")
    return [replacement_cause(t, bool(s)) for t, s in zip(texts, stopped_at_eos, strict=True)]
