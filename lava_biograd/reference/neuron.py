r"""Somatic compartment: discrete LIF with multiplicative reset, and its pseudo-derivative.

.. math::

    I_t &= W s^{in}_t + b \\
    v_t &= \alpha \, v_{t-1} \odot (1 - s_{t-1}) + I_t \\
    s_t &= H(v_t - \theta) \\
    \sigma'(v_t) &= A \cdot 1[\,|v_t - \theta| < w\,]

``v_t`` is the pre-reset voltage: a neuron that spikes at ``t`` keeps ``v_t`` above
threshold in the returned record, and the reset acts one step later through the factor
``(1 - s_{t-1})``. ``H(z) = 1`` for ``z > 0`` (strict). All state is zero before ``t = 0``.

Arrays are time-major: ``(T, batch, n)``.
"""

from __future__ import annotations

import numpy as np

from lava_biograd.reference.params import NeuronParams


def pseudo_derivative(v: np.ndarray, neuron: NeuronParams) -> np.ndarray:
    """Return ``sigma'(v) = A * 1[|v - theta| < w]`` in the dtype of ``v``."""
    window = np.abs(v - v.dtype.type(neuron.vth)) < neuron.grad_win
    return window.astype(v.dtype) * v.dtype.type(neuron.grad_amp)


def lif_step(v_prev: np.ndarray, s_prev: np.ndarray, current: np.ndarray, neuron: NeuronParams):
    """Advance the soma one step: ``v_t = alpha v_{t-1} (1 - s_{t-1}) + I_t``, ``s_t = H(v_t - theta)``.

    Returns ``(v_t, s_t)`` with ``s_t`` in the dtype of ``current``.
    """
    alpha = current.dtype.type(neuron.vdecay)
    v = alpha * v_prev * (1 - s_prev) + current
    s = (v > neuron.vth).astype(current.dtype)
    return v, s


def lif_run(current: np.ndarray, neuron: NeuronParams):
    """Run the soma over all steps of an input current of shape ``(T, batch, n)``.

    Returns
    -------
    v : ndarray of shape (T, batch, n)
        Pre-reset voltages.
    s : ndarray of shape (T, batch, n)
        Output spikes (0 or 1, dtype of ``current``).
    """
    dtype = current.dtype
    alpha = dtype.type(neuron.vdecay)
    v = np.empty_like(current)
    s = np.empty_like(current)
    keep = np.empty_like(current[0])  # alpha * (1 - s_{t-1})
    v_t = current[0]
    v[0] = v_t
    np.greater(v_t, neuron.vth, out=s[0])
    for t in range(1, current.shape[0]):
        np.subtract(1, s[t - 1], out=keep)
        keep *= alpha
        np.multiply(v[t - 1], keep, out=v[t])
        v[t] += current[t]
        np.greater(v[t], neuron.vth, out=s[t])
    return v, s
