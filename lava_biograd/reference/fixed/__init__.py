"""Loihi-constrained fixed-point BioGrad: integer format, step functions and a batched simulator.

The simulator (:class:`FixedBioGradNetwork`) and the ``fixed_pt`` ProcessModels of
:mod:`lava_biograd.lava` share the step functions of :mod:`.dynamics` and :mod:`.learning`,
so with batch size 1 they compute the same integers.
"""

from lava_biograd.reference.fixed.network import FixedBioGradNetwork, FixedWakeResult
from lava_biograd.reference.fixed.quantisation import FixedPointFormat, LayerFormat, choose_format

__all__ = ["FixedBioGradNetwork", "FixedPointFormat", "FixedWakeResult", "LayerFormat", "choose_format"]
