"""Tiny random models and an offline tokenizer, for tests and for checking a chain in seconds.

Nothing here is downloaded: the tokenizer is a byte-level BPE trained in-process on a fixed
multilingual text (so any Unicode input tokenizes), and the models are built from small
architecture configs with seeded random weights.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from lmanatomy.models.loading import PROVENANCE

_CORPUS = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Der schnelle braune Fuchs springt über den faulen Hund am Flussufer.",
    "Le renard brun rapide saute par-dessus le chien paresseux près de la rivière.",
    "El rápido zorro marrón salta sobre el perro perezoso junto al río.",
    "敏捷的棕色狐狸跳过了河边那只懒惰的狗。",
    "素早い茶色の狐が川辺の怠惰な犬を飛び越えます。",
    "def add(a, b):\n    return a + b\n",
    "Question: is the sky blue? Answer: yes. 0 1 2 3 4 5 6 7 8 9",
]
SPECIAL_TOKENS = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "pad_token": "<pad>",
    "unk_token": "<unk>",
}
FAMILIES = ("llama", "gpt_neox", "xglm", "bloom", "gpt2", "qwen2")
# Families resolved from their module tree alone (no adapter written for them): tiny configs of
# each run through the census, extraction and the studies' core steps in
# tests/test_architectures.py.
NEW_FAMILIES = ("mistral", "qwen3", "gemma2", "olmo2", "phi3")
ALL_FAMILIES = FAMILIES + NEW_FAMILIES


def tiny_tokenizer(vocab_size: int = 320, add_bos: bool = True):
    """A deterministic byte-level BPE tokenizer with <s>, </s>, <pad>, <unk>.

    ``add_bos`` makes it prepend <s> like Llama's tokenizer; with False it adds nothing, like
    Llama-3's EOS-less behaviour or GPT-2's.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = list(SPECIAL_TOKENS.values())
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS, trainer=trainer)
    if add_bos:
        bos = tok.token_to_id("<s>")
        tok.post_processor = processors.TemplateProcessing(
            single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)]
        )
    return PreTrainedTokenizerFast(tokenizer_object=tok, **SPECIAL_TOKENS)


def tiny_config(
    family: str, vocab_size: int, layers: int = 2, hidden: int = 16, ff: int = 32, **overrides: Any
):
    """A small architecture config of one family (GQA for Llama: 4 query heads, 2 KV heads)."""
    from transformers import AutoConfig

    common_ids = dict(bos_token_id=0, eos_token_id=1, pad_token_id=2)
    facts: dict[str, Any]
    if family in ("llama", "qwen2") or family in NEW_FAMILIES:
        facts = dict(
            hidden_size=hidden,
            intermediate_size=ff,
            num_hidden_layers=layers,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=256,
            tie_word_embeddings=False,
        )
        if family in NEW_FAMILIES:
            # Qwen3 and Gemma-2 default head_dim to 128 / 256 whatever the hidden size.
            facts["head_dim"] = hidden // 4
    elif family == "gpt_neox":
        facts = dict(
            hidden_size=hidden,
            intermediate_size=ff,
            num_hidden_layers=layers,
            num_attention_heads=4,
            max_position_embeddings=256,
            rotary_pct=0.25,
            hidden_act="gelu",
        )
    elif family == "xglm":
        facts = dict(
            d_model=hidden,
            ffn_dim=ff,
            num_layers=layers,
            attention_heads=4,
            max_position_embeddings=256,
        )
    elif family == "bloom":
        facts = dict(hidden_size=hidden, n_layer=layers, n_head=4)
    elif family == "gpt2":
        facts = dict(n_embd=hidden, n_inner=ff, n_layer=layers, n_head=4, n_positions=256)
    else:
        raise ValueError(f"unknown family '{family}' (known: {ALL_FAMILIES})")
    facts.update(common_ids, vocab_size=vocab_size)
    facts.update(overrides)
    return AutoConfig.for_model(family, **facts)


def tiny_model(family: str = "llama", seed: int = 0, tokenizer=None, **config_overrides: Any):
    """(model, tokenizer): a seeded random model of ``family`` in eval mode, eager attention."""
    from transformers import AutoModelForCausalLM

    tokenizer = tokenizer if tokenizer is not None else tiny_tokenizer()
    ids = dict(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    config = tiny_config(family, vocab_size=len(tokenizer), **{**ids, **config_overrides})
    config._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, attn_implementation="eager")
    return model.eval(), tokenizer


def own_weights_folder(family: str, tokenizer, path: str | Path, **config_overrides: Any):
    """(model, folder): a tiny model saved as a user's own
    weights folder (``source: path``), no provenance."""
    model, _ = tiny_model(family, tokenizer=tokenizer, **config_overrides)
    folder = Path(path)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return model, folder


def save_model_dir(model, tokenizer, path: str | Path, name: str = "tiny") -> Path:
    """Save a model and tokenizer as a prepared model folder (with provenance.json)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    from lmanatomy.io import sha256_file

    # Like a prepared folder: weight hashes recorded, so that derived artefacts can reference them.
    weights = {p.name: sha256_file(p) for p in sorted(path.glob("*.safetensors"))}
    provenance = {
        "name": name,
        "source": "test",
        "note": "tiny random model built by lmanatomy.testing",
        "weights_sha256": weights,
    }
    (path / PROVENANCE).write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
    return path
