"""The attribution driver: checkpoints × words × prompts × layers, into resumable shards.

Work is cut into *parts* (a block of checkpoints × a block of words), one Snakemake job each, so
that a paper run spreads (checkpoint, word) jobs over a cluster while the small default run pays
the cost of starting Python and loading torch only once. Within a part the model of each
checkpoint is loaded once, and the prompts of several words share forward/backward passes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lmanatomy.errors import ConfigError
from lmanatomy.knowledge.attribution import (
    GRIDS,
    MULTI_TOKEN,
    SITES,
    batched_attributions,
    encode_prompt,
    target_token,
)
from lmanatomy.knowledge.plan import chunks
from lmanatomy.knowledge.prompts import WordPrompts
from lmanatomy.knowledge.shards import is_complete, shard_key, shard_path, write_shard


@dataclass(frozen=True)
class AttributionSettings:
    """Everything the attributions depend on besides the model and the prompts' text."""

    site: str = "post"
    grid: str = "inclusive"
    steps: int = 20
    multi_token: str = "error"
    max_rows: int = 2048

    def __post_init__(self) -> None:
        for key, value, choices in (
            ("site", self.site, SITES),
            ("grid", self.grid, GRIDS),
            ("multi_token", self.multi_token, MULTI_TOKEN),
        ):
            if value not in choices:
                raise ConfigError(
                    f"knowledge.{key}", f"unknown value '{value}' (known: {', '.join(choices)})"
                )
        if self.steps < 1 or self.max_rows < 1:
            raise ConfigError("knowledge.steps", "steps and max_rows must be ≥ 1")

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> AttributionSettings:
        return cls(
            site=section["site"],
            grid=section["grid"],
            steps=int(section["steps"]),
            multi_token=section["multi_token"],
            max_rows=int(section["max_rows"]),
        )

    def numeric(self) -> dict[str, Any]:
        """The settings that change the numbers (``max_rows`` only changes speed)."""
        values = asdict(self)
        values.pop("max_rows")
        return values


def attribute_part(
    items: Sequence[tuple[str, str]],
    model_dirs: Mapping[str, str | Path],
    prompts: Mapping[str, WordPrompts],
    settings: AttributionSettings,
    shard_root: str | Path,
    device: str = "cpu",
    dtype: str = "float32",
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Attribute every (checkpoint, word) of ``items`` into its shard; return one record per shard.

    Shards already complete for the same inputs are skipped, so an interrupted part resumes
    where it stopped.
    """
    from tqdm import tqdm

    from lmanatomy.models import adapter_for, load_model, read_provenance

    by_checkpoint: dict[str, list[str]] = {}
    for checkpoint, word in items:
        by_checkpoint.setdefault(checkpoint, []).append(word)
    records = []
    for checkpoint, words in by_checkpoint.items():
        weights = read_provenance(model_dirs[checkpoint]).get("weights_sha256", {})
        keys = {
            word: shard_key(
                {
                    "weights": weights,
                    "prompts": prompts[word].prompts,
                    "target": prompts[word].target,
                    **settings.numeric(),
                }
            )
            for word in words
        }
        pending = [
            w for w in words if not is_complete(shard_path(shard_root, checkpoint, w), keys[w])
        ]
        log(
            f"{checkpoint}: {len(words) - len(pending)} of {len(words)} word shards already "
            "complete"
        )
        if pending:
            model, tokenizer = load_model(model_dirs[checkpoint], device=device, dtype=dtype)
            n_layers = len(adapter_for(model).decoder_layers(model))
            per_word_rows = (
                n_layers * settings.steps * max(len(prompts[w].prompts) for w in pending)
            )
            for block in tqdm(
                chunks(pending, max(1, settings.max_rows // per_word_rows)),
                desc=checkpoint,
                mininterval=5,
            ):
                _attribute_words(
                    model, tokenizer, block, checkpoint, prompts, settings, keys, shard_root
                )
            del model
        records += [
            {
                "checkpoint": checkpoint,
                "word": w,
                "shard": str(shard_path(shard_root, checkpoint, w)),
                "key": keys[w],
            }
            for w in words
        ]
    return records


def _attribute_words(
    model, tokenizer, words, checkpoint, prompts, settings, keys, shard_root
) -> None:
    import numpy as np

    encoded, targets, owners, pieces = [], [], [], {}
    for word in words:
        target_id, pieces[word] = target_token(
            tokenizer, prompts[word].target, settings.multi_token
        )
        for prompt in prompts[word].prompts:
            encoded.append(encode_prompt(tokenizer, prompt))
            targets.append(target_id)
            owners.append(word)
    result = batched_attributions(
        model,
        encoded,
        targets,
        steps=settings.steps,
        site=settings.site,
        grid=settings.grid,
        max_rows=settings.max_rows,
        pad_token_id=tokenizer.pad_token_id or 0,
    )
    n_prompts, n_layers, width = result.scores.shape
    layers = np.repeat(np.asarray(result.layers, dtype=np.int16), width)
    neurons = np.tile(np.arange(width, dtype=np.int32), n_layers)
    owners_arr = np.asarray(owners)
    for word in words:
        rows = np.flatnonzero(owners_arr == word)
        metadata = {
            "key": keys[word],
            "checkpoint": checkpoint,
            "word": word,
            "prompts": list(prompts[word].prompts),
            "target": prompts[word].target,
            "target_tokens": pieces[word],
            "first_token_only": len(pieces[word]) > 1,
            "probability": [float(p) for p in result.probability[rows]],
            "rank": [int(r) for r in result.rank[rows]],
            "settings": settings.numeric(),
        }
        write_shard(
            shard_path(shard_root, checkpoint, word),
            layers,
            neurons,
            result.scores[rows].reshape(len(rows), -1),
            metadata,
        )


def run_part(
    section: Mapping[str, Any],
    part: Mapping[str, Sequence[str]],
    questions: Any,
    model_dirs: Mapping[str, str | Path],
    shard_root: str | Path,
    device: str = "cpu",
    dtype: str = "float32",
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """One workflow part (its checkpoints × its words):
    prompts from the prepared question table, then
    :func:`attribute_part`."""
    from lmanatomy.knowledge.plan import part_items
    from lmanatomy.knowledge.prompts import questions_by_word, word_prompts

    prompts = word_prompts(
        questions_by_word(questions),
        list(part["words"]),
        section["template"],
        section["leading_space"],
        section["prompts_per_word"],
    )
    return attribute_part(
        part_items(part),
        model_dirs,
        prompts,
        AttributionSettings.from_config(section),
        shard_root,
        device,
        dtype,
        log,
    )


def write_manifest(path: str | Path, records: Sequence[Mapping[str, Any]]) -> None:
    """The part's declared output, written last: the shards it vouches for."""
    from lmanatomy.tables import atomic_write_text

    atomic_write_text(path, json.dumps({"shards": list(records)}, indent=1, sort_keys=True) + "\n")
