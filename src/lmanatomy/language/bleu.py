"""BLEU-4 of generated texts against the target language's texts (Kojima et al. 2024, Fig 5).

Each generated text identified as the target language is scored with NLTK's sentence-level
BLEU-4 (uniform weights, smoothing method 1) against *all* texts of that language as
references, both tokenised by the model's own tokenizer — so the score measures how close the
steered text's token n-grams come to real text in the language, whatever its script.
"""

from __future__ import annotations

from collections.abc import Sequence


class ReferenceBleu:
    """Sentence BLEU-4 against a fixed set of reference texts, tokenised once."""

    def __init__(self, tokenizer, references: Sequence[str]):
        if len(references) == 0:
            from lmanatomy.errors import DataError

            raise DataError("BLEU needs at least one reference text")
        self.tokenizer = tokenizer
        self.references = [self.tokens(text) for text in references]

    def tokens(self, text: str) -> list[str]:
        return self.tokenizer.convert_ids_to_tokens(
            self.tokenizer(text, add_special_tokens=False)["input_ids"]
        )

    def score(self, text: str) -> float:
        """BLEU-4 of one hypothesis text (0 for an empty one)."""
        from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

        hypothesis = self.tokens(text)
        if not hypothesis:
            return 0.0
        return float(
            sentence_bleu(
                self.references, hypothesis, smoothing_function=SmoothingFunction().method1
            )
        )
