"""Floating-point and fixed-point ProcessModels of :class:`FeedbackDense`."""

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_biograd.lava.feedback.process import FeedbackDense
from lava_biograd.reference.fixed.arithmetic import as_int


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


@implements(proc=FeedbackDense, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyFeedbackDenseModelFixed(PyLoihiProcessModel):
    """Fixed-point model: ``a_out = B_mant z`` in integers, without delay.

    ``weights``: the 8-bit mantissas ``B_mant``, even values in [-256, 254] (int32), of the
    quantised feedback ``B ~ B_mant 2^feedback_exp``. The shared exponent is not applied
    here: the dendrites accumulate mantissa units and the exponent is part of the
    layer's learning rate (:func:`~lava_biograd.reference.fixed.quantisation.quantise_feedback`).
    ``a_out`` is exact (at most ``256 n_out`` in magnitude).
    """

    z_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=2)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    weights: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=8)

    def run_spk(self) -> None:
        self.a_out.send((as_int(self.weights) @ as_int(self.z_in.recv())).astype(np.int32))
