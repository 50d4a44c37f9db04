"""Floating-point ProcessModel of :class:`SpikeCounter`."""

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_biograd.lava._model_support import sample_clock, write_npz_atomic
from lava_biograd.lava.counter.process import SpikeCounter


@implements(proc=SpikeCounter, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt", "fixed_pt")
class PySpikeCounterModel(PyLoihiProcessModel):
    """Accumulate counts per sample; write all of them after the last sample."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    counts: np.ndarray = LavaPyType(np.ndarray, float)

    def run_spk(self) -> None:
        p = self.proc_params
        sample, t = sample_clock(self.time_step, p["sample_steps"])
        spikes = self.s_in.recv()
        if sample >= p["n_samples"]:
            return
        if self.time_step == 1:
            self._all = np.zeros((p["n_samples"], p["n"]))
        if t == 0:
            self.counts = np.zeros(p["n"])
        self.counts = self.counts + spikes
        self._all[sample] = self.counts
        if t == p["sample_steps"] - 1 and sample == p["n_samples"] - 1 and p["export_path"] is not None:
            write_npz_atomic(p["export_path"], counts=self._all)
