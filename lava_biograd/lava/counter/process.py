"""Per-sample spike counts of a layer, exported in bulk."""

from __future__ import annotations

from lava.magma.core.process.ports.ports import InPort
from lava.magma.core.process.variable import Var

from lava_biograd.lava._process_support import BioGradProcess
from lava_biograd.validation import check_int


class SpikeCounter(BioGradProcess):
    """Count the spikes on ``s_in`` separately for every sample.

    Parameters
    ----------
    n : int
        Port size.
    sample_steps : int
        Steps ``T`` per sample.
    n_samples : int
        Samples in the run; counts of later steps are ignored.
    export_path : str, optional
        ``.npz`` file with ``counts`` of shape (n_samples, n), written after the last sample.
    name : str, optional

    Attributes
    ----------
    s_in : InPort of shape (n,)
    counts : Var of shape (n,), the counts of the current sample
    """

    def __init__(self, *, n: int, sample_steps: int, n_samples: int, export_path: str | None = None,
                 name: str | None = None) -> None:
        n = check_int("n", n, minimum=1)
        super().__init__(n=n, sample_steps=check_int("sample_steps", sample_steps, minimum=1),
                         n_samples=check_int("n_samples", n_samples, minimum=1), export_path=export_path, name=name)
        self.s_in = InPort(shape=(n,))
        self.counts = Var(shape=(n,), init=0)
