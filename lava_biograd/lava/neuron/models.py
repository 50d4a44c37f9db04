"""Floating-point and fixed-point ProcessModels of :class:`BioGradNeuron`."""

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_biograd.lava._model_support import SampleExport, sample_clock, write_npz_atomic
from lava_biograd.lava.neuron.process import BioGradNeuron
from lava_biograd.reference.fixed import dynamics as fixed_dynamics
from lava_biograd.reference.fixed.arithmetic import as_int
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


@implements(proc=BioGradNeuron, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyBioGradNeuronModelFixed(PyLoihiProcessModel):
    r"""Fixed-point model: a Loihi-style integer LIF soma with BioGrad's delayed multiplicative reset.

    Per step (:mod:`lava_biograd.reference.fixed.dynamics`; ``fixed`` is the layer's
    :class:`~lava_biograd.reference.fixed.quantisation.LayerFormat`, ``S = 2^scale_exp``):

    1. receive the integer current ``I_t`` on ``a_in`` (voltage units; the connection has
       already applied ``<< 6`` and added the bias);
    2. ``v_t = sat_24(decay_0(v_{t-1} (1 - s_{t-1}), dv) + I_t)``, ``s_t = 1[v_t > vth]``,
       ``sigma'_t = 1[|v_t - vth| < window]``; send ``s_t``;
    3. receive the error input on ``a_err`` and update ``d_t = sat_24(d_{t-1} + a_err)``;
       send ``[v_t, s_t, sigma'_t, d_t]`` on ``post_out``.

    ``v``, ``dendrite`` (and the ``post_out`` payload): 24-bit signed, saturating at
    ``+-(2^23 - 1)``, held in int32. ``s``, ``sd``: 0 or 1. ``dv = round(4096 (1 - alpha))``
    (12-bit unsigned) with the decay rounded toward zero as in Lava's bit-accurate LIF;
    ``vth = vth_mant << 6`` with ``vth_mant = round(theta S / 64)`` (17-bit unsigned);
    ``window = round(w S)``. The amplitude ``A`` of the pseudo-derivative is not applied
    here; it is part of the learning rate.

    Differences from Lava's bit-accurate ``LIF``:

    * There is no current state (``du = 4095``, full current decay), so ``u_t`` is the
      input of the step.
    * ``v_t`` is kept pre-reset for one step and zeroed at the next step, whereas Lava
      zeroes it in the spiking step. The spike trains are the same, and the trace can
      read the pre-reset voltage.
    * The bias is added by the connection, not by the neuron.
    """

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    a_err: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=1)
    post_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    v: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    s: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    sd: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    dendrite: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.layer = proc_params["fixed"]
        if self.layer is None:
            raise ValueError("this BioGradNeuron has no fixed-point format; "
                             "build it with fixed=LayerFormat(...) to run it with select_tag='fixed_pt'")
        self.sample_steps = proc_params["sample_steps"]
        self.record = proc_params["record"]
        self.export = SampleExport(proc_params["export_path"], proc_params["export_every"], proc_params["n_samples"])
        self.history = {"v": [], "s": [], "sd": [], "dendrite": []}

    def run_spk(self) -> None:
        sample, t = sample_clock(self.time_step, self.sample_steps)
        if t == 0:
            shape = self.proc_params["shape"]
            self._v = np.zeros(shape, np.int64)
            self._s = np.zeros(shape, np.int64)
            self._d = np.zeros(shape, np.int64)

        self._v, self._s = fixed_dynamics.soma_step(self._v, self._s, as_int(self.a_in.recv()), self.layer)
        sd = fixed_dynamics.pseudo_derivative(self._v, self.layer)
        self.s_out.send(self._s.astype(np.int32))

        self._d = fixed_dynamics.dendrite_step(self._d, as_int(self.a_err.recv()))
        self.post_out.send(np.stack([self._v, self._s, sd, self._d]).astype(np.int32))

        self.v, self.s, self.sd, self.dendrite = (a.astype(np.int32) for a in (self._v, self._s, sd, self._d))
        if self.record:
            for key, value in (("v", self._v), ("s", self._s), ("sd", sd), ("dendrite", self._d)):
                self.history[key].append(value.copy())
        if t == self.sample_steps - 1 and self.export.due(sample):
            arrays = {"v": self._v, "s": self._s, "sd": sd, "dendrite": self._d}
            if self.record:
                arrays.update({f"history_{k}": np.array(v) for k, v in self.history.items()})
            write_npz_atomic(self.export.path, **arrays)
