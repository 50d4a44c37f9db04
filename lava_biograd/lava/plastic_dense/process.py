"""Plastic dense connection with per-synapse eligibility traces and the BioGrad update."""

from __future__ import annotations

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.variable import Var

from lava_biograd.lava._process_support import BioGradProcess
from lava_biograd.reference.fixed.learning import FixedDenseSpec
from lava_biograd.validation import check_array, check_dtype, check_float, check_int


class BioGradDense(BioGradProcess):
    r"""Dense connection ``W, b`` from a presynaptic to a postsynaptic layer, with BioGrad learning.

    **Spiking.** The connection delays by one step, as Lava's ``Dense`` and hardware do:
    at step ``t`` of a sample it sends ``a_out = W x_{t-1} + b`` (with ``x_{-1} = 0``, so
    spikes in flight at a sample boundary are dropped) and then receives ``x_t`` on
    ``s_in``. The postsynaptic layer therefore receives the presynaptic train delayed by one
    step, ``pre_t = x_{t-1}``.

    **Traces** (``learning=True``). After sending, the model receives the postsynaptic
    ``[v_t, s_t, sigma'_t, d_t]`` on ``post_in`` and advances, per synapse ``i <- j``,

    .. math::

        \tilde P_{ij} = \alpha P_{ij} + pre_{j,t}, \quad E_{ij} \mathrel{+}= \sigma'_{i,t} \tilde P_{ij},
        \quad P_{ij} = \tilde P_{ij} (1 - s_{i,t} - v_{i,t}\sigma'_{i,t})

    and the bias traces ``Q, G`` with ``pre = 1``. All traces reset at the first step of
    each sample.

    **Update.** At the last step of every sample, with ``delta = d_{T-1} / K``:
    ``W <- W - lr * delta E`` and ``b <- b - lr * delta G`` (one sample's online update;
    the batch-mean update of the reference with batch size 1).

    Parameters
    ----------
    weights : ndarray of shape (n_out, n_in)
    bias : ndarray of shape (n_out,)
    sample_steps : int
        Steps ``T`` per sample.
    batch : int, optional
        Leading batch dimension of the ports (batched inference in the sleep phase).
    learning : bool
        Keep traces and apply the update; needs ``post_in`` connected.
    lr : float
        Learning rate of the per-sample update.
    vdecay : float
        Voltage decay ``alpha`` of the postsynaptic neurons (enters the trace decay).
    n_error_steps : int
        ``K = T - t0``, the number of steps the dendrite integrates error.
    dtype : {'float64', 'float32'}
    record : bool
        Keep ``E`` and ``G`` after every step (small networks only).
    export_path, export_every, n_samples
        Bulk export of ``W`` and ``b`` (and records) to an ``.npz`` file at the end of
        samples; see :class:`lava_biograd.lava._model_support.SampleExport`.
    fixed : FixedDenseSpec, optional
        Integer settings; needed by the ``fixed_pt`` model only, which then reads
        ``weights`` and ``bias`` as integer mantissas and ignores ``lr``, ``vdecay`` and
        ``dtype``.
    name : str, optional

    Attributes
    ----------
    s_in : InPort of shape ``(n_in,)`` or ``(batch, n_in)``
    a_out : OutPort of shape ``(n_out,)`` or ``(batch, n_out)``
    post_in : InPort of shape ``(4, n_out)``
    weights : Var of shape (n_out, n_in)
    bias : Var of shape (n_out,)
    """

    def __init__(self, *, weights, bias, sample_steps: int, batch: int | None = None, learning: bool = False,
                 lr: float = 0.0, vdecay: float = 0.0, n_error_steps: int = 1, dtype="float64", record: bool = False,
                 export_path: str | None = None, export_every: int = 0, n_samples: int = 1,
                 fixed: FixedDenseSpec | None = None, name: str | None = None) -> None:
        weights = check_array("weights", weights, ndim=2)
        n_out, n_in = weights.shape
        bias = check_array("bias", bias, shape=(n_out,))
        for label, array in (("weights", weights), ("bias", bias)):
            if not np.all(np.isfinite(array)):
                raise ValueError(f"{label} contain NaN or infinite values")
        if batch is not None:
            batch = check_int("batch", batch, minimum=1)
        if learning and batch is not None:
            raise ValueError("learning=True supports unbatched ports only; leave batch=None for online learning")
        lr = check_float("lr", lr, minimum=0.0)
        if learning and lr == 0:
            raise ValueError("learning=True needs lr > 0")
        if fixed is not None:
            if not isinstance(fixed, FixedDenseSpec):
                raise TypeError(f"fixed must be a FixedDenseSpec or None, got {type(fixed).__name__}")
            if learning and (fixed.learning_scale is None or fixed.rng is None):
                raise ValueError("learning=True with a FixedDenseSpec needs its learning_scale and rng")
        super().__init__(
            shape=(n_out, n_in), batch=batch, sample_steps=check_int("sample_steps", sample_steps, minimum=1),
            learning=bool(learning), lr=lr, vdecay=check_float("vdecay", vdecay, minimum=0.0, maximum=1.0),
            n_error_steps=check_int("n_error_steps", n_error_steps, minimum=1), dtype=check_dtype("dtype", dtype).name,
            record=bool(record), export_path=export_path,
            export_every=check_int("export_every", export_every, minimum=0),
            n_samples=check_int("n_samples", n_samples, minimum=1), fixed=fixed, name=name,
        )
        lead = () if batch is None else (batch,)
        self.s_in = InPort(shape=(*lead, n_in))
        self.a_out = OutPort(shape=(*lead, n_out))
        self.post_in = InPort(shape=(4, n_out))
        self.weights = Var(shape=(n_out, n_in), init=weights)
        self.bias = Var(shape=(n_out,), init=bias)
