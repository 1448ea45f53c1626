"""Which fastText lid.176 label identifies a study
language (any language, not only the paper's six).

A study language is the value of the texts' ``lang`` column: one of the papers' short codes
(``en``), a FLORES-200 code (``kor_Hang``, as the ``flores200`` format names its texts when asked
for it), or whatever a generic dataset's ``lang`` column holds. A generated text counts as language
l when lid.176's top label is l's label, so every study language needs one, known at plan time:

* a value that is itself a lid.176 label (``en``, ``ko``, ``yue``) is its own label;
* a FLORES-200 code maps through :data:`FLORES_TO_LID`.

:data:`FLORES_TO_LID` was derived once (and is checked by tests) from three sources: the FLORES-200
codes of ``transformers``' NLLB tokenizer (``FAIRSEQ_LANGUAGE_CODES``), the ISO 639-3 → 639-1 table
of ``nltk.langnames`` (``iso639short``) and the 176 labels of the shipped ``lid.176.ftz``
(``get_labels()``). A code maps to its ISO 639-1 code when lid.176 has that label, else to its
own 639-3 code when lid.176 has that (``yue``, ``ceb``). FLORES names some languages by an
individual code inside an ISO macrolanguage; these map to the macrolanguage's label where the
standard variety is meant (``arb`` → ``ar``, ``pes`` → ``fa``, ``zsm`` → ``ms``, ``nob`` → ``no``;
the list is :data:`MACROLANGUAGE`). ``als_Latn`` is (Tosk) Albanian → ``sq``: lid.176's own ``als``
label is Wikipedia's code for Alemannic, not ISO's. Not mapped, hence refused: the 86 FLORES
languages lid.176 has no label for (``hau_Latn``, ``zul_Latn``, …) and regional Arabic varieties
(``ary_Arab``, …) and Dari (``prs_Arab``), which lid.176 cannot tell from Standard Arabic / Persian.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lmanatomy.errors import ConfigError

# The labels of fastText's lid.176 (``lid.176.ftz`` and
# ``lid.176.bin`` share them), ``__label__`` removed.
LID176_LABELS = frozenset(
    """
