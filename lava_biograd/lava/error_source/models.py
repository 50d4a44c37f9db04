"""Floating-point and fixed-point ProcessModels of :class:`ErrorSource`."""

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_biograd.lava._model_support import CountExport, sample_clock
from lava_biograd.lava.error_source.process import ErrorSource
from lava_biograd.reference.error import error_current, error_neuron_step
from lava_biograd.reference.fixed.arithmetic import as_int
from lava_biograd.reference.fixed.dynamics import error_current_int, error_neuron_step_int


def _onehot(labels: np.ndarray, sample: int, n_classes: int) -> np.ndarray:
    """Return the one-hot row ``(1, n_classes)`` of ``labels[sample]``."""
    onehot = np.zeros((1, n_classes))
    onehot[0, labels[sample]] = 1.0
    return onehot


class _ErrorSourceBase(PyLoihiProcessModel):
    """Step logic shared by both models; they differ in the arithmetic of the error and the pair."""

    def __init__(self, proc_params):
        super().__init__(proc_params)
        p = proc_params
        self.spiking = p["output"] == "spikes"
        self.export = CountExport(p["export_path"], p["labels"].size, p["n_classes"], p["sample_steps"])

    def run_spk(self) -> None:
        p = self.proc_params
        sample, t = sample_clock(self.time_step, p["sample_steps"])
        if t == 0:
            self._reset()
        self._add_spikes(self.s_in.recv())
        active = t >= p["error_start"] and sample < p["labels"].size
        error = self._error(_onehot(p["labels"], sample, p["n_classes"])) if active else self._zero()
        self.e_out.send(self._pair_step(error) if self.spiking else error)
        self.export.add(sample, t, self._counts)


@implements(proc=ErrorSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyErrorSourceModelFloat(_ErrorSourceBase):
    """Float model: the reference model's :func:`error_current` and :func:`error_neuron_step`."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    e_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    counts: np.ndarray = LavaPyType(np.ndarray, float)
    u_pos: np.ndarray = LavaPyType(np.ndarray, float)
    u_neg: np.ndarray = LavaPyType(np.ndarray, float)
    z_pos: np.ndarray = LavaPyType(np.ndarray, float)
    z_neg: np.ndarray = LavaPyType(np.ndarray, float)

    def _reset(self) -> None:
        n = self.proc_params["n_classes"]
        self.counts = self._counts = np.zeros(n)
        if self.spiking:
            self.u_pos, self.u_neg, self.z_pos, self.z_neg = (np.zeros(n) for _ in range(4))

    def _add_spikes(self, spikes) -> None:
        self.counts = self._counts = self._counts + spikes

    def _zero(self) -> np.ndarray:
        return np.zeros(self.proc_params["n_classes"])

    def _error(self, onehot) -> np.ndarray:
        return error_current(self._counts, onehot[0])

    def _pair_step(self, error) -> np.ndarray:
        self.u_pos, self.u_neg, self.z_pos, self.z_neg = error_neuron_step(
            self.u_pos, self.u_neg, self.z_pos, self.z_neg, error)
        return self.z_pos - self.z_neg


@implements(proc=ErrorSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyErrorSourceModelFixed(_ErrorSourceBase):
    """Fixed-point model: a host softmax in float64, quantised to an integer error current.

    ``counts``: exact integer output counts of the sample (int32). From ``t0`` on the error
    is ``e_t = floor((softmax(c_t) - y) error_scale + 1/2)``, an integer in
    ``[-error_scale, error_scale]`` (10-bit signed for the default 256), through
    :func:`~lava_biograd.reference.fixed.dynamics.error_current_int`. The softmax is the
    float computation of an embedded or host processor; only its quantised result
    enters the network. With ``output='spikes'`` the integer error pair of
    :func:`~lava_biograd.reference.fixed.dynamics.error_neuron_step_int` (24-bit ``u``,
    threshold ``error_scale``) turns it into spikes in {-1, 0, 1}.
    """

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=1)
    e_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    counts: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    u_pos: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    u_neg: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    z_pos: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    z_neg: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        if proc_params["fixed"] is None:
            raise ValueError("this ErrorSource has no fixed-point format; "
                             "build it with fixed=FixedPointFormat(...) to run it with select_tag='fixed_pt'")
        self.error_scale = proc_params["fixed"].error_scale

    def _reset(self) -> None:
        n = self.proc_params["n_classes"]
        self._counts = np.zeros(n, np.int64)
        self._state = tuple(np.zeros(n, np.int64) for _ in range(4))

    def _add_spikes(self, spikes) -> None:
        self._counts = self._counts + as_int(spikes)
        self.counts = self._counts.astype(np.int32)

    def _zero(self) -> np.ndarray:
        return np.zeros(self.proc_params["n_classes"], np.int32)

    def _error(self, onehot) -> np.ndarray:
        return error_current_int(self._counts[None], onehot, self.error_scale)[0].astype(np.int32)

    def _pair_step(self, error) -> np.ndarray:
        self._state = error_neuron_step_int(*self._state, as_int(error), self.error_scale)
        self.u_pos, self.u_neg, self.z_pos, self.z_neg = (a.astype(np.int32) for a in self._state)
        return (self._state[2] - self._state[3]).astype(np.int32)
