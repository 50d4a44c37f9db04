"""Failing source Process: fails on purpose at a chosen time step or in its model constructor."""
