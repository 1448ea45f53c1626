"""What a paramact run computes, and in which order (no torch: the workflow plans with this).

Units. A unit is one draw of one dataset, ``(dataset, j)``; computing it is one forward and one
backward pass. Sample i of a dataset pair uses:

* cross-domain pair (X, Y):  draws (X, 2i) and (Y, 2i)
* within-domain pair (X, X): draws (X, 2i) and (X, 2i+1) — two different inputs of X, as the
  paper's code pairs two independent draws of the same dataset
* activated counts of X (n samples): draws (X, 0) … (X, n−1)

so at step i every pair needs only draws 2i and 2i+1, and every draw is shared by the counts and
by all pairs that use it.

Schedule. LLMDcos needs two inputs' full activation vectors at the same time. A step's units are
computed in blocks of at most ``cache_units``: each block's units are kept (the *cache*), and the
units paired with them are computed once more into the working buffer, dotted with the cached
partners layer by layer, and dropped. With ``cache_units`` at least the number of datasets with
pairs, every unit is computed exactly once; smaller caches trade memory for recomputation (with
1, a pair costs two passes per sample, as in the paper's code). Memory never depends on the
number of samples.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lmanatomy.errors import ConfigError, DataError

JOB_MODES = ("single", "split")


@dataclass(frozen=True)
class Unit:
    dataset: str
    draw: int


@dataclass(frozen=True)
class Pair:
    """A dataset pair whose per-layer LLMDcos is measured on ``samples`` paired inputs."""

    x: str
    y: str
    samples: int

    @property
    def key(self) -> str:
        return f"{self.x}-{self.y}"

    @property
    def within(self) -> bool:
        return self.x == self.y

    def units(self, i: int) -> tuple[Unit, Unit]:
        """The two inputs of sample i."""
        if self.within:
            return Unit(self.x, 2 * i), Unit(self.x, 2 * i + 1)
        return Unit(self.x, 2 * i), Unit(self.y, 2 * i)


@dataclass(frozen=True)
class Job:
    """One workflow job: activated counts for some datasets and LLMDcos for some pairs."""

    name: str
    density: tuple[tuple[str, int], ...]
    pairs: tuple[Pair, ...]

    @property
    def datasets(self) -> list[str]:
        names = [d for d, _ in self.density] + [n for p in self.pairs for n in (p.x, p.y)]
        return list(dict.fromkeys(names))

    def draws_needed(self) -> dict[str, int]:
        return draws_needed(dict(self.density), self.pairs)


def draws_needed(density: Mapping[str, int], pairs: Sequence[Pair]) -> dict[str, int]:
    """How many draws each dataset must supply."""
    need: dict[str, int] = {}
    for name, n in density.items():
        need[name] = max(need.get(name, 0), n)
    for pair in pairs:
        for unit in pair.units(pair.samples - 1):
            need[unit.dataset] = max(need.get(unit.dataset, 0), unit.draw + 1)
    return need


@dataclass(frozen=True)
class Compute:
    """Score a unit into the working buffer; add it to
    its dataset's mean; copy it to a cache slot."""

    unit: Unit
    accumulate: bool
    slot: int | None


@dataclass(frozen=True)
class Dot:
    """LLMDcos of sample ``index`` of ``pair``: ``a`` from cache slot ``a_slot``, ``b`` from
    ``b_slot`` (None: the working buffer, i.e. the unit computed last)."""

    pair: Pair
    index: int
    a: Unit
    b: Unit
    a_slot: int
    b_slot: int | None


Op = Compute | Dot


@dataclass
class Schedule:
    ops: list[Op] = field(default_factory=list)

    @property
    def passes(self) -> int:
        """Forward + backward passes the schedule runs."""
        return sum(isinstance(op, Compute) for op in self.ops)


def _step_units(
    i: int,
    density: Mapping[str, int],
    edges: Sequence[tuple[Pair, Unit, Unit]],
    order: Sequence[str],
) -> list[Unit]:
    wanted = {u for _, a, b in edges for u in (a, b)}
    wanted |= {Unit(d, j) for d, n in density.items() for j in (2 * i, 2 * i + 1) if j < n}
    return sorted(wanted, key=lambda u: (u.draw, order.index(u.dataset)))


