"""Floating-point ProcessModel of :class:`SpikeSource`."""

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_biograd.lava._model_support import sample_clock
from lava_biograd.lava.source.process import SpikeSource


@implements(proc=SpikeSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt", "fixed_pt")
class PySpikeSourceModel(PyLoihiProcessModel):
    """Send one step of one sample per time step."""

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.data = proc_params["data"]
        self.zeros = np.zeros(self.data.shape[2:])

    def run_spk(self) -> None:
        sample, t = sample_clock(self.time_step, self.data.shape[1])
        if sample < self.data.shape[0]:
            self.s_out.send(np.asarray(self.data[sample, t], dtype=float))
        else:
            self.s_out.send(self.zeros)