af als am an ar arz as ast av az azb ba bar bcl be bg bh bn bo bpy br bs bxr ca cbk ce ceb ckb co cs
cv cy da de diq dsb dty dv el eml en eo es et eu fa fi fr frr fy ga gd gl gn gom gu gv he hi hif hr
hsb ht hu hy ia id ie ilo io is it ja jbo jv ka kk km kn ko krc ku kv kw ky la lb lez li lmo lo lrc
lt lv mai mg mhr min mk ml mn mr mrj ms mt mwl my myv mzn nah nap nds ne new nl nn no oc or os pa
pam pfl pl pms pnb ps pt qu rm ro ru rue sa sah sc scn sco sd sh si sk sl so sq sr su sv sw ta te tg
th tk tl tr tt tyv ug uk ur uz vec vep vi vls vo wa war wuu xal xmf yi yo yue zh
""".split()
)

# FLORES individual-language codes read as their ISO
# macrolanguage's lid.176 label (standard variety).
MACROLANGUAGE = {
    "als": "sq",
    "arb": "ar",
    "azj": "az",
    "pes": "fa",
    "lvs": "lv",
    "plt": "mg",
    "khk": "mn",
    "zsm": "ms",
    "npi": "ne",
    "ory": "or",
    "pbt": "ps",
    "quy": "qu",
    "swh": "sw",
    "uzn": "uz",
    "ydd": "yi",
    "kmr": "ku",
    "nob": "no",
}

FLORES_TO_LID: dict[str, str] = {
    "afr_Latn": "af",
    "amh_Ethi": "am",
    "arb_Arab": "ar",
    "arz_Arab": "arz",
    "asm_Beng": "as",
    "ast_Latn": "ast",
    "azb_Arab": "azb",
    "azj_Latn": "az",
    "bak_Cyrl": "ba",
    "bel_Cyrl": "be",
    "ben_Beng": "bn",
    "bod_Tibt": "bo",
    "bos_Latn": "bs",
    "bul_Cyrl": "bg",
    "cat_Latn": "ca",
    "ceb_Latn": "ceb",
    "ces_Latn": "cs",
    "ckb_Arab": "ckb",
    "cym_Latn": "cy",
    "dan_Latn": "da",
    "deu_Latn": "de",
    "ell_Grek": "el",
    "eng_Latn": "en",
    "epo_Latn": "eo",
    "est_Latn": "et",
    "eus_Latn": "eu",
    "pes_Arab": "fa",
    "fin_Latn": "fi",
    "fra_Latn": "fr",
    "gla_Latn": "gd",
    "gle_Latn": "ga",
    "glg_Latn": "gl",
    "grn_Latn": "gn",
    "guj_Gujr": "gu",
    "hat_Latn": "ht",
    "heb_Hebr": "he",
    "hin_Deva": "hi",
    "hrv_Latn": "hr",
    "hun_Latn": "hu",
    "hye_Armn": "hy",
    "ilo_Latn": "ilo",
    "ind_Latn": "id",
    "isl_Latn": "is",
    "ita_Latn": "it",
    "jav_Latn": "jv",
    "jpn_Jpan": "ja",
    "kan_Knda": "kn",
    "kat_Geor": "ka",
    "kaz_Cyrl": "kk",
    "khm_Khmr": "km",
    "kir_Cyrl": "ky",
    "kor_Hang": "ko",
    "kmr_Latn": "ku",
    "lao_Laoo": "lo",
    "lvs_Latn": "lv",
    "lim_Latn": "li",
    "lit_Latn": "lt",
    "lmo_Latn": "lmo",
    "ltz_Latn": "lb",
    "mai_Deva": "mai",
    "mal_Mlym": "ml",
    "mar_Deva": "mr",
    "min_Latn": "min",
    "mkd_Cyrl": "mk",
    "plt_Latn": "mg",
    "mlt_Latn": "mt",
    "khk_Cyrl": "mn",
    "zsm_Latn": "ms",
    "mya_Mymr": "my",
    "nld_Latn": "nl",
    "nno_Latn": "nn",
    "nob_Latn": "no",
    "npi_Deva": "ne",
    "oci_Latn": "oc",
    "ory_Orya": "or",
    "pan_Guru": "pa",
    "pol_Latn": "pl",
    "por_Latn": "pt",
    "pbt_Arab": "ps",
    "quy_Latn": "qu",
    "ron_Latn": "ro",
    "rus_Cyrl": "ru",
    "san_Deva": "sa",
    "scn_Latn": "scn",
    "sin_Sinh": "si",
    "slk_Latn": "sk",
    "slv_Latn": "sl",
    "snd_Arab": "sd",
    "som_Latn": "so",
    "spa_Latn": "es",
    "als_Latn": "sq",
    "srd_Latn": "sc",
    "srp_Cyrl": "sr",
    "sun_Latn": "su",
    "swe_Latn": "sv",
    "swh_Latn": "sw",
    "tam_Taml": "ta",
    "tat_Cyrl": "tt",
    "tel_Telu": "te",
    "tgk_Cyrl": "tg",
    "tgl_Latn": "tl",
    "tha_Thai": "th",
    "tuk_Latn": "tk",
    "tur_Latn": "tr",
    "uig_Arab": "ug",
    "ukr_Cyrl": "uk",
    "urd_Arab": "ur",
    "uzn_Latn": "uz",
    "vec_Latn": "vec",
    "vie_Latn": "vi",
    "war_Latn": "war",
    "ydd_Hebr": "yi",
    "yor_Latn": "yo",
    "yue_Hant": "yue",
    "zho_Hans": "zh",
    "zho_Hant": "zh",
}


def lid_label(lang: str) -> str | None:
    """lid.176's label for a study language, or ``None`` when lid.176 cannot identify it."""
    if lang in LID176_LABELS:
        return lang
    return FLORES_TO_LID.get(lang)


def lid_labels(languages: Sequence[str], key: str = "language.languages") -> dict[str, str]:
    """Study language → lid.176 label for every language;
    refuses one without a label, or two sharing one.

    Two languages with one label (``zho_Hans`` and ``zho_Hant`` are both ``zh``) could not be told
    apart in the generated texts, so every steered text would count for both.
    """
    labels: dict[str, str] = {}
    for index, lang in enumerate(languages):
        label = lid_label(str(lang))
        if label is None:
            raise ConfigError(
                f"{key}[{index}]",
                f"'{lang}' has no fastText lid.176 label, so generated texts cannot be judged as "
                "that language (give a lid.176 label such as ko, or a FLORES-200 code lid.176 "
                "covers)",
            )
        same = [other for other, seen in labels.items() if seen == label]
        if same:
            raise ConfigError(
                f"{key}[{index}]",
                f"'{lang}' and '{same[0]}' are both lid.176's '{label}': their generated texts "
                "could not be told apart",
            )
        labels[str(lang)] = label
    return labels


def study_language(label: str | None, labels: Mapping[str, str]) -> str | None:
    """The study language a lid.176 label stands for
    (the label itself when no study language has it)."""
    if label is None:
        return None
    for lang, seen in labels.items():
        if seen == label:
            return lang
    return label
