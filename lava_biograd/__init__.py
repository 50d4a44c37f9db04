"""BioGrad for spiking neural networks: numpy reference model and Lava Processes."""
__version__ = "0.1.0"
