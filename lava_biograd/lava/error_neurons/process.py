"""Pair of integrate-and-fire error interneurons per class that spike-code the output error."""

from __future__ import annotations

from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.variable import Var

from lava_biograd.lava._process_support import BioGradProcess
from lava_biograd.reference.fixed.quantisation import FixedPointFormat
from lava_biograd.validation import check_int


class ErrorNeuronPair(BioGradProcess):
    r"""Positive and negative error neurons for each of ``n`` classes.

    .. math::

        u^+_t = u^+_{t-1} - z^+_{t-1} + e_t, \quad z^+_t = H(u^+_t - 1), \qquad
        u^-_t = u^-_{t-1} - z^-_{t-1} - e_t, \quad z^-_t = H(u^-_t - 1)

    No leak, threshold 1 (strict), reset by subtraction one step after a spike, no lower
    bound on ``u``. The model sends the signed spikes ``z^+_t - z^-_t`` on ``z_out`` in the
    step they occur (receive first, then send). State resets at the first step of every
    sample.

    Parameters
    ----------
    n : int
        Number of classes.
    sample_steps : int
    fixed : FixedPointFormat, optional
        Network format; needed by the ``fixed_pt`` model only (it reads ``error_scale``).
    name : str, optional

    Attributes
    ----------
    e_in : InPort of shape (n,)
    z_out : OutPort of shape (n,)
    u_pos, u_neg, z_pos, z_neg : Var of shape (n,)
    """

    def __init__(self, *, n: int, sample_steps: int, fixed: FixedPointFormat | None = None,
                 name: str | None = None) -> None:
        n = check_int("n", n, minimum=1)
        if fixed is not None and not isinstance(fixed, FixedPointFormat):
            raise TypeError(f"fixed must be a FixedPointFormat or None, got {type(fixed).__name__}")
        super().__init__(n=n, sample_steps=check_int("sample_steps", sample_steps, minimum=1), fixed=fixed,
                         name=name)
        self.e_in = InPort(shape=(n,))
        self.z_out = OutPort(shape=(n,))
        self.u_pos = Var(shape=(n,), init=0)
        self.u_neg = Var(shape=(n,), init=0)
        self.z_pos = Var(shape=(n,), init=0)
        self.z_neg = Var(shape=(n,), init=0)
