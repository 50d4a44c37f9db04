r"""Integer weight and bias updates of the fixed-point BioGrad network.

The float update ``W <- W - eta <delta E>_n`` with ``delta = d / K`` becomes, per layer, an
integer product and one stochastic rounding:

.. math::

    \Delta k_{ij} = \mathrm{round}_{stoch}\Big(-\lambda_W \frac{1}{N} \sum_n d_{n,i} E_{n,ij}\Big),
    \qquad
    \lambda_W = \frac{\eta\, A\, u_B\, S}{K \cdot \mathrm{impulse} \cdot 2^{7 + e_W}}

where ``k = W_mant / 2`` is the 8-bit weight step, ``d`` the integer dendrite, ``E`` the
integer tag, ``A`` the pseudo-derivative amplitude, ``u_B`` the float value of one
feedback unit (1 for the output layer, ``2^feedback_exp`` for a hidden layer) and
``K = T - t0``. So ``delta = d / K`` is the fixed-point value ``d`` with the implicit
scale ``u_B / K``, folded into ``lambda``. Biases use ``lambda_b`` with ``2^e_b`` in place
of ``2^(7 + e_W)`` and their own 13-bit mantissa.

``lambda`` is held as a 15-bit mantissa and a shift (relative error below ``2^-15``).
The division by ``N 2^shift`` is rounded stochastically with a seeded generator, once
per weight and batch; with ``N = 1`` this is exactly the per-sample online update. The
result saturates to ``k in [-128, 127]`` and ``bias_mant in [-4096, 4095]``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from lava_biograd.reference.fixed.arithmetic import as_int, stochastic_divide
from lava_biograd.reference.fixed.quantisation import (
    BIAS_MANT_MAX,
    BIAS_MANT_MIN,
    TRACE_APPROXIMATIONS,
    VTH_SHIFT,
    WEIGHT_STEP_MAX,
    WEIGHT_STEP_MIN,
    LayerFormat,
    fixed_point_multiplier,
)
from lava_biograd.validation import check_choice, check_int

MULTIPLIER_BITS = 15
_INT64_LIMIT = 1 << 62  # margin below 2^63 for the product with the multiplier


@dataclass(frozen=True)
class LearningScale:
    """Fixed-point learning-rate multipliers ``(mantissa, shift)`` of one layer.

    ``lambda ~ mantissa / 2^shift``; ``shift`` may be negative.
    """

    weight: tuple
    bias: tuple


@dataclass(frozen=True)
class FixedDenseSpec:
    """Integer settings of a :class:`~lava_biograd.lava.plastic_dense.process.BioGradDense` for ``fixed_pt``.

    Parameters
    ----------
    layer : LayerFormat
        Format of the connection and of its postsynaptic layer.
    scale_exp : int
        Voltage scale ``S = 2^scale_exp``.
    trace_approximation : {'presynaptic', 'exact'}
    learning_scale : LearningScale, optional
        Learning-rate multipliers; needed when learning.
    rng : numpy.random.Generator, optional
        Stream of the stochastic rounding of the updates; needed when learning. The model
        works on its own copy and exports that copy's final state.
    """

    layer: LayerFormat
    scale_exp: int
    trace_approximation: str = "presynaptic"
    learning_scale: LearningScale | None = None
    rng: np.random.Generator | None = None

    def __post_init__(self):
        if not isinstance(self.layer, LayerFormat):
            raise TypeError(f"layer must be a LayerFormat, got {type(self.layer).__name__}")
        check_int("scale_exp", self.scale_exp, minimum=0)
        check_choice("trace_approximation", self.trace_approximation, TRACE_APPROXIMATIONS)
        if self.learning_scale is not None and not isinstance(self.learning_scale, LearningScale):
            raise TypeError(f"learning_scale must be a LearningScale, got {type(self.learning_scale).__name__}")
        if self.rng is not None and not isinstance(self.rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(self.rng).__name__}")


def learning_scale(lr: float, layer: LayerFormat, scale_exp: int, n_error_steps: int,
                   feedback_exp: int | None) -> LearningScale:
    """Return ``lambda_W`` and ``lambda_b`` of one layer (see the module docstring).

    ``feedback_exp`` is ``None`` for the output layer (identity feedback, ``u_B = 1``).
    """
    unit = 1.0 if feedback_exp is None else float(2.0 ** feedback_exp)
    common = lr * layer.grad_amp * unit * float(1 << scale_exp) / (n_error_steps * layer.trace_impulse)
    weight = common / 2.0 ** (VTH_SHIFT + 1 + layer.weight_exp)
    bias = common / 2.0 ** layer.bias_exp
    return LearningScale(weight=fixed_point_multiplier(weight, MULTIPLIER_BITS),
                         bias=fixed_point_multiplier(bias, MULTIPLIER_BITS))


def rounded_update(products, multiplier: tuple, batch: int, rng: np.random.Generator) -> np.ndarray:
    """Return ``round_stoch(-products * mantissa / (batch * 2^shift))``.

    Parameters
    ----------
    products : ndarray of int
        ``sum_n d_n E_n`` (or ``sum_n d_n G_n``), exact integers.
    multiplier : tuple of int
        ``(mantissa, shift)`` from :func:`learning_scale`.
    batch : int
        Number of samples ``N`` in ``products``.
    rng : numpy.random.Generator
        Stream of the stochastic rounding; one draw per element.
    """
    mantissa, shift = multiplier
    numerator_scale = mantissa << max(-shift, 0)
    denominator = batch << max(shift, 0)
    products = as_int(products)
    peak = int(np.abs(products).max()) if products.size else 0
    if peak * numerator_scale >= _INT64_LIMIT:
        raise OverflowError(
            f"the update product {peak} x {numerator_scale} overflows int64; lower the learning rate"
        )
    return stochastic_divide(-products * numerator_scale, denominator, rng)


def update_weights(weight_mant, products, multiplier: tuple, batch: int, rng: np.random.Generator) -> np.ndarray:
    """Return the even mantissas ``2 clip(W_mant / 2 + dk, -128, 127)`` after one update."""
    step = as_int(weight_mant) // 2
    step = np.clip(step + rounded_update(products, multiplier, batch, rng), WEIGHT_STEP_MIN, WEIGHT_STEP_MAX)
    return 2 * step


def update_bias(bias_mant, products, multiplier: tuple, batch: int, rng: np.random.Generator) -> np.ndarray:
    """Return ``clip(bias_mant + db, -4096, 4095)`` after one update."""
    return np.clip(as_int(bias_mant) + rounded_update(products, multiplier, batch, rng), BIAS_MANT_MIN, BIAS_MANT_MAX)


def clone_generator(rng: np.random.Generator) -> np.random.Generator:
    """Return an independent generator that continues the stream of ``rng`` from its current state."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    clone = np.random.Generator(type(rng.bit_generator)())
    clone.bit_generator.state = rng.bit_generator.state
    return clone


def generator_state_json(rng: np.random.Generator) -> str:
    """Return the bit-generator state of ``rng`` as JSON (how a ProcessModel hands it to the host)."""
    return json.dumps(rng.bit_generator.state)


def restore_generator_state(rng: np.random.Generator, state_json: str) -> None:
    """Set ``rng`` to a state written by :func:`generator_state_json`."""
    state = json.loads(state_json)
    if state.get("bit_generator") != type(rng.bit_generator).__name__:
        raise ValueError(f"the saved state is of a {state.get('bit_generator')} generator, "
                         f"not of this {type(rng.bit_generator).__name__}")
    rng.bit_generator.state = state
