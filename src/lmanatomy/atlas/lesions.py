"""Cross-study lesions: a language's neurons (language study) ablated, the evaluator's tasks scored.

Kojima et al. show that fixing a language's top neurons steers *generation*; the lesion study's
evaluator asks what a model can still *do*. Ablating language l's top-k neurons and scoring tasks
in l and in other languages tests whether those neurons are needed for tasks in their language.
Each ablation has a control: as many neurons per layer drawn at random from the same layers'
census neurons (not l's), fixed the same way. Two ways to ablate, as settings: ``zero`` and
``mean`` (the neuron's mean over all the study's texts, so only its language-specific variation
is removed).

The score change against the unablated model is paired per sample (the same prompts), so its
interval is a paired bootstrap over samples of the per-sample difference in correctness.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from lmanatomy.stats import bootstrap_mean, same_layer_random

SETTINGS = ("zero", "mean")
PATTERN_COLUMNS = ["module", "channel", "value"]


def language_neurons(selection: pd.DataFrame, language: str, kind: str, k: int) -> pd.DataFrame:
    """The language study's top (or bottom) ``k``
    neurons of ``language``: layer, module, channel."""
    rows = selection[
        (selection["language"] == language) & (selection["kind"] == kind) & (selection["rank"] < k)
    ]
    if len(rows) < k:
        raise ValueError(
            f"the selection has {len(rows)} {kind} neurons of '{language}', fewer than k={k}"
        )
    return rows[["layer", "module", "channel"]].reset_index(drop=True)


def pattern(
    neurons: pd.DataFrame, setting: str, means: Mapping[str, np.ndarray] | None = None
) -> pd.DataFrame:
    """The intervention frame (module, channel, value) that fixes ``neurons`` by ``setting``."""
    if setting == "zero":
        values = np.zeros(len(neurons))
    elif setting == "mean":
        if means is None:
            raise ValueError("setting 'mean' needs the neurons' means over all texts")
        values = np.array(
            [means[m][c] for m, c in zip(neurons["module"], neurons["channel"], strict=True)],
            dtype=float,
        )
    else:
        raise ValueError(f"unknown ablation setting '{setting}' (known: {', '.join(SETTINGS)})")
    return pd.DataFrame(
        {
            "module": neurons["module"].astype(str).to_numpy(),
            "channel": neurons["channel"].to_numpy(),
            "value": values,
        }
    )


def paired_change(
    original: np.ndarray, ablated: np.ndarray, resamples: int, seed: int
) -> tuple[float, float, float]:
    """(mean change, low, high) of per-sample correctness,
    ablated − original, paired bootstrap over samples."""
    return bootstrap_mean(
        np.asarray(ablated, dtype=float) - np.asarray(original, dtype=float), resamples, seed
    )


def change_table(
    predictions: Mapping[tuple[str, str, str, str], pd.DataFrame],
    original: pd.DataFrame,
    task_languages: Mapping[str, str],
    resamples: int,
    seed: int,
) -> pd.DataFrame:
    """One row per (ablated language, kind, setting, neurons, task): accuracy before and after and
    the paired change with its interval. ``predictions`` are the evaluator's frames (columns task,
    sample, correct) keyed by (language, kind, setting, neurons ∈ {language, random})."""
    rows = []
    base = original.set_index(["task", "sample"])["correct"]
    for offset, ((language, kind, setting, neurons), frame) in enumerate(
        sorted(predictions.items())
    ):
        for task, part in frame.groupby("task", sort=True):
            after = part.set_index(["task", "sample"])["correct"]
            before = base.loc[after.index]
            change, low, high = paired_change(
                before.to_numpy(), after.to_numpy(), resamples, seed + offset
            )
            rows.append(
                {
                    "ablated_language": language,
                    "kind": kind,
                    "setting": setting,
                    "neurons": neurons,
                    "task": task,
                    "task_language": task_languages.get(task, "?"),
                    "samples": len(part),
                    "accuracy_before": float(before.mean()),
                    "accuracy_after": float(after.mean()),
                    "change": change,
                    "ci_low": low,
                    "ci_high": high,
                }
            )
    return pd.DataFrame(rows)


def module_means(read_module, columns: Sequence[str]) -> dict[str, np.ndarray]:
    """Each module's per-channel mean over all texts (``read_module(column)`` → (texts, width))."""
    return {
        column: np.asarray(read_module(column), dtype=np.float64).mean(axis=0) for column in columns
    }


