"""The start token per architecture (the authors'
main_prod_env.sh), shared by extraction and generation."""

import pandas as pd
import pytest

from lmanatomy.errors import DataError
from lmanatomy.extract.tokens import encode, leading_ids, start_ids
from lmanatomy.language.report import start_description
from lmanatomy.language.sampling import start_prompt
from lmanatomy.language.steering import generate
from lmanatomy.testing import tiny_model, tiny_tokenizer


def xglm_tokenizer():
    """transformers' own XGLM class on a tiny vocabulary laid
    out like XGLM's (<s> 0, <pad> 1, </s> 2, <unk> 3)."""
    from transformers import XGLMTokenizer

    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + [
        (p, -1.0) for p in ("▁", "a", "b", "▁a", "▁b")
    ]
    return XGLMTokenizer(vocab=vocab)


def llama_tokenizer():
    """transformers' Llama class with Llama-2's ids (<unk>
    0, <s> 1, </s> 2) and its add_bos_token: true."""
    from transformers import LlamaTokenizer

    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, "▁": 3, "a": 4, "b": 5, "▁a": 6, "▁b": 7}
    return LlamaTokenizer(vocab=vocab, merges=[("▁", "a"), ("▁", "b")], add_bos_token=True)


def bloom_tokenizer():
    """A byte-level BPE with BLOOM's special ids (<unk> 0, <s> 1, </s> 2, <pad> 3) and, like BLOOM's
    tokenizer.json, no post-processor: nothing is added to a text (the authors' comment)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", "<s>", "</s>", "<pad>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(["a b ab ba"], trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
    )


# (tokenizer, the authors' start token, its id in the real model's vocabulary)
ARCHITECTURES = {
    "xglm": (xglm_tokenizer, "</s>", 2),  # prompt "" -> the tokenizer's </s>, not bos_token_id 0
    "bloom": (bloom_tokenizer, "</s>", 2),  # explicit prompt "</s>", not bos_token_id 1
    "llama-2": (llama_tokenizer, "<s>", 1),  # prompt "" -> the tokenizer's <s>
}


@pytest.mark.parametrize("family", sorted(ARCHITECTURES))
def test_start_token_ids_per_architecture(family):
    make, token, token_id = ARCHITECTURES[family]
    tokenizer = make()
    assert tokenizer.convert_tokens_to_ids(token) == token_id
    assert start_ids(tokenizer, "bos_or_eos") == [token_id]
    assert start_prompt(tokenizer, "bos_or_eos", expected=token) == [token_id]


def test_xglm_start_is_not_its_bos_id():
    tokenizer = xglm_tokenizer()
    assert tokenizer.bos_token_id == 0 and leading_ids(tokenizer) == [2]


@pytest.mark.parametrize("family", sorted(ARCHITECTURES))
def test_extracted_texts_start_with_the_generation_start(family):
    tokenizer = ARCHITECTURES[family][0]()
    texts = ["a b", "b a a"]
    sequences = encode(tokenizer, texts, 512, ["0", "1"], append_eos=False, start="bos_or_eos")
    prompt = start_prompt(tokenizer, "bos_or_eos")
    for text, seq in zip(texts, sequences, strict=True):
        assert seq[: len(prompt)] == prompt
        assert seq[len(prompt) :] == tokenizer(text, add_special_tokens=False)["input_ids"]
    if leading_ids(
        tokenizer
    ):  # XGLM, Llama-2: exactly what the tokenizer (and the authors' extraction) gives
        assert sequences == [tokenizer(t)["input_ids"] for t in texts]


def test_a_tokenizer_without_bos_starts_from_eos_in_both():
    tokenizer = tiny_tokenizer(add_bos=False)  # like SmolLM2-Instruct: adds nothing
    model, _ = tiny_model("llama", tokenizer=tokenizer)
    assert start_ids(tokenizer, "tokenizer") == []
    sequences = encode(tokenizer, ["Der Hund"], 512, ["0"], append_eos=False, start="bos_or_eos")
    requests = pd.DataFrame({"condition": ["none"], "language": [""], "k": [0], "seed": [1]})
    selection = pd.DataFrame(
        columns=["language", "kind", "rank", "index", "module", "channel", "value"]
    )
    generated = generate(
        model,
        tokenizer,
        requests,
        selection,
        max_new_tokens=2,
        progress=False,
        start="bos_or_eos",
        expected_start="</s>",
    )
    assert sequences[0][0] == tokenizer.eos_token_id == int(generated["start_id"].iloc[0])
    assert generated["start_token"].iloc[0] == "</s>"
    assert start_description(generated, "bos_or_eos").startswith(
        f"</s> (id {tokenizer.eos_token_id}), the same token"
    )


def test_a_start_other_than_the_expected_one_stops_generation():
    with pytest.raises(DataError, match="language.start_tokens"):
        start_prompt(llama_tokenizer(), "bos_or_eos", expected="</s>")
    with pytest.raises(DataError, match="no start token"):
        start_prompt(tiny_tokenizer(add_bos=False), "tokenizer")


def test_a_path_tokenizer_without_bos_or_eos_cannot_start_a_text(tmp_path):
    from lmanatomy.models.needs import missing_tokens, token_needs
    from lmanatomy.models.registry import parse_entry
    from lmanatomy.testing import own_weights_folder, tiny_tokenizer

    needs = token_needs({"modules": "linears", "pool": "mean", "start": "bos_or_eos"})
    assert needs == ("start",)
    for add_bos, eos, missing in ((True, None, 0), (False, "</s>", 0), (False, None, 1)):
        tokenizer = tiny_tokenizer(add_bos=add_bos)
        tokenizer.eos_token = eos
        _, folder = own_weights_folder("llama", tokenizer, tmp_path / f"m{add_bos}{eos is None}")
        entry = parse_entry("mine", {"source": "path", "path": str(folder)})
        assert len(missing_tokens(entry, needs)) == missing, (add_bos, eos)
