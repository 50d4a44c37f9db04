"""Direct feedback connection ``B_l`` from the error neurons to a hidden layer's dendrites."""

from __future__ import annotations

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.variable import Var

from lava_biograd.lava._process_support import BioGradProcess
from lava_biograd.validation import check_array


class FeedbackDense(BioGradProcess):
    """Send ``a_out = B z_t`` for the signed error spikes ``z_t = z^+_t - z^-_t`` of the same step.

    The feedback pathway has no delay (receive first, then send), so the hidden
    dendrites integrate exactly the ``K = T - t0`` error steps of the sample. ``B`` is
    fixed while awake; the sleep phase (:class:`OjaFeedback`) learns it.

    Parameters
    ----------
    weights : ndarray of shape (n_hidden, n_out)
        ``B_l``.
    name : str, optional

    Attributes
    ----------
    z_in : InPort of shape (n_out,)
    a_out : OutPort of shape (n_hidden,)
    weights : Var of shape (n_hidden, n_out)
    """

    def __init__(self, *, weights, name: str | None = None) -> None:
        weights = check_array("feedback weights", weights, ndim=2)
        if not np.all(np.isfinite(weights)):
            raise ValueError("feedback weights contain NaN or infinite values")
        super().__init__(shape=weights.shape, name=name)
        n_hidden, n_out = weights.shape
        self.z_in = InPort(shape=(n_out,))
        self.a_out = OutPort(shape=(n_hidden,))
        self.weights = Var(shape=weights.shape, init=weights)
