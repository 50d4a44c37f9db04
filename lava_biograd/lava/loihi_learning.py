r"""BioGrad's update on Lava's own learning engine: ``LearningDense`` with a ``Loihi3FLearningRule``.

One plastic layer becomes a ``lava.proc.dense.process.LearningDense`` (fixed-point model
``bit_approximate_loihi``/``fixed_pt``) whose post-synaptic factors come from a
:class:`~lava_biograd.lava.loihi_native.process.LoihiBioGradNeuron`. In expectation the
update is that of the fixed-point simulator (:mod:`lava_biograd.reference.fixed`) with
``trace_approximation='presynaptic'``:

.. math::

    E_{ij} = \sum_t \sigma'_{i,t}\, x1_{j,t}, \qquad
    \Delta k_{ij} = \mathrm{round}_{stoch}\Big(-\frac{\lambda_m}{2^{\lambda_s}}\, d_i E_{ij}\Big),
    \qquad \Delta W^{mant}_{ij} = 2\,\Delta k_{ij}

where ``d`` is the integer dendrite at the end of the sample and
``(lambda_m, lambda_s)`` the simulator's 15-bit learning-rate multiplier. The engine's
weight change has the same expected value ``-2 lambda d E`` and is rounded to steps of 1.

Mapping
-------
Time is cut into periods of ``T + gap_steps`` steps: the sample, then at least one
silent step whose first one is the update step. ``t_epoch = 1``.

==========  ==========================================  ===============================================
engine      value                                       role
==========  ==========================================  ===============================================
``x1``      ``sat_7(x1 e^{-1/tau} + impulse x_t)``      presynaptic trace: ``impulse = trace_impulse``,
                                                        ``tau = -1 / ln(alpha_eff)``, 7-bit unsigned
``y1``      ``32`` at the first step of a sample        tag reset
``y2``      ``e^+ = sat_7(round(max(d, 0) g))``         positive part of the error, update step only
``y3``      ``8 sigma'_t``; ``e^-`` at the update step  pseudo-derivative; negative part of the error
``y0``      back-propagating spike at the update step   gates the weight rule
``t``       ``E / 2^a`` (tag_1, 8 bits plus sign)       eligibility
==========  ==========================================  ===============================================

Rules (``a`` = :attr:`LoihiRuleMapping.tag_exp`, ``m 2^s`` = rule mantissa and exponent)::

    dt = 2^-a * u0 * x1 * y3 - u0 * t * y1
    dw = -m * 2^s * y0 * t * y2 + m * 2^s * y0 * t * y3

The signed error is split into two unsigned 7-bit factors and two products: ``y2``
carries ``max(d, 0)`` with a negative rule scale, and ``y3``, free at the update step,
carries ``max(-d, 0)`` with a positive one. The weight rule is gated by ``y0``, so the
``y3 = 8 sigma'`` of the sample steps never reaches it. The tag rule sees the same
``y3``: at the update step ``dw`` reads the tag before that step's ``dt``, which adds
``2^-a x1 e^-``, and the reset term ``-t y1`` removes the sum exactly at the next
sample's first step.

Scales. The engine right-shifts each product to its 15-bit accumulator by
``(sum of factor widths) + 4 - 15`` bits: 3 for ``x1 y3``, 5 for ``t y1`` and ``t y2``.
``sigma_unit = 8`` and ``reset_unit = 32`` make the first two shifts exact. The update
per unit of ``d E`` is ``m 2^(s - 5 - a) g`` weight units, with the neuron's error
gain ``g = gain_mantissa / 2^gain_shift``. :func:`map_learning_rate` takes ``m = 1``,
the smallest ``s`` in ``[-7, 8]`` with ``g * error_range <= 127``, and sets
``g = 2 lambda 2^(5 + a - s)``. That ``g`` is an exact integer ratio, so the expected
update equals the simulator's. ``a`` is the smallest shift with ``127 T / 2^a <= 255``,
so the tag cannot saturate within a sample.

What differs from the fixed-point simulator
-------------------------------------------
* **Pairing.** The engine adds a presynaptic spike to ``x1`` in the step it arrives,
  but ``Dense`` delivers its current one step later. ``sigma'_t`` is therefore paired
  with ``x1`` after the spike of step ``t``, whereas the simulator pairs it with ``x1``
  after the spike of step ``t-1`` (the train the soma has seen). The eligibility is that
  of the simulator applied to the undelayed train.
* **Trace continuity.** ``x1`` is not reset between samples. It decays through the gap
  steps, by ``alpha^(gap_steps + 1)`` before the next sample's first spike.
* **Rounding.** ``x1`` decays with stochastic rounding (the simulator rounds half up),
  the tag is rounded stochastically at every step, and the weight once per update. Lava
  draws one random number per step for all synapses of a connection. The weight and
  tag stream is seeded with the constant 2 in lava-nc 0.10.0 (``ConnVarRandom()``), and
  ``rng_seed`` seeds only the trace streams.
* **Tag width.** The tag keeps ``E / 2^a`` in 8 bits plus sign, rounded
  stochastically at every step. The simulator keeps ``E`` exactly in 16 bits.
* **Truncation.** The 5-bit right shift of the product ``m t e`` floors, so every
  nonzero update is biased by up to ``-2^s`` weight units (toward minus infinity).
* **y-factor decay.** ``Loihi3FLearningRule`` still decays each y value with
  ``tau = 65535``. In fixed point a y value ``y`` is decremented by one with probability
  ``y (1 - e^{-1/65535})``, so each y factor carries the expected factor
  ``e^{-1/65535}``. When ``y1 = 32`` drops to 31, up to ``t / 32`` of the tag survives
  the reset.
* **Weight width.** Learned weights move in steps of 1 in ``[-256, 255]``. The
  simulator keeps even mantissas (steps of 2 in ``[-256, 254]``), as Loihi's mixed-sign
  format does. Lava's ``LearningDense`` truncates to even values only before its first
  step.
* **Error factors.** ``e^+ , e^-`` saturate at 127, so ``|d| g`` above 127 is clipped.
* **Biases** are not learned: Lava's ``LearningDense`` has no bias, and the neuron
  keeps ``bias_mant`` fixed.

Speed: a 784x500 layer ran at about 20 steps/s, and reading its weights back through
``Var.get`` took about 8 s (lava-nc 0.10.0, 2-core CPU, one run of 63 steps). This path
is for small layers and checks, not for training.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lava_biograd.reference.fixed import FixedBioGradNetwork
from lava_biograd.reference.fixed.arithmetic import DECAY_UNITY
from lava_biograd.reference.fixed.quantisation import TRACE_MAX, LayerFormat
from lava_biograd.validation import check_array, check_float, check_int

TAG_MAX = 255
"""Largest value of Lava's fixed-point ``tag_1`` (8 bits plus sign, range ``[-257, 255]``)."""

