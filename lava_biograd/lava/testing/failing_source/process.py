"""Failing source: a Process whose model fails on purpose."""

from __future__ import annotations

import numpy as np
from lava.magma.core.process.ports.ports import OutPort
from lava.magma.core.process.variable import Var

from lava_biograd.lava._process_support import BioGradProcess
from lava_biograd.validation import check_choice, check_int

FAILURE_MODES = ("raise", "raise_unpicklable", "exit", "raise_in_init")
"""Values accepted by the ``mode`` argument of :class:`FailingSource`."""

EXIT_CODE = 3
"""Exit status of the model's OS process in ``mode="exit"``."""


class FailingSource(BioGradProcess):
    """Send zeros on ``s_out`` and fail at time step ``fail_step``.

    The failure happens in the spiking phase before the model sends, so a connected
    consumer waits forever for that step's input. ``mode`` selects the failure:

    ``"raise"``
        Raise ``ValueError(message)``.
    ``"raise_unpicklable"``
        Raise ``UnpicklableError`` (defined in ``models.py``): it pickles, but its
        constructor signature makes unpickling fail in the parent interpreter.
    ``"exit"``
        End the model's OS process with ``os._exit(EXIT_CODE)``, like a crash: no
        exception and no traceback reach Lava.
    ``"raise_in_init"``
        Raise ``ValueError(message)`` in the model constructor, while Lava builds the
        runtime; ``fail_step`` is then unused.

    Parameters
    ----------
    size : int
        Number of elements of ``s_out``, at least 1.
    fail_step : int
        Time step (counted from 1) at which the spiking phase fails.
    message : str
        Message of the exception.
    mode : str
        One of ``FAILURE_MODES``.
    name : str, optional
        Process name shown in error reports.

    Attributes
    ----------
    s_out : OutPort of shape (size,)
    steps : Var of shape (1,)
        Number of completed time steps.
    """

    def __init__(
        self,
        *,
        size: int = 1,
        fail_step: int = 1,
        message: str = "failure requested by FailingSource",
        mode: str = "raise",
        name: str | None = None,
    ) -> None:
        size = check_int("size", size, minimum=1)
        fail_step = check_int("fail_step", fail_step, minimum=1)
        if not isinstance(message, str):
            raise TypeError(f"message must be a str, got {message!r}")
        mode = check_choice("mode", mode, FAILURE_MODES)
        super().__init__(size=size, fail_step=fail_step, message=message, mode=mode, name=name)
        self.s_out = OutPort(shape=(size,))
        self.steps = Var(shape=(1,), init=np.zeros(1, dtype=int))
