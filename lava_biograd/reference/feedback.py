r"""Direct feedback matrices ``B_l``: initialisation and alignment metrics.

Every hidden layer ``l = 1..L`` receives the output error through its own matrix
``B_l`` of shape ``(n_l, n_o)``. Its target is the transpose of the product of the
downstream forward weights (no nonlinearity),

.. math::

    M_L = W_o, \qquad M_l = M_{l+1} W_{l+1}, \qquad M_l = W_o W_L \cdots W_{l+1},

and alignment is measured per layer by

.. math::

    \mathrm{angle}_l = \frac{180}{\pi} \arccos
        \frac{\langle \mathrm{vec}(B_l), \mathrm{vec}(M_l^\top)\rangle}{\|B_l\|_F \|M_l\|_F},
    \qquad \mathrm{ratio}_l = \frac{\|B_l\|_F}{\|M_l\|_F}.
"""

from __future__ import annotations

import numpy as np


def downstream_products(weights: list) -> list:
    """Return ``[M_1, ..., M_L]`` for forward weights ``[W_1, ..., W_L, W_o]``."""
    products = []
    m = weights[-1]
    for w in reversed(weights[1:-1]):
        products.append(m)
        m = m @ w
    products.append(m)
    products.reverse()
    return products


def init_feedback_product(weights: list) -> list:
    """Return ``B_l = M_l^T`` for every hidden layer (angle 0, ratio 1 at the start)."""
    return [np.ascontiguousarray(m.T) for m in downstream_products(weights)]


def init_feedback_random(weights: list, rng: np.random.Generator) -> list:
    """Return random ``B_l`` with i.i.d. uniform entries, scaled to ``||B_l||_F = ||M_l||_F``.

    The direction is random (angle near 90 degrees) and only the norm is taken from the
    forward weights, so the sleep phase has to find the direction on its own.
    """
    feedback = []
    for m in downstream_products(weights):
        b = rng.uniform(-1.0, 1.0, size=m.T.shape).astype(m.dtype)
        b *= np.linalg.norm(m) / max(np.linalg.norm(b), np.finfo(m.dtype).tiny)
        feedback.append(b)
    return feedback


def alignment(weights: list, feedback: list) -> dict:
    """Return ``{l: (angle_deg, ratio)}`` for every hidden layer ``l = 1..L``."""
    result = {}
    for layer, (m, b) in enumerate(zip(downstream_products(weights), feedback), start=1):
        mt = m.T.astype(np.float64)
        b = b.astype(np.float64)
        norm_m = np.linalg.norm(mt)
        norm_b = np.linalg.norm(b)
        if norm_m == 0 or norm_b == 0:
            result[layer] = (float("nan"), float(norm_b / norm_m) if norm_m else float("nan"))
            continue
        cosine = float(np.clip(np.sum(b * mt) / (norm_b * norm_m), -1.0, 1.0))
        result[layer] = (float(np.degrees(np.arccos(cosine))), float(norm_b / norm_m))
    return result
