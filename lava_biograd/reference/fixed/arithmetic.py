r"""Integer primitives of the fixed-point BioGrad model, with their bit widths and rounding.

Every function takes and returns ``int64`` arrays (wide enough for every intermediate
product below) and states its rounding rule:

=============================  ==============================================  =====================
function                       operation                                       rounding
=============================  ==============================================  =====================
:func:`decay_toward_zero`      ``x (4096 - d) / 4096``                         toward zero
:func:`decay_round_half_up`    ``x (4096 - d) / 4096``                         half up (to +inf)
:func:`shift_floor`            ``x 2^e`` for an integer ``e``                  floor when ``e < 0``
:func:`shift_round_half_up`    ``x / 2^k``                                     half up (to +inf)
:func:`stochastic_divide`      ``num / den``                                   stochastic, unbiased
:func:`exact_matmul`           integer matrix product through BLAS             exact (bounds checked)
:func:`wrap_current`           24-bit wrap of the synaptic current ``u``       none (modular)
:func:`saturate`               clip to ``[lo, hi]``                            none
=============================  ==============================================  =====================

:func:`decay_toward_zero`, :func:`shift_floor` and :func:`wrap_current` reproduce the
arithmetic of Lava 0.10's bit-accurate ``LIF`` and ``Dense`` models
(``lava.proc.lif.models.AbstractPyLifModelFixed``, ``lava.proc.dense.models``).
"""

from __future__ import annotations

import numpy as np

from lava_biograd.validation import check_int

DECAY_SHIFT = 12
"""Decays are 12-bit fractions ``d / 4096``."""

DECAY_UNITY = 1 << DECAY_SHIFT

STATE_BITS = 24
"""Width of the signed neuron states ``u``, ``v``, the dendrite and the error neurons."""

STATE_MAX = (1 << (STATE_BITS - 1)) - 1
"""Saturation bound ``2^23 - 1`` of a 24-bit signed state (Lava saturates ``v`` at ``+-(2^23 - 1)``)."""

_FLOAT32_EXACT = 1 << 24
_FLOAT64_EXACT = 1 << 53


def as_int(x) -> np.ndarray:
    """Return ``x`` as an ``int64`` array (no copy when it already is one)."""
    return np.asarray(x, dtype=np.int64)


def saturate(x, lo: int, hi: int) -> np.ndarray:
    """Clip ``x`` to ``[lo, hi]``."""
    return np.clip(as_int(x), lo, hi)


def decay_toward_zero(x, decay: int) -> np.ndarray:
    r"""Return ``sign(x) * ((|x| (4096 - decay)) >> 12)``: the decay of Lava's fixed LIF.

    The product is rounded toward zero (sign-magnitude), so a positive and a negative
    voltage of the same magnitude decay symmetrically, and ``|x|`` never grows.
    """
    product = as_int(x) * (DECAY_UNITY - decay)
    return np.sign(product) * (np.abs(product) >> DECAY_SHIFT)


def decay_round_half_up(x, decay: int) -> np.ndarray:
    r"""Return ``floor((x (4096 - decay) + 2048) / 4096)``: the decay rounded half up."""
    return (as_int(x) * (DECAY_UNITY - decay) + (DECAY_UNITY >> 1)) >> DECAY_SHIFT


def shift_floor(x, exponent: int) -> np.ndarray:
    """Return ``x << exponent``, or ``x >> -exponent`` (floor) for a negative exponent, as Lava's ``Dense``."""
    x = as_int(x)
    return np.left_shift(x, exponent) if exponent >= 0 else np.right_shift(x, -exponent)


def shift_round_half_up(x, shift: int) -> np.ndarray:
    """Return ``floor((x + 2^(shift-1)) / 2^shift)``, the quotient ``x / 2^shift`` rounded half up."""
    if shift <= 0:
        return np.left_shift(as_int(x), -shift)
    return (as_int(x) + (1 << (shift - 1))) >> shift


def wrap_current(u) -> np.ndarray:
    """Wrap the synaptic current into 24 bits the way Lava's fixed LIF wraps ``u``.

    Lava 0.10 subtracts ``2^24`` from values above ``2^23`` and adds ``2^24`` to values at
    or below ``-2^23`` (a single wrap, so ``+2^23`` itself passes unchanged).
    """
    u = as_int(u)
    period = 1 << STATE_BITS
    half = 1 << (STATE_BITS - 1)
    wrapped = np.where(u > half, u - period, u)
    return np.where(wrapped <= -half, u + period, wrapped)


def stochastic_divide(numerator, denominator: int, rng: np.random.Generator) -> np.ndarray:
    r"""Return ``numerator / denominator`` rounded stochastically to an integer.

    .. math::

        q = \lfloor n / D \rfloor + 1[\,U < n - D \lfloor n / D \rfloor\,], \qquad
        U \sim \mathrm{Uniform}\{0, \dots, D - 1\}

    so ``E[q] = n / D`` exactly, for either sign of ``n``. One draw
    ``rng.integers(0, D, size=numerator.shape)`` is made per call, also where the
    remainder is zero, so the stream advances by a shape-determined amount.

    Parameters
    ----------
    numerator : array_like of int
    denominator : int
        ``D >= 1``.
    rng : numpy.random.Generator
    """
    denominator = check_int("denominator", denominator, minimum=1)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    numerator = as_int(numerator)
    quotient, remainder = np.divmod(numerator, denominator)
    draw = rng.integers(0, denominator, size=numerator.shape, dtype=np.int64)
    return quotient + (draw < remainder)


def round_half_up(x) -> np.ndarray:
    """Return ``floor(x + 0.5)`` of a float array as ``int64`` (the converter's rounding rule)."""
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5).astype(np.int64)


def exact_matmul(left, right_t) -> np.ndarray:
    """Return ``left @ right_t.T`` of integer-valued arrays exactly, as ``int64``.

    Uses float32 or float64 BLAS when ``sum_k |left_ik| |right_jk|`` is bounded below
    ``2^24`` or ``2^53`` (so every partial sum is exact), else an ``int64`` product.
    """
    left_peak = float(np.abs(left).max()) if left.size else 0.0
    right_peak = float(np.abs(right_t).max()) if right_t.size else 0.0
    bound = left_peak * right_peak * left.shape[-1]
    if bound < _FLOAT32_EXACT:
        product = np.asarray(left, np.float32) @ np.asarray(right_t, np.float32).T
    elif bound < _FLOAT64_EXACT:
        product = np.asarray(left, np.float64) @ np.asarray(right_t, np.float64).T
    else:
        return as_int(left) @ as_int(right_t).T
    return product.astype(np.int64)
