"""Accumulator Process: sums its input over time steps."""
