r"""Fixed-point format of the BioGrad network and the float-to-integer converter.

One voltage scale ``S = 2^scale_exp`` (the integer value of a voltage of 1.0) is shared by
all layers. Per layer ``l`` the format stores:

==================  ======================  ==================================================================
field               width                   meaning (float value = integer / scale)
==================  ======================  ==================================================================
``decay``           12-bit unsigned         ``dv = round(4096 (1 - alpha))``; ``alpha_eff = (4096 - dv) / 4096``
``vth_mant``        17-bit unsigned         threshold ``vth = vth_mant << 6``, ``theta_eff = vth / S``
``window``          24-bit unsigned         ``sigma' = 1[|v - vth| < window]``, ``w_eff = window / S``
``weight_exp``      4-bit signed [-8, 7]    ``W = W_mant 2^(6 + weight_exp) / S``, ``W_mant`` even in [-256, 254]
``bias_exp``        3-bit unsigned [0, 7]   ``b = bias_mant 2^bias_exp / S``, ``bias_mant`` 13-bit signed
``trace_impulse``   7-bit unsigned          integer value of one presynaptic spike in the traces
==================  ======================  ==================================================================

Weights are Loihi mixed-sign 8-bit mantissas: only even values in ``[-256, 254]``. The
converter keeps ``W_mant = 2 k`` with ``k`` an 8-bit signed integer, which is also the
quantity the learning rule updates. ``[-8, 7]`` is the signed 4-bit weight exponent of
Loihi 1 synapse formats; Lava 0.10's ``Dense`` does not check it.

All float-to-integer conversions round half up (``floor(x + 0.5)``) and then saturate.

**Choice of ``S``.** ``S`` is the largest power of two that satisfies three bounds:

* ``voltage_range * S <= 2^23 - 1``, so voltages up to ``voltage_range`` are represented
  without saturation (default ``max(16, 32 theta_max)``, about 50 thresholds of 0.3);
* ``weight_headroom * max|W_l| * S <= 254 * 2^13`` for every layer, so the weights fit
  with the largest exponent ``weight_exp = 7``;
* ``bias_headroom * max|b_l| * S <= 4095 * 2^7``, so the biases fit with ``bias_exp = 7``.

For the MNIST defaults (``theta = 0.3``, weights below 0.05) the first bound decides:
``S = 2^18`` and the threshold mantissa is 1229 (10 significant bits). A power of two
makes every float value of an integer exact (a dyadic rational), so converting back
and forth loses nothing beyond the first rounding.

**Choice of the exponents.** ``weight_exp`` is the smallest exponent whose range
``254 * 2^(6 + weight_exp) / S`` covers ``weight_headroom * max|W_l|``: the initial weights
can grow by that factor before they saturate. ``bias_exp`` likewise covers
``bias_headroom * max|b_l|`` with ``4095 * 2^bias_exp / S``.

**Restricted exponents.** ``choose_format(..., weight_exp_bounds=(lo, hi), bias_exp=e)``
limits every ``weight_exp`` to ``[lo, hi]`` and fixes every ``bias_exp`` to ``e``. The
bounds on ``S`` above then use ``hi`` and ``e`` in place of 7. lava-dl's netx format has
no weight exponent and a fixed bias exponent of 6, so
``weight_exp_bounds=(-1, 0), bias_exp=6`` gives networks that
:func:`lava_biograd.export.netx.export_netx` writes with exactly their integers, unless
all weights of a layer are zero or share one sign.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lava_biograd.reference.fixed.arithmetic import DECAY_UNITY, STATE_MAX, round_half_up
from lava_biograd.reference.params import NetworkConfig, NeuronParams
from lava_biograd.validation import check_choice, check_float, check_int

VTH_SHIFT = 6
"""Loihi left-shifts the threshold mantissa (and the synaptic input) by 6 bits."""

VTH_MANT_MAX = (1 << 17) - 1
WEIGHT_EXP_MIN, WEIGHT_EXP_MAX = -8, 7
BIAS_EXP_MIN, BIAS_EXP_MAX = 0, 7
BIAS_MANT_MIN, BIAS_MANT_MAX = -(1 << 12), (1 << 12) - 1
WEIGHT_STEP_MIN, WEIGHT_STEP_MAX = -128, 127
"""Range of ``k = W_mant / 2``; mixed-sign Loihi weights drop the mantissa's lowest bit."""

