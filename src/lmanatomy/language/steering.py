"""The steering experiment: which texts to generate, generating them, and scoring them.

Conditions (Kojima et al. 2024, Table 2): no intervention; the target language's top-k neurons
fixed; its bottom-k fixed; both. The k-ablation (Fig 5) fixes both top-k and bottom-k for each k
of a list. Every condition is sampled with the same seeds, so conditions differ only in the
intervention. A plan row is (condition, language, k, seed); "none" has no language and k = 0
and serves every language's "before intervention" column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from tqdm import tqdm

from lmanatomy.errors import DataError
from lmanatomy.language.codes import study_language
from lmanatomy.language.selection import chosen
from lmanatomy.models.resources import Work
from lmanatomy.tables import block_of

CONDITIONS = ("none", "top", "bottom", "both")
KINDS_OF = {"top": ("top",), "bottom": ("bottom",), "both": ("top", "bottom")}
PLAN_COLUMNS = ["condition", "language", "k", "seed"]


def usable_ks(ks: Sequence[int], neurons: int) -> tuple[list[int], list[int]]:
    """Split a k list into those that fit the model (2k ≤ neurons) and those that do not."""
    ks = sorted(set(int(k) for k in ks))
    return [k for k in ks if 2 * k <= neurons], [k for k in ks if 2 * k > neurons]


def plan(
    languages: Sequence[str],
    k: int,
    ablation_ks: Sequence[int],
    seeds: Sequence[int],
    ablation_seeds: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Every text to generate: none; top, bottom, both at k; both at each ablation k (≠ k).

    ``ablation_seeds`` (default: ``seeds``) are the seeds of the extra ablation ks only (Fig 5's
    sweep): Table 2's conditions keep every seed, so the rates the paper compares keep their
    narrow intervals while the sweep's points cost less. Each row's seed fixes its sample, so a
    condition's texts do not depend on which other conditions are generated.
    """
    if not seeds:
        raise DataError("no seeds to generate with")
    sweep_seeds = list(seeds) if ablation_seeds is None else list(ablation_seeds)
    groups: list[tuple[str, str, int, Sequence[int]]] = [("none", "", 0, seeds)]
    for lang in languages:
        groups += [("top", lang, k, seeds), ("bottom", lang, k, seeds), ("both", lang, k, seeds)]
        groups += [("both", lang, kk, sweep_seeds) for kk in sorted(set(ablation_ks)) if kk != k]
    rows = [
        (condition, lang, kk, int(seed))
        for condition, lang, kk, chosen in groups
        for seed in chosen
    ]
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def generation_work(requests: pd.DataFrame, batch_size: int, max_new_tokens: int) -> Work:
    """The work of generating ``requests`` (runtime estimate,
    models.resources): every batch decodes up to ``max_new_tokens`` steps,
    reading all weights once per step, for every row of the batch."""
    batches = -(-len(requests) // batch_size)
    return Work(decode_steps=batches * max_new_tokens, decode_tokens=len(requests) * max_new_tokens)


def planned_work(setup: dict, block: tuple[int, int] = (0, 1)) -> Work:
    """The work of block (index, count) of a model's generation
    (language.config.setup), for its runtime estimate; every ablation k is
    counted (an upper bound: the model's neuron count is not known yet)."""
    requests = plan(
        setup["languages"],
        setup["k"],
        setup["ablation_k"],
        setup["seeds"],
        setup.get("ablation_seeds"),
    )
    return generation_work(shard(requests, *block), setup["batch_size"], setup["max_new_tokens"])


def shard(requests: pd.DataFrame, index: int, count: int) -> pd.DataFrame:
    """Block ``index`` of ``count`` contiguous blocks
    of the plan, for one job of a split generation.

    Each seed has its own generator and each row its own intervention pattern, so a row's text does
    not depend on which rows share its batch or its job: the blocks, concatenated in order, are the
    unsplit generation (tests/language/test_language_steering.py checks it)."""
    try:
        return block_of(requests, index, count)
    except ValueError as error:
        raise DataError(f"generation {error}") from None


def neurons_for(
    selection: pd.DataFrame, condition: str, language: str, k: int
) -> pd.DataFrame | None:
    """The neurons (module, channel, value) a condition fixes; ``None`` for no intervention."""
    if condition not in CONDITIONS:
        raise DataError(f"unknown condition '{condition}' (known: {list(CONDITIONS)})")
    if condition == "none":
        return None
    return chosen(selection, language, KINDS_OF[condition], k)


def generate(
    model,
    tokenizer,
    requests: pd.DataFrame,
    selection: pd.DataFrame,
    batch_size: int = 64,
    max_new_tokens: int = 64,
    temperature: float = 0.8,
    progress: bool = True,
    start: str = "bos_or_eos",
    expected_start: str | None = None,
) -> pd.DataFrame:
    """Generate every planned text; returns the plan
    with text, n_tokens, stopped_at_eos, start_token.

    Every text starts from :func:`start_prompt` (the probe's ``start`` rule, checked against
    ``expected_start``); ``text`` is the new tokens decoded as one sequence.

    Rows are batched in plan order; a batch may mix conditions (each row carries its own
    intervention pattern), and each seed has its own generator, so the texts do not depend on
    the batch size.
    """
    if batch_size < 1:
        raise DataError(f"batch size must be at least 1, got {batch_size}")
    # torch only here: the table and figure jobs import this module for usable_ks and plan.
    from lmanatomy.language.intervention import NeuronIntervention
    from lmanatomy.language.sampling import eos_ids, sample_batch, start_prompt

    prompt = start_prompt(tokenizer, start, expected_start)
    stop = eos_ids(tokenizer, model)
    keys = list(zip(requests["condition"], requests["language"], requests["k"], strict=True))
    out = []
    for start in tqdm(
        range(0, len(requests), batch_size), desc="generation batches", disable=not progress
    ):
        batch_keys = keys[start : start + batch_size]
        distinct = sorted(set(batch_keys), key=batch_keys.index)
        patterns = [neurons_for(selection, *key) for key in distinct]
        intervention = NeuronIntervention(
            model, patterns, [distinct.index(key) for key in batch_keys]
        )
        seeds = requests["seed"].iloc[start : start + batch_size].tolist()
        with intervention:
            samples = sample_batch(
                model, prompt, seeds, max_new_tokens, temperature, stop, intervention
            )
        out.extend(samples)
    result = requests.reset_index(drop=True).copy()
    result["text"] = [tokenizer.decode(list(s.tokens), skip_special_tokens=True) for s in out]
    result["n_tokens"] = [len(s.tokens) for s in out]
    result["stopped_at_eos"] = [s.stopped_at_eos for s in out]
    result["token_ids"] = [
        list(s.tokens) for s in out
    ]  # for the U+FFFD check (lmanatomy.language.decoding)
    result["start_token"] = " ".join(tokenizer.convert_ids_to_tokens(prompt))
    result["start_id"] = " ".join(map(str, prompt))
    return result


def score(
    generations: pd.DataFrame,
    identifier,
    bleu_by_language: dict | None = None,
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Language of each generated text (lid label, probability) and BLEU for the steered ones.

    ``is_target`` is whether a steered text counts as its target language (probability > the
    identifier's threshold); for "none" rows, ``is_<lang>`` per language serves every column of
    Table 2's "before intervention". ``bleu`` is filled for texts identified as their target
    language when ``bleu_by_language`` (language → :class:`ReferenceBleu`) is given.

    ``labels`` (study language → lid.176 label, :func:`lmanatomy.language.codes.lid_labels`) reads
    lid's labels as study languages (``ko`` → ``kor_Hang``); without it a label is its own language.
    """
    result = generations.copy()
    idents = identifier.identify(result["text"].tolist())
    result["lid_label"] = [ident.label or "" for ident in idents]
    result["lid_probability"] = [ident.probability for ident in idents]
    counted = [
        study_language(ident.language(identifier.threshold), labels or {}) or "" for ident in idents
    ]
    result["lid_language"] = counted
    result["is_target"] = [
        c != "" and c == lang for c, lang in zip(counted, result["language"], strict=True)
    ]
    # A steered text is scored against its target language; an unsteered one ("none") against the
    # language it was identified as, which gives Fig 5 its before-intervention baseline.
    bleu = []
    for text, lang, found in zip(result["text"], result["language"], counted, strict=True):
        reference = lang or found
        hit = found != "" and found == reference
        scorer = bleu_by_language.get(reference) if bleu_by_language is not None else None
        bleu.append(scorer.score(text) if hit and scorer is not None else float("nan"))
    result["bleu"] = bleu
    if hasattr(identifier, "describe"):
        result["lid_model"] = identifier.describe()
        result["lid_sha256"] = identifier.sha256
    return result
