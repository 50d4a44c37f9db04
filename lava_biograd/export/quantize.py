r"""Quantise a float BioGrad network to Loihi integer units, and simulate the result.

The exported neuron is Lava's CUBA LIF (``lava.proc.lif``, fixed-point model
``PyLifModelBitAcc`` of lava-nc 0.10.0), which netx builds from a ``CUBA`` neuron
group. Its update per step, in integer units, is

.. math::

    u_t &= u_{t-1} (4096 - \mathrm{iDecay}) \gg 12 + (a_t \ll 6) \\
    v_t &= \mathrm{sign}(v_{t-1}) \, \big(|v_{t-1}| (4096 - \mathrm{vDecay}) \gg 12\big)
          + u_t + (b_{mant} \ll 6) \\
    s_t &= [\, v_t > (\mathrm{vThMant} \ll 6) \,], \qquad v_t \leftarrow 0 \text{ where } s_t = 1

with the synaptic input ``a_t = W_int s^{in}`` from Lava's ``Dense`` (one step late).
With ``iDecay = 4096`` the current keeps no memory (``u_t = a_t << 6``), so after
dividing by ``64 * scale`` this is our neuron
``v_t = alpha v_{t-1} (1 - s_{t-1}) + W s^{in} + b`` with a strict threshold. Lava
resets ``v`` right after the spike, and our model resets it one step later through
``(1 - s_{t-1})``. Both give the same spike trains. Only the stored voltage at a spike
step differs: Lava keeps 0, the reference keeps the pre-reset value.

Mapping per layer ``l`` with float scale ``scale_l`` (integer units per float unit):

===============  ===================================================  =============  ====================
quantity         float -> integer                                     range          bits (Loihi)
===============  ===================================================  =============  ====================
weight ``W``     ``W_int = rint(W * scale_l)``                        [-127, 127]    8-bit signed
bias ``b``       ``bias_mant = rint(b * scale_l)``, ``bias_exp = 6``  [-4096, 4095]  13-bit signed
threshold theta  ``vThMant = rint(theta * scale_l)``                  [1, 131071]    17-bit unsigned
decay alpha      ``vDecay = rint(4096 * (1 - alpha))``                [0, 4095]      12-bit unsigned
current decay    ``iDecay = 4096`` (full decay: no current state)     4096           12-bit plus offset 1
===============  ===================================================  =============  ====================

``rint`` rounds half to even (numpy). A value outside its range raises ``ValueError``.
Only ``vDecay`` saturates (see below).

The scale rule: ``scale_l = min(127 / max|W_l|, 4095 / max|b_l|, 131071 / theta_l)``.
The weight term normally binds, so the largest weight maps to +-127 and no value
saturates. The other two terms only lower the scale (and the weight precision) when a
bias or the threshold would otherwise overflow its field. Zero weights everywhere have
no scale and are rejected. ``vDecay`` saturates at 4095 (12 bits), so ``alpha = 0``
becomes ``alpha = 1/4096``.

Why 127 and not 255: netx's ``optimize_weight_bits`` (lava-dl 0.6.0) turns mixed-sign
integer weights whose largest magnitude is 127 into even values in [-254, 254] with
``weight_exp = -1``. Lava's ``Dense`` then shifts the accumulated sum back, so
``a_t = W_int s^{in}`` exactly. That is the full 8-bit precision of a mixed-sign Loihi
synapse.

What the integers change against the float model (these cause the spike-count
differences measured in the tests):

* weights, bias and threshold are rounded to ``1 / scale_l``, where ``scale_l`` is
  about ``127 / max|W_l|``;
* the decay is ``alpha_eff = (4096 - vDecay) / 4096`` (0.300049 for alpha = 0.3), and
  the product is truncated toward zero every step;
* ``v`` saturates at ``+-(2**23 - 1)``, that is at ``|v| = 2**17 / scale_l`` in float
  units (about 117 for the first layer of the MNIST network in the tests, whose
  threshold is 0.3);
* ``u = a_t << 6`` wraps at 24 bits, which needs ``|a_t| > 2**17``: more than 1032
  active inputs at weight 127.

:func:`simulate_quantized` implements exactly this integer arithmetic in numpy, so the
Lava run of an exported file can be compared with it bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lava_biograd.reference.params import TIMINGS, NeuronParams
from lava_biograd.validation import check_array, check_choice, check_float, check_int

__all__ = [
    "BIAS_EXP",
    "BIAS_MANT_MAX",
    "BIAS_MANT_MIN",
    "DECAY_UNITY",
    "STATE_SHIFT",
    "V_TH_MANT_MAX",
    "WEIGHT_MAX",
    "QuantizedLayer",
    "alpha_from_decay",
    "layer_scale",
    "quantize_layer",
    "quantize_network",
    "simulate_quantized",
    "voltage_decay",
]

WEIGHT_MAX = 127
"""Largest integer weight magnitude: 8-bit signed, exactly representable after netx's shift."""

