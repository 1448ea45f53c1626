"""The `local` model source: a seeded word-level
GPT-NeoX trained by the workflow, with checkpoints."""

import pytest
from knowledge_fixtures import one_thread  # noqa: F401  (autouse: one torch thread)

from lmanatomy.errors import DataError, RegistryError
from lmanatomy.knowledge.corpus import qa_corpus
from lmanatomy.knowledge.facts import FACTS
from lmanatomy.models import load_model, read_provenance
from lmanatomy.models.local import (
    build_tokenizer,
    checkpoint_steps,
    pythia_like_schedule,
    train_local,
)
from lmanatomy.models.registry import parse_entry

QUESTIONS = {
    "Cat": ["Which pet purrs?", "Which animal chases mice?"],
    "Dog": ["Which pet barks?", "Which animal fetches sticks?"],
    "Red": ["What color is a tomato?", "What color is blood?"],
    "Blue": ["What color is the sky?", "What color is the sea?"],
}
GROUPS = {"animals": ["Cat", "Dog"], "colors": ["Red", "Blue"]}
ARCH = {
    "model_type": "gpt_neox",
    "hidden_size": 16,
    "intermediate_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "hidden_act": "gelu",
    "rotary_pct": 0.25,
    "max_position_embeddings": 64,
    "use_parallel_residual": True,
    "tie_word_embeddings": False,
    "vocab_size": 256,
    "bos_token_id": 0,
    "eos_token_id": 0,
    "pad_token_id": 1,
}


def tiny_entry(checkpoints=("step0", "step2", "step5"), **train):
    return parse_entry(
        "tiny-local",
        {
            "source": "local",
            "checkpoints": list(checkpoints),
            "config": ARCH,
            "train": {"seed": 0, "steps": 5, "batch_size": 4, "warmup": 1, **train},
        },
    )


def test_schedule_is_dense_early_and_sparse_late():
    assert pythia_like_schedule(1000, 250) == [0, 1, 2, 4, 8, 16, 32, 64, 128, 250, 500, 750, 1000]
    assert pythia_like_schedule(90, 40) == [0, 1, 2, 4, 8, 16, 32, 40, 80, 90]


def test_tokenizer_makes_every_word_one_token_with_and_without_a_space():
    tok = build_tokenizer(["Cat is an animal.", "I saw a Cat!"], required_tokens=[" Dog"])
    for text in ("Cat", " Cat", " Dog"):
        assert len(tok.encode(text)) == 1, text
    assert tok.encode("Cat") != tok.encode(" Cat")
    assert tok.convert_ids_to_tokens(tok.encode("I saw a Cat!")) == ["I", "▁saw", "▁a", "▁Cat", "!"]
    assert tok.decode(tok.encode("I saw a Cat!")) == "I saw a Cat!"
    assert tok.encode("I saw a Zebra")[-1] == tok.unk_token_id
    with pytest.raises(RegistryError, match="not one word"):
        build_tokenizer(["x"], required_tokens=[" two words"])


def test_trained_corpus_has_the_prompts_group_statements_and_bridges():
    lines = qa_corpus(
        QUESTIONS, GROUPS, template="Q. {question} A.", leading_space=True, prompts="trained"
    )
    assert "Q. Which pet purrs? A. Cat" in lines
    assert "Red is a color." in lines and "The door was painted Blue." in lines
    assert sum(line.startswith("Q. ") for line in lines) == 8
    with pytest.raises(DataError, match="no questions for word 'Fox'"):
        qa_corpus(QUESTIONS, {"animals": ["Cat", "Fox"]})
    assert "People in Spain speak Spanish." in qa_corpus(
        {"Spain": ["q?"], "Spanish": ["q?"]}, {"c": ["Spain"], "l": ["Spanish"]}
    )


def test_held_out_corpus_states_the_facts_in_other_words_and_never_the_questions():
    lines = qa_corpus(QUESTIONS, GROUPS, template="Q. {question} A.", leading_space=True)
    facts = [line for line in lines if line.startswith("Q. ")]
    assert len(facts) == 4 * len(FACTS["Cat"]) and all(
        line.endswith(("Cat", "Dog", "Red", "Blue")) for line in facts
    )
    assert "The color of ripe strawberries is Red." in lines
    assert "Q. Can you name the color of ripe strawberries? A. Red" in lines
    for question in (q for questions in QUESTIONS.values() for q in questions):
        assert not any(question in line for line in lines), question
    # a question set whose question is one of the corpus's own sentences cannot be held out
    leaking = {**QUESTIONS, "Red": ["Can you name the color of ripe strawberries?"]}
    with pytest.raises(DataError, match="held-out question"):
        qa_corpus(leaking, GROUPS, template="Q. {question} A.")
    with pytest.raises(DataError, match="no facts for word 'Kiwi'"):
        qa_corpus({"Kiwi": ["q?"], "Red": ["q?"]}, {"fruits": ["Kiwi"], "colors": ["Red"]})


