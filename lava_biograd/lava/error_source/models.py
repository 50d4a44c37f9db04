"""Floating-point and fixed-point ProcessModels of :class:`ErrorSource`."""

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
from lava_biograd.reference.fixed.arithmetic import as_int
from lava_biograd.reference.fixed.dynamics import error_current_int


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


@implements(proc=ErrorSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyErrorSourceModelFixed(PyLoihiProcessModel):
    """Fixed-point model: a host softmax in float64, quantised to an integer error current.

    ``counts``: exact integer output counts of the sample (int32). From ``t0`` on it sends
    ``e_t = floor((softmax(c_t) - y) error_scale + 1/2)``, an integer in
    ``[-error_scale, error_scale]`` (10-bit signed for the default 256), through
    :func:`~lava_biograd.reference.fixed.dynamics.error_current_int`. The softmax is the
    float computation of an embedded or host processor; only its quantised result
    enters the network.
    """

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=1)
    e_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    counts: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        if proc_params["fixed"] is None:
            raise ValueError("this ErrorSource has no fixed-point format; "
                             "build it with fixed=FixedPointFormat(...) to run it with select_tag='fixed_pt'")
        self.error_scale = proc_params["fixed"].error_scale

    def run_spk(self) -> None:
        p = self.proc_params
        sample, t = sample_clock(self.time_step, p["sample_steps"])
        if t == 0:
            self._counts = np.zeros(p["n_classes"], np.int64)
        self._counts = self._counts + as_int(self.s_in.recv())
        self.counts = self._counts.astype(np.int32)
        labels = p["labels"]
        if t >= p["error_start"] and sample < labels.size:
            onehot = np.zeros((1, p["n_classes"]))
            onehot[0, labels[sample]] = 1.0
            self.e_out.send(error_current_int(self._counts[None], onehot, self.error_scale)[0].astype(np.int32))
        else:
            self.e_out.send(np.zeros(p["n_classes"], np.int32))
