"""Tiny Lava Processes that the tests of :mod:`lava_biograd.lava.runner` build graphs from.

Each Process lives in its own package folder that contains only ``process.py`` (the
Process) and ``models.py`` (its ``floating_pt`` ProcessModel). Lava 0.10 finds
ProcessModels by executing every ``.py`` file in the folder of the module that defines
the Process, so these folders must never hold scripts or tests.

``ramp_source.process.RampSource``
    Sends ``slope * t`` on every element at time step ``t`` (``t = 1, 2, ...``).
``accumulator.process.Accumulator``
    Adds its input to ``total`` and counts ``steps`` on every time step.
``failing_source.process.FailingSource``
    Sends zeros, then raises an exception or ends its OS process at a chosen time step,
    or raises in its model constructor.
``stall.process.Stall``
    Blocks forever in its first spiking phase or its model constructor, optionally
    ignoring ``SIGTERM``.
``relay.process.RecvFirstRelay``
    Receives before it sends, so two relays wired in a ring deadlock on the first step.

This package imports nothing at import time, so importing it does not import Lava.
"""
