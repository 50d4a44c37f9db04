"""Floating-point ProcessModel of :class:`RampSource`."""

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_biograd.lava.testing.ramp_source.process import RampSource


@implements(proc=RampSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyRampSourceModel(PyLoihiProcessModel):
    """Send ``slope * time_step`` in the spiking phase."""

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    last: np.ndarray = LavaPyType(np.ndarray, float)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self.slope = proc_params["slope"]

    def run_spk(self) -> None:
        self.last[:] = self.slope * self.time_step
        self.s_out.send(self.last)