TRACE_MAX = 127
"""Traces are 7-bit unsigned (presynaptic) or 7 bits plus sign (exact ``P``)."""

TAG_BITS = 16
"""Width of the signed per-synapse tags ``E`` and the bias tags ``G``."""

TAG_MAX = (1 << (TAG_BITS - 1)) - 1

TRACE_APPROXIMATIONS = ("presynaptic", "exact")


@dataclass(frozen=True)
class LayerFormat:
    """Integer parameters of one weight layer and its postsynaptic neurons.

    See the module docstring for the width and meaning of every field.
    """

    decay: int
    vth_mant: int
    window: int
    weight_exp: int
    bias_exp: int
    trace_impulse: int
    grad_amp: float = 1.0

    def __post_init__(self):
        check_int("decay (dv)", self.decay, minimum=0, maximum=DECAY_UNITY - 1)
        check_int("vth_mant", self.vth_mant, minimum=1, maximum=VTH_MANT_MAX)
        check_int("window", self.window, minimum=1, maximum=STATE_MAX)
        check_int("weight_exp", self.weight_exp, minimum=WEIGHT_EXP_MIN, maximum=WEIGHT_EXP_MAX)
        check_int("bias_exp", self.bias_exp, minimum=BIAS_EXP_MIN, maximum=BIAS_EXP_MAX)
        check_int("trace_impulse", self.trace_impulse, minimum=1, maximum=TRACE_MAX)
        check_float("grad_amp", self.grad_amp, minimum=0.0, min_open=True)

    @property
    def vth(self) -> int:
        """Threshold ``vth_mant << 6`` in voltage units."""
        return self.vth_mant << VTH_SHIFT

    def effective_neuron(self, scale_exp: int) -> NeuronParams:
        """Return the float neuron parameters this format realises: ``alpha_eff, theta_eff, w_eff``."""
        scale = float(1 << scale_exp)
        return NeuronParams(vdecay=(DECAY_UNITY - self.decay) / DECAY_UNITY, vth=self.vth / scale,
                            grad_win=self.window / scale, grad_amp=self.grad_amp)


@dataclass(frozen=True)
class FixedPointFormat:
    """Fixed-point format of a whole network.

    Parameters
    ----------
    scale_exp : int
        Voltage scale ``S = 2^scale_exp``: the integer value of a voltage of 1.0.
    layers : tuple of LayerFormat
        One per weight layer, hidden layers first.
    error_scale : int, default=256
        Integer value of an error current of 1.0, and the threshold of the error neurons.
    trace_approximation : {'presynaptic', 'exact'}, default='presynaptic'
        ``'presynaptic'``: per-presynaptic-neuron trace ``x1`` (mappable to a learning
        engine); ``'exact'``: the non-separable per-synapse trace ``P`` in integers.
    """

    scale_exp: int
    layers: tuple
    error_scale: int = 256
    trace_approximation: str = "presynaptic"

    def __post_init__(self):
        check_int("scale_exp", self.scale_exp, minimum=VTH_SHIFT, maximum=30)
        layers = tuple(self.layers)
        if not layers or not all(isinstance(layer, LayerFormat) for layer in layers):
            raise TypeError("layers must be a non-empty sequence of LayerFormat records")
        object.__setattr__(self, "layers", layers)
        check_int("error_scale", self.error_scale, minimum=1, maximum=1 << 16)
        check_choice("trace_approximation", self.trace_approximation, TRACE_APPROXIMATIONS)

    @property
    def scale(self) -> int:
        """``S``, the integer value of a voltage of 1.0."""
        return 1 << self.scale_exp

    def effective_neurons(self) -> tuple:
        """Return the float neuron parameters realised by every layer."""
        return tuple(layer.effective_neuron(self.scale_exp) for layer in self.layers)


