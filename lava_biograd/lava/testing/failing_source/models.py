"""Floating-point ProcessModel of :class:`FailingSource`."""

import os

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_biograd.lava.testing.failing_source.process import EXIT_CODE, FailingSource


class UnpicklableError(RuntimeError):
    """Exception that pickles but cannot be unpickled.

    ``pickle`` rebuilds an exception as ``cls(*self.args)``. ``args`` contains only the
    formatted message, so the rebuild misses ``step`` and raises ``TypeError``.
    """

    def __init__(self, message: str, step: int) -> None:
        super().__init__(f"{message} (time step {step})")


@implements(proc=FailingSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyFailingSourceModel(PyLoihiProcessModel):
    """Send zeros until ``fail_step``, then fail as ``mode`` selects."""

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    steps: np.ndarray = LavaPyType(np.ndarray, int)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self.fail_step = proc_params["fail_step"]
        self.message = proc_params["message"]
        self.mode = proc_params["mode"]
        if self.mode == "raise_in_init":
            raise ValueError(self.message)

    def run_spk(self) -> None:
        if self.time_step == self.fail_step:
            if self.mode == "raise":
                raise ValueError(self.message)
            if self.mode == "raise_unpicklable":
                raise UnpicklableError(self.message, self.time_step)
            if self.mode == "exit":
                os._exit(EXIT_CODE)
        self.s_out.send(np.zeros(self.s_out.shape))
        self.steps += 1