BIAS_MANT_MIN, BIAS_MANT_MAX = -4096, 4095
"""Range of the 13-bit signed bias mantissa of Lava's fixed-point LIF."""

BIAS_EXP = 6
"""Bias exponent that netx sets for every CUBA neuron (lava-dl 0.6.0)."""

V_TH_MANT_MAX = 2**17 - 1
"""Largest 17-bit unsigned threshold mantissa."""

DECAY_UNITY = 4096
"""Decays are 12-bit fractions of 4096; ``iDecay = 4096`` clears the current every step."""

STATE_SHIFT = 6
"""Left shift of the synaptic input, the bias (with ``bias_exp = 6``) and the threshold."""

V_DECAY_MAX = DECAY_UNITY - 1
STATE_LIMIT = 2**23  # u and v are 24-bit signed


@dataclass(frozen=True)
class QuantizedLayer:
    """One dense layer in Loihi integer units, as netx reads it.

    Attributes
    ----------
    weight : ndarray of int32, shape (n_out, n_in)
        ``W_int = rint(W * scale)`` in [-127, 127].
    bias : ndarray of int32, shape (n_out,)
        Bias mantissa ``rint(b * scale)``; the effective bias is ``bias << 6``.
    v_th_mant : int
        Threshold mantissa; a neuron spikes when ``v > v_th_mant << 6``.
    v_decay : int
        ``rint(4096 * (1 - alpha))`` in [0, 4095].
    scale : float
        Integer units per float unit of weight, bias and threshold.
    i_decay : int
        Current decay; always 4096 (the current keeps no memory).
    """

    weight: np.ndarray
    bias: np.ndarray
    v_th_mant: int
    v_decay: int
    scale: float
    i_decay: int = DECAY_UNITY

    @property
    def shape(self) -> tuple:
        """``(n_out, n_in)`` of the weight matrix."""
        return self.weight.shape

    def dequantized(self) -> tuple:
        """Return ``(W, b, theta, alpha)`` in float units: integers divided by ``scale``.

        ``alpha = (4096 - v_decay) / 4096`` is the decay that Lava applies (before its
        truncation toward zero).
        """
        return (self.weight / self.scale, self.bias / self.scale, self.v_th_mant / self.scale,
                alpha_from_decay(self.v_decay))


def voltage_decay(alpha: float) -> int:
    """Return Lava's ``vDecay = rint(4096 * (1 - alpha))``, saturated at 4095.

    >>> voltage_decay(0.3)
    2867
    """
    alpha = check_float("alpha (vdecay)", alpha, minimum=0.0, maximum=1.0)
    return int(min(np.rint(DECAY_UNITY * (1.0 - alpha)), V_DECAY_MAX))


def alpha_from_decay(v_decay) -> float:
    """Return the voltage decay factor ``alpha = (4096 - vDecay) / 4096`` of Lava's LIF."""
    v_decay = check_int("vDecay", v_decay, minimum=0, maximum=DECAY_UNITY)
    return (DECAY_UNITY - v_decay) / DECAY_UNITY


