r"""Output error: softmax of cumulative spike counts, and the error interneuron pair.

From step ``t0`` on, the error current is

.. math::

    e_t = \mathrm{softmax}(c_t) - y, \qquad c_t = \sum_{\tau \le t} s^o_\tau

(``y`` one-hot), so ``e_t`` lies in ``[-1, 1]``. Each class has a positive and a negative
integrate-and-fire error neuron without leak, threshold 1 (strict) and reset by
subtraction one step after a spike:

.. math::

    u^+_t &= u^+_{t-1} - z^+_{t-1} + e_t, \qquad z^+_t = H(u^+_t - 1) \\
    u^-_t &= u^-_{t-1} - z^-_{t-1} - e_t, \qquad z^-_t = H(u^-_t - 1)

There is no lower bound on ``u``. For an error of constant sign the net count
``N^+ - N^-`` under-counts ``|sum_t e_t|`` by less than one spike; a sign flip biases it.
"""

from __future__ import annotations

import numpy as np


def softmax(c: np.ndarray) -> np.ndarray:
    """Return the softmax over the last axis, computed stably."""
    z = c - c.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


def error_current(counts: np.ndarray, onehot: np.ndarray) -> np.ndarray:
    """Return ``e = softmax(counts) - onehot`` for counts of shape ``(..., n_o)``."""
    return softmax(counts) - onehot


def error_neuron_step(u_pos, u_neg, z_pos, z_neg, e):
    """Advance the error pair one step; returns ``(u_pos, u_neg, z_pos, z_neg)``."""
    u_pos = u_pos - z_pos + e
    u_neg = u_neg - z_neg - e
    z_pos = (u_pos > 1).astype(e.dtype)
    z_neg = (u_neg > 1).astype(e.dtype)
    return u_pos, u_neg, z_pos, z_neg


def error_neuron_run(e: np.ndarray):
    """Run the error pair over an error current of shape ``(K, batch, n_o)``.

    Returns ``(z_pos, z_neg)``, each of shape ``(K, batch, n_o)``.
    """
    u_pos = np.zeros_like(e[0])
    u_neg = np.zeros_like(e[0])
    z_pos = np.zeros_like(e)
    z_neg = np.zeros_like(e)
    zp = np.zeros_like(e[0])
    zn = np.zeros_like(e[0])
    for k in range(e.shape[0]):
        u_pos, u_neg, zp, zn = error_neuron_step(u_pos, u_neg, zp, zn, e[k])
        z_pos[k] = zp
        z_neg[k] = zn
    return z_pos, z_neg


def output_error(s_out: np.ndarray, onehot: np.ndarray, error_start: int) -> np.ndarray:
    """Return the output error signal ``delta^o = (N^+ - N^-) / K`` per sample.

    Parameters
    ----------
    s_out : ndarray of shape (T, batch, n_o)
        Output spikes.
    onehot : ndarray of shape (batch, n_o)
    error_start : int
        First error step ``t0``; ``K = T - t0``.
    """
    counts = np.cumsum(s_out[error_start:], axis=0)
    if error_start > 0:
        counts += s_out[:error_start].sum(axis=0)
    e = error_current(counts, onehot)
    z_pos, z_neg = error_neuron_run(e)
    n_error_steps = s_out.shape[0] - error_start
    return (z_pos.sum(axis=0) - z_neg.sum(axis=0)) / s_out.dtype.type(n_error_steps)
