"""Floating-point and fixed-point ProcessModels of :class:`ErrorNeuronPair`."""

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_biograd.lava._model_support import sample_clock
from lava_biograd.lava.error_neurons.process import ErrorNeuronPair
from lava_biograd.reference.error import error_neuron_step
from lava_biograd.reference.fixed.arithmetic import as_int
from lava_biograd.reference.fixed.dynamics import error_neuron_step_int


@implements(proc=ErrorNeuronPair, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyErrorNeuronPairModelFloat(PyLoihiProcessModel):
    """Float model: the reference model's :func:`error_neuron_step`."""

    e_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    z_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    u_pos: np.ndarray = LavaPyType(np.ndarray, float)
    u_neg: np.ndarray = LavaPyType(np.ndarray, float)
    z_pos: np.ndarray = LavaPyType(np.ndarray, float)
    z_neg: np.ndarray = LavaPyType(np.ndarray, float)

    def run_spk(self) -> None:
        _, t = sample_clock(self.time_step, self.proc_params["sample_steps"])
        if t == 0:
            n = self.proc_params["n"]
            self.u_pos, self.u_neg, self.z_pos, self.z_neg = (np.zeros(n) for _ in range(4))
        e = self.e_in.recv()
        self.u_pos, self.u_neg, self.z_pos, self.z_neg = error_neuron_step(
            self.u_pos, self.u_neg, self.z_pos, self.z_neg, e)
        self.z_out.send(self.z_pos - self.z_neg)


@implements(proc=ErrorNeuronPair, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyErrorNeuronPairModelFixed(PyLoihiProcessModel):
    """Fixed-point model: integer IF error neurons with threshold ``error_scale`` (1.0 of error).

    ``u_pos``, ``u_neg``: 24-bit signed, saturating at ``+-(2^23 - 1)`` (int32);
    ``z_pos``, ``z_neg``: 0 or 1. The reset subtracts ``error_scale`` one step after a
    spike (:func:`~lava_biograd.reference.fixed.dynamics.error_neuron_step_int`); the
    model sends ``z^+ - z^-`` in {-1, 0, 1}.
    """

    e_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    z_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=2)
    u_pos: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    u_neg: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    z_pos: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    z_neg: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        if proc_params["fixed"] is None:
            raise ValueError("this ErrorNeuronPair has no fixed-point format; "
                             "build it with fixed=FixedPointFormat(...) to run it with select_tag='fixed_pt'")
        self.error_scale = proc_params["fixed"].error_scale

    def run_spk(self) -> None:
        _, t = sample_clock(self.time_step, self.proc_params["sample_steps"])
        if t == 0:
            self._state = tuple(np.zeros(self.proc_params["n"], np.int64) for _ in range(4))
        self._state = error_neuron_step_int(*self._state, as_int(self.e_in.recv()), self.error_scale)
        self.u_pos, self.u_neg, self.z_pos, self.z_neg = (a.astype(np.int32) for a in self._state)
        self.z_out.send((self._state[2] - self._state[3]).astype(np.int32))