# --------------------------------------------------------------------------- converter
def _exponent_covering(magnitude: float, unit: float, lo: int, hi: int, name: str, fix: str) -> int:
    """Return the smallest ``e`` in ``[lo, hi]`` with ``unit * 2^e >= magnitude``."""
    if magnitude <= 0:
        return max(lo, 0) if lo <= 0 <= hi else lo
    exponent = max(lo, math.ceil(math.log2(magnitude / unit)))
    if unit * 2.0 ** exponent < magnitude:  # guard against log2 rounding
        exponent += 1
    if exponent > hi:
        raise ValueError(f"{name} would need exponent {exponent} > {hi} to hold {magnitude:.4g}; {fix}")
    return exponent


def _check_exponent_bounds(bounds) -> tuple:
    """Return ``(lo, hi)`` of ``weight_exp_bounds`` after checking them against ``[-8, 7]``."""
    if isinstance(bounds, (str, bytes)) or not hasattr(bounds, "__len__") or len(bounds) != 2:
        raise TypeError(f"weight_exp_bounds must be a pair (lo, hi) of integers, got {bounds!r}")
    lo = check_int("weight_exp_bounds[0]", bounds[0], minimum=WEIGHT_EXP_MIN, maximum=WEIGHT_EXP_MAX)
    hi = check_int("weight_exp_bounds[1]", bounds[1], minimum=WEIGHT_EXP_MIN, maximum=WEIGHT_EXP_MAX)
    if lo > hi:
        raise ValueError(f"weight_exp_bounds must satisfy lo <= hi, got ({lo}, {hi}); swap them")
    return lo, hi


def decay_code(vdecay: float) -> int:
    """Return the 12-bit decay ``dv = round(4096 (1 - alpha))``; raise if it does not fit in 12 bits."""
    vdecay = check_float("vdecay", vdecay, minimum=0.0, maximum=1.0)
    decay = int(round_half_up(DECAY_UNITY * (1.0 - vdecay)))
    if decay > DECAY_UNITY - 1:
        raise ValueError(
            f"vdecay={vdecay} gives dv={decay}, which does not fit in 12 bits; the smallest voltage decay "
            f"a Loihi LIF represents is alpha = 1/4096, so use vdecay >= {1.0 / DECAY_UNITY:.3g}"
        )
    return decay


