"""Floating-point ProcessModel of :class:`BioGradDense`."""

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_biograd.lava._model_support import SampleExport, sample_clock, write_npz_atomic
from lava_biograd.lava.plastic_dense.process import BioGradDense
from lava_biograd.reference.traces import OnlineTraces


@implements(proc=BioGradDense, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyBioGradDenseModelFloat(PyLoihiProcessModel):
    """Float model: the traces are the reference model's per-synapse :class:`OnlineTraces`."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    post_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    weights: np.ndarray = LavaPyType(np.ndarray, float)
    bias: np.ndarray = LavaPyType(np.ndarray, float)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        p = proc_params
        self.dtype = np.dtype(p["dtype"])
        self.n_out, self.n_in = p["shape"]
        self.lead = () if p["batch"] is None else (p["batch"],)
        self.sample_steps = p["sample_steps"]
        self.learning = p["learning"]
        self.lr = self.dtype.type(p["lr"])
        self.n_error_steps = self.dtype.type(p["n_error_steps"])
        self.export = SampleExport(p["export_path"], p["export_every"], p["n_samples"])
        self.history = {"e": [], "g": []}
        self._w = None

    def _start_sample(self) -> None:
        if self._w is None:  # first step: take the initial Var values in the model's precision
            self._w = np.asarray(self.weights, dtype=self.dtype).copy()
            self._b = np.asarray(self.bias, dtype=self.dtype).copy()
        self._pre = np.zeros((*self.lead, self.n_in), self.dtype)
        if self.learning:
            self._traces = OnlineTraces(1, self.n_out, self.n_in, self.proc_params["vdecay"], self.dtype)

    def run_spk(self) -> None:
        sample, t = sample_clock(self.time_step, self.sample_steps)
        if t == 0:
            self._start_sample()

        # Send the current of the spikes received one step ago, then receive this step's spikes.
        self.a_out.send((self._pre @ self._w.T + self._b).astype(float))
        pre = self._pre
        self._pre = self.s_in.recv().astype(self.dtype)
        if not self.learning:
            return

        v, s, sd, dendrite = self.post_in.recv().astype(self.dtype)
        self._traces.step(pre[None], v[None], s[None], sd[None])
        if self.proc_params["record"]:
            self.history["e"].append(self._traces.e[0].copy())
            self.history["g"].append(self._traces.g[0].copy())
        if t == self.sample_steps - 1:
            delta = dendrite / self.n_error_steps
            self._w -= self.lr * delta[:, None] * self._traces.e[0]
            self._b -= self.lr * delta * self._traces.g[0]
            self.weights = self._w.astype(float)
            self.bias = self._b.astype(float)
            if self.export.due(sample):
                arrays = {"weights": self._w, "bias": self._b}
                if self.proc_params["record"]:
                    arrays.update({f"history_{k}": np.array(v) for k, v in self.history.items()})
                write_npz_atomic(self.export.path, **arrays)
