"""Ramp source Process: sends ``slope * t`` at time step ``t``."""