def layer_scale(weights, biases, vth: float) -> float:
    """Return the integer units per float unit of one layer.

    ``scale = min(127 / max|W|, 4095 / max|b|, 131071 / theta)``, so the largest weight
    maps to +-127 unless the bias or the threshold would overflow its bit field.

    Raises
    ------
    ValueError
        All weights are zero (no scale can be derived), or a value is not finite.
    """
    weights = np.asarray(weights, dtype=np.float64)
    biases = np.asarray(biases, dtype=np.float64)
    if not (np.all(np.isfinite(weights)) and np.all(np.isfinite(biases))):
        raise ValueError("weights and biases must be finite to be quantised; the network contains NaN or inf")
    vth = check_float("vth (theta)", vth, minimum=0.0, min_open=True)
    max_weight = float(np.max(np.abs(weights))) if weights.size else 0.0
    if max_weight == 0.0:
        raise ValueError(
            "every weight of the layer is zero, so no weight scale can be derived; "
            "export a trained network"
        )
    scale = WEIGHT_MAX / max_weight
    max_bias = float(np.max(np.abs(biases))) if biases.size else 0.0
    if max_bias > 0.0:
        scale = min(scale, BIAS_MANT_MAX / max_bias)
    return min(scale, V_TH_MANT_MAX / vth)


def quantize_layer(weights, biases, neuron: NeuronParams, scale: float | None = None) -> QuantizedLayer:
    """Quantise one layer's weights, bias and neuron parameters to Loihi integer units.

    Parameters
    ----------
    weights : ndarray of shape (n_out, n_in)
    biases : ndarray of shape (n_out,)
    neuron : NeuronParams
        ``vdecay`` (alpha) and ``vth`` (theta) are quantised; the pseudo-derivative
        parameters are not part of the inference network.
    scale : float, optional
        Integer units per float unit; :func:`layer_scale` when omitted.

    Returns
    -------
    QuantizedLayer

    Raises
    ------
    ValueError
        A quantised value would leave its bit field (only with a given ``scale``), or the
        threshold rounds to 0.
    """
    if not isinstance(neuron, NeuronParams):
        raise TypeError(f"neuron must be a NeuronParams, got {type(neuron).__name__}")
    weights = check_array("weights", weights, ndim=2).astype(np.float64)
    biases = check_array("biases", biases, shape=(weights.shape[0],)).astype(np.float64)
    if scale is None:
        scale = layer_scale(weights, biases, neuron.vth)
    scale = check_float("scale", scale, minimum=0.0, min_open=True)

    weight = np.rint(weights * scale)
    bias = np.rint(biases * scale)
    v_th_mant = float(np.rint(neuron.vth * scale))
    _check_range("integer weight", weight, -WEIGHT_MAX, WEIGHT_MAX, scale)
    _check_range("bias mantissa", bias, BIAS_MANT_MIN, BIAS_MANT_MAX, scale)
    if v_th_mant < 1:
        raise ValueError(
            f"threshold theta={neuron.vth} rounds to vThMant=0 at scale {scale:.6g}; the weights are "
            "too large relative to theta for 8-bit weights"
        )
    _check_range("vThMant", np.array([v_th_mant]), 1, V_TH_MANT_MAX, scale)
    return QuantizedLayer(
        weight=weight.astype(np.int32),
        bias=bias.astype(np.int32),
        v_th_mant=int(v_th_mant),
        v_decay=voltage_decay(neuron.vdecay),
        scale=float(scale),
    )


def _check_range(name: str, values: np.ndarray, low: int, high: int, scale: float) -> None:
    if values.size and (values.min() < low or values.max() > high):
        raise ValueError(
            f"{name} values in [{values.min():.0f}, {values.max():.0f}] leave the range [{low}, {high}] "
            f"at scale {scale:.6g}; choose a smaller scale"
        )


def quantize_network(net) -> list:
    """Return one :class:`QuantizedLayer` per weight layer of a ``BioGradNetwork``."""
    from lava_biograd.reference import BioGradNetwork

    if not isinstance(net, BioGradNetwork):
        raise TypeError(f"net must be a BioGradNetwork, got {type(net).__name__}")
    return [quantize_layer(w, b, neuron) for w, b, neuron in zip(net.weights, net.biases, net.neurons)]