def choose_format(config: NetworkConfig, weights, biases, *, voltage_range: float | None = None,
                  weight_headroom: float = 2.0, bias_headroom: float = 2.0, error_scale: int = 256,
                  trace_approximation: str = "presynaptic", trace_impulse=None,
                  weight_exp_bounds: tuple = (WEIGHT_EXP_MIN, WEIGHT_EXP_MAX),
                  bias_exp: int | None = None) -> FixedPointFormat:
    """Choose the fixed-point format of a float network (see the module docstring for the rules).

    Parameters
    ----------
    config : NetworkConfig
    weights, biases : list of ndarray
        Float parameters per layer; they set the weight and bias exponents.
    voltage_range : float, optional
        Largest voltage magnitude to represent without saturation; default
        ``max(16, 32 theta_max)``. Bounds ``S`` from above.
    weight_headroom, bias_headroom : float, default=2.0
        Factor by which the largest weight (bias) of a layer may grow before it saturates.
    error_scale : int, default=256
    trace_approximation : {'presynaptic', 'exact'}
    trace_impulse : int or sequence of int, optional
        Trace value of one presynaptic spike, per layer; default ``floor(127 (1 - alpha))``
        (at least 1), so that a spike on every step keeps the trace below 127.
    weight_exp_bounds : (int, int), default=(-8, 7)
        Smallest and largest allowed ``weight_exp``; ``(-1, 0)`` for a netx export.
    bias_exp : int, optional
        Bias exponent of every layer, in [0, 7]; default: chosen per layer. netx uses 6.
    """
    if not isinstance(config, NetworkConfig):
        raise TypeError(f"config must be a NetworkConfig, got {type(config).__name__}")
    n_layers = config.n_layers
    if len(weights) != n_layers or len(biases) != n_layers:
        raise ValueError(f"need {n_layers} weight and bias arrays for sizes {config.sizes}, "
                         f"got {len(weights)} and {len(biases)}")
    if voltage_range is None:
        voltage_range = max(16.0, 32.0 * max(neuron.vth for neuron in config.neuron))
    voltage_range = check_float("voltage_range", voltage_range, minimum=0.0, min_open=True)
    weight_headroom = check_float("weight_headroom", weight_headroom, minimum=1.0)
    bias_headroom = check_float("bias_headroom", bias_headroom, minimum=1.0)
    weight_exp_lo, weight_exp_hi = _check_exponent_bounds(weight_exp_bounds)
    if bias_exp is not None:
        bias_exp = check_int("bias_exp", bias_exp, minimum=BIAS_EXP_MIN, maximum=BIAS_EXP_MAX)
    bias_exp_hi = BIAS_EXP_MAX if bias_exp is None else bias_exp
    w_max = [float(np.max(np.abs(w))) if np.size(w) else 0.0 for w in weights]
    b_max = [float(np.max(np.abs(b))) if np.size(b) else 0.0 for b in biases]
    # Upper bounds on S: voltage range, weights at the largest weight_exp, biases at the largest bias_exp.
    bounds = [STATE_MAX / voltage_range]
    bounds += [254.0 * 2.0 ** (VTH_SHIFT + weight_exp_hi) / (weight_headroom * m) for m in w_max if m > 0]
    bounds += [BIAS_MANT_MAX * 2.0 ** bias_exp_hi / (bias_headroom * m) for m in b_max if m > 0]
    scale_exp = math.floor(math.log2(min(bounds)))
    if scale_exp < VTH_SHIFT:
        raise ValueError(f"the voltage range, weights and biases leave a voltage scale of 2^{scale_exp}, below "
                         f"2^{VTH_SHIFT}; lower voltage_range, weight_headroom or bias_headroom")
    scale = float(1 << scale_exp)
    if trace_impulse is None or np.isscalar(trace_impulse):
        trace_impulse = (trace_impulse,) * n_layers
    if len(trace_impulse) != n_layers:
        raise ValueError(f"trace_impulse needs one value per layer ({n_layers}), got {len(trace_impulse)}")

    layers = []
    for index, neuron in enumerate(config.neuron):
        if neuron.vth >= voltage_range:
            raise ValueError(f"layer {index}: threshold {neuron.vth} is not below voltage_range={voltage_range}; "
                             "raise voltage_range")
        vth_mant = int(round_half_up(neuron.vth * scale / (1 << VTH_SHIFT)))
        if vth_mant < 1:
            raise ValueError(f"layer {index}: threshold {neuron.vth} rounds to 0 at scale 2^{scale_exp}; "
                             "lower voltage_range")
        weight_exp = _exponent_covering(
            weight_headroom * w_max[index] * scale, 254.0 * (1 << VTH_SHIFT), weight_exp_lo, weight_exp_hi,
            f"layer {index} weights", "raise voltage_range (a smaller S) or lower weight_headroom")
        layer_bias_exp = bias_exp if bias_exp is not None else _exponent_covering(
            bias_headroom * b_max[index] * scale, float(BIAS_MANT_MAX), BIAS_EXP_MIN, BIAS_EXP_MAX,
            f"layer {index} biases", "raise voltage_range (a smaller S) or lower bias_headroom")
        impulse = trace_impulse[index]
        if impulse is None:
            impulse = max(1, math.floor(TRACE_MAX * (1.0 - neuron.vdecay)))
        layers.append(LayerFormat(
            decay=decay_code(neuron.vdecay), vth_mant=min(vth_mant, VTH_MANT_MAX),
            window=max(1, int(round_half_up(neuron.grad_win * scale))), weight_exp=weight_exp,
            bias_exp=layer_bias_exp, trace_impulse=check_int("trace_impulse", impulse, minimum=1, maximum=TRACE_MAX),
            grad_amp=neuron.grad_amp,
        ))
    return FixedPointFormat(scale_exp=scale_exp, layers=tuple(layers), error_scale=error_scale,
                            trace_approximation=trace_approximation)


