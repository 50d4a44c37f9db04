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

    ``P`` and ``E`` stay exactly zero in a presynaptic column until that neuron spikes. With
    one sample (``batch=1``, as in the Lava models) the arrays therefore store only the
    columns that have spiked, as a block in the order of their first spike that grows by
    doubling, and a step touches that block only. With the Bernoulli-coded MNIST training
    images and T=20, the expected number of input columns that spike within a sample is 144
    of 784 (mean over the first 10,000 images). Every stored value goes through the same
    operations as in a full array, so the results are identical. A batch of several samples
    soon spikes in nearly every column, so it stores all columns from the start.

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
        self.shape = (batch, n_post, n_pre)
        # Column c of the block is presynaptic neuron _columns[c], and the first _n_active are in use.
        self._identity = batch > 1
        self._columns = np.arange(n_pre) if self._identity else np.empty(n_pre, np.int64)
        self._seen = np.full(n_pre, self._identity)
        self._n_active = n_pre if self._identity else 0
        # The state is P-tilde of the last step plus that step's post factor, so one step is a
        # single pass over the synapses: P-tilde_t = (alpha * factor_{t-1}) P-tilde_{t-1} + x_t.
        width = self._n_active
        self._p_tilde = np.zeros((batch, n_post, width), dtype)
        self._e = np.zeros((batch, n_post, width), dtype)
        self._scratch = np.zeros((batch, n_post, width), dtype)
        self._factor = np.zeros((batch, n_post), dtype)
        self.q = np.zeros((batch, n_post), dtype)
        self.g = np.zeros((batch, n_post), dtype)

    @property
    def columns(self) -> np.ndarray:
        """Presynaptic indices of the stored columns, in block order."""
        return self._columns[:self._n_active]

    def _full(self, block: np.ndarray) -> np.ndarray:
        if self._identity:
            return block
        out = np.zeros(self.shape, block.dtype)
        out[:, :, self.columns] = block[:, :, :self._n_active]
        return out

    @property
    def e(self) -> np.ndarray:
        """``E`` of shape ``(batch, n_post, n_pre)``, zero in the columns that never spiked."""
        return self._full(self._e)

    @property
    def e_active(self) -> np.ndarray:
        """``E`` of the stored columns only, shape ``(batch, n_post, len(columns))`` (a view)."""
        return self._e[:, :, :self._n_active]

    @property
    def p(self) -> np.ndarray:
        """``P`` after the last step: ``P-tilde`` times the post factor ``1 - s - v sigma'``."""
        return self._full(self._p_tilde * self._factor[:, :, None])

    def step(self, x: np.ndarray, v: np.ndarray, s: np.ndarray, sd: np.ndarray) -> None:
        """Advance one step with presynaptic spikes ``x (batch, n_pre)`` and the post neuron's
        pre-reset voltage ``v``, spikes ``s`` and pseudo-derivative ``sd`` (``(batch, n_post)``)."""
        new = () if self._identity else np.flatnonzero(np.any(x != 0, axis=0) & ~self._seen)
        if len(new):
            self._seen[new] = True
            self._columns[self._n_active:self._n_active + new.size] = new
            self._n_active += new.size
            if self._n_active > self._e.shape[2]:
                self._grow()
        k = self._n_active
        if k == 0:  # Nothing has spiked, so P and E are still zero.
            self._factor = reset_factor(v, s, sd)
            self._step_bias(sd)
            return
        # In place on the block, because the full arrays hold batch * n_post * n_pre values.
        p_tilde = self._p_tilde[:, :, :k]
        p_tilde *= (self.alpha * self._factor)[:, :, None]
        p_tilde += x[:, None, :] if self._identity else x[:, None, self.columns]
        if np.any(sd):  # E only changes where sigma' != 0
            scratch = self._scratch[:, :, :k]
            np.multiply(p_tilde, sd[:, :, None], out=scratch)
            self._e[:, :, :k] += scratch
        self._factor = reset_factor(v, s, sd)
        self._step_bias(sd)

    def _grow(self) -> None:
        capacity = min(self.shape[2], max(2 * self._e.shape[2], self._n_active, 32))
        for name in ("_p_tilde", "_e", "_scratch"):
            old = getattr(self, name)
            block = np.zeros(self.shape[:2] + (capacity,), old.dtype)
            block[:, :, :old.shape[2]] = old
            setattr(self, name, block)

    def _step_bias(self, sd: np.ndarray) -> None:
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
