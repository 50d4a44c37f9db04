"""Floating-point and fixed-point ProcessModels of :class:`OjaFeedback`."""

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_biograd.lava._model_support import write_npz_atomic
from lava_biograd.lava.oja_feedback.process import OjaFeedback
from lava_biograd.reference.fixed.arithmetic import as_int
from lava_biograd.reference.sleep import oja_update


@implements(proc=OjaFeedback, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyOjaFeedbackModelFloat(PyLoihiProcessModel):
    """Float model: the update is the reference model's :func:`oja_update`."""

    noise_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    weights: np.ndarray = LavaPyType(np.ndarray, float)

    def run_spk(self) -> None:
        sleep = self.proc_params["sleep"]
        dtype = np.dtype(self.proc_params["dtype"])
        t = self.time_step - 1
        if t == 0:
            self._h = 0
            self._c = 0
        self._h = self._h + self.noise_in.recv().astype(dtype)
        self._c = self._c + self.s_in.recv().astype(dtype)
        if t == sleep.n_steps - 1:
            b = np.asarray(self.weights, dtype=dtype)
            b = oja_update(b, self._h, self._c, sleep)
            self.weights = b.astype(float)
            if self.proc_params["export_path"] is not None:
                write_npz_atomic(self.proc_params["export_path"], weights=b)


@implements(proc=OjaFeedback, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyOjaFeedbackModelFixed(PyLoihiProcessModel):
    """Fixed-point model: integer counts, float64 Oja update of the float master ``B_l``.

    ``h`` (net noise count) and ``c`` (output count) are exact integers accumulated over
    the episode (int64). At the last step the model applies the reference model's
    :func:`~lava_biograd.reference.sleep.oja_update` in float64 to ``weights``, the float
    master copy of ``B_l``, and exports it; the host quantises it to 8-bit mantissas for
    the wake phase. The sleep-phase plasticity is therefore not a fixed-point rule: a
    chip would run it on an embedded processor or with a float learning engine.
    """

    noise_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=2)
    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=1)
    weights: np.ndarray = LavaPyType(np.ndarray, float)

    def run_spk(self) -> None:
        sleep = self.proc_params["sleep"]
        t = self.time_step - 1
        if t == 0:
            self._h = 0
            self._c = 0
        self._h = self._h + as_int(self.noise_in.recv())
        self._c = self._c + as_int(self.s_in.recv())
        if t == sleep.n_steps - 1:
            b = oja_update(np.asarray(self.weights, dtype=np.float64), self._h.astype(np.float64),
                           self._c.astype(np.float64), sleep)
            self.weights = b
            if self.proc_params["export_path"] is not None:
                write_npz_atomic(self.proc_params["export_path"], weights=b)