# --------------------------------------------------------------------------- quantisers
def quantise_weights(weights, layer: LayerFormat, scale_exp: int) -> np.ndarray:
    """Return the even 8-bit mantissas ``W_mant = 2 clip(round(W S / 2^(7 + weight_exp)), -128, 127)``."""
    step = np.ldexp(1.0, 7 + layer.weight_exp - scale_exp)
    k = np.clip(round_half_up(np.asarray(weights, dtype=np.float64) / step), WEIGHT_STEP_MIN, WEIGHT_STEP_MAX)
    return 2 * k


def dequantise_weights(mantissa, layer: LayerFormat, scale_exp: int) -> np.ndarray:
    """Return ``W_mant 2^(6 + weight_exp) / S`` (exact in float64)."""
    return np.ldexp(np.asarray(mantissa, dtype=np.float64), VTH_SHIFT + layer.weight_exp - scale_exp)


def quantise_bias(bias, layer: LayerFormat, scale_exp: int) -> np.ndarray:
    """Return the 13-bit mantissas ``clip(round(b S / 2^bias_exp), -4096, 4095)``."""
    step = np.ldexp(1.0, layer.bias_exp - scale_exp)
    return np.clip(round_half_up(np.asarray(bias, dtype=np.float64) / step), BIAS_MANT_MIN, BIAS_MANT_MAX)


def dequantise_bias(mantissa, layer: LayerFormat, scale_exp: int) -> np.ndarray:
    """Return ``bias_mant 2^bias_exp / S`` (exact in float64)."""
    return np.ldexp(np.asarray(mantissa, dtype=np.float64), layer.bias_exp - scale_exp)


def quantise_feedback(feedback) -> tuple:
    """Return ``(B_mant, exponent)`` with ``B ~ B_mant 2^exponent`` and ``B_mant`` even in [-256, 254].

    The exponent is the smallest one whose range ``254 * 2^exponent`` covers ``max|B|``.
    It never enters the graph: the dendrites accumulate ``B_mant z`` and the exponent
    is part of the layer's learning-rate scale, so it has no hardware range limit.
    """
    feedback = np.asarray(feedback, dtype=np.float64)
    peak = float(np.max(np.abs(feedback))) if feedback.size else 0.0
    if peak == 0.0:
        return np.zeros(feedback.shape, np.int64), 0
    exponent = math.ceil(math.log2(peak / 254.0))
    if 254.0 * 2.0 ** exponent < peak:
        exponent += 1
    k = np.clip(round_half_up(np.ldexp(feedback, -(exponent + 1))), WEIGHT_STEP_MIN, WEIGHT_STEP_MAX)
    return 2 * k, exponent


def fixed_point_multiplier(value: float, bits: int = 15) -> tuple:
    """Return ``(mantissa, shift)`` with ``value ~ mantissa / 2^shift`` and a ``bits``-bit mantissa.

    ``mantissa`` lies in ``[2^(bits-1), 2^bits)``, so the relative error is below ``2^-bits``;
    ``shift`` may be negative for values of ``2^bits`` or more.
    """
    value = check_float("multiplier", value, minimum=0.0, min_open=True)
    shift = bits - 1 - math.floor(math.log2(value))
    mantissa = int(round_half_up(math.ldexp(value, shift)))
    if mantissa >= 1 << bits:  # rounding carried into a new bit
        mantissa >>= 1
        shift -= 1
    return mantissa, shift