SIGMA_UNIT = 8
"""``y3`` of ``sigma' = 1``: ``(x1 * 8 * m) >> 3 = m x1`` keeps the tag product exact."""

RESET_UNIT = 32
"""``y1`` at a sample's first step: ``(t * 32) >> 5 = t`` removes the tag exactly."""

WEIGHT_PRODUCT_SHIFT = 5
"""Right shift of ``m t y2`` to the 15-bit accumulator: widths 9 + 7 + 4 - 15."""

RULE_EXP_MIN, RULE_EXP_MAX = -7, 8
"""Exponent range of a rule's scale after Lava's normalisation."""

Y_DECAY_FACTOR = math.exp(-1.0 / 65535.0)
"""Expected factor on every y value of a ``Loihi3FLearningRule`` (its y traces decay with tau = 65535)."""


@dataclass(frozen=True)
class LoihiRuleMapping:
    """Integer settings of one plastic layer on Lava's learning engine (see the module docstring).

    Attributes
    ----------
    tag_exp : int
        ``a``: the tag contains ``E / 2^a``.
    rule_mantissa, rule_exp : int
        ``m`` (1..7) and ``s`` (-7..8) of the weight rule's scale ``m 2^s``.
    gain_mantissa, gain_shift : int
        Error gain ``g = gain_mantissa / 2^gain_shift`` of the neuron.
    trace_impulse : int
        ``x1`` increment of one presynaptic spike (1..127).
    trace_tau : float
        ``x1`` decay constant: ``x1`` is multiplied by ``exp(-1 / trace_tau)`` per step.
    """

    tag_exp: int
    rule_mantissa: int
    rule_exp: int
    gain_mantissa: int
    gain_shift: int
    trace_impulse: int
    trace_tau: float

    def __post_init__(self):
        check_int("tag_exp", self.tag_exp, minimum=0, maximum=-RULE_EXP_MIN)
        check_int("rule_mantissa", self.rule_mantissa, minimum=1, maximum=7)
        check_int("rule_exp", self.rule_exp, minimum=RULE_EXP_MIN, maximum=RULE_EXP_MAX)
        check_int("gain_mantissa", self.gain_mantissa, minimum=1, maximum=1 << 30)
        check_int("gain_shift", self.gain_shift, minimum=0, maximum=62)
        check_int("trace_impulse", self.trace_impulse, minimum=1, maximum=TRACE_MAX)
        check_float("trace_tau", self.trace_tau, minimum=0.0, min_open=True)

    @property
    def error_gain(self) -> float:
        """``g``, the error factor per unit of dendrite."""
        return self.gain_mantissa / 2.0 ** self.gain_shift

    @property
    def update_scale(self) -> float:
        """Expected weight change (mantissa units) per unit of ``d E``, before the y-decay factors."""
        return self.rule_mantissa * 2.0 ** (self.rule_exp - WEIGHT_PRODUCT_SHIFT - self.tag_exp) * self.error_gain

    @property
    def tag_rule(self) -> str:
        """The ``dt`` rule string."""
        return f"2^-{self.tag_exp} * u0 * x1 * y3 - u0 * t * y1"

    @property
    def weight_rule(self) -> str:
        """The ``dw`` rule string."""
        scale = f"{self.rule_mantissa} * 2^{self.rule_exp}"
        return f"-{scale} * y0 * t * y2 + {scale} * y0 * t * y3"

    def learning_rule(self, rng_seed: int = 0):
        """Return the ``Loihi3FLearningRule`` (``t_epoch = 1``); ``rng_seed`` seeds its trace rounding."""
        from lava.magma.core.learning.learning_rule import Loihi3FLearningRule

        return Loihi3FLearningRule(dw=self.weight_rule, dt=self.tag_rule, x1_impulse=float(self.trace_impulse),
                                   x1_tau=float(self.trace_tau), t_epoch=1,
                                   rng_seed=check_int("rng_seed", rng_seed, minimum=0))


