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
