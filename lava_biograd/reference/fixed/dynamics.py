r"""Integer step functions of the fixed-point BioGrad network.

The simulator and the ``fixed_pt`` Lava ProcessModels call these same functions, which
is what makes them bit-identical. Arrays are ``int64``; the widths below are enforced by
saturation or wrapping where stated.

**Synaptic current** (a Loihi ``Dense`` followed by the current stage of a Loihi LIF
with full current decay, ``du = 4095``):

.. math::

    a_t = \mathrm{shift}(W_{mant}\, x_{t-1},\ e_W), \qquad
    I_t = \mathrm{wrap}_{24}(a_t \ll 6) + b_{mant} \ll e_b

**Soma** (Lava's fixed LIF voltage stage, with BioGrad's multiplicative reset):

.. math::

    v_t = \mathrm{sat}_{24}\big(\mathrm{decay}_0(v_{t-1} (1 - s_{t-1}),\ dv) + I_t\big), \qquad
    s_t = 1[v_t > vth], \qquad \sigma'_t = 1[|v_t - vth| < window]

``decay_0`` rounds toward zero as Lava does. Lava's ``LIF`` resets ``v`` to 0 in the
step of the spike and keeps only the reset value. Here ``v_t`` is the pre-reset voltage
and the reset acts one step later through ``(1 - s_{t-1})``, because the eligibility
trace needs the pre-reset voltage. Both give the same spike trains, and only the stored
``v`` of a spiking step differs.

**Traces** (``E``, ``G``: signed 16-bit tags, saturating; a presynaptic spike is worth
``trace_impulse`` units). With ``decay_h`` the 12-bit decay rounded half up:

* ``'presynaptic'``: ``x1_t = min(decay_h(x1_{t-1}) + impulse * pre_t, 127)`` per
  presynaptic neuron (7-bit unsigned) and ``E_ij += sigma'_i x1_j``; the bias trace is the
  same recursion with ``pre = 1``.
* ``'exact'``: ``P~ = sat_7(decay_h(P) + impulse * pre_j)``, ``E_ij += sigma'_i P~_ij``,
  ``P = sat_7(round_h(P~ f_i / S))`` with the postsynaptic factor
  ``f = S (1 - s) - v sigma'`` in voltage units (7 bits plus sign for ``P``).

With at most ``T <= 258`` steps the tags cannot saturate (``127 T < 2^15``), so the sum
over steps equals the online accumulation exactly.

**Error** (host softmax in float64, integer error neurons, threshold ``error_scale``):

.. math::

    e_t = \lfloor (\mathrm{softmax}(c_t) - y)\, \mathrm{error\_scale} + 1/2 \rfloor, \quad
    u^\pm_t = \mathrm{sat}_{24}(u^\pm_{t-1} - z^\pm_{t-1}\, \mathrm{error\_scale} \pm e_t), \quad
    z^\pm_t = 1[u^\pm_t > \mathrm{error\_scale}]
"""

from __future__ import annotations

import numpy as np

from lava_biograd.reference.error import error_current
from lava_biograd.reference.fixed.arithmetic import (
    STATE_MAX,
    as_int,
    decay_round_half_up,
    decay_toward_zero,
    saturate,
    shift_floor,
    shift_round_half_up,
    wrap_current,
)
from lava_biograd.reference.fixed.quantisation import TAG_MAX, TRACE_MAX, VTH_SHIFT, LayerFormat


# --------------------------------------------------------------------------- soma
def synaptic_current(accumulated, layer: LayerFormat, bias_mant=None) -> np.ndarray:
    """Return ``I = wrap_24(shift(acc, weight_exp) << 6) + (bias_mant << bias_exp)``.

    ``accumulated`` is the integer sum ``W_mant x`` of the presynaptic input; without
    ``bias_mant`` no bias is added (the sleep phase's first layer above the noise).
    """
    current = wrap_current(np.left_shift(shift_floor(accumulated, layer.weight_exp), VTH_SHIFT))
    if bias_mant is not None:
        current = current + np.left_shift(as_int(bias_mant), layer.bias_exp)
    return current


