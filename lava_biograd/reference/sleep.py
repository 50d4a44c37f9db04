r"""Sleep phase: spike-based weight mirror with an Oja-type rule on the feedback weights.

One episode updates every ``B_l``, top hidden layer first, without data or labels:

1. Draw one rate ``p ~ U(0, 1)``, shared by both noise streams and all layers.
2. For ``l = L .. 1``: draw ``xi^+, xi^- ~ Bernoulli(p)`` of shape ``(T_s, N_s, n_l)``,
   fresh for each layer. Layer ``l`` is not simulated: its spikes are replaced by the
   signed noise ``xi^+ - xi^-``. The layer above receives ``W_{l+1} (xi^+_t - xi^-_t)``
   without bias, every further layer ``W s + b`` as in inference. With
   ``h = sum_t (xi^+_t - xi^-_t)`` and output counts ``c = sum_t s^o_t``:

   .. math::

       B_l \leftarrow B_l + \eta_s \left[ \sum_n h_n c_n^\top
           - B_l \,\mathrm{diag}\big(\langle c_n^{\circ p} \rangle_n\big) \right]

   With ``reduction='mean'`` the Hebbian sum is divided by ``N_s``.

Column ``k`` of ``B_l`` (the feedback from class ``k``) then decays in proportion to
``<c_k^p>``, which with ``p = 2`` is Oja's ``y^2 w`` term. The fixed point aligns ``B_l``
with the rate Jacobian ``(dc_o/dc_l)^T``; its scale grows with ``N_s`` under ``'sum'``.
"""

from __future__ import annotations

import numpy as np

from lava_biograd.reference.neuron import lif_run
from lava_biograd.reference.params import SleepParams


def draw_sleep_noise(rng: np.random.Generator, hidden_sizes, params: SleepParams, dtype=np.float32):
    """Draw the noise of one episode.

    Returns ``(p, noise)`` where ``noise[l-1]`` is the signed train ``xi^+ - xi^-`` of
    hidden layer ``l``, shape ``(T_s, N_s, n_l)``. Draw order: ``p``, then for
    ``l = L .. 1`` first ``xi^+`` and then ``xi^-``, each with ``rng.random`` in float32.
    """
    p = rng.uniform()
    noise = [None] * len(hidden_sizes)
    for index in range(len(hidden_sizes) - 1, -1, -1):
        shape = (params.n_steps, params.n_samples, hidden_sizes[index])
        xi_pos = rng.random(shape, dtype=np.float32) < p
        xi_neg = rng.random(shape, dtype=np.float32) < p
        noise[index] = xi_pos.astype(dtype) - xi_neg.astype(dtype)
    return p, noise


def delay_one_step(train: np.ndarray) -> np.ndarray:
    """Return the spike train shifted one step later along axis 0 (zeros first)."""
    delayed = np.zeros_like(train)
    delayed[1:] = train[:-1]
    return delayed


def sleep_layer_update(
    feedback: np.ndarray, noise: np.ndarray, weights: list, biases: list, neurons: list,
    params: SleepParams, delayed: bool = False,
) -> np.ndarray:
    """Return ``B_l`` after one episode's update from signed noise in hidden layer ``l``.

    Parameters
    ----------
    feedback : ndarray of shape (n_l, n_o)
        Current ``B_l``.
    noise : ndarray of shape (T_s, N_s, n_l)
        Signed noise ``xi^+ - xi^-`` that replaces the spikes of layer ``l``.
    weights, biases, neurons : list
        Forward parameters of the layers above ``l`` (``W_{l+1}, ..., W_o``).
    params : SleepParams
    delayed : bool
        Delay every connection by one step (the ``'delayed'`` timing).
    """
    t_steps, n_samples, _ = noise.shape
    inputs = noise
    for k, (w, b, neuron) in enumerate(zip(weights, biases, neurons)):
        if delayed:
            inputs = delay_one_step(inputs)
        current = inputs.reshape(t_steps * n_samples, -1) @ w.T
        if k > 0:
            current += b
        _, inputs = lif_run(current.reshape(t_steps, n_samples, -1), neuron)
    return oja_update(feedback, noise.sum(axis=0), inputs.sum(axis=0), params)


def oja_update(feedback: np.ndarray, h: np.ndarray, counts: np.ndarray, params: SleepParams) -> np.ndarray:
    """Return ``B + eta_s [sum_n h_n c_n^T - B diag(<c^p>_n)]`` (Hebbian term / N_s under ``'mean'``).

    Parameters
    ----------
    feedback : ndarray of shape (n_l, n_o)
    h : ndarray of shape (N_s, n_l)
        Net noise count per sleep sample and hidden unit.
    counts : ndarray of shape (N_s, n_o)
        Output spike counts per sleep sample.
    params : SleepParams
    """
    dtype = feedback.dtype
    hebbian = h.T @ counts
    if params.reduction == "mean":
        hebbian = hebbian / h.shape[0]
    decay = np.mean(counts ** params.oja_power, axis=0)
    lr = dtype.type(params.lr)
    return feedback + lr * (hebbian.astype(dtype) - feedback * decay.astype(dtype)[None, :])
