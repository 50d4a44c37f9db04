"""Accumulator: a Process that sums its input over time steps."""

from __future__ import annotations

import numpy as np
from lava.magma.core.process.ports.ports import InPort
from lava.magma.core.process.variable import Var

from lava_biograd.lava._process_support import BioGradProcess
from lava_biograd.validation import check_int


class Accumulator(BioGradProcess):
    r"""Sum the input: :math:`\mathrm{total}_t = \mathrm{total}_{t-1} + a_t`.

    An unconnected ``a_in`` reads zeros, so ``total`` then stays 0 while ``steps``
    still counts.

    Parameters
    ----------
    size : int
        Number of elements of ``a_in``, at least 1.
    name : str, optional
        Process name shown in error reports.

    Attributes
    ----------
    a_in : InPort of shape (size,)
    total : Var of shape (size,)
        Sum of all inputs received so far.
    steps : Var of shape (1,)
        Number of time steps executed so far.
    """

    def __init__(self, *, size: int = 1, name: str | None = None) -> None:
        size = check_int("size", size, minimum=1)
        super().__init__(size=size, name=name)
        self.a_in = InPort(shape=(size,))
        self.total = Var(shape=(size,), init=np.zeros(size))
        self.steps = Var(shape=(1,), init=np.zeros(1, dtype=int))
