"""Receive-first relay: two of these wired in a ring deadlock."""

from __future__ import annotations

from lava.magma.core.process.ports.ports import InPort, OutPort

from lava_biograd.lava._process_support import BioGradProcess
from lava_biograd.validation import check_int


class RecvFirstRelay(BioGradProcess):
    """Receive ``a_in`` and then send the value on ``s_out``, in the spiking phase.

    Connect ``a.s_out`` to ``b.a_in`` and ``b.s_out`` to ``a.a_in``: each model then
    waits for the other's message of time step 1, which never comes, so ``run``
    never returns.

    Parameters
    ----------
    size : int
        Number of elements of both ports, at least 1.
    name : str, optional
        Process name shown in error reports.

    Attributes
    ----------
    a_in : InPort of shape (size,)
    s_out : OutPort of shape (size,)
    """

    def __init__(self, *, size: int = 1, name: str | None = None) -> None:
        size = check_int("size", size, minimum=1)
        super().__init__(size=size, name=name)
        self.a_in = InPort(shape=(size,))
        self.s_out = OutPort(shape=(size,))
