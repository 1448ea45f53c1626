"""The normalised table of every upstream format: the contract between loaders and studies.

A prepared dataset (``results/<run>/data/<name>.parquet``) has the common columns ``id``
(string, unique), ``text`` (the string a model reads by default; which field it comes from is
the format's ``text_default``, overridable per dataset with ``text_column``), ``label``,
``split`` (the upstream split name) and ``source`` (the data-root-relative path of the file the
row came from), plus the format's own fields below. Studies read only these columns.

``id`` is ``<split>/<key>``: the upstream id where the format has one (``valid/123``,
``test/HumanEval/0``), else the 0-based position in the file behind the language, subject, word
or shard (``dev/en/12``; FLORES-200's ``line`` is that same 0-based position, equal across
languages). ``label`` is null for formats without one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

COMMON_COLUMNS = ("id", "text", "label", "split", "source")


@dataclass(frozen=True)
class Format:
    """One upstream format: its own columns (name → Arrow type name) and its default text field."""

    name: str
    description: str
    fields: dict[str, str]
    label_type: str
    text_default: str
    splits: tuple[str, ...]
    options: tuple[str, ...] = field(default=())

    @property
    def label_arrow(self) -> str:
        """The Arrow type name of ``label`` (the first word of ``label_type``)."""
        return self.label_type.split()[0]

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column of the normalised table, in
        order: the common ones, then the format's own."""
        return COMMON_COLUMNS + tuple(self.fields)

    @property
    def column_types(self) -> dict[str, str]:
        """Column name → Arrow type name, in column order."""
        common = {
            "id": "string",
            "text": "string",
            "label": self.label_arrow,
            "split": "string",
            "source": "string",
        }
        return {**common, **self.fields}

    @property
    def text_columns(self) -> tuple[str, ...]:
        """The fields that may feed ``text`` (option
        ``text_column``): the default and every string field."""
        return tuple(
            dict.fromkeys(
                [self.text_default, *(k for k, v in self.fields.items() if v == "string")]
            )
        )


# FLORES-200 language codes by the short codes the papers use.
FLORES_LANGUAGES = {
    "en": "eng_Latn",
    "de": "deu_Latn",
    "fr": "fra_Latn",
    "es": "spa_Latn",
    "zh": "zho_Hans",
    "ja": "jpn_Jpan",
}

FLORES_CODE = (
    r"^[a-z]{3}_[A-Z][a-z]{3}$"  # any FLORES-200 language: ISO 639-3 + ISO 15924 script (kor_Hang)
)


def flores_file_code(lang: str) -> str:
    """The FLORES-200 file code of a language: a paper
    short code (en → eng_Latn) or a FLORES code itself."""
    return FLORES_LANGUAGES.get(lang, lang)


