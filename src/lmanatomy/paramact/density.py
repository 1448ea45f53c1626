"""Which parameters a dataset activates: the running mean of A per parameter, and counts above γ.

A parameter is *activated* by a dataset when the mean of A(s, w) over the dataset's samples
exceeds γ (Wang et al. 2024; γ = 2e-6 for 32-layer models in the released code, which made the
figures; 2e-5 as recorded for the text, unverified — a config value here). The mean needs one
float32 per scored parameter per dataset: 25.9 GB for Llama-2-7B's 6,476,005,376 decoder weights.
:class:`RunningMean` keeps that sum per layer either in memory on the compute device or on disk (one
float32 ``.npy`` per layer, memory-mapped and updated sample by sample), so that a 7B model's mean
never has to fit in RAM; counts are then taken layer by layer.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from lmanatomy.errors import DataError
from lmanatomy.io import atomic_path
from lmanatomy.paramact.scores import Scores

STORAGES = ("memory", "disk")


def count_above(values: torch.Tensor, gammas: Sequence[float]) -> np.ndarray:
    """How many entries of ``values`` exceed each γ (numpy
    on CPU: several times faster than torch there)."""
    if values.device.type == "cpu":
        array = values.numpy()
        return np.array([np.count_nonzero(array > gamma) for gamma in gammas], dtype=np.int64)
    return np.array([int(torch.count_nonzero(values > gamma)) for gamma in gammas], dtype=np.int64)


class RunningMean:
    """Σ_s A(s, w) per parameter, per layer, in float32, and the number of samples added.

    ``storage="memory"``: one float32 tensor per layer on ``device`` (one device, or one per layer).
    ``storage="disk"``: one float32 ``.npy`` per layer in ``directory``, memory-mapped; each
    :meth:`add` reads and writes each layer once. Both add the same float32 values in the same
    order, so their sums are bit-identical.
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        storage: str = "memory",
        directory: str | Path | None = None,
        device: str | torch.device | Sequence[str | torch.device] = "cpu",
    ):
        if storage not in STORAGES:
            raise DataError(
                f"unknown running-mean storage '{storage}' (known: {', '.join(STORAGES)})"
            )
        if storage == "disk" and directory is None:
            raise DataError("a disk-backed running mean needs a directory")
        self.layer_sizes = [int(n) for n in layer_sizes]
        self.storage = storage
        self.count = 0
        self.directory = Path(directory) if directory is not None else None
        devices = (
            [device] * len(self.layer_sizes)
            if isinstance(device, (str, torch.device))
            else list(device)
        )
        if len(devices) != len(self.layer_sizes):
            raise DataError(f"{len(devices)} devices given for {len(self.layer_sizes)} layers")
        if storage == "memory":
            # Each layer's sum lives beside that layer's weights
            # (a model split over GPUs splits its sums too).
            self._sums: list = [
                torch.zeros(n, dtype=torch.float32, device=d)
                for n, d in zip(self.layer_sizes, devices, strict=True)
            ]
        else:
            assert self.directory is not None
            self.directory.mkdir(parents=True, exist_ok=True)
            self._sums = [
                np.lib.format.open_memmap(self._path(i), mode="w+", dtype=np.float32, shape=(n,))
                for i, n in enumerate(self.layer_sizes)
            ]

    def _path(self, layer: int) -> Path:
        assert self.directory is not None
        return self.directory / f"layer_{layer:03d}.npy"

    def add(self, scores: Scores) -> None:
        """Add one sample's A to the per-parameter sums, layer by layer."""
        if len(scores.layers) != len(self.layer_sizes):
            raise DataError(
                f"scores have {len(scores.layers)} layers, the running mean {len(self.layer_sizes)}"
            )
        for index, tensors in enumerate(scores.layers):
            total = self._sums[index]
            offset = 0
            for tensor in tensors:
                flat = tensor.detach().reshape(-1).float()
                end = offset + flat.numel()
                if end > self.layer_sizes[index]:
                    raise DataError(
                        f"layer {index}: scores have more values than the running mean's "
                        f"{self.layer_sizes[index]}"
                    )
                if self.storage == "memory":
                    total[offset:end] += flat.to(total.device)
                else:
                    total[offset:end] += flat.cpu().numpy()
                offset = end
            if offset != self.layer_sizes[index]:
                raise DataError(
                    f"layer {index}: scores have {offset} values, the running mean "
                    f"{self.layer_sizes[index]}"
                )
        self.count += 1

    def mean(self, layer: int) -> torch.Tensor:
        """The mean of A over the samples added so far, for one layer (float32 tensor)."""
        if self.count == 0:
            raise DataError("the running mean has no samples")
        total = self._sums[layer]
        if self.storage == "disk":
            total = torch.from_numpy(np.asarray(total))
        return total / self.count

    def activated(self, gammas: Sequence[float]) -> np.ndarray:
        """Number of parameters whose mean A exceeds each γ: shape (layers, len(gammas)), int64."""
        counts = np.zeros((len(self.layer_sizes), len(gammas)), dtype=np.int64)
        for layer in range(len(self.layer_sizes)):
            counts[layer] = count_above(self.mean(layer), gammas)
        return counts

    def save_means(self, directory: str | Path) -> list[Path]:
        """Write the per-parameter mean of every layer as
        ``layer_NNN.npy`` (float32), atomically per file."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for layer in range(len(self.layer_sizes)):
            path = directory / f"layer_{layer:03d}.npy"
            with atomic_path(path, keep_suffix=True) as tmp:  # np.save appends .npy to other names
                np.save(tmp, self.mean(layer).cpu().numpy())
            paths.append(path)
        return paths

    def close(self) -> None:
        """Release memory; a disk-backed mean deletes its files (they are scratch)."""
        self._sums = []
        if self.storage == "disk" and self.directory is not None and self.directory.exists():
            shutil.rmtree(self.directory)


LOG10_RANGE = (-30.0, 5.0)  # where a mean A can lie (float32 tiny .. far above any logit)
BINS_PER_DECADE = 200  # γ found to within 10^(1/200) = 1.2% before the exact count


def gamma_for_share(means: Sequence[RunningMean], share: float) -> float:
    """The γ at which a ``share`` of all (dataset, parameter) means exceed γ, pooled over ``means``.

    One pass over every layer builds a histogram of log10(mean A) with 200 bins per decade; γ is
    the lower edge of the bin where the share above crosses ``share`` (so the share actually
    reached, which the caller counts exactly, is within one bin of the target, never below it).
    """
    if not 0.0 < share < 1.0:
        raise DataError(f"a target activated share must lie in (0, 1), got {share}")
    low, high = LOG10_RANGE
    edges = np.linspace(low, high, int((high - low) * BINS_PER_DECADE) + 1)
    counts = np.zeros(len(edges) - 1, dtype=np.int64)
    total = 0
    for mean in means:
        for layer in range(len(mean.layer_sizes)):
            values = mean.mean(layer).cpu().numpy()
            total += values.size
            positive = values[values > 0]
            counts += np.histogram(np.log10(positive.astype(np.float64)), bins=edges)[0]
    above = np.cumsum(counts[::-1])[::-1]  # above[k]: values in bins k.. (≥ edges[k])
    reach = np.nonzero(above >= share * total)[0]
    if len(reach) == 0:
        raise DataError(
            f"fewer than {share:.1%} of the parameters have a positive mean A; no gamma reaches "
            "that share"
        )
    return float(10.0 ** edges[reach[-1]])
