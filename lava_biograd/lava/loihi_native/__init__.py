"""Lava Process and ProcessModel of the BioGrad neuron that drives Lava's own learning engine."""