FORMATS: dict[str, Format] = {
    f.name: f
    for f in [
        Format(
            "flores200",
            "FLORES-200: one sentence per line per language; line i is the same sentence in every "
            "language",
            {"lang": "string", "line": "int64"},
            "string (= lang)",
            "text",
            ("dev", "devtest"),
            ("languages",),
        ),
        Format(
            "pawsx",
            "PAWS-X: TSV id, sentence1, sentence2, label per language",
            {"lang": "string", "sentence1": "string", "sentence2": "string"},
            "int64 (1 = paraphrase)",
            "sentence1",
            ("dev", "test", "train"),
            ("languages",),
        ),
        Format(
            "lang_neuron",
            "Kojima et al. 2024's own texts (kojima-takeshi188/lang_neuron "
            "assets/Language/sense/<lang>.json): JSON {concept, group, source, sentences: "
            "{positive, negative}}; one row per positive sentence",
            {"lang": "string"},
            "string (= lang)",
            "text",
            ("sense",),
            ("languages",),
        ),
        Format(
            "jsts",
            "JGLUE v1.1 JSTS: JSON lines sentence_pair_id, yjcaptions_id, sentence1, sentence2, "
            "label (0-5)",
            {"sentence1": "string", "sentence2": "string", "yjcaptions_id": "string"},
            "float64",
            "sentence1",
            ("train", "valid"),
        ),
        Format(
            "jnli",
            "JGLUE v1.1 JNLI: JSON lines sentence1 (premise), sentence2 (hypothesis), label",
            {"sentence1": "string", "sentence2": "string", "yjcaptions_id": "string"},
            "string (entailment/contradiction/neutral)",
            "sentence1",
            ("train", "valid"),
        ),
        Format(
            "jcommonsenseqa",
            "JGLUE v1.1 JCommonsenseQA: JSON lines q_id, question, choice0..choice4, label (0-4)",
            {"question": "string", **{f"choice{i}": "string" for i in range(5)}},
            "int64",
            "question",
            ("train", "valid"),
        ),
        Format(
            "boolq",
            "BoolQ: SuperGLUE jsonl (question, passage 'title -- text', idx, label) or original "
            "(question, title, answer, passage)",
            {"question": "string", "passage": "string", "title": "string"},
            "bool",
            "question",
            ("train", "val"),
        ),
        Format(
            "mmlu",
            "MMLU: CSV without header question, A, B, C, D, answer letter; one file per subject "
            "and split",
            {
                "subject": "string",
                "question": "string",
                "A": "string",
                "B": "string",
                "C": "string",
                "D": "string",
            },
            "string (A-D)",
            "question",
            ("dev", "val", "test"),
            ("subjects",),
        ),
        Format(
            "humaneval",
            "HumanEval: gzipped JSON lines task_id, prompt, canonical_solution, test, entry_point",
            {
                "prompt": "string",
                "canonical_solution": "string",
                "test": "string",
                "entry_point": "string",
            },
            "null",
            "prompt",
            ("test",),
        ),
        Format(
            "knowledge_questions",
            "knowledge-neuron-sim question file: JSON object {word: [questions]}; one row per "
            "question",
            {"word": "string", "question": "string"},
            "string (= word)",
            "question",
            ("all",),
        ),
        Format(
            "siqa",
            "Social IQa: JSON lines context, question, answerA-C with a separate labels file (1-3)",
            {
                "context": "string",
                "question": "string",
                "answerA": "string",
                "answerB": "string",
                "answerC": "string",
            },
            "int64 (1-3)",
            "context",
            ("train", "dev"),
        ),
        Format(
            "hellaswag",
            "HellaSwag: JSON lines ctx, endings (4), label",
            {"ctx": "string", "endings": "list<string>", "activity_label": "string"},
            "int64 (0-3)",
            "ctx",
            ("train", "val"),
        ),
        Format(
            "c4",
            "C4 (en): gzipped JSON lines text, url, timestamp",
            {"url": "string"},
            "null",
            "text",
            ("validation", "train"),
        ),
        Format(
            "wikitext2",
            "WikiText-2 (raw): one paragraph per row",
            {},
            "null",
            "text",
            ("test", "validation", "train"),
        ),
        Format(
            "stsb",
            "STS Benchmark: tab-separated genre, file, year, id, score (0-5), sentence1, "
            "sentence2 per line",
            {"sentence1": "string", "sentence2": "string", "genre": "string"},
            "float64",
            "sentence1",
            ("dev", "test", "train"),
        ),
        Format(
            "sick",
            "SICK (SemEval-2014 task 1): TSV with header pair_ID, sentence_A, sentence_B, "
            "relatedness_score (1-5), entailment_judgment",
            {"sentence1": "string", "sentence2": "string", "entailment": "string"},
            "float64",
            "sentence1",
            ("trial", "test", "train"),
        ),
    ]
}


# ---------------------------------------------------------------- generic formats (your own data)
# One normalised table for every generic format (lmanatomy.data.generic): the mapped columns a
# study may read; a column the mapping leaves out is null. ``label`` is kept as a string.
_GENERIC_FIELDS = {
    "lang": "string",
    "sentence1": "string",
    "sentence2": "string",
    "score": "float64",
}
FORMATS.update(
    {
        f.name: f
        for f in [
            Format(
                "text",
                "your own texts: one text per line",
                _GENERIC_FIELDS,
                "string",
                "text",
                ("all",),
            ),
            Format(
                "jsonl",
                "your own JSON lines, columns mapped by `columns:`",
                _GENERIC_FIELDS,
                "string",
                "text",
                ("all",),
            ),
            Format(
                "csv",
                "your own CSV with a header row, columns mapped by `columns:`",
                _GENERIC_FIELDS,
                "string",
                "text",
                ("all",),
            ),
            Format(
                "parquet",
                "your own Parquet file, columns mapped by `columns:`",
                _GENERIC_FIELDS,
                "string",
                "text",
                ("all",),
            ),
            Format(
                "hf",
                "a Hub dataset split at a pinned commit (datasets.load_dataset), cached as Parquet",
                _GENERIC_FIELDS,
                "string",
                "text",
                ("all",),
            ),
        ]
    }
)
