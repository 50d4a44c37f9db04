"""Glue between :class:`~lava_biograd.reference.fixed.FixedBioGradNetwork` and the ``fixed_pt`` Lava graph.

The graph builder takes the integer parameters and per-Process settings from here. After
a run it folds the models' exports (learned mantissas, the advanced rounding streams)
back into the fixed network, so a sequence of Lava runs continues one rounding stream
per layer exactly as the simulator does.

This module sits beside the component folders, not inside one, because Lava executes
every module in a Process's folder while it searches for ProcessModels.
"""

from __future__ import annotations

from lava_biograd.reference.fixed import FixedBioGradNetwork
from lava_biograd.reference.fixed.arithmetic import as_int
from lava_biograd.reference.fixed.learning import FixedDenseSpec, restore_generator_state


def dense_spec(fixed: FixedBioGradNetwork, index: int, learning: bool, lr: float) -> FixedDenseSpec:
    """Return the settings of the ``BioGradDense`` of layer ``index`` (with learning rate ``lr`` when learning)."""
    fmt = fixed.fmt
    return FixedDenseSpec(
        layer=fmt.layers[index], scale_exp=fmt.scale_exp, trace_approximation=fmt.trace_approximation,
        learning_scale=fixed.learning_scales(lr)[index] if learning else None,
        rng=fixed.rounding[index] if learning else None,
    )


def absorb_dense_export(fixed: FixedBioGradNetwork, index: int, data: dict) -> None:
    """Copy the learned mantissas and the rounding stream's state of layer ``index`` into ``fixed``."""
    fixed.weights[index] = as_int(data["weights"]).copy()
    fixed.biases[index] = as_int(data["bias"]).copy()
    restore_generator_state(fixed.rounding[index], str(data["rng_state"]))

