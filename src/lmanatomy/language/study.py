"""The language study's steps as the workflow runs them: one function per rule.

Each function takes paths and plain settings and returns frames; the scripts only write them.
Texts come from prepared datasets (``results/<run>/data/<name>.parquet``; a text's language is
its ``lang`` column) and activations from the activation store of each dataset, rows matched by
text id.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lmanatomy.errors import DataError
from lmanatomy.language.neurons import NeuronTable

TEXT_COLUMNS = ["id", "text", "lang"]


def load_texts(data_paths: Sequence[str | Path]) -> pd.DataFrame:
    """The texts of every dataset, concatenated: id, text, lang, dataset (file stem)."""
    parts = []
    for path in data_paths:
        frame = pd.read_parquet(path)
        missing = [c for c in TEXT_COLUMNS if c not in frame.columns]
        if missing:
            raise DataError(
                f"{path}: no column(s) {missing}; the language study needs a multilingual dataset "
                "(flores200 / pawsx / lang_neuron)"
            )
        part = frame[TEXT_COLUMNS].copy()
        part["dataset"] = Path(path).stem
        parts.append(part)
    texts = pd.concat(parts, ignore_index=True)
    texts["uid"] = texts["dataset"] + ":" + texts["id"].astype(str)
    if texts["uid"].duplicated().any():
        raise DataError(
            f"duplicate text ids: {texts.loc[texts['uid'].duplicated(), 'uid'].head(3).tolist()}"
        )
    return texts


class StackedStore:
    """Several activation stores (one per dataset) read
    as one: rows concatenated in dataset order."""

    def __init__(
        self, store_paths: Sequence[str | Path], texts: pd.DataFrame, datasets: Sequence[str]
    ):
        from lmanatomy.extract import open_store

        if len(store_paths) != len(datasets):
            raise DataError(f"{len(store_paths)} stores for {len(datasets)} datasets")
        self.stores = [
            open_store(Path(p).parent if Path(p).name == "_manifest.json" else p)
            for p in store_paths
        ]
        uids = [
            f"{name}:{i}"
            for name, store in zip(datasets, self.stores, strict=True)
            for i in store.ids()
        ]
        position = pd.Series(np.arange(len(texts)), index=texts["uid"])
        unknown = [u for u in uids if u not in position.index]
        if unknown:
            raise DataError(
                f"activation store rows {unknown[:3]} have no text in the prepared datasets"
            )
        if len(uids) != len(texts):
            raise DataError(
                f"the activation stores hold {len(uids)} texts but the datasets {len(texts)}"
            )
        #: The texts in store row order.
        self.texts = texts.iloc[position.loc[uids].to_numpy()].reset_index(drop=True)

    def widths(self) -> dict[str, int]:
        return dict(self.stores[0].widths)

    def read(self, column: str) -> np.ndarray:
        """(n_texts, width) of one module, float32, rows in :attr:`texts` order."""
        return np.concatenate([store.read(columns=[column]) for store in self.stores]).astype(
            np.float32, copy=False
        )


def check_store_matches(table: NeuronTable, widths: dict[str, int]) -> None:
    """Every census module is in the store with its width: the AP indices are census indices."""
    for span in table.spans:
        if span.column not in widths:
            raise DataError(
                f"activation store has no column '{span.column}' (a probe other than every "
                "decoder-layer linear?)"
            )
        if widths[span.column] != span.width:
            raise DataError(
                f"store column '{span.column}' has width {widths[span.column]}, the census "
                f"{span.width}"
            )


def rank(
    table: NeuronTable,
    store_paths: Sequence[str],
    data_paths: Sequence[str],
    languages: Sequence[str],
    memory_mb: float,
    device: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """AP and positive median of every neuron per language; also the texts in store order.

    ``table`` is the model's neuron table (from the registry entry in the workflow,
    :meth:`NeuronTable.from_entry`); the stores must hold exactly its modules and widths.
    """
    from lmanatomy.language.ranking import rank_neurons

    texts = load_texts(data_paths)
    stacked = StackedStore(store_paths, texts, [Path(p).stem for p in data_paths])
    check_store_matches(table, stacked.widths())
    ranked = rank_neurons(
        table,
        stacked.read,
        stacked.texts["lang"].tolist(),
        languages,
        memory_mb=memory_mb,
        device=device,
    )
    return ranked, stacked.texts


def overlap_bootstrap(
    store_paths: Sequence[str],
    data_paths: Sequence[str],
    ranked: pd.DataFrame,
    languages: Sequence[str],
    k: int,
    replicates: int,
    pool_factor: float,
    memory_mb: float,
    device: str | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Table 1's intervals: per pair the 95% bounds of each
    count, and what the notes say about the bootstrap.

    ``ranked`` is the ranking (neurons.parquet) made from the same stores: its AP picks the
    candidate pool and its module/channel columns locate the pool in the stores.
    """
    from lmanatomy.language.overlap import (
        bootstrap_overlaps,
        candidate_pool,
        intervals,
        pool_values,
    )

    texts = load_texts(data_paths)
    stacked = StackedStore(store_paths, texts, [Path(p).stem for p in data_paths])
    full_ap = ranked[[f"ap_{lang}" for lang in languages]].to_numpy().T
    per_side = int(round(pool_factor * k))
    pool = candidate_pool(full_ap, per_side)
    values = pool_values(stacked.read, ranked, pool)
    replicated, deepest = bootstrap_overlaps(
        values,
        pool,
        full_ap,
        stacked.texts["lang"].tolist(),
        languages,
        k,
        replicates,
        memory_mb=memory_mb,
        device=device,
    )
    facts = {
        "replicates": replicates,
        "texts": len(stacked.texts),
        "pool": len(pool),
        "per_side": per_side,
        "neurons": full_ap.shape[1],
        "deepest": deepest,
    }
    return intervals(replicated), facts


