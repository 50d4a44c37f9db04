"""Multi-compartment BioGrad neuron layer: LIF soma, pseudo-derivative and dendritic error compartment."""

from __future__ import annotations

from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.variable import Var

from lava_biograd.lava._process_support import BioGradProcess
from lava_biograd.reference.fixed.quantisation import LayerFormat
from lava_biograd.reference.params import NeuronParams
from lava_biograd.validation import check_dtype, check_int


class BioGradNeuron(BioGradProcess):
    r"""A layer of BioGrad neurons with a somatic and a dendritic compartment.

    Per time step ``t`` of a sample (all state is zero at ``t = 0``):

    .. math::

        v_t &= \alpha\, v_{t-1} (1 - s_{t-1}) + a^{in}_t, \qquad s_t = H(v_t - \theta) \\
        \sigma'_t &= A \cdot 1[|v_t - \theta| < w] \\
        d_t &= d_{t-1} + a^{err}_t

    ``a_in`` carries the synaptic current ``W s^{pre} + b`` from a :class:`BioGradDense`.
    ``a_err`` carries the error spikes of the feedback pathway. They reach the dendrite ``d``
    only, never the soma. ``v`` is the pre-reset voltage.

    Order inside a step: receive ``a_in``, update the soma, send ``s_out``; then receive
    ``a_err``, update the dendrite and send ``post_out`` = ``[v, s, sigma', d]`` to the
    incoming plastic connection, which needs them for its eligibility traces and update.
    Sending the spikes before waiting for the error lets the error pathway run within the
    same step without a deadlock.

    Parameters
    ----------
    shape : tuple of int
        ``(n,)``, or ``(batch, n)`` for batched inference (the sleep phase).
    neuron : NeuronParams
    sample_steps : int
        Steps ``T`` per sample; the state resets at the first step of every sample.
    dtype : {'float64', 'float32'}
        Arithmetic precision of the model (messages are float64 either way).
    record : bool
        Keep ``v, s, sigma', d`` of every step (for equivalence tests); they are written
        to ``export_path`` together with the final state.
    export_path : str, optional
        ``.npz`` file the model writes at the end of exported samples.
    export_every, n_samples : int
        See :class:`lava_biograd.lava._model_support.SampleExport`.
    fixed : LayerFormat, optional
        Integer format of the layer; needed by the ``fixed_pt`` model only, which
        replaces ``neuron`` by it.
    name : str, optional

    Attributes
    ----------
    a_in, a_err : InPort of shape ``shape``
    s_out : OutPort of shape ``shape``
    post_out : OutPort of shape ``(4, *shape)``
    v, s, sd, dendrite : Var of shape ``shape``
    """

    def __init__(self, *, shape, neuron: NeuronParams, sample_steps: int, dtype="float64", record: bool = False,
                 export_path: str | None = None, export_every: int = 0, n_samples: int = 1,
                 fixed: LayerFormat | None = None, name: str | None = None) -> None:
        shape = tuple(check_int(f"shape[{i}]", n, minimum=1) for i, n in enumerate(shape))
        if len(shape) not in (1, 2):
            raise ValueError(f"neuron shape must be (n,) or (batch, n), got {shape}")
        if not isinstance(neuron, NeuronParams):
            raise TypeError(f"neuron must be a NeuronParams, got {type(neuron).__name__}")
        sample_steps = check_int("sample_steps", sample_steps, minimum=1)
        dtype = check_dtype("dtype", dtype).name
        if fixed is not None and not isinstance(fixed, LayerFormat):
            raise TypeError(f"fixed must be a LayerFormat or None, got {type(fixed).__name__}")
        super().__init__(shape=shape, neuron=neuron, sample_steps=sample_steps, dtype=dtype, record=bool(record),
                         export_path=export_path, export_every=check_int("export_every", export_every, minimum=0),
                         n_samples=check_int("n_samples", n_samples, minimum=1), fixed=fixed, name=name)
        self.a_in = InPort(shape=shape)
        self.a_err = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.post_out = OutPort(shape=(4, *shape))
        self.v = Var(shape=shape, init=0)
        self.s = Var(shape=shape, init=0)
        self.sd = Var(shape=shape, init=0)
        self.dendrite = Var(shape=shape, init=0)
