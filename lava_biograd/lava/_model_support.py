"""Helpers shared by the ProcessModels of this package (sample clock and bulk export).

This module sits beside the component folders, not inside one, because Lava executes
every module in a Process's folder while it searches for ProcessModels.
"""

from __future__ import annotations

import numpy as np

from lava_biograd.atomic import atomic_output


def sample_clock(time_step: int, sample_steps: int) -> tuple[int, int]:
    """Return ``(sample, t)``: the 0-based sample index and the step inside that sample.

    Lava's ``time_step`` starts at 1; sample ``k`` occupies time steps ``k*T + 1 .. (k+1)*T``.
    """
    index = time_step - 1
    return index // sample_steps, index % sample_steps


def write_npz_atomic(path, **arrays) -> None:
    """Write ``arrays`` to ``path`` through a temporary file and a rename.

    A reader never sees a half-written file, which is how ProcessModels hand large
    arrays to the host: Lava 0.10 moves ``Var.get`` data one element per message.
    """
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)


class SampleExport:
    """Decide when a model writes its export file: every ``every`` samples and after the last.

    Parameters
    ----------
    path : str or None
        Target ``.npz`` file; ``None`` disables the export.
    every : int
        Samples between two writes (0: only after the last sample).
    n_samples : int
        Samples in the run; the file is always written after the last one.
    """

    def __init__(self, path, every: int, n_samples: int):
        self.path = path
        self.every = every
        self.n_samples = n_samples

    def due(self, sample: int) -> bool:
        """Return whether the file is to be written at the end of ``sample`` (0-based)."""
        if self.path is None:
            return False
        done = sample + 1
        return done == self.n_samples or (self.every > 0 and done % self.every == 0)


class CountExport:
    """Collect the spike counts of every sample of a run and write them after the last one.

    Parameters
    ----------
    path : str or None
        Target ``.npz`` file with ``counts`` of shape ``(n_samples, n)``; ``None`` keeps the
        counts in memory only.
    n_samples, n : int
        Samples in the run and counters per sample.
    sample_steps : int
        Steps ``T`` per sample.
    """

    def __init__(self, path, n_samples: int, n: int, sample_steps: int):
        self.path = path
        self.sample_steps = sample_steps
        self.counts = np.zeros((n_samples, n))

    def add(self, sample: int, t: int, counts: np.ndarray) -> None:
        """Store the running ``counts`` of ``sample`` at its step ``t``; write after the last step."""
        if sample >= self.counts.shape[0]:
            return
        self.counts[sample] = counts
        if self.path is not None and t == self.sample_steps - 1 and sample == self.counts.shape[0] - 1:
            write_npz_atomic(self.path, counts=self.counts)
