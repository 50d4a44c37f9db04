"""BioGrad neuron layer that sends its learning factors to a ``LearningDense`` with a three-factor rule."""

from __future__ import annotations

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.variable import Var

from lava_biograd.lava._process_support import BioGradProcess
from lava_biograd.reference.fixed.quantisation import BIAS_MANT_MAX, BIAS_MANT_MIN, TRACE_MAX, LayerFormat
from lava_biograd.validation import check_array, check_int

TRACE_BITS = 7
"""Width of the unsigned y factors that Lava's fixed-point learning engine accepts (0..127)."""


class LoihiBioGradNeuron(BioGradProcess):
    r"""A layer of integer BioGrad neurons whose post-synaptic factors feed Lava's learning engine.

    Time is cut into periods of ``P = T + gap_steps`` steps: ``T`` sample steps
    (``t = 0 .. T-1``), then ``gap_steps`` steps without input, the first of which is
    the update step (``t = T``). All state resets at ``t = 0``.

    Sample steps (integer arithmetic of :mod:`lava_biograd.reference.fixed.dynamics`):

    .. math::

        I_t &= \mathrm{wrap}_{24}(a^{in}_t \ll 6) + b_{mant} \ll e_b \\
        v_t &= \mathrm{sat}_{24}(\mathrm{decay}_0(v_{t-1} (1 - s_{t-1}), dv) + I_t), \qquad
        s_t = 1[v_t > vth], \qquad \sigma'_t = 1[|v_t - vth| < window] \\
        d_t &= \mathrm{sat}_{24}(d_{t-1} + a^{err}_t)

    ``a_in`` is the accumulated ``W_mant x`` after the connection's ``weight_exp`` shift,
    as Lava's ``Dense`` and ``LearningDense`` send it.

    Learning factors, sent every step on the ports of Lava's ``LearningNeuronProcess``:

    =================  ============================  =========================================
    port               sample step ``t < T``         update step ``t = T``
    =================  ============================  =========================================
    ``s_out_bap``      0                             1 (gates the weight rule through ``y0``)
    ``s_out_y1``       ``reset_unit`` at ``t = 0``   0
    ``s_out_y2``       0                             ``e^+ = sat_7(round(max(d, 0) g))``
    ``s_out_y3``       ``sigma_unit * sigma'_t``     ``e^- = sat_7(round(max(-d, 0) g))``
    =================  ============================  =========================================

    with the error gain ``g = gain_mantissa / 2^gain_shift`` and ``round`` a stochastic
    rounding drawn from a generator seeded with ``rng_seed`` (unbiased:
    ``E[round(z)] = z``). The later gap steps send zeros and no spikes.

    Parameters
    ----------
    shape : tuple of int
        ``(n,)``.
    layer : LayerFormat
        Integer format of the layer (decay, threshold, window, ``bias_exp``).
    sample_steps : int
        Steps ``T`` per sample.
    gap_steps : int, default=1
        Steps between two samples; at least 1, because the first one is the update step.
    bias_mant : ndarray of int, shape (n,), optional
        13-bit bias mantissas; zero by default.
    gain_mantissa, gain_shift : int
        Error gain ``g = gain_mantissa / 2^gain_shift`` from the integer dendrite to the
        7-bit error factors.
    sigma_unit : int, default=8
        ``y3`` value of ``sigma' = 1`` (1..127).
    reset_unit : int, default=32
        ``y1`` value at the first step of a sample (1..127).
    rng_seed : int, default=0
        Seed of the stochastic rounding of the error factors.
    n_samples : int, default=1
        Samples in the run; the export is written at the end of the last one.
    record : bool, default=False
        Keep ``v, s, sd, dendrite, y1, y2, y3, bap`` of every step in the export.
    export_path : str, optional
        ``.npz`` file the model writes at the end of the last sample.
    name : str, optional

    Attributes
    ----------
    a_in, a_err : InPort of shape (n,)
    s_out, s_out_bap, s_out_y1, s_out_y2, s_out_y3 : OutPort of shape (n,)
    v, s, sd, dendrite : Var of shape (n,)
    """

    def __init__(self, *, shape, layer: LayerFormat, sample_steps: int, gap_steps: int = 1, bias_mant=None,
                 gain_mantissa: int, gain_shift: int, sigma_unit: int = 8, reset_unit: int = 32, rng_seed: int = 0,
                 n_samples: int = 1, record: bool = False, export_path: str | None = None,
                 name: str | None = None) -> None:
        shape = tuple(check_int(f"shape[{i}]", n, minimum=1) for i, n in enumerate(shape))
        if len(shape) != 1:
            raise ValueError(f"neuron shape must be (n,), got {shape}")
        if not isinstance(layer, LayerFormat):
            raise TypeError(f"layer must be a LayerFormat, got {type(layer).__name__}")
        if bias_mant is None:
            bias_mant = np.zeros(shape, np.int64)
        bias_mant = check_array("bias_mant", bias_mant, shape=shape)
        if not np.issubdtype(bias_mant.dtype, np.integer):
            raise TypeError(f"bias_mant must contain integers, got dtype {bias_mant.dtype}; use quantise_bias")
        if bias_mant.size and (bias_mant.min() < BIAS_MANT_MIN or bias_mant.max() > BIAS_MANT_MAX):
            raise ValueError(f"bias_mant must lie in [{BIAS_MANT_MIN}, {BIAS_MANT_MAX}], got values in "
                             f"[{bias_mant.min()}, {bias_mant.max()}]; use quantise_bias")
        super().__init__(
            shape=shape, layer=layer, sample_steps=check_int("sample_steps", sample_steps, minimum=1),
            gap_steps=check_int("gap_steps", gap_steps, minimum=1), bias_mant=bias_mant.astype(np.int64),
            gain_mantissa=check_int("gain_mantissa", gain_mantissa, minimum=1, maximum=1 << 30),
            gain_shift=check_int("gain_shift", gain_shift, minimum=0, maximum=62),
            sigma_unit=check_int("sigma_unit", sigma_unit, minimum=1, maximum=TRACE_MAX),
            reset_unit=check_int("reset_unit", reset_unit, minimum=1, maximum=TRACE_MAX),
            rng_seed=check_int("rng_seed", rng_seed, minimum=0), n_samples=check_int("n_samples", n_samples, minimum=1),
            record=bool(record), export_path=export_path, name=name)
        self.a_in = InPort(shape=shape)
        self.a_err = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.s_out_bap = OutPort(shape=shape)
        self.s_out_y1 = OutPort(shape=shape)
        self.s_out_y2 = OutPort(shape=shape)
        self.s_out_y3 = OutPort(shape=shape)
        self.v = Var(shape=shape, init=0)
        self.s = Var(shape=shape, init=0)
        self.sd = Var(shape=shape, init=0)
        self.dendrite = Var(shape=shape, init=0)
