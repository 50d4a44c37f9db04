"""Error source: softmax of the cumulative output spike counts minus the one-hot label."""

from __future__ import annotations

from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.variable import Var

from lava_biograd.lava._process_support import BioGradProcess
from lava_biograd.reference.fixed.quantisation import FixedPointFormat
from lava_biograd.validation import check_choice, check_int, check_labels

OUTPUTS = ("current", "spikes")


class ErrorSource(BioGradProcess):
    r"""Compute the output error of every step from the output spikes.

    At step ``t`` of sample ``k`` the model receives the output spikes ``s^o_t``, updates
    the cumulative count ``c_t = sum_{tau <= t} s^o_tau`` and computes the error current

    .. math::

        e_t = \mathrm{softmax}(c_t) - y_k \quad (t \ge t_0), \qquad e_t = 0 \quad (t < t_0)

    with ``y_k`` the one-hot label of sample ``k``. The softmax is a non-spiking host
    computation; on a chip it would run on an embedded processor. It receives before it
    sends, so it adds no delay.

    With ``output='current'`` the model sends ``e_t``, the input of an
    :class:`~lava_biograd.lava.error_neurons.process.ErrorNeuronPair`. With
    ``output='spikes'`` it also runs that pair itself and sends its signed spikes
    ``z^+_t - z^-_t``: the same numbers, one Lava process fewer per step, which is how the
    network builder wires it.

    The model keeps the final counts of every sample and, with ``export_path``, writes them
    after the last sample, so a learning graph needs no separate
    :class:`~lava_biograd.lava.counter.process.SpikeCounter`.

    Parameters
    ----------
    labels : ndarray of int, shape (n_samples,)
    n_classes : int
    sample_steps : int
        Steps ``T`` per sample.
    error_start : int
        First error step ``t0``, ``0 <= t0 < T``.
    output : {'current', 'spikes'}
        What ``e_out`` carries: ``e_t``, or the error neuron pair's ``z^+_t - z^-_t``.
    export_path : str, optional
        ``.npz`` file with ``counts`` of shape (n_samples, n_classes), written after the
        last sample.
    fixed : FixedPointFormat, optional
        Network format; needed by the ``fixed_pt`` model only (it reads ``error_scale``).
    name : str, optional

    Attributes
    ----------
    s_in : InPort of shape (n_classes,)
    e_out : OutPort of shape (n_classes,)
    counts : Var of shape (n_classes,), the counts of the current sample
    u_pos, u_neg, z_pos, z_neg : Var of shape (n_classes,)
        State of the error neuron pair (``output='spikes'`` only; zero otherwise).
    """

    def __init__(self, *, labels, n_classes: int, sample_steps: int, error_start: int, output: str = "current",
                 export_path: str | None = None, fixed: FixedPointFormat | None = None,
                 name: str | None = None):
        n_classes = check_int("n_classes", n_classes, minimum=1)
        labels = check_labels(labels, n_classes)
        if labels.size == 0:
            raise ValueError("labels must contain at least one label, one per sample; got an empty array")
        sample_steps = check_int("sample_steps", sample_steps, minimum=1)
        error_start = check_int("error_start", error_start, minimum=0)
        if error_start >= sample_steps:
            raise ValueError(f"error_start (t0) must be smaller than sample_steps (T), got {error_start} and {sample_steps}")
        output = check_choice("output", output, OUTPUTS)
        if fixed is not None and not isinstance(fixed, FixedPointFormat):
            raise TypeError(f"fixed must be a FixedPointFormat or None, got {type(fixed).__name__}")
        super().__init__(labels=labels, n_classes=n_classes, sample_steps=sample_steps, error_start=error_start,
                         output=output, export_path=export_path, fixed=fixed, name=name)
        self.s_in = InPort(shape=(n_classes,))
        self.e_out = OutPort(shape=(n_classes,))
        self.counts = Var(shape=(n_classes,), init=0)
        self.u_pos = Var(shape=(n_classes,), init=0)
        self.u_neg = Var(shape=(n_classes,), init=0)
        self.z_pos = Var(shape=(n_classes,), init=0)
        self.z_neg = Var(shape=(n_classes,), init=0)
