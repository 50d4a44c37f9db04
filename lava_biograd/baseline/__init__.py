"""Backprop baseline: BPTT through the reference LIF dynamics, Adam, and gradient agreement."""

from lava_biograd.baseline.adam import Adam
from lava_biograd.baseline.agreement import compare_gradients, gradient_agreement
from lava_biograd.baseline.bptt import (
    bptt_backward,
    bptt_cross_entropy_gradients,
    bptt_gradients,
    bptt_step,
    lif_forward,
    softmax_cross_entropy,
)

__all__ = [
    "Adam",
    "bptt_backward",
    "bptt_cross_entropy_gradients",
    "bptt_gradients",
    "bptt_step",
    "compare_gradients",
    "gradient_agreement",
    "lif_forward",
    "softmax_cross_entropy",
]