def conditions(section: Mapping[str, object]) -> list[tuple[str, str, str, str]]:
    """(ablated language, kind, setting, neurons) of every evaluation besides the unablated one."""
    return [
        (language, kind, setting, neurons)
        for language in section["languages"]
        for kind in section["kinds"]
        for setting in section["settings"]
        for neurons in ("language", "random")
    ]


def run_lesions(
    model,
    tokenizer,
    tasks: Mapping[str, Mapping],
    selection: pd.DataFrame,
    census: pd.DataFrame,
    read_module,
    section: Mapping[str, object],
    settings,
    log=print,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Evaluate the unablated model and every condition
    on ``tasks``; (predictions of all, change table)."""
    from lmanatomy.evaluation.harness import evaluate
    from lmanatomy.evaluation.tasks import TASKS
    from lmanatomy.language.intervention import NeuronIntervention

    rng = np.random.default_rng(int(section["seed"]))
    cap = section.get("max_num_samples")
    original, _ = evaluate(model, tokenizer, tasks, settings, cap)
    neurons_of = {}
    for language, kind, _setting, neurons in conditions(section):
        key = (language, kind, neurons)
        if key not in neurons_of:
            chosen = language_neurons(selection, language, kind, int(section["k"]))
            neurons_of[key] = (
                chosen if neurons == "language" else same_layer_random(chosen, census, rng)
            )
    needs_mean = "mean" in section["settings"]
    columns = sorted({str(m) for frame in neurons_of.values() for m in frame["module"]})
    means = module_means(read_module, columns) if needs_mean else None
    predictions = {}
    for condition in conditions(section):
        language, kind, setting, neurons = condition
        fixed = pattern(neurons_of[(language, kind, neurons)], setting, means)
        with NeuronIntervention(model, [fixed]):
            frame, _ = evaluate(model, tokenizer, tasks, settings, cap)
        predictions[condition] = frame
        log(
            f"{language} {kind} {setting} {neurons}: accuracy {frame['correct'].mean():.3f} "
            f"(unablated {original['correct'].mean():.3f})"
        )
    languages = {name: TASKS[name].language if name in TASKS else "ja" for name in tasks}
    table = change_table(
        predictions, original, languages, int(section["resamples"]), int(section["seed"])
    )
    everything = pd.concat(
        [
            original.assign(condition="unablated"),
            *[f.assign(condition=" ".join(c)) for c, f in predictions.items()],
        ],
        ignore_index=True,
    )
    return everything, table


def plt_patch(color: str, label: str):
    """A legend entry for a bar colour."""
    from matplotlib.patches import Patch

    return Patch(color=color, label=label)


def lesions_figure(table: pd.DataFrame, title: str, path: str, note: str | None) -> None:
    """Per (ablated language, setting) panel: accuracy change
    per task, language neurons vs random, 95% intervals."""
    from lmanatomy.plots import figure, save

    panels = list(table.groupby(["ablated_language", "kind", "setting"], sort=True))
    cols = min(2, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = figure(
        rows, cols, width=5.2 * cols, height=3.4 * rows + 0.8, squeeze=False, sharey=True
    )
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax, ((language, kind, setting), part) in zip(axes.flat, panels, strict=False):
        tasks = sorted(
            part["task"].unique(),
            key=lambda t: (part[part["task"] == t]["task_language"].iloc[0] != language, t),
        )
        x = np.arange(len(tasks))
        for offset, (neurons, color) in enumerate((("language", "C3"), ("random", "C7"))):
            rows = part[part["neurons"] == neurons].set_index("task").reindex(tasks)
            values = rows["change"].to_numpy() * 100
            errors = np.abs(np.vstack([rows["ci_low"], rows["ci_high"]]) * 100 - values)
            ax.bar(
                x + (offset - 0.5) * 0.38, values, width=0.38, color=color, yerr=errors, capsize=2
            )
        ax.axhline(0, color="0.3", linewidth=0.8)
        labels = [f"{t}\n({part[part['task'] == t]['task_language'].iloc[0]})" for t in tasks]
        ax.set_xticks(x, labels, fontsize=8)
        ax.set_title(f"ablate {language} {kind}-k, {setting}", fontsize=9)
    handles = [
        plt_patch("C3", "the language's neurons"),
        plt_patch("C7", "as many random neurons, same layers"),
    ]
    fig.legend(
        handles=handles,
        loc="upper center",
        ncol=2,
        fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.5, 0.0),
    )
    for row in axes:
        row[0].set_ylabel("accuracy change, points")
    fig.suptitle(title, fontsize=10)
    save(fig, path, note)