def soma_step(v_prev, s_prev, current, layer: LayerFormat):
    """Advance the soma one step; return ``(v_t, s_t)`` (``s_t`` as 0/1 ``int64``).

    ``v_t = sat_24(decay_0(v_{t-1} (1 - s_{t-1}), dv) + I_t)``, ``s_t = 1[v_t > vth]``.
    """
    kept = np.where(as_int(s_prev) != 0, 0, as_int(v_prev))
    v = saturate(decay_toward_zero(kept, layer.decay) + as_int(current), -STATE_MAX, STATE_MAX)
    return v, (v > layer.vth).astype(np.int64)


def soma_run(current, layer: LayerFormat):
    """Run the soma over a current of shape ``(T, batch, n)``; return ``(v, s)`` of the same shape."""
    current = as_int(current)
    v = np.empty_like(current)
    s = np.empty_like(current)
    v_t = np.zeros_like(current[0])
    s_t = np.zeros_like(current[0])
    for t in range(current.shape[0]):
        v_t, s_t = soma_step(v_t, s_t, current[t], layer)
        v[t] = v_t
        s[t] = s_t
    return v, s


def pseudo_derivative(v, layer: LayerFormat) -> np.ndarray:
    """Return ``sigma' = 1[|v - vth| < window]`` as 0/1 ``int64`` (the amplitude is in the learning rate)."""
    return (np.abs(as_int(v) - layer.vth) < layer.window).astype(np.int64)


# --------------------------------------------------------------------------- traces
def presynaptic_trace_step(trace, pre, layer: LayerFormat) -> np.ndarray:
    """Return ``min(decay_h(x1) + impulse * pre, 127)``: the 7-bit presynaptic trace after one step."""
    return np.minimum(decay_round_half_up(trace, layer.decay) + layer.trace_impulse * as_int(pre), TRACE_MAX)


def presynaptic_trace_run(pre, layer: LayerFormat) -> np.ndarray:
    """Return ``x1_t`` for every step of a presynaptic train of shape ``(T, ...)``."""
    pre = as_int(pre)
    trace = np.empty_like(pre)
    x1 = np.zeros_like(pre[0])
    for t in range(pre.shape[0]):
        x1 = presynaptic_trace_step(x1, pre[t], layer)
        trace[t] = x1
    return trace


def bias_trace_sequence(n_steps: int, layer: LayerFormat) -> np.ndarray:
    """Return the presynaptic trace of an input that spikes on every step (the bias input), shape ``(T,)``."""
    return presynaptic_trace_run(np.ones(n_steps, np.int64), layer)


def reset_factor(v, s, sd, scale_exp: int) -> np.ndarray:
    """Return ``f = S (1 - s) - v sigma'``, the factor ``1 - s - v sigma'`` in voltage units."""
    return ((1 - as_int(s)) << scale_exp) - as_int(v) * as_int(sd)


