"""Float numpy reference model of BioGrad: the oracle for equivalence tests and the batched trainer."""

from lava_biograd.reference.network import BioGradNetwork, WakeResult, init_forward_weights
from lava_biograd.reference.params import NetworkConfig, NeuronParams, SleepParams

__all__ = [
    "BioGradNetwork",
    "NetworkConfig",
    "NeuronParams",
    "SleepParams",
    "WakeResult",
    "init_forward_weights",
]
