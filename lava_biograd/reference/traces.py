r"""Eligibility traces of the BioGrad update, in two equivalent evaluations.

**Online form** (what a neuromorphic core computes, one synapse ``i <- j`` at a time):

.. math::

    \tilde P_{ij,t} &= \alpha P_{ij,t-1} + x_{j,t} \\
    E_{ij} &\mathrel{+}= \sigma'(v_{i,t}) \, \tilde P_{ij,t} \\
    P_{ij,t} &= \tilde P_{ij,t} \, (1 - s_{i,t} - v_{i,t} \sigma'(v_{i,t}))

and for the bias the same recurrence with ``x = 1`` (traces ``Q``, ``G``). After the last
step ``E = dc/dW`` and ``G = dc/db``, the derivatives of the post neuron's spike count with
respect to its own parameters. They run through its leak and reset, with the input trains
held fixed and the rectangular pseudo-derivative in place of ``ds/dv``.

**Fast form.** The recurrence factorises. With the per-neuron factor
``a_t = alpha (1 - s_{t-1} - v_{t-1} sigma'_{t-1})`` (and ``a_0 = 0``), the backward
recursion

.. math::

    R_t = \sigma'_t + a_{t+1} R_{t+1}, \qquad R_{T-1} = \sigma'_{T-1}

gives ``E = sum_t R_t x_t^T`` and ``G = sum_t R_t``. ``R`` has one value per neuron and
step, so no per-synapse state is stored, and the batch update
``<delta * E>_n = sum_{n,t} (delta_n * R_{n,t}) x_{n,t}^T / N`` is a single GEMM over
batch and time.

**Presynaptic approximation** (``trace_approximation='presynaptic'``). A neuromorphic
learning engine keeps traces per presynaptic neuron, not per synapse, so the
non-separable ``P`` is replaced by the presynaptic trace ``x1`` and the reset correction
is dropped:

.. math::

    x1_{j,t} = \alpha\, x1_{j,t-1} + x_{j,t}, \qquad E_{ij} = \sum_t \sigma'(v_{i,t})\, x1_{j,t}

(the bias trace is the same recursion with ``x = 1``). ``x1`` equals ``P~`` up to and
including the first step at which the post neuron spikes or its voltage lies in the
window; after it the two differ by the missing factor ``1 - s - v sigma'``, so ``E`` is no
longer the exact derivative of the spike count.
"""

from __future__ import annotations

import numpy as np


