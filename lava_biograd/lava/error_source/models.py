"""Floating-point ProcessModel of :class:`ErrorSource`."""

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_biograd.lava._model_support import sample_clock
from lava_biograd.lava.error_source.process import ErrorSource
from lava_biograd.reference.error import error_current


@implements(proc=ErrorSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyErrorSourceModelFloat(PyLoihiProcessModel):
    """Float model: the error is the reference model's :func:`error_current`."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    e_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    counts: np.ndarray = LavaPyType(np.ndarray, float)

    def run_spk(self) -> None:
        p = self.proc_params
        sample, t = sample_clock(self.time_step, p["sample_steps"])
        if t == 0:
            self.counts = np.zeros(p["n_classes"])
        self.counts = self.counts + self.s_in.recv()
        labels = p["labels"]
        if t >= p["error_start"] and sample < labels.size:
            onehot = np.zeros(p["n_classes"])
            onehot[labels[sample]] = 1.0
            self.e_out.send(error_current(self.counts, onehot))
        else:
            self.e_out.send(np.zeros(p["n_classes"]))
