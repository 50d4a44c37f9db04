"""Floating-point ProcessModel of :class:`Accumulator`."""

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_biograd.lava.testing.accumulator.process import Accumulator


@implements(proc=Accumulator, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyAccumulatorModel(PyLoihiProcessModel):
    """Receive ``a_in`` and add it to ``total`` in the spiking phase."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    total: np.ndarray = LavaPyType(np.ndarray, float)
    steps: np.ndarray = LavaPyType(np.ndarray, int)

    def run_spk(self) -> None:
        self.total += self.a_in.recv()
        self.steps += 1