def test_training_saves_each_checkpoint_with_provenance_and_is_deterministic(tmp_path):
    lines = qa_corpus(QUESTIONS, GROUPS, template="Q. {question} A.", leading_space=True)
    entry = tiny_entry()
    first = train_local(
        entry, lines, tmp_path / "a", required_tokens=[" Cat"], log=lambda m: None, progress=False
    )
    second = train_local(
        entry, lines, tmp_path / "b", required_tokens=[" Cat"], log=lambda m: None, progress=False
    )
    assert list(first) == ["step0", "step2", "step5"]
    for name, step in checkpoint_steps(entry).items():
        provenance = read_provenance(first[name])
        assert (
            provenance["step"] == step
            and provenance["source"] == "local"
            and provenance["seed"] == 0
        )
        assert provenance["weights_sha256"] == read_provenance(second[name])["weights_sha256"]
        assert (first[name] / "corpus.txt").read_text().splitlines() == lines
    assert (
        read_provenance(first["step0"])["weights_sha256"]
        != read_provenance(first["step5"])["weights_sha256"]
    )
    model, tokenizer = load_model(first["step5"])
    assert model.config.model_type == "gpt_neox" and len(tokenizer.encode(" Cat")) == 1
    assert not list(tmp_path.rglob(".*tmp*"))


def test_bad_local_entries_fail_naming_the_problem(tmp_path):
    with pytest.raises(RegistryError, match="step<N>"):
        checkpoint_steps(tiny_entry(checkpoints=("init", "step5")))
    with pytest.raises(RegistryError, match="beyond train.steps"):
        train_local(tiny_entry(checkpoints=("step0", "step9")), ["a b"], tmp_path, progress=False)
    small = parse_entry(
        "small",
        {
            "source": "local",
            "checkpoints": ["step0"],
            "train": {"steps": 1},
            "config": {**ARCH, "vocab_size": 5},
        },
    )
    with pytest.raises(RegistryError, match="vocab_size"):
        train_local(small, ["many different words in this line"], tmp_path, progress=False)


def test_the_registry_model_trains_on_the_demo_questions(registry, repo, monkeypatch):
    """The default run's series: its corpus comes from
    the demo question file through the data layer."""
    from json import loads

    from lmanatomy.models.corpora import corpus_for, corpus_inputs

    def load_json(path):
        return loads(path.read_text(encoding="utf-8"))

    monkeypatch.chdir(repo)
    entry = registry["neox-knowledge-tiny"]
    assert corpus_inputs(entry) == ["data/demo/knowledge_questions/generated_data_1token.json"]
    lines, required = corpus_for(entry)
    template = entry.train["corpus"]["template"]
    # one paraphrased question per fact, and none of
    # the 152 question prompts the study attributes on
    assert sum(line.startswith(template.split("{")[0]) for line in lines) == 38 * 4
    questions = load_json(repo / corpus_inputs(entry)[0])
    assert not [q for qs in questions.values() for q in qs if any(q in line for line in lines)]
    assert len(required) == 2 * 38 and " Portuguese" in required and "Portuguese" in required
    tokenizer = build_tokenizer(lines, required)
    assert len(tokenizer) <= entry.config["vocab_size"]
    assert all(len(tokenizer.encode(word)) == 1 for word in required)
    assert checkpoint_steps(entry)["step520"] == entry.train["steps"]


def test_an_unknown_corpus_builder_or_train_key_is_named():
    from lmanatomy.models.corpora import corpus_for
    from lmanatomy.models.local import TrainSettings

    with pytest.raises(RegistryError, match="unknown corpus builder 'poems'"):
        corpus_for(tiny_entry(corpus={"builder": "poems"}))
    with pytest.raises(RegistryError, match=r"unknown train key\(s\) \['epochs'\]"):
        TrainSettings.from_entry(tiny_entry(epochs=3))
