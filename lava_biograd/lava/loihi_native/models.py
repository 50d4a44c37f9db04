"""Fixed-point ProcessModel of :class:`LoihiBioGradNeuron`."""

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_biograd.lava._model_support import sample_clock, write_npz_atomic
from lava_biograd.lava.loihi_native.process import LoihiBioGradNeuron
from lava_biograd.reference.fixed import dynamics as fixed_dynamics
from lava_biograd.reference.fixed.arithmetic import as_int, stochastic_divide, wrap_current
from lava_biograd.reference.fixed.quantisation import TRACE_MAX, VTH_SHIFT

_RECORD_KEYS = ("v", "s", "sd", "dendrite", "y1", "y2", "y3", "bap")


@implements(proc=LoihiBioGradNeuron, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt", "bit_approximate_loihi")
class PyLoihiBioGradNeuronModelFixed(PyLoihiProcessModel):
    """Integer soma, dendrite and 7-bit learning factors (see :class:`LoihiBioGradNeuron`).

    Unlike Lava 0.10's ``LearningLIF`` models, this model sends on ``s_out_bap`` and
    ``s_out_y1..3`` at every step, so a connected ``LearningDense`` receives its factors
    in every step instead of blocking.
    The port types are those of Lava's ``LearningNeuronModelFixed``.
    """

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    a_err: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=1)
    s_out_bap: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, bool, precision=1)
    s_out_y1: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=7)
    s_out_y2: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=7)
    s_out_y3: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=7)
    v: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    s: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    sd: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    dendrite: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.layer = proc_params["layer"]
        self.sample_steps = proc_params["sample_steps"]
        self.period = self.sample_steps + proc_params["gap_steps"]
        self.bias = np.left_shift(as_int(proc_params["bias_mant"]), self.layer.bias_exp)
        self.gain_mantissa = proc_params["gain_mantissa"]
        self.gain_denominator = 1 << proc_params["gain_shift"]
        self.sigma_unit = proc_params["sigma_unit"]
        self.reset_unit = proc_params["reset_unit"]
        self.rng = np.random.default_rng(proc_params["rng_seed"])
        self.n_samples = proc_params["n_samples"]
        self.record = proc_params["record"]
        self.export_path = proc_params["export_path"]
        self.history = {key: [] for key in _RECORD_KEYS}
        zeros = np.zeros(proc_params["shape"], np.int64)
        self._v, self._s, self._d = zeros.copy(), zeros.copy(), zeros.copy()

    def _error_factor(self, magnitude) -> np.ndarray:
        """Return ``sat_7(round_stoch(magnitude * g))`` for a non-negative integer dendrite part."""
        scaled = stochastic_divide(as_int(magnitude) * self.gain_mantissa, self.gain_denominator, self.rng)
        return np.minimum(scaled, TRACE_MAX)

    def run_spk(self) -> None:
        sample, t = sample_clock(self.time_step, self.period)
        zeros = np.zeros(self.proc_params["shape"], np.int64)
        if t == 0:
            self._v, self._s, self._d = zeros.copy(), zeros.copy(), zeros.copy()

        accumulated = as_int(self.a_in.recv())
        error_input = as_int(self.a_err.recv())
        sd, bap, y1, y2, y3 = zeros, zeros, zeros, zeros, zeros
        if t < self.sample_steps:
            current = wrap_current(np.left_shift(accumulated, VTH_SHIFT)) + self.bias
            self._v, self._s = fixed_dynamics.soma_step(self._v, self._s, current, self.layer)
            sd = fixed_dynamics.pseudo_derivative(self._v, self.layer)
            self._d = fixed_dynamics.dendrite_step(self._d, error_input)
            y3 = self.sigma_unit * sd
            if t == 0:
                y1 = np.full_like(zeros, self.reset_unit)
            spikes = self._s
        else:
            # Gap steps: the input of the last sample step is still in flight and is dropped.
            spikes = zeros
            if t == self.sample_steps:
                bap = np.ones_like(zeros)
                y2 = self._error_factor(np.maximum(self._d, 0))
                y3 = self._error_factor(np.maximum(-self._d, 0))

        self.s_out.send(spikes.astype(np.int32))
        self.s_out_bap.send(bap.astype(bool))
        self.s_out_y1.send(y1.astype(np.int32))
        self.s_out_y2.send(y2.astype(np.int32))
        self.s_out_y3.send(y3.astype(np.int32))

        self.v, self.s, self.sd, self.dendrite = (a.astype(np.int32) for a in (self._v, spikes, sd, self._d))
        if self.record:
            for key, value in zip(_RECORD_KEYS, (self._v, spikes, sd, self._d, y1, y2, y3, bap)):
                self.history[key].append(np.array(value, np.int64))
        if t == self.period - 1 and sample == self.n_samples - 1 and self.export_path is not None:
            arrays = {"dendrite": self._d}
            if self.record:
                arrays.update({f"history_{key}": np.array(value) for key, value in self.history.items()})
            write_npz_atomic(self.export_path, **arrays)
