"""Floating-point ProcessModel of :class:`SpikeCounter`."""

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_biograd.lava._model_support import CountExport, sample_clock
from lava_biograd.lava.counter.process import SpikeCounter


@implements(proc=SpikeCounter, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt", "fixed_pt")
class PySpikeCounterModel(PyLoihiProcessModel):
    """Accumulate counts per sample; write all of them after the last sample."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    counts: np.ndarray = LavaPyType(np.ndarray, float)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        p = proc_params
        self.export = CountExport(p["export_path"], p["n_samples"], p["n"], p["sample_steps"])

    def run_spk(self) -> None:
        sample, t = sample_clock(self.time_step, self.proc_params["sample_steps"])
        spikes = self.s_in.recv()
        if t == 0:
            self.counts = np.zeros(self.proc_params["n"])
        self.counts = self.counts + spikes
        self.export.add(sample, t, self.counts)