def reset_factor(v: np.ndarray, s: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Return ``1 - s - v * sigma'``, the post-synaptic factor applied to ``P`` and ``Q``."""
    return 1 - s - v * sd


class OnlineTraces:
    """Per-synapse traces ``P, E`` and bias traces ``Q, G`` of one layer, advanced step by step.

    Parameters
    ----------
    batch, n_post, n_pre : int
        Shape of the trace arrays ``(batch, n_post, n_pre)``.
    vdecay : float
        Voltage decay ``alpha`` of the post neurons.
    dtype : numpy dtype
    """

    def __init__(self, batch: int, n_post: int, n_pre: int, vdecay: float, dtype=np.float64):
        self.alpha = np.dtype(dtype).type(vdecay)
        # The state is P-tilde of the last step plus that step's post factor, so one step is a
        # single pass over the synapses: P-tilde_t = (alpha * factor_{t-1}) P-tilde_{t-1} + x_t.
        self._p_tilde = np.zeros((batch, n_post, n_pre), dtype)
        self._factor = np.zeros((batch, n_post), dtype)
        self.e = np.zeros((batch, n_post, n_pre), dtype)
        self._scratch = np.empty((batch, n_post, n_pre), dtype)
        self.q = np.zeros((batch, n_post), dtype)
        self.g = np.zeros((batch, n_post), dtype)

    @property
    def p(self) -> np.ndarray:
        """``P`` after the last step: ``P-tilde`` times the post factor ``1 - s - v sigma'``."""
        return self._p_tilde * self._factor[:, :, None]

    def step(self, x: np.ndarray, v: np.ndarray, s: np.ndarray, sd: np.ndarray) -> None:
        """Advance one step with presynaptic spikes ``x (batch, n_pre)`` and the post neuron's
        pre-reset voltage ``v``, spikes ``s`` and pseudo-derivative ``sd`` (``(batch, n_post)``)."""
        # In place, because these arrays hold batch * n_post * n_pre values.
        self._p_tilde *= (self.alpha * self._factor)[:, :, None]
        if x.shape[0] == 1:  # one sample (the Lava models): add only the columns that spiked
            columns = np.flatnonzero(x[0])
            self._p_tilde[0][:, columns] += x[0, columns]
        else:
            self._p_tilde += x[:, None, :]
        if np.any(sd):  # E only changes where sigma' != 0
            np.multiply(self._p_tilde, sd[:, :, None], out=self._scratch)
            self.e += self._scratch
        self._factor = reset_factor(v, s, sd)
        q_tilde = self.alpha * self.q + 1
        self.g += sd * q_tilde
        self.q = q_tilde * self._factor


class PresynapticTraces:
    """Presynaptic-trace approximation of :class:`OnlineTraces`, with the same interface.

    ``x1 = alpha x1 + x`` per presynaptic neuron, ``E += sigma' x1^T``; the bias pair uses
    ``q = alpha q + 1`` and ``G += sigma' q``. ``v`` and ``s`` are accepted and unused.
    """

    def __init__(self, batch: int, n_post: int, n_pre: int, vdecay: float, dtype=np.float64):
        self.alpha = np.dtype(dtype).type(vdecay)
        self.x1 = np.zeros((batch, n_pre), dtype)
        self.e = np.zeros((batch, n_post, n_pre), dtype)
        self.q = np.zeros((batch, 1), dtype)
        self.g = np.zeros((batch, n_post), dtype)

    def step(self, x: np.ndarray, v: np.ndarray, s: np.ndarray, sd: np.ndarray) -> None:
        """Advance one step; see :meth:`OnlineTraces.step` for the arguments."""
        self.x1 = self.alpha * self.x1 + x
        self.e += sd[:, :, None] * self.x1[:, None, :]
        self.q = self.alpha * self.q + 1
        self.g += sd * self.q


def presynaptic_trace(x: np.ndarray, vdecay: float) -> np.ndarray:
    """Return ``x1_t = alpha x1_{t-1} + x_t`` for every step of ``x`` of shape ``(T, ...)``."""
    alpha = x.dtype.type(vdecay)
    trace = np.empty_like(x)
    trace[0] = x[0]
    for t in range(1, x.shape[0]):
        trace[t] = alpha * trace[t - 1] + x[t]
    return trace


def reverse_sensitivity(v: np.ndarray, s: np.ndarray, sd: np.ndarray, vdecay: float) -> np.ndarray:
    """Return ``R`` of shape ``(T, batch, n)`` from the backward recursion of the fast form."""
    alpha = v.dtype.type(vdecay)
    r = np.empty_like(sd)
    r[-1] = sd[-1]
    for t in range(v.shape[0] - 2, -1, -1):
        # a_{t+1} = alpha * (1 - s_t - v_t sigma'_t)
        np.multiply(reset_factor(v[t], s[t], sd[t]), r[t + 1], out=r[t])
        r[t] *= alpha
        r[t] += sd[t]
    return r


def eligibility_fast(x: np.ndarray, v: np.ndarray, s: np.ndarray, sd: np.ndarray, vdecay: float):
    """Return the per-sample traces ``E (batch, n_post, n_pre)`` and ``G (batch, n_post)``.

    The fast form materialised per sample, for tests and analysis; training uses
    :func:`reverse_sensitivity` and one GEMM instead.
    """
    r = reverse_sensitivity(v, s, sd, vdecay)
    e = np.einsum("tbi,tbj->bij", r, x)
    g = r.sum(axis=0)
    return e, g
