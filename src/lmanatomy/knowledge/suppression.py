"""Suppressing a word's knowledge neurons (Dai et al.
2022's suppression test), against random neurons.

Ariyama et al. find knowledge neurons by attribution alone. Whether they *carry* the word is a
causal question: set the word's top-k FF activations to 0 at the final checkpoint and measure
how the probability of the correct answer changes on the word's prompts. The control suppresses
the same number of neurons in the same layers, drawn at random from the neurons that are not the
word's (several draws, averaged), so a drop that any k neurons of those layers would cause is
not credited to the knowledge neurons.

Per word: p (no suppression), p with its knowledge neurons suppressed, p with random neurons
suppressed (mean over draws); each averaged over the word's prompts. The change is relative,
(p_suppressed − p) / p, as Dai et al. report it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from lmanatomy.hooks import hooks
from lmanatomy.knowledge.attribution import encode_prompt, site_module, target_token
from lmanatomy.stats import bootstrap_means, same_layer_random


@contextlib.contextmanager
def suppressed(model: nn.Module, neurons: Mapping[int, Sequence[int]], site: str) -> Iterator[None]:
    """Within the block, the FF activations
    ``neurons[layer]`` of each layer are 0 at every position.

    At ``site='post'`` the activation itself is zeroed; at ``'pre'`` the linear before the
    nonlinearity is (GELU(0) = 0, so the activation is 0 too).
    """

    def hook_for(channels: torch.Tensor):
        def hook(module: nn.Module, inputs: object, output: torch.Tensor) -> torch.Tensor:
            output = output.clone()
            output[..., channels] = 0
            return output

        return hook

    sites = [
        (
            site_module(model, int(layer), site),
            hook_for(torch.as_tensor(sorted(map(int, channels)), dtype=torch.long)),
        )
        for layer, channels in neurons.items()
        if len(channels)
    ]
    with hooks(sites):
        yield


def random_like(
    chosen: Mapping[int, Sequence[int]], width: int, rng: np.random.Generator
) -> dict[int, list[int]]:
    """As many neurons per layer as ``chosen`` has, drawn without replacement from that layer's
    other neurons (the control of the suppression test): the shared same-layer control over the
    census of the chosen layers' ``width`` FF neurons each."""
    layers = [int(layer) for layer, channels in chosen.items() if len(channels)]
    picked = pd.DataFrame(
        {
            "layer": [int(layer) for layer, channels in chosen.items() for _ in channels],
            "channel": [int(c) for channels in chosen.values() for c in channels],
        }
    )
    census = pd.DataFrame(
        {"layer": np.repeat(layers, width), "channel": np.tile(np.arange(width), len(layers))}
    )
    drawn = same_layer_random(picked, census, rng, keys=("channel",))
    return {int(layer): [int(c) for c in part["channel"]] for layer, part in drawn.groupby("layer")}


@torch.no_grad()
def answer_probability(
    model: nn.Module, tokenizer: object, prompts: Sequence[str], target_id: int
) -> np.ndarray:
    """P(target token | prompt) at the prompt's last
    position, one prompt per forward (no padding)."""
    device = next(model.parameters()).device
    values = []
    for prompt in prompts:
        ids = torch.tensor([encode_prompt(tokenizer, prompt)], device=device)
        logits = model(input_ids=ids).logits[0, -1].float()
        values.append(float(torch.softmax(logits, dim=-1)[target_id]))
    return np.asarray(values)


def word_neurons(trajectories: pd.DataFrame, word: str) -> dict[int, list[int]]:
    """A word's knowledge neurons by layer, from the study's trajectories table."""
    rows = trajectories[trajectories["word"] == word]
    return {
        int(layer): sorted(int(n) for n in part["neuron"]) for layer, part in rows.groupby("layer")
    }