def trace_tau(layer: LayerFormat) -> float:
    """Return ``tau = -1 / ln(alpha_eff)`` with ``alpha_eff = (4096 - dv) / 4096``, the ``x1`` decay of the layer.

    NOTE: Lava's simulator accepts any positive ``tau``. Loihi's trace decay register is
    an integer, so on the chip a decay faster than ``exp(-1) = 0.37`` (such as
    ``alpha = 0.3``) would need another encoding.
    """
    if not isinstance(layer, LayerFormat):
        raise TypeError(f"layer must be a LayerFormat, got {type(layer).__name__}")
    if layer.decay == 0:
        raise ValueError("layer decay dv=0 means alpha = 1 (no leak), which a trace decay constant cannot "
                         "express; use a leaky layer (vdecay < 1)")
    return -1.0 / math.log((DECAY_UNITY - layer.decay) / DECAY_UNITY)


def map_learning_rate(multiplier, layer: LayerFormat, n_steps: int, error_range: int) -> LoihiRuleMapping:
    """Return the engine settings that realise the simulator's update ``-lambda d E`` of one layer.

    Parameters
    ----------
    multiplier : tuple of int
        ``(mantissa, shift)`` with ``lambda = mantissa / 2^shift`` in weight steps
        ``k = W_mant / 2``, e.g. ``fixed.learning_scales(lr)[index].weight``.
    layer : LayerFormat
        Format of the layer (trace impulse and decay).
    n_steps : int
        Steps ``T`` per sample (1..257); sets the tag shift ``a``.
    error_range : int
        Largest ``|d|`` to represent without clipping the 7-bit error factors.

    Raises
    ------
    ValueError
        The learning rate is too large: even ``s = 8`` needs ``g * error_range > 127``.
    """
    if not isinstance(multiplier, tuple) or len(multiplier) != 2:
        raise TypeError(f"multiplier must be a (mantissa, shift) tuple, got {multiplier!r}")
    mantissa = check_int("multiplier mantissa", multiplier[0], minimum=1, maximum=1 << 15)
    shift = check_int("multiplier shift", multiplier[1], minimum=-64, maximum=64)
    n_steps = check_int("n_steps", n_steps, minimum=1, maximum=TAG_MAX * (1 << -RULE_EXP_MIN) // TRACE_MAX)
    error_range = check_int("error_range", error_range, minimum=1)
    tag_exp = max(0, math.ceil(math.log2(TRACE_MAX * n_steps / TAG_MAX)))
    target = 2.0 * mantissa / 2.0 ** shift
    for rule_exp in range(RULE_EXP_MIN, RULE_EXP_MAX + 1):
        gain_shift = shift - WEIGHT_PRODUCT_SHIFT - tag_exp + rule_exp
        gain_mantissa = 2 * mantissa
        if gain_shift < 0:
            gain_mantissa <<= -gain_shift
            gain_shift = 0
        if gain_mantissa * error_range <= TRACE_MAX * (1 << gain_shift):
            break
    else:
        raise ValueError(
            f"the update lambda = {target / 2:.3g} per unit d*E needs an error gain above 127/{error_range} even "
            f"with the largest rule scale 2^{RULE_EXP_MAX}; lower the learning rate or error_range")
    if gain_mantissa > 1 << 30:
        raise ValueError(f"the error gain mantissa {gain_mantissa} exceeds 2^30; lower the learning rate")
    return LoihiRuleMapping(tag_exp=tag_exp, rule_mantissa=1, rule_exp=rule_exp, gain_mantissa=gain_mantissa,
                            gain_shift=gain_shift, trace_impulse=layer.trace_impulse, trace_tau=trace_tau(layer))


def dendrite_bound(fixed: FixedBioGradNetwork, index: int) -> int:
    """Return the largest ``|d|`` layer ``index`` can reach: ``K`` (output) or ``K max_i sum_k |B_mant[i, k]|``."""
    if not isinstance(fixed, FixedBioGradNetwork):
        raise TypeError(f"fixed must be a FixedBioGradNetwork, got {type(fixed).__name__}")
    index = check_int("layer index", index, minimum=0, maximum=fixed.config.n_layers - 1)
    n_error_steps = fixed.config.n_error_steps
    if index == fixed.config.n_layers - 1:
        return max(1, n_error_steps)
    row_sums = np.abs(fixed.feedback_mant[index]).sum(axis=1)
    return max(1, int(n_error_steps * row_sums.max(initial=0)))


def map_layer(fixed: FixedBioGradNetwork, index: int, lr: float, error_range: int | None = None) -> LoihiRuleMapping:
    """Return the engine settings of layer ``index`` of ``fixed`` for the per-sample learning rate ``lr``.

    ``error_range`` defaults to :func:`dendrite_bound`, which never clips but is loose for
    hidden layers; a smaller value gives the error factors more resolution.
    """
    if not isinstance(fixed, FixedBioGradNetwork):
        raise TypeError(f"fixed must be a FixedBioGradNetwork, got {type(fixed).__name__}")
    if fixed.fmt.trace_approximation != "presynaptic":
        raise ValueError("only trace_approximation='presynaptic' maps onto the learning engine; the exact trace P "
                         "is per synapse and not separable")
    index = check_int("layer index", index, minimum=0, maximum=fixed.config.n_layers - 1)
    if error_range is None:
        error_range = dendrite_bound(fixed, index)
    multiplier = fixed.learning_scales(lr)[index].weight
    return map_learning_rate(multiplier, fixed.fmt.layers[index], fixed.config.n_steps, error_range)


# --------------------------------------------------------------------------- graph
@dataclass
class LoihiLayerRun:
    """Outcome of :func:`run_loihi_layer`.

    Attributes
    ----------
    weights : ndarray of int64, shape (n_out, n_in)
        ``LearningDense`` weights after the last sample.
    weight_history : ndarray of int64, shape (n_samples + 1, n_out, n_in) or None
        Weights before the first sample and after every sample (``read_every_sample``).
    tag_history : ndarray of int64, shape (n_samples, n_out, n_in) or None
        Tags after the last sample step of every sample, before the update step.
    records : dict or None
        Neuron states and factors of every step (``record=True``), keys ``v, s, sd,
        dendrite, y1, y2, y3, bap``, each of shape ``(n_samples * period, n_out)``.
    seconds : float
        Wall-clock time of build, compile, run and read-back.
    """

    weights: np.ndarray
    weight_history: np.ndarray | None
    tag_history: np.ndarray | None
    records: dict | None
    seconds: float


def _period_stream(data, period: int) -> np.ndarray:
    """Return ``(n, n_samples * period)`` from ``(n_samples, T, n)``, with zeros in the gap steps."""
    n_samples, n_steps, width = data.shape
    stream = np.zeros((n_samples, period, width), np.int64)
    stream[:, :n_steps] = data
    return stream.reshape(n_samples * period, width).T


def run_loihi_layer(weights, layer: LayerFormat, mapping: LoihiRuleMapping, inputs, errors, *, bias_mant=None,
                    currents=None, gap_steps: int = 1, rng_seed: int = 0, read_every_sample: bool = False,
                    record: bool = False, timeout_s: float = 120.0) -> LoihiLayerRun:
    """Train one layer on Lava's learning engine with given input spikes and error input.

    Graph (``fixed_pt``): ``RingBuffer(inputs) -> LearningDense -> LoihiBioGradNeuron``,
    ``RingBuffer(errors) -> a_err``, and the neuron's ``bap``/``y1..y3`` back to the
    ``LearningDense``. With ``currents`` the soma is driven open loop by
    ``RingBuffer(currents) -> a_in`` instead, so ``sigma'`` does not depend on the
    learned weights, and the ``LearningDense`` output is left unconnected.

    Parameters
    ----------
    weights : ndarray of int, shape (n_out, n_in)
        Even 8-bit mantissas in ``[-256, 254]``.
    layer : LayerFormat
    mapping : LoihiRuleMapping
    inputs : ndarray of shape (n_samples, T, n_in)
        Presynaptic spikes (0 or 1).
    errors : ndarray of int, shape (n_samples, T, n_out)
        Error input of the dendrites per step (``B_mant (z^+ - z^-)`` in the network).
    bias_mant : ndarray of int, shape (n_out,), optional
    currents : ndarray of int, shape (n_samples, T, n_out), optional
        Open-loop ``a_in`` (accumulated input after the ``weight_exp`` shift).
    gap_steps : int, default=1
        Silent steps after every sample; the first one is the update step.
    rng_seed : int, default=0
        Seed of the engine's trace rounding and of the neuron's error rounding.
    read_every_sample : bool, default=False
        Read weights and tags after every sample (``Var.get``: small layers only).
    record : bool, default=False
        Return the neuron's per-step states and factors.
    timeout_s : float, default=120
        Limit of every blocking Lava call (see :class:`~lava_biograd.lava.runner.LavaSession`).
    """
    from lava.proc.dense.process import LearningDense
    from lava.proc.io.source import RingBuffer

    from lava_biograd.lava.hardware import make_run_config
    from lava_biograd.lava.loihi_native.process import LoihiBioGradNeuron
    from lava_biograd.lava.runner import LavaSession

    if not isinstance(layer, LayerFormat):
        raise TypeError(f"layer must be a LayerFormat, got {type(layer).__name__}")
    if not isinstance(mapping, LoihiRuleMapping):
        raise TypeError(f"mapping must be a LoihiRuleMapping, got {type(mapping).__name__}; use map_layer")
    weights = check_array("weights", weights, ndim=2)
    if weights.size == 0:
        raise ValueError(f"weights must have at least one row and column, got shape {weights.shape}")
    if not np.issubdtype(weights.dtype, np.integer) or np.any(weights % 2) or weights.min() < -256 \
            or weights.max() > 254:
        raise ValueError(f"weights must be even integer mantissas in [-256, 254], got dtype {weights.dtype} and "
                         f"values in [{weights.min()}, {weights.max()}]; use quantise_weights")
    n_out, n_in = weights.shape
    inputs = check_array("inputs", inputs, ndim=3)
    if inputs.shape[2] != n_in or inputs.shape[0] == 0:
        raise ValueError(f"inputs must have shape (n_samples >= 1, T, n_in={n_in}), got {inputs.shape}")
    if not np.all((inputs == 0) | (inputs == 1)):
        raise ValueError("inputs must contain only 0 and 1")
    n_samples, n_steps, _ = inputs.shape
    errors = check_array("errors", errors, shape=(n_samples, n_steps, n_out))
    if not np.issubdtype(errors.dtype, np.integer):
        raise TypeError(f"errors must contain integers, got dtype {errors.dtype}")
    if currents is not None:
        currents = check_array("currents", currents, shape=(n_samples, n_steps, n_out))
        if not np.issubdtype(currents.dtype, np.integer):
            raise TypeError(f"currents must contain integers, got dtype {currents.dtype}")
    gap_steps = check_int("gap_steps", gap_steps, minimum=1)
    period = n_steps + gap_steps
    timeout_s = check_float("timeout_s", timeout_s, minimum=0.0, min_open=True)
    start = time.perf_counter()

    workdir = tempfile.TemporaryDirectory(prefix="lava_biograd_loihi_")
    export_path = str(Path(workdir.name) / "neuron.npz")
    source = RingBuffer(data=_period_stream(inputs, period))
    error_source = RingBuffer(data=_period_stream(errors, period))
    dense = LearningDense(weights=np.asarray(weights, np.int64), learning_rule=mapping.learning_rule(rng_seed),
                          weight_exp=layer.weight_exp, name="learning_dense")
    neuron = LoihiBioGradNeuron(
        shape=(n_out,), layer=layer, sample_steps=n_steps, gap_steps=gap_steps, bias_mant=bias_mant,
        gain_mantissa=mapping.gain_mantissa, gain_shift=mapping.gain_shift, sigma_unit=SIGMA_UNIT,
        reset_unit=RESET_UNIT, rng_seed=rng_seed, n_samples=n_samples, record=record, export_path=export_path,
        name="loihi_neuron")
    source.s_out.connect(dense.s_in)
    if currents is None:
        dense.a_out.connect(neuron.a_in)
    else:
        RingBuffer(data=_period_stream(currents, period)).s_out.connect(neuron.a_in)
    error_source.s_out.connect(neuron.a_err)
    neuron.s_out_bap.connect(dense.s_in_bap)
    neuron.s_out_y1.connect(dense.s_in_y1)
    neuron.s_out_y2.connect(dense.s_in_y2)
    neuron.s_out_y3.connect(dense.s_in_y3)

    weight_history, tag_history = None, None
    try:
        with LavaSession(source, make_run_config("sim-fixed"), timeout_s=timeout_s) as session:
            if read_every_sample:
                weight_history = [np.asarray(weights, np.int64)]
                tag_history = []
                for _ in range(n_samples):
                    session.run(n_steps)
                    tag_history.append(np.rint(session.get(dense.tag_1)).astype(np.int64))
                    session.run(gap_steps)
                    weight_history.append(np.rint(session.get(dense.weights)).astype(np.int64))
                final = weight_history[-1]
                weight_history, tag_history = np.array(weight_history), np.array(tag_history)
            else:
                session.run(n_samples * period)
                final = np.rint(session.get(dense.weights)).astype(np.int64)
        records = None
        if record:
            with np.load(export_path) as data:
                records = {key[len("history_"):]: data[key] for key in data.files if key.startswith("history_")}
    finally:
        workdir.cleanup()
    return LoihiLayerRun(weights=final, weight_history=weight_history, tag_history=tag_history, records=records,
                         seconds=time.perf_counter() - start)
