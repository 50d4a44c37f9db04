"""Stall Process: blocks forever in its first spiking phase or its model constructor."""
