"""Lava side of lava_biograd: Processes, ProcessModels and the run helper.

Every Lava run goes through :mod:`lava_biograd.lava.runner` (``LavaSession`` and
``run_lava``), which bounds each call with a timeout, turns ProcessModel exceptions into
``LavaRunError`` with the original traceback, and always leaves no Lava OS process behind.

This package imports nothing at import time; import the submodules you need.
"""
