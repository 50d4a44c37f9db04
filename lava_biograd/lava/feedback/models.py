"""Floating-point ProcessModel of :class:`FeedbackDense`."""

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_biograd.lava.feedback.process import FeedbackDense


@implements(proc=FeedbackDense, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyFeedbackDenseModelFloat(PyLoihiProcessModel):
    """Float model of the feedback matrix product."""

    z_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    weights: np.ndarray = LavaPyType(np.ndarray, float)

    def run_spk(self) -> None:
        self.a_out.send(self.weights @ self.z_in.recv())
