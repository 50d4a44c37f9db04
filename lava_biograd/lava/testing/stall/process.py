"""Stall: a Process whose model never finishes its first time step."""

from __future__ import annotations

from lava_biograd.lava._process_support import BioGradProcess


class Stall(BioGradProcess):
    """Block forever in the spiking phase of time step 1, or in the model constructor.

    A graph that contains this Process never completes a ``run``; with
    ``stall_in_init=True`` its runtime never finishes starting. With
    ``ignore_sigterm=True`` the model process also ignores ``SIGTERM``, so only
    ``SIGKILL`` ends it.

    Parameters
    ----------
    ignore_sigterm : bool
        Make the model process ignore ``SIGTERM``.
    stall_in_init : bool
        Block in the model constructor, while Lava starts the runtime.
    name : str, optional
        Process name shown in error reports.
    """

    def __init__(
        self, *, ignore_sigterm: bool = False, stall_in_init: bool = False, name: str | None = None
    ) -> None:
        flags = {"ignore_sigterm": ignore_sigterm, "stall_in_init": stall_in_init}
        for flag_name, flag in flags.items():
            if not isinstance(flag, bool):
                raise TypeError(f"{flag_name} must be True or False, got {flag!r}")
        super().__init__(ignore_sigterm=ignore_sigterm, stall_in_init=stall_in_init, name=name)
