"""Ramp source: a Process that sends a linearly growing value on every time step."""

from __future__ import annotations

import numpy as np
from lava.magma.core.process.ports.ports import OutPort
from lava.magma.core.process.variable import Var

from lava_biograd.lava._process_support import BioGradProcess
from lava_biograd.validation import check_float, check_int


class RampSource(BioGradProcess):
    r"""Send :math:`x_t = \mathrm{slope} \cdot t` on all ``size`` elements at time step ``t``.

    Lava numbers time steps from 1, so after ``N`` steps the values sent sum to
    :math:`\mathrm{slope} \cdot N (N + 1) / 2` per element.

    Parameters
    ----------
    size : int
        Number of elements of ``s_out``, at least 1.
    slope : float
        Value added per time step.
    name : str, optional
        Process name shown in error reports.

    Attributes
    ----------
    s_out : OutPort of shape (size,)
    last : Var of shape (size,)
        Value sent on the latest time step (0 before the first step).
    """

    def __init__(self, *, size: int = 1, slope: float = 1.0, name: str | None = None) -> None:
        size = check_int("size", size, minimum=1)
        slope = check_float("slope", slope)
        super().__init__(size=size, slope=slope, name=name)
        self.s_out = OutPort(shape=(size,))
        self.last = Var(shape=(size,), init=np.zeros(size))