def texts_per_language(texts: pd.DataFrame, languages: Sequence[str]) -> dict[str, int]:
    counts = texts["lang"].value_counts()
    return {lang: int(counts.get(lang, 0)) for lang in languages}


def distributions(
    store_paths: Sequence[str],
    data_paths: Sequence[str],
    selection: pd.DataFrame,
    languages: Sequence[str],
    k: int,
) -> pd.DataFrame:
    """Fig 4's histograms from the stores and the selection."""
    from lmanatomy.language.report import activation_distributions

    texts = load_texts(data_paths)
    stacked = StackedStore(store_paths, texts, [Path(p).stem for p in data_paths])
    return activation_distributions(
        stacked.read, selection, stacked.texts["lang"].tolist(), languages, k
    )


def generate_texts(
    model_path: str,
    selection: pd.DataFrame,
    neurons: int,
    languages: Sequence[str],
    k: int,
    ablation_ks: Sequence[int],
    seeds: Sequence[int],
    batch_size: int,
    max_new_tokens: int,
    temperature: float,
    device: str,
    dtype: str,
    start: str = "bos_or_eos",
    expected_start: str | None = None,
    shard: tuple[int, int] = (0, 1),
    ablation_seeds: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Every planned generation (none; top/bottom/both at k; both at each usable ablation k), or the
    block ``shard`` = (index, count) of them when the generation is split over several jobs."""
    from lmanatomy.language.steering import generate, plan, usable_ks
    from lmanatomy.language.steering import shard as plan_shard
    from lmanatomy.models import load_model

    usable, _ = usable_ks(ablation_ks, neurons)
    model, tokenizer = load_model(model_path, device=device, dtype=dtype)
    requests = plan_shard(plan(languages, k, usable, seeds, ablation_seeds), *shard)
    return generate(
        model,
        tokenizer,
        requests,
        selection,
        batch_size,
        max_new_tokens,
        temperature,
        start=start,
        expected_start=expected_start,
    )


def score_texts(
    generations: pd.DataFrame,
    model_path: str,
    data_paths: Sequence[str],
    languages: Sequence[str],
    threshold: float,
    lid_model: str | None = None,
) -> pd.DataFrame:
    """Language identification of every generated text
    and BLEU-4 against the target language's texts."""
    from transformers import AutoTokenizer

    from lmanatomy.language.bleu import ReferenceBleu
    from lmanatomy.language.lid import LanguageIdentifier
    from lmanatomy.language.steering import score

    texts = load_texts(data_paths)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    bleu = {
        lang: ReferenceBleu(tokenizer, texts.loc[texts["lang"] == lang, "text"].tolist())
        for lang in languages
    }
    from lmanatomy.language.codes import lid_labels
    from lmanatomy.language.decoding import replacement_causes

    scored = score(
        generations, LanguageIdentifier(lid_model, threshold=threshold), bleu, lid_labels(languages)
    )
    scored["replacement"] = replacement_causes(
        scored["text"].tolist(), scored["stopped_at_eos"].tolist()
    )
    return scored


def notes(
    setup: dict,
    texts: pd.DataFrame,
    skipped_ks: Sequence[int] = (),
    generation: bool = True,
    figure: bool = False,
) -> list[str]:
    """The notes of one output: the run's texts and seeds (from the texts actually used), then how
    the run differs from the paper's setup (``setup["differs"]``, or the one-line ``differs_note``
    under a figure: lmanatomy.deviations)."""
    from lmanatomy.language.report import run_notes

    facts = run_notes(
        texts_per_language(texts, setup["languages"]),
        seeds=len(setup["seeds"]) if generation else None,
        skipped_ks=skipped_ks,
        sampling=setup.get("sampling"),
        formats=setup.get("formats", ()),
    )
    return facts + ([setup["differs_note"]] if figure else list(setup["differs"]))
