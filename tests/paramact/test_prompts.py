"""Prompt formats (the paper's code) and seeded draws."""

import numpy as np
import pandas as pd
import pytest

from lmanatomy.errors import DataError
from lmanatomy.paramact import Draws, prompt_text


def test_task_prompts_follow_the_papers_code():
    assert (
        prompt_text("boolq", {"passage": "Cats purr.", "question": "do cats purr"})
        == "Cats purr.\nQuestion: do cats purr?\nAnswer:"
    )
    mmlu = {
        "subject": "global_facts",
        "question": "Largest ocean?",
        "A": "Atlantic",
        "B": "Indian",
        "C": "Arctic",
        "D": "Pacific",
    }
    assert prompt_text("mmlu", mmlu) == (
        "The following are multiple choice questions (with answers) about global_facts.\n\n"
        "Largest ocean?\nA. Atlantic\nB. Indian\nC. Arctic\nD. Pacific\nAnswer:"
    )
    siqa = {
        "context": "Ann lent Bob a pen.",
        "question": "What will Bob do?",
        "answerA": "thank her",
        "answerB": "run",
        "answerC": "sleep",
    }
    assert prompt_text("siqa", siqa) == (
        "The following are multiple choice questions (with answers) about social interaction.\n"
        "Ann lent Bob a pen.\nWhat will Bob do?\nA. thank her\nB. run\nC. sleep\nAnswer:"
    )
    hs = {
        "activity_label": "Cooking",
        "ctx": "A man cracks an egg",
        "endings": ["a", "b", "c", "d"],
    }
    assert prompt_text("hellaswag", hs) == (
        "The following are multiple choice to finish a sentence (with answer) about Cooking.\n\nA "
        "man cracks an egg...\nHow does the description likely end?\n\nA. a\n\nB. b\n\nC. c\n\nD. "
        "d\n\nAnswer:"
    )
    assert prompt_text("humaneval", {"prompt": "def f():\n"}) == "def f():\n"
    assert prompt_text("flores200", {"text": "A sentence."}) == "A sentence."
    with pytest.raises(DataError, match="'question'"):
        prompt_text("boolq", {"passage": "x"})


def _frame(n):
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "text": [("word " * (3 + 4 * i)).strip() for i in range(n)],
        }
    )


def test_draws_follow_a_seeded_permutation_and_extend(tokenizer):
    frame = _frame(10)
    draws = Draws("d", frame, "text", tokenizer, seed=3)
    order = np.random.default_rng(3).permutation(10)
    assert [draws.draw(j).row_id for j in range(10)] == [f"r{i}" for i in order]
    with pytest.raises(DataError, match="has 10 rows; draw 11"):
        draws.draw(10)


def test_windows_cut_fixed_length_spans_from_long_rows(tokenizer):
    frame = _frame(10)
    draws = Draws("d", frame, "text", tokenizer, seed=0, window=12)
    long_rows = {
        f"r{i}"
        for i in range(10)
        if len(tokenizer(frame.text[i], add_special_tokens=False).input_ids) > 12
    }
    seen = []
    for j in range(len(long_rows)):
        draw = draws.draw(j)
        assert draw.input_ids.shape == (1, 12)
        row, start = draw.row_id.split("@")
        tokens = tokenizer(frame.text[int(row[1:])], add_special_tokens=False).input_ids
        assert draw.input_ids[0].tolist() == tokens[int(start) : int(start) + 12]
        seen.append(row)
    assert set(seen) == long_rows
    with pytest.raises(DataError, match="longer than the 12-token window"):
        draws.draw(len(long_rows))


def test_joined_windows_are_spans_of_the_joined_text(tokenizer):
    """As the released code cuts WikiText-2: windows of the
    whole text joined with spaces, short rows included."""
    frame = pd.DataFrame({"text": ["a b c", "d e", "f g h i j k l m"]})
    draws = Draws("w", frame, "wikitext2", tokenizer, seed=1, window=4, joined=True)
    stream = tokenizer("a b c d e f g h i j k l m", add_special_tokens=False).input_ids
    for j in range(6):
        draw = draws.draw(j)
        start = int(draw.row_id.split("@")[1])
        assert draw.input_ids[0].tolist() == stream[start : start + 4]
        assert 0 <= start < len(stream) - 4
    with pytest.raises(DataError, match="joined text"):
        Draws("w", frame, "wikitext2", tokenizer, window=500, joined=True).draw(0)