def simulate_quantized(layers, x, timing: str = "delayed", record: bool = False):
    """Run the integer network on input spikes, as Lava's fixed-point models compute it.

    Implements the equations of the module docstring for every layer, with Lava's
    24-bit wrap of ``u`` and saturation of ``v``. ``timing='delayed'`` feeds layer ``l``
    at step ``t`` with ``s^{l-1}_{t-1}`` (one step per ``Dense``, zeros at ``t = 0``).
    A netx network computes this for one sample from a zero state. ``'same_step'``
    feeds ``s^{l-1}_t``. A netx network computes this when each layer is reset one
    step after the layer below (see :func:`lava_biograd.export.netx.run_netx`).

    Parameters
    ----------
    layers : sequence of QuantizedLayer
    x : ndarray of shape (T, batch, n_0)
        Input spikes (0 or 1).
    timing : {'delayed', 'same_step'}
    record : bool
        Also return the integer voltages before the reset, per layer ``(T, batch, n)``.

    Returns
    -------
    spikes : list of ndarray of shape (T, batch, n_l), dtype int8
        Spikes of every layer.
    voltages : list of ndarray of int64
        Only with ``record=True``.
    """
    check_choice("timing", timing, TIMINGS)
    layers = list(layers)
    if not layers or not all(isinstance(layer, QuantizedLayer) for layer in layers):
        raise TypeError("layers must be a non-empty sequence of QuantizedLayer")
    x = check_array("input spikes", x, ndim=3)
    if x.shape[2] != layers[0].shape[1]:
        raise ValueError(f"input spikes must have {layers[0].shape[1]} channels (T, batch, n_0), got shape {x.shape}")
    if not np.all((x == 0) | (x == 1)):
        raise ValueError("input spikes must be 0 or 1")
    inputs = x.astype(np.int64)
    all_spikes, all_voltages = [], []
    for index, layer in enumerate(layers):
        if layer.shape[1] != inputs.shape[2]:
            raise ValueError(
                f"layer {index} expects {layer.shape[1]} inputs but the layer below has {inputs.shape[2]} neurons"
            )
        if timing == "delayed":
            shifted = np.zeros_like(inputs)
            shifted[1:] = inputs[:-1]
            inputs = shifted
        spikes, voltages = _simulate_layer(layer, inputs)
        all_spikes.append(spikes)
        all_voltages.append(voltages)
        inputs = spikes.astype(np.int64)
    if record:
        return all_spikes, all_voltages
    return all_spikes


def _simulate_layer(layer: QuantizedLayer, inputs: np.ndarray):
    n_steps, batch, _ = inputs.shape
    n_out = layer.shape[0]
    weight = layer.weight.astype(np.int64)
    bias = layer.bias.astype(np.int64) << BIAS_EXP
    threshold = np.int64(layer.v_th_mant) << STATE_SHIFT
    keep = np.int64(DECAY_UNITY - layer.v_decay)
    v = np.zeros((batch, n_out), np.int64)
    spikes = np.zeros((n_steps, batch, n_out), np.int8)
    voltages = np.zeros((n_steps, batch, n_out), np.int64)
    for t in range(n_steps):
        u = _wrap24((inputs[t] @ weight.T) << STATE_SHIFT)
        decayed = np.sign(v) * ((np.abs(v) * keep) >> 12)
        v = np.clip(decayed + u + bias, -STATE_LIMIT + 1, STATE_LIMIT - 1)
        fired = v > threshold
        voltages[t] = v
        spikes[t] = fired
        v = np.where(fired, 0, v)
    return spikes, voltages


def _wrap24(values: np.ndarray) -> np.ndarray:
    """Wrap like Lava's fixed-point LIF: above 2**23 subtract 2**24, at or below -2**23 add it."""
    wrapped = np.where(values > STATE_LIMIT, values - 2 * STATE_LIMIT, values)
    return np.where(wrapped <= -STATE_LIMIT, values + 2 * STATE_LIMIT, wrapped)
