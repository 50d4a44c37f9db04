"""Base class of the Processes of this package.

This module sits beside the component folders, not inside one, because Lava executes
every module in a Process's folder while it searches for ProcessModels.
"""

from __future__ import annotations

from lava.magma.core.process.process import AbstractProcess


class BioGradProcess(AbstractProcess):
    """An ``AbstractProcess`` whose constructor may reject its arguments before Lava's set-up.

    The Processes of this package check their arguments before they call
    ``AbstractProcess.__init__``, so that a bad value fails fast with a clear message.
    Lava 0.10's ``AbstractProcess.__del__`` calls ``stop()``, which reads attributes that
    only ``__init__`` creates, so without this guard every rejected argument would also
    print an ``Exception ignored in __del__`` traceback.
    """

    def __del__(self):
        if "_runtime" in self.__dict__:
            super().__del__()
