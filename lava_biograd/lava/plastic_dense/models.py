"""Floating-point and fixed-point ProcessModels of :class:`BioGradDense`."""

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_biograd.lava._model_support import SampleExport, sample_clock, write_npz_atomic
from lava_biograd.lava.plastic_dense.process import BioGradDense
from lava_biograd.reference.fixed.arithmetic import as_int
from lava_biograd.reference.fixed.dynamics import FixedTraces, synaptic_current
from lava_biograd.reference.fixed.learning import (
    clone_generator,
    generator_state_json,
    update_bias,
    update_weights,
)
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
            # E is zero in the columns whose presynaptic neuron never spiked in this sample.
            columns = self._traces.columns
            self._w[:, columns] -= self.lr * delta[:, None] * self._traces.e_active[0]
            self._b -= self.lr * delta * self._traces.g[0]
            self.weights = self._w.astype(float)
            self.bias = self._b.astype(float)
            if self.export.due(sample):
                arrays = {"weights": self._w, "bias": self._b}
                if self.proc_params["record"]:
                    arrays.update({f"history_{k}": np.array(v) for k, v in self.history.items()})
                write_npz_atomic(self.export.path, **arrays)


@implements(proc=BioGradDense, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyBioGradDenseModelFixed(PyLoihiProcessModel):
    r"""Fixed-point model: Loihi-style 8-bit dense synapses, integer traces and a stochastically rounded update.

    Per step of a sample (:mod:`lava_biograd.reference.fixed.dynamics`; ``fixed`` is the
    :class:`~lava_biograd.reference.fixed.learning.FixedDenseSpec`):

    1. send ``I_t = wrap_24(shift(W_mant x_{t-1}, weight_exp) << 6) + (bias_mant << bias_exp)``
       (zero presynaptic input at ``t = 0``), then receive ``x_t`` on ``s_in``;
    2. when learning: receive ``[v_t, s_t, sigma'_t, d_t]`` on ``post_in`` and advance the
       traces of ``x_{t-1}`` (:class:`~lava_biograd.reference.fixed.dynamics.FixedTraces`);
    3. at the last step of a sample: ``k <- clip(k + round_stoch(-lambda_W d E), -128, 127)``
       with ``W_mant = 2 k``, and ``bias_mant <- clip(bias_mant + round_stoch(-lambda_b d G),
       -4096, 4095)`` (:mod:`lava_biograd.reference.fixed.learning`), drawing the rounding
       from the spec's generator, weights first.

    Vars and state:

    * ``weights``: 8-bit signed mantissa, even values in [-256, 254] (Loihi mixed-sign
      weights), float value ``W_mant 2^(6 + weight_exp) / S``; int32.
    * ``bias``: 13-bit signed mantissa in [-4096, 4095], float value
      ``bias_mant 2^bias_exp / S``; int32. On Loihi the bias is a neuron register; it sits in
      the connection here because the connection learns it.
    * synaptic accumulator ``W_mant x``: exact integer sum. ``shift`` floors for a negative
      ``weight_exp`` as Lava's ``Dense`` does. After ``<< 6`` the value wraps at 24 bits as
      the current of Lava's LIF does.
    * presynaptic trace ``x1`` (``'presynaptic'``): 7-bit unsigned, saturating at 127,
      decay ``dv`` rounded half up, impulse ``trace_impulse`` per spike.
    * exact trace ``P`` (``'exact'``, not mappable to a learning engine): 7 bits plus
      sign, saturating. The reset factor ``S (1 - s) - v sigma'`` is exact, and the
      product is rounded half up after ``>> scale_exp``.
    * tags ``E`` (per synapse) and ``G`` (per neuron): 16-bit signed, saturating.
    * update products ``d E``: exact int64; learning rates as 15-bit mantissa and shift.

    Features not matched to hardware: the update runs in a Python model, not in a
    learning engine's microcode; the traces use deterministic round-half-up instead of
    Loihi's stochastic trace rounding; the 16-bit tag is wider than Loihi 1's 8-bit-plus-sign
    ``tag_1``.
    """

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=1)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    post_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    weights: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=8)
    bias: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=13)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        p = proc_params
        self.spec = p["fixed"]
        if self.spec is None:
            raise ValueError("this BioGradDense has no fixed-point settings; "
                             "build it with fixed=FixedDenseSpec(...) to run it with select_tag='fixed_pt'")
        self.n_out, self.n_in = p["shape"]
        self.lead = () if p["batch"] is None else (p["batch"],)
        self.sample_steps = p["sample_steps"]
        self.learning = p["learning"]
        self.rng = clone_generator(self.spec.rng) if self.learning else None
        self.trace_key = "x1" if self.spec.trace_approximation == "presynaptic" else "p"
        self.export = SampleExport(p["export_path"], p["export_every"], p["n_samples"])
        self.history = {"e": [], "g": [], self.trace_key: []}
        self._w = None

    def _start_sample(self) -> None:
        if self._w is None:  # first step: take the initial Var values
            self._w = as_int(self.weights).copy()
            self._b = as_int(self.bias).copy()
        self._pre = np.zeros((*self.lead, self.n_in), np.int64)
        if self.learning:
            self._traces = FixedTraces(1, self.n_out, self.n_in, self.spec.layer, self.spec.trace_approximation,
                                       self.spec.scale_exp)

    def run_spk(self) -> None:
        sample, t = sample_clock(self.time_step, self.sample_steps)
        if t == 0:
            self._start_sample()

        # Send the current of the spikes received one step ago, then receive this step's spikes.
        self.a_out.send(synaptic_current(self._pre @ self._w.T, self.spec.layer, self._b).astype(np.int32))
        pre = self._pre
        # Spikes (0/1) or sleep noise (-1/0/1) arrive as floats from a source or as int32 from a
        # neuron, in both cases exact integers.
        self._pre = as_int(self.s_in.recv())
        if not self.learning:
            return

        v, s, sd, dendrite = as_int(self.post_in.recv())
        traces = self._traces
        traces.step(pre[None], v[None], s[None], sd[None])
        if self.proc_params["record"]:
            self.history["e"].append(traces.e[0].copy())
            self.history["g"].append(traces.g[0].copy())
            self.history[self.trace_key].append(getattr(traces, self.trace_key)[0].copy())
        if t == self.sample_steps - 1:
            scale = self.spec.learning_scale
            self._w = update_weights(self._w, dendrite[:, None] * traces.e[0], scale.weight, 1, self.rng)
            self._b = update_bias(self._b, dendrite * traces.g[0], scale.bias, 1, self.rng)
            self.weights = self._w.astype(np.int32)
            self.bias = self._b.astype(np.int32)
            if self.export.due(sample):
                arrays = {"weights": self._w, "bias": self._b, "rng_state": np.array(generator_state_json(self.rng))}
                if self.proc_params["record"]:
                    arrays.update({f"history_{k}": np.array(v) for k, v in self.history.items()})
                write_npz_atomic(self.export.path, **arrays)