def suppression_rows(
    model: nn.Module,
    tokenizer: object,
    trajectories: pd.DataFrame,
    prompts: Mapping[str, Sequence[str]],
    targets: Mapping[str, str],
    groups: Mapping[str, Sequence[str]],
    site: str,
    width: int,
    draws: int,
    seed: int,
) -> pd.DataFrame:
    """One row per word: its group, neurons suppressed,
    p, p with knowledge / random neurons suppressed."""
    rng = np.random.default_rng(seed)
    rows = []
    for group, words in groups.items():
        for word in words:
            target_id, _ = target_token(tokenizer, targets[word], "first")
            chosen = word_neurons(trajectories, word)
            before = answer_probability(model, tokenizer, prompts[word], target_id).mean()
            with suppressed(model, chosen, site):
                knowledge = answer_probability(model, tokenizer, prompts[word], target_id).mean()
            control = []
            for _ in range(draws):
                with suppressed(model, random_like(chosen, width, rng), site):
                    control.append(
                        answer_probability(model, tokenizer, prompts[word], target_id).mean()
                    )
            rows.append(
                {
                    "group": group,
                    "word": word,
                    "neurons": sum(len(c) for c in chosen.values()),
                    "layers": " ".join(str(layer) for layer in sorted(chosen)),
                    "prompts": len(prompts[word]),
                    "p": float(before),
                    "p_knowledge": float(knowledge),
                    "p_random": float(np.mean(control)),
                    "change_knowledge": float((knowledge - before) / before),
                    "change_random": float((np.mean(control) - before) / before),
                }
            )
    return pd.DataFrame(rows)


def group_summary(rows: pd.DataFrame, resamples: int, seed: int) -> pd.DataFrame:
    """Per group and over all words: mean relative change under knowledge vs random suppression and
    their difference, each with a 95% bootstrap interval
    over words (the same resampled words for both)."""
    out = []
    parts = [*rows.groupby("group", sort=False), ("all words", rows)]
    for offset, (group, part) in enumerate(parts):
        k, r = part["change_knowledge"].to_numpy(), part["change_random"].to_numpy()
        row = {"group": group, "words": len(part)}
        for name, (mean, low, high) in bootstrap_means(
            {"knowledge": k, "random": r, "difference": k - r}, resamples, seed + offset
        ).items():
            row.update({f"{name}_change": mean, f"{name}_ci_low": low, f"{name}_ci_high": high})
        out.append(row)
    return pd.DataFrame(out)


def suppression_figure(summary: pd.DataFrame, title: str, path: str, note: str | None) -> None:
    """Per group: mean relative change of P(answer) under
    knowledge vs random suppression, 95% intervals."""
    from lmanatomy.plots import figure, save

    fig, ax = figure(1, 1, width=7.0, height=3.6)
    x = np.arange(len(summary))
    for offset, (name, color, label) in enumerate(
        (("knowledge", "C3", "knowledge neurons"), ("random", "C7", "random neurons, same layers"))
    ):
        values = summary[f"{name}_change"].to_numpy() * 100
        errors = np.abs(
            np.vstack([summary[f"{name}_ci_low"], summary[f"{name}_ci_high"]]) * 100 - values
        )
        ax.bar(
            x + (offset - 0.5) * 0.38,
            values,
            width=0.38,
            color=color,
            label=label,
            yerr=errors,
            capsize=3,
        )
    ax.axhline(0, color="0.3", linewidth=0.8)
    ax.set_xticks(
        x,
        [f"{g}\n({n} words)" for g, n in zip(summary["group"], summary["words"], strict=True)],
        fontsize=8,
    )
    ax.set_ylabel("change of P(answer), %")
    ax.set_title(title)
    ax.legend(fontsize=8, frameon=False)
    save(fig, path, note)


def suppression_notes(summary: pd.DataFrame, k: int, draws: int, checkpoint: str) -> list[str]:
    """What was suppressed, the control, and the headline difference with its interval."""
    overall = summary[summary["group"] == "all words"].iloc[0]
    verdict = (
        "suppressing knowledge neurons lowers P(answer) more than random neurons of the same layers"
        if overall["difference_ci_high"] < 0
        else "knowledge neurons are not distinguishable from random neurons of the same layers"
        if overall["difference_ci_low"] <= 0
        else "random neurons lower P(answer) more than knowledge neurons"
    )
    return [
        f"Checkpoint {checkpoint}: each word's top-{k} knowledge neurons set to 0 at every "
        "position; control: as many neurons per layer drawn at random from the layer's other "
        f"neurons, {draws} draws averaged.",
        f"Over all words: knowledge {overall['knowledge_change']:+.1%} (95% CI "
        f"{overall['knowledge_ci_low']:+.1%} to {overall['knowledge_ci_high']:+.1%}), random "
        f"{overall['random_change']:+.1%}; difference {overall['difference_change']:+.1%} (95% CI "
        f"{overall['difference_ci_low']:+.1%} to {overall['difference_ci_high']:+.1%}): {verdict}.",
        "Intervals: bootstrap over words. Dai et al. 2022's suppression test, not part of Ariyama "
        "et al. 2025.",
    ]