def schedule(density: Mapping[str, int], pairs: Sequence[Pair], cache_units: int) -> Schedule:
    """The order of passes and dot products for a job (see the module docstring)."""
    if pairs and cache_units < 1:
        raise ConfigError(
            "paramact.cache_units",
            f"LLMDcos pairs need a cache of at least 1 unit, got {cache_units}",
        )
    order = list(dict.fromkeys([*density, *(n for p in pairs for n in (p.x, p.y))]))
    steps = max([(n + 1) // 2 for n in density.values()] + [p.samples for p in pairs] + [0])
    plan = Schedule()
    accumulated: set[Unit] = set()

    def compute(unit: Unit, slot: int | None) -> None:
        first = unit.draw < density.get(unit.dataset, 0) and unit not in accumulated
        accumulated.add(unit)
        plan.ops.append(Compute(unit, first, slot))

    for i in range(steps):
        edges = [(p, *p.units(i)) for p in pairs if i < p.samples]
        units = _step_units(i, density, edges, order)
        pending = list(edges)
        while pending:
            touched = [u for u in units if any(u in (a, b) for _, a, b in pending)]
            block = touched[:cache_units]
            slots: dict[Unit, int] = {}
            for unit in block:
                slots[unit] = len(slots)
                compute(unit, slots[unit])
                for edge in [
                    e for e in pending if unit in e[1:] and all(v in slots for v in e[1:])
                ]:
                    pair, a, b = edge
                    plan.ops.append(Dot(pair, i, a, b, slots[a], slots[b]))
                    pending.remove(edge)
            partners = [
                u
                for u in units
                if u not in slots
                and any(u in e[1:] and (e[1] in slots or e[2] in slots) for e in pending)
            ]
            for unit in partners:
                compute(unit, None)
                for edge in [
                    e for e in pending if unit in e[1:] and (e[1] in slots or e[2] in slots)
                ]:
                    pair, a, b = edge
                    if a in slots:
                        plan.ops.append(Dot(pair, i, a, b, slots[a], None))
                    else:
                        plan.ops.append(Dot(pair, i, b, a, slots[b], None))
                    pending.remove(edge)
        for unit in units:
            if unit.draw < density.get(unit.dataset, 0) and unit not in accumulated:
                compute(unit, None)
    return plan


# ---------------------------------------------------------------------------------------------
# From the config section to jobs


def dataset_order(section: Mapping[str, Any]) -> list[str]:
    """Every dataset the section names, task datasets first, in the order the config lists them."""
    names = list(section.get("task_datasets", [])) + list(section.get("general_datasets", []))
    names += list(section.get("heatmap_datasets", []))
    names += [n for pair in section.get("boxplot_pairs", []) for n in pair]
    return list(dict.fromkeys(names))


def pair_samples(section: Mapping[str, Any], x: str, y: str) -> int:
    for override in section.get("pair_sample_overrides", []):
        if sorted(override["pair"]) == sorted([x, y]):
            return int(override["samples"])
    return int(section["pair_samples"])


def canonical(section: Mapping[str, Any], x: str, y: str) -> tuple[str, str]:
    order = dataset_order(section)
    return (x, y) if order.index(x) <= order.index(y) else (y, x)


def study_pairs(section: Mapping[str, Any]) -> list[Pair]:
    """The boxplot pairs and every pair (diagonal included) of the heatmap datasets, each once."""
    wanted: list[tuple[str, str]] = [
        canonical(section, x, y) for x, y in section.get("boxplot_pairs", [])
    ]
    heat = list(section.get("heatmap_datasets", []))
    wanted += [canonical(section, x, y) for a, x in enumerate(heat) for y in heat[a:]]
    return [Pair(x, y, pair_samples(section, x, y)) for x, y in dict.fromkeys(wanted)]


def density_datasets(section: Mapping[str, Any]) -> list[str]:
    return list(
        dict.fromkeys(
            list(section.get("task_datasets", [])) + list(section.get("general_datasets", []))
        )
    )


def jobs_for(section: Mapping[str, Any]) -> list[Job]:
    """``jobs: single`` — one job does everything (each draw scored once: best for small models);
    ``split`` — one job per dataset's counts and one per pair (parallel, least memory per job)."""
    mode = section.get("jobs", "single")
    if mode not in JOB_MODES:
        raise ConfigError(
            "paramact.jobs", f"unknown value '{mode}' (known: {', '.join(JOB_MODES)})"
        )
    n = int(section["samples"])
    density = tuple((d, n) for d in density_datasets(section))
    pairs = tuple(study_pairs(section))
    if mode == "single":
        return [Job("all", density, pairs)]
    return [Job(f"density-{d}", ((d, k),), ()) for d, k in density] + [
        Job(f"pair-{p.key}", (), (p,)) for p in pairs
    ]


def job_params(job: Job) -> dict[str, Any]:
    """A job as plain data (for a rule's ``params``), inverse of :func:`job_from_params`."""
    return {
        "name": job.name,
        "density": [[d, n] for d, n in job.density],
        "pairs": [[p.x, p.y, p.samples] for p in job.pairs],
    }


def job_from_params(params: Mapping[str, Any]) -> Job:
    return Job(
        str(params["name"]),
        tuple((str(d), int(n)) for d, n in params["density"]),
        tuple(Pair(str(x), str(y), int(n)) for x, y, n in params["pairs"]),
    )


def deep_range(num_layers: int) -> tuple[int, int]:
    """0-based inclusive layer range L/2 .. L−3 over which the paper averages LLMDcos."""
    first, last = num_layers // 2, num_layers - 3
    if last < first:
        raise DataError(f"a model with {num_layers} layers has no layers in L/2 .. L-3")
    return first, last
