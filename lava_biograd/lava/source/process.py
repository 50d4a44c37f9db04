"""Spike source that streams samples from an array handed over at build time."""

from __future__ import annotations

import numpy as np
from lava.magma.core.process.ports.ports import OutPort

from lava_biograd.lava._process_support import BioGradProcess
from lava_biograd.validation import check_array


class SpikeSource(BioGradProcess):
    """Send ``data[k, t]`` on ``s_out`` at step ``t`` of sample ``k``, then zeros after the last sample.

    The whole dataset travels to the model once, when the graph is built, so no
    ``Var.set`` per sample is needed. Values are sent as graded floats, so the source also
    streams signed noise (the sleep phase sends ``xi^+ - xi^-``).

    Parameters
    ----------
    data : ndarray of shape (n_samples, T, *shape)
        Spikes (or graded values) per sample and step.
    name : str, optional

    Attributes
    ----------
    s_out : OutPort of shape ``shape``
    """

    def __init__(self, *, data, name: str | None = None) -> None:
        data = check_array("source data", data)
        if data.ndim < 3:
            raise ValueError(
                f"source data must have shape (n_samples, T, n) or (n_samples, T, batch, n), got {data.shape}"
            )
        if not np.all(np.isfinite(data)):
            raise ValueError("source data contains NaN or infinite values")
        super().__init__(data=data, name=name)
        self.s_out = OutPort(shape=data.shape[2:])

    @property
    def n_samples(self) -> int:
        """Number of samples in the stream."""
        return self.proc_params["data"].shape[0]

    @property
    def sample_steps(self) -> int:
        """Time steps per sample ``T``."""
        return self.proc_params["data"].shape[1]
