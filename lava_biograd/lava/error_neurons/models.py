"""Floating-point ProcessModel of :class:`ErrorNeuronPair`."""

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
