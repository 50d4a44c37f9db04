"""Floating-point ProcessModel of :class:`BioGradNeuron`."""

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_biograd.lava._model_support import SampleExport, sample_clock, write_npz_atomic
from lava_biograd.lava.neuron.process import BioGradNeuron
from lava_biograd.reference.neuron import lif_step, pseudo_derivative


@implements(proc=BioGradNeuron, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyBioGradNeuronModelFloat(PyLoihiProcessModel):
    """Float model: the soma and pseudo-derivative are the reference model's step functions."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_err: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    post_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    v: np.ndarray = LavaPyType(np.ndarray, float)
    s: np.ndarray = LavaPyType(np.ndarray, float)
    sd: np.ndarray = LavaPyType(np.ndarray, float)
    dendrite: np.ndarray = LavaPyType(np.ndarray, float)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.neuron = proc_params["neuron"]
        self.sample_steps = proc_params["sample_steps"]
        self.dtype = np.dtype(proc_params["dtype"])
        self.record = proc_params["record"]
        self.export = SampleExport(proc_params["export_path"], proc_params["export_every"], proc_params["n_samples"])
        self.history = {"v": [], "s": [], "sd": [], "dendrite": []}

    def run_spk(self) -> None:
        sample, t = sample_clock(self.time_step, self.sample_steps)
        shape = self.proc_params["shape"]
        if t == 0:
            self._v = np.zeros(shape, self.dtype)
            self._s = np.zeros(shape, self.dtype)
            self._d = np.zeros(shape, self.dtype)

        current = self.a_in.recv().astype(self.dtype)
        self._v, self._s = lif_step(self._v, self._s, current, self.neuron)
        sd = pseudo_derivative(self._v, self.neuron)
        self.s_out.send(self._s.astype(float))

        self._d = self._d + self.a_err.recv().astype(self.dtype)
        self.post_out.send(np.stack([self._v, self._s, sd, self._d]).astype(float))

        self.v, self.s, self.sd, self.dendrite = (a.astype(float) for a in (self._v, self._s, sd, self._d))
        if self.record:
            for key, value in (("v", self._v), ("s", self._s), ("sd", sd), ("dendrite", self._d)):
                self.history[key].append(value.copy())
        if t == self.sample_steps - 1 and self.export.due(sample):
            arrays = {"v": self._v, "s": self._s, "sd": sd, "dendrite": self._d}
            if self.record:
                arrays.update({f"history_{k}": np.array(v) for k, v in self.history.items()})
            write_npz_atomic(self.export.path, **arrays)
