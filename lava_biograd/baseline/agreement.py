r"""Agreement between the BioGrad update and the BPTT gradient on the same input spikes.

For layer ``l`` let ``a_l`` be BioGrad's weight update direction and ``g_l`` the BPTT
gradient of the mean softmax cross-entropy of the output counts, which is the loss of the
backprop baseline. Both use the same weights and the same input spikes:

.. math::

    a_l = \langle \delta^l_n \odot E^l_n \rangle_n \quad(\texttt{net.wake(x, labels).grad\_weights}),
    \qquad
    g_l = \frac{\partial}{\partial W_l} \frac{1}{N} \sum_n \mathrm{CE}(\mathrm{softmax}(c_{o,n}), y_n)

Per layer, with the arrays flattened and ``<., .>`` the Frobenius inner product,

.. math::

    \mathrm{cosine}_l = \frac{\langle a_l, g_l \rangle}{\|a_l\|_F \, \|g_l\|_F},
    \qquad
    \mathrm{norm\_ratio}_l = \frac{\|a_l\|_F}{\|g_l\|_F}

computed in float64. Only the weight matrices are compared, not the biases. A cosine of 1
means the same descent direction. BioGrad's output error ``delta^o`` is the spike-coded
average of ``softmax(c_t) - y`` over the steps ``t >= t0`` rather than ``softmax(c_T) - y``,
and its hidden errors use the fixed ``B_l`` instead of the time-resolved backward pass, so
neither number is exactly 1 in general.
"""

from __future__ import annotations

import numpy as np

from lava_biograd.baseline.bptt import bptt_cross_entropy_gradients
from lava_biograd.reference.network import BioGradNetwork


def compare_gradients(estimate, reference) -> dict:
    """Return ``{"cosine": float, "norm_ratio": float}`` of ``estimate`` against ``reference``.

    ``cosine = <a, g> / (||a|| ||g||)`` (clipped to [-1, 1] against rounding) and
    ``norm_ratio = ||a|| / ||g||``, in float64 over the flattened arrays. The cosine is NaN
    when either norm is 0, and the ratio is NaN when ``||g|| = 0``.
    """
    a = np.asarray(estimate, dtype=np.float64).ravel()
    g = np.asarray(reference, dtype=np.float64).ravel()
    if a.shape != g.shape:
        raise ValueError(
            f"estimate and reference must have the same number of entries, got {a.size} and {g.size}"
        )
    norm_a = float(np.linalg.norm(a))
    norm_g = float(np.linalg.norm(g))
    if norm_a == 0.0 or norm_g == 0.0:
        cosine = float("nan")
    else:
        cosine = float(np.clip(np.dot(a, g) / (norm_a * norm_g), -1.0, 1.0))
    ratio = norm_a / norm_g if norm_g > 0.0 else float("nan")
    return {"cosine": cosine, "norm_ratio": ratio}


def gradient_agreement(net: BioGradNetwork, x, labels, traces: str = "fast") -> dict:
    """Compare BioGrad's weight update with the BPTT gradient, layer by layer.

    Parameters
    ----------
    net : BioGradNetwork
        Neither its weights nor its feedback matrices are changed.
    x : ndarray of shape (T, batch, n_0)
        Input spikes.
    labels : ndarray of int, shape (batch,)
    traces : {'fast', 'online'}, default='fast'
        Trace form passed to :meth:`BioGradNetwork.wake`.

    Returns
    -------
    dict
        ``{l: {"cosine": float, "norm_ratio": float}}`` for ``l = 1 .. L+1``: keys
        ``1 .. L`` are the hidden layers and ``L+1`` the output layer, so key ``l`` compares
        ``net.weights[l - 1]``. ``norm_ratio = ||BioGrad|| / ||BPTT||`` (Frobenius norms);
        see :func:`compare_gradients` for the NaN cases.
    """
    if not isinstance(net, BioGradNetwork):
        raise TypeError(f"net must be a BioGradNetwork, got {type(net).__name__}")
    wake = net.wake(x, labels, traces=traces)
    _, bptt_weights, _, _ = bptt_cross_entropy_gradients(net, x, labels)
    return {
        layer: compare_gradients(estimate, reference)
        for layer, (estimate, reference) in enumerate(zip(wake.grad_weights, bptt_weights), start=1)
    }
