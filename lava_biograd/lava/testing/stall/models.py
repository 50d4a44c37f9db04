"""Floating-point ProcessModel of :class:`Stall`."""

import signal
import time

from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_biograd.lava.testing.stall.process import Stall


@implements(proc=Stall, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyStallModel(PyLoihiProcessModel):
    """Sleep forever in ``run_spk``, or in the constructor with ``stall_in_init``."""

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        # Lava builds the model inside its own OS process, so this handler affects
        # only that process.
        if proc_params["ignore_sigterm"]:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if proc_params["stall_in_init"]:
            self._sleep_forever()

    def run_spk(self) -> None:
        self._sleep_forever()

    @staticmethod
    def _sleep_forever() -> None:
        while True:
            time.sleep(1.0)