class FixedTraces:
    """Online eligibility traces of one layer in integers: per-synapse tags ``E``, bias tags ``G``.

    Parameters
    ----------
    batch, n_post, n_pre : int
    layer : LayerFormat
    approximation : {'presynaptic', 'exact'}
    scale_exp : int
        ``S = 2^scale_exp``; used by the exact trace's postsynaptic factor.

    Attributes
    ----------
    e : ndarray of shape (batch, n_post, n_pre)
        Signed 16-bit tags ``E``.
    g : ndarray of shape (batch, n_post)
        Signed 16-bit bias tags ``G``.
    x1 : ndarray of shape (batch, n_pre)
        Presynaptic traces (``'presynaptic'`` only).
    p : ndarray of shape (batch, n_post, n_pre)
        Exact traces ``P`` (``'exact'`` only).
    q : ndarray of shape (batch,) or (batch, n_post)
        Bias traces: one per sample for ``'presynaptic'``, one per neuron for ``'exact'``.
    """

    def __init__(self, batch: int, n_post: int, n_pre: int, layer: LayerFormat, approximation: str,
                 scale_exp: int):
        self.layer = layer
        self.approximation = approximation
        self.scale_exp = scale_exp
        self.e = np.zeros((batch, n_post, n_pre), np.int64)
        self.g = np.zeros((batch, n_post), np.int64)
        if approximation == "presynaptic":
            self.x1 = np.zeros((batch, n_pre), np.int64)
            self.q = np.zeros((batch, 1), np.int64)
        else:
            self.p = np.zeros((batch, n_post, n_pre), np.int64)
            self.q = np.zeros((batch, n_post), np.int64)

    def step(self, pre, v, s, sd) -> None:
        """Advance one step with presynaptic spikes ``pre (batch, n_pre)`` and the postsynaptic
        pre-reset voltage ``v``, spikes ``s`` and pseudo-derivative ``sd`` (``(batch, n_post)``)."""
        layer = self.layer
        sd = as_int(sd)
        if self.approximation == "presynaptic":
            self.x1 = presynaptic_trace_step(self.x1, pre, layer)
            self.q = presynaptic_trace_step(self.q, 1, layer)
            self.e = np.minimum(self.e + sd[:, :, None] * self.x1[:, None, :], TAG_MAX)
            self.g = np.minimum(self.g + sd * self.q, TAG_MAX)
            return
        factor = reset_factor(v, s, sd, self.scale_exp)
        p_tilde = saturate(decay_round_half_up(self.p, layer.decay) + layer.trace_impulse * as_int(pre)[:, None, :],
                           -TRACE_MAX, TRACE_MAX)
        self.e = saturate(self.e + sd[:, :, None] * p_tilde, -TAG_MAX, TAG_MAX)
        self.p = saturate(shift_round_half_up(p_tilde * factor[:, :, None], self.scale_exp), -TRACE_MAX, TRACE_MAX)
        q_tilde = saturate(decay_round_half_up(self.q, layer.decay) + layer.trace_impulse, -TRACE_MAX, TRACE_MAX)
        self.g = saturate(self.g + sd * q_tilde, -TAG_MAX, TAG_MAX)
        self.q = saturate(shift_round_half_up(q_tilde * factor, self.scale_exp), -TRACE_MAX, TRACE_MAX)


# --------------------------------------------------------------------------- error pathway
def error_current_int(counts, onehot, error_scale: int) -> np.ndarray:
    """Return ``floor((softmax(c) - y) error_scale + 1/2)`` for counts of shape ``(batch, n_o)``.

    The softmax runs on the host in float64 (the counts are exact integers there).
    """
    e = error_current(np.asarray(counts, dtype=np.float64), np.asarray(onehot, dtype=np.float64))
    return np.floor(e * error_scale + 0.5).astype(np.int64)


def error_neuron_step_int(u_pos, u_neg, z_pos, z_neg, e, error_scale: int):
    """Advance the integer error pair one step; return ``(u_pos, u_neg, z_pos, z_neg)``.

    Integrate-and-fire without leak, threshold ``error_scale`` (strict), reset by
    subtracting ``error_scale`` one step after a spike, 24-bit saturating.
    """
    e = as_int(e)
    u_pos = saturate(as_int(u_pos) - as_int(z_pos) * error_scale + e, -STATE_MAX, STATE_MAX)
    u_neg = saturate(as_int(u_neg) - as_int(z_neg) * error_scale - e, -STATE_MAX, STATE_MAX)
    return u_pos, u_neg, (u_pos > error_scale).astype(np.int64), (u_neg > error_scale).astype(np.int64)


def dendrite_step(dendrite, error_input) -> np.ndarray:
    """Return ``sat_24(d + a_err)``: the dendritic accumulator after one step of error input."""
    return saturate(as_int(dendrite) + as_int(error_input), -STATE_MAX, STATE_MAX)
