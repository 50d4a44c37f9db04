"""Sleep-phase plasticity of one feedback matrix ``B_l`` with an Oja-type rule."""

from __future__ import annotations

import numpy as np
from lava.magma.core.process.ports.ports import InPort
from lava.magma.core.process.variable import Var

from lava_biograd.lava._process_support import BioGradProcess
from lava_biograd.reference.params import SleepParams
from lava_biograd.validation import check_array, check_dtype


class OjaFeedback(BioGradProcess):
    r"""Learn ``B_l`` from the signed noise of hidden layer ``l`` and the output spikes it causes.

    During one sleep episode of ``T_s`` steps with ``N_s`` parallel samples the model
    sums the noise ``h = sum_t (xi^+_t - xi^-_t)`` (port ``noise_in``) and the output counts
    ``c = sum_t s^o_t`` (port ``s_in``). At the last step it applies

    .. math::

        B_l \leftarrow B_l + \eta_s \left[\sum_n h_n c_n^\top - B_l\,\mathrm{diag}\big(\langle c_n^{\circ p}\rangle_n\big)\right]

    (the Hebbian sum divided by ``N_s`` under ``reduction='mean'``) and writes ``B_l`` to
    ``export_path``.

    Parameters
    ----------
    weights : ndarray of shape (n_hidden, n_out)
        ``B_l`` before the episode.
    sleep : SleepParams
    dtype : {'float64', 'float32'}
    export_path : str, optional
    name : str, optional

    Attributes
    ----------
    noise_in : InPort of shape (N_s, n_hidden)
    s_in : InPort of shape (N_s, n_out)
    weights : Var of shape (n_hidden, n_out)
    """

    def __init__(self, *, weights, sleep: SleepParams, dtype="float64", export_path: str | None = None,
                 name: str | None = None) -> None:
        weights = check_array("feedback weights", weights, ndim=2)
        if not isinstance(sleep, SleepParams):
            raise TypeError(f"sleep must be a SleepParams, got {type(sleep).__name__}")
        if not np.all(np.isfinite(weights)):
            raise ValueError("feedback weights contain NaN or infinite values")
        super().__init__(shape=weights.shape, sleep=sleep, dtype=check_dtype("dtype", dtype).name,
                         export_path=export_path, name=name)
        n_hidden, n_out = weights.shape
        self.noise_in = InPort(shape=(sleep.n_samples, n_hidden))
        self.s_in = InPort(shape=(sleep.n_samples, n_out))
        self.weights = Var(shape=weights.shape, init=weights)
