r"""Rate coding of static inputs as Bernoulli spike trains.

Each input with intensity :math:`q \in [0, 1]` spikes independently at every time step
with probability :math:`q`:

.. math::

    x_{t,n,i} = [\, u_{t,n,i} < q_{n,i} \,], \qquad u_{t,n,i} \sim \mathcal{U}[0, 1)

for steps :math:`t`, samples :math:`n` and inputs :math:`i`. This is the usual "Poisson"
rate code of spiking-network MNIST experiments in discrete time: the expected spike count
over :math:`T` steps is :math:`T q`.
"""

from __future__ import annotations

import numpy as np

from lava_biograd.validation import check_array, check_dtype, check_int


def check_generator(rng) -> np.random.Generator:
    """Return ``rng`` if it is a ``numpy.random.Generator``, else raise ``TypeError``."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator, for example np.random.default_rng(seed), "
            f"got {type(rng).__name__}"
        )
    return rng


def bernoulli_encode(intensities, n_steps: int, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    r"""Draw Bernoulli spike trains with per-step spike probability equal to the intensity.

    Parameters
    ----------
    intensities : array_like of shape (batch, n_inputs)
        Spike probabilities :math:`q` per step, each in [0, 1].
    n_steps : int
        Number of time steps :math:`T`, at least 1.
    rng : numpy.random.Generator
        Source of the uniform draws. Every call advances it, so repeated calls give fresh
        spike trains.
    dtype : {float32, float64}, default=float32
        dtype of the returned spikes.

    Returns
    -------
    ndarray of shape (n_steps, batch, n_inputs)
        Spikes, 0 or 1.

    Notes
    -----
    Draw order: one call ``rng.random((n_steps, batch, n_inputs), dtype=np.float32)``
    fills the uniforms :math:`u` in C order (step, then sample, then input), and
    :math:`x = [u < q]` with :math:`q` rounded to float32. The same generator state and the
    same intensities therefore give the same spikes, and a sample's spikes depend on its
    position in the batch. ``q = 0`` never spikes and ``q = 1`` always spikes. Because
    :math:`u` lies on the grid :math:`k / 2^{24}`, the spike probability differs from
    :math:`q` by less than :math:`2^{-24}`.
    """
    q = check_array("intensities", intensities, ndim=2)
    if not (np.issubdtype(q.dtype, np.floating) or np.issubdtype(q.dtype, np.integer) or q.dtype == bool):
        raise TypeError(f"intensities must be a real-valued array, got dtype {q.dtype}")
    n_steps = check_int("n_steps", n_steps, minimum=1)
    rng = check_generator(rng)
    dtype = check_dtype("dtype", dtype)

    # NaN fails both comparisons, so it is reported as out of range too.
    if q.size and not (q.min() >= 0 and q.max() <= 1):
        raise ValueError(
            f"intensities must lie in [0, 1], got values in [{q.min()}, {q.max()}]. "
            "Scale pixel values by 1/255 first."
        )
    q = q.astype(np.float32, copy=False)

    uniforms = rng.random((n_steps, *q.shape), dtype=np.float32)
    # The comparison writes 0.0/1.0 into the buffer of the uniforms, which saves one
    # allocation of the full spike array per call.
    spikes = np.less(uniforms, q, out=uniforms)
    return spikes if dtype == np.float32 else spikes.astype(dtype)
