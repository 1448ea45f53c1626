"""The ``local`` model source: a small decoder trained by the workflow itself, with checkpoints.

Training-dynamics studies need a checkpoint series. Pythia's are on the hub; offline, the
workflow trains its own: a small model of the registry entry's architecture (GPT-NeoX by
default) on a corpus of text lines, saving checkpoints on a Pythia-like schedule (dense early,
sparse late) as ordinary prepared model folders (safetensors + tokenizer + provenance.json), so
every study loads them like any other model.

The tokenizer is word-level and built from the corpus: each whitespace-separated word is one
token, punctuation is split off, and a word preceded by a space is a different token from the
same word at the start of a line (``▁Cat`` vs ``Cat``), as in GPT-NeoX's byte-level BPE. Words a
study needs as single tokens (``required_tokens``) are thereby guaranteed to be single tokens.

Everything is seeded and runs on CPU in a fixed number of threads, so the same entry gives the
same weights.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from lmanatomy.errors import RegistryError
from lmanatomy.models.loading import _finish, hf_config, scratch_dir
from lmanatomy.models.registry import ModelEntry

SPACE = "▁"
SPECIAL_TOKENS = {
    "eos_token": "<|endoftext|>",
    "bos_token": "<|endoftext|>",
    "pad_token": "<|padding|>",
    "unk_token": "<unk>",
}
TRAIN_KEYS = (
    "seed",
    "steps",
    "batch_size",
    "learning_rate",
    "warmup",
    "min_learning_rate",
    "weight_decay",
    "max_length",
    "threads",
    "corpus",
)
STEP = re.compile(r"^step(\d+)$")


@dataclass(frozen=True)
class TrainSettings:
    """The optimisation settings of a ``local`` entry
    (``train:`` in the registry), with defaults."""

    seed: int = 0
    steps: int = 1000
    batch_size: int = 16
    learning_rate: float = 3e-3
    warmup: int = 50
    min_learning_rate: float = 3e-4
    weight_decay: float = 0.01
    max_length: int = 64
    threads: int = 1

    @classmethod
    def from_entry(cls, entry: ModelEntry) -> TrainSettings:
        unknown = sorted(set(entry.train) - set(TRAIN_KEYS))
        if unknown:
            raise RegistryError(
                f"model '{entry.name}': unknown train key(s) {unknown} (known: "
                f"{', '.join(TRAIN_KEYS)})"
            )
        known = set(cls.__dataclass_fields__)
        values = {k: v for k, v in entry.train.items() if k in known}
        settings = cls(**values)
        if settings.steps < 1 or settings.batch_size < 1 or settings.max_length < 2:
            raise RegistryError(
                f"model '{entry.name}': train.steps, train.batch_size must be ≥ 1 and "
                "train.max_length ≥ 2"
            )
        return settings


def checkpoint_steps(entry: ModelEntry) -> dict[str, int]:
    """``{'step0': 0, 'step16': 16, ...}`` from the entry's
    checkpoint names (which must be ``step<N>``)."""
    steps = {}
    for name in entry.checkpoints:
        match = STEP.match(name)
        if not match:
            raise RegistryError(
                f"model '{entry.name}': local checkpoint '{name}' must be named step<N>"
            )
        steps[name] = int(match.group(1))
    if sorted(steps.values()) != [steps[n] for n in entry.checkpoints]:
        raise RegistryError(
            f"model '{entry.name}': checkpoints must be listed in increasing step order"
        )
    return steps


def pythia_like_schedule(total: int, every: int) -> list[int]:
    """Steps 0, 1, 2, 4, … (powers of two below ``every``),
    then every ``every`` steps up to ``total``.

    Pythia saves step0, 1, 2, 4, …, 512, then every 1000 steps; this is the same shape scaled.
    """
    steps = [0] + [2**i for i in range(int(math.log2(max(every, 1))) + 1) if 2**i < every]
    steps += list(range(every, total + 1, every))
    if steps[-1] != total:
        steps.append(total)
    return sorted(set(steps))


def pretokenize(text: str) -> list[str]:
    """Split a line into word tokens: a word after a
    space carries ``▁``; punctuation stands alone."""
    return [piece for piece, _ in _pretokenizer().pre_tokenize_str(text)]


def _pretokenizer():
    from tokenizers import pre_tokenizers

    return pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=SPACE, prepend_scheme="never", split=True),
            pre_tokenizers.Punctuation("isolated"),
        ]
    )


def build_tokenizer(lines: Iterable[str], required_tokens: Iterable[str] = ()):
    """A word-level tokenizer whose vocabulary is every
    pre-token of the corpus (plus ``required_tokens``).

    Ids are assigned by decreasing frequency, ties broken alphabetically, so the tokenizer is a
    function of the corpus alone. ``required_tokens`` are strings that must encode to one token
    (e.g. ``" Cat"``); they are added if the corpus lacks them.
    """
    from tokenizers import Tokenizer, decoders, models
    from transformers import PreTrainedTokenizerFast

    counts: Counter[str] = Counter()
    for line in lines:
        counts.update(pretokenize(line))
    for text in required_tokens:
        pieces = pretokenize(text)
        if len(pieces) != 1:
            raise RegistryError(
                f"required token {text!r} is not one word ({pieces}); a word-level tokenizer "
                "cannot make it one token"
            )
        counts.setdefault(pieces[0], 0)
    specials = list(dict.fromkeys(SPECIAL_TOKENS.values()))
    ordered = sorted(counts, key=lambda token: (-counts[token], token))
    vocab = {
        token: index
        for index, token in enumerate(specials + [t for t in ordered if t not in specials])
    }
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token=SPECIAL_TOKENS["unk_token"]))
    tok.pre_tokenizer = _pretokenizer()
    tok.decoder = decoders.Metaspace(replacement=SPACE, prepend_scheme="never", split=True)
    return PreTrainedTokenizerFast(tokenizer_object=tok, **SPECIAL_TOKENS)


def corpus_sha256(lines: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _learning_rate(step: int, settings: TrainSettings) -> float:
    """Linear warm-up, then cosine decay to ``min_learning_rate`` (Pythia's schedule, shortened)."""
    if step < settings.warmup:
        return settings.learning_rate * (step + 1) / settings.warmup
    progress = (step - settings.warmup) / max(1, settings.steps - settings.warmup)
    cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return (
        settings.min_learning_rate + (settings.learning_rate - settings.min_learning_rate) * cosine
    )


def _encode_lines(tokenizer, lines: Sequence[str], max_length: int) -> list[list[int]]:
    eos = tokenizer.convert_tokens_to_ids(SPECIAL_TOKENS["eos_token"])
    encoded = []
    for line in lines:
        ids = tokenizer(line, add_special_tokens=False)["input_ids"] + [eos]
        if len(ids) > max_length:
            raise RegistryError(
                f"corpus line of {len(ids)} tokens exceeds train.max_length={max_length}: {line!r}"
            )
        encoded.append(ids)
    return encoded


def _batch(
    sequences: Sequence[Sequence[int]], pad: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.tensor(seq)
        mask[row, : len(seq)] = 1
    labels = ids.masked_fill(mask == 0, -100)
    return ids, mask, labels


def train_local(
    entry: ModelEntry,
    lines: Sequence[str],
    root: str | Path,
    required_tokens: Sequence[str] = (),
    log: Callable[[str], None] = print,
    progress: bool = True,
) -> dict[str, Path]:
    """Train ``entry`` on ``lines`` and save every
    checkpoint of the entry under ``root/<checkpoint>``.

    Each line is one training sequence (ending in the end-of-text token); batches are drawn from
    a seeded permutation, epoch after epoch. Step 0 is the initialisation. Returns checkpoint →
    folder. Each folder is written under a scratch name and renamed when complete.
    """
    from tqdm import tqdm
    from transformers import AutoModelForCausalLM

    if entry.source != "local":
        raise RegistryError(f"model '{entry.name}' has source '{entry.source}', not 'local'")
    if not lines:
        raise RegistryError(f"model '{entry.name}': the training corpus is empty")
    settings = TrainSettings.from_entry(entry)
    saves = checkpoint_steps(entry)
    total = max(saves.values())
    if total > settings.steps:
        raise RegistryError(
            f"model '{entry.name}': checkpoint step{total} is beyond train.steps={settings.steps}"
        )
    torch.set_num_threads(settings.threads)
    torch.manual_seed(settings.seed)
    tokenizer = build_tokenizer(lines, required_tokens)
    config = hf_config(entry)
    if len(tokenizer) > config.vocab_size:
        raise RegistryError(
            f"model '{entry.name}': the corpus needs {len(tokenizer)} tokens but "
            f"config.vocab_size is {config.vocab_size}; raise it"
        )
    for key, token in (
        ("pad_token_id", tokenizer.pad_token_id),
        ("eos_token_id", tokenizer.eos_token_id),
    ):
        if getattr(config, key, None) != token:
            raise RegistryError(
                f"model '{entry.name}': config.{key} is {getattr(config, key, None)} but the "
                f"tokenizer's is {token}"
            )
    model = AutoModelForCausalLM.from_config(config)
    model.train()
    data = _encode_lines(tokenizer, lines, settings.max_length)
    generator = torch.Generator().manual_seed(settings.seed)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    digest = corpus_sha256(lines)
    order: list[int] = []
    written: dict[str, Path] = {}
    by_step = {step: name for name, step in saves.items()}
    loss_value = float("nan")
    for step in tqdm(
        range(total + 1), desc=f"training {entry.name}", disable=not progress, mininterval=5
    ):
        if step in by_step:
            name = by_step[step]
            written[name] = _save(
                entry,
                model,
                tokenizer,
                Path(root) / name,
                step,
                settings,
                digest,
                lines,
                loss_value,
            )
            log(f"step {step}: saved {name} (training loss {loss_value:.4f})")
        if step == total:
            break
        if len(order) < settings.batch_size:
            order += torch.randperm(len(data), generator=generator).tolist()
        picked, order = order[: settings.batch_size], order[settings.batch_size :]
        ids, mask, labels = _batch([data[i] for i in picked], tokenizer.pad_token_id)
        for group in optimizer.param_groups:
            group["lr"] = _learning_rate(step, settings)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_value = float(loss.detach())
    return written


def _save(
    entry,
    model,
    tokenizer,
    dest: Path,
    step: int,
    settings: TrainSettings,
    digest: str,
    lines,
    loss: float,
) -> Path:
    import importlib.metadata as metadata

    tmp = scratch_dir(dest)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / "corpus.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    provenance: dict[str, Any] = {
        "name": entry.name,
        "source": "local",
        "checkpoint": dest.name,
        "step": step,
        "seed": settings.seed,
        "train": json.loads(json.dumps(dict(entry.train), sort_keys=True)),
        "corpus_sha256": digest,
        "corpus_lines": len(lines),
        "tokenizer_vocabulary": len(tokenizer),
        "training_loss": None if math.isnan(loss) else round(loss, 6),
        "torch_version": metadata.version("torch"),
        "transformers_version": metadata.version("transformers"),
    }
    return _finish(tmp, dest, provenance)


def required_word_tokens(words: Iterable[str], leading_space: bool) -> list[str]:
    """The strings that must be single tokens: each
    word, with a leading space if the study uses one."""
    return [(" " if leading_space else "") + word for word in words]
