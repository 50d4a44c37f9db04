"""Parameter records of the BioGrad network.

One record per concept, frozen and validated at construction:

========================  ==========  =======================================  ========
code name                 symbol      meaning                                  default
========================  ==========  =======================================  ========
``NeuronParams.vdecay``   alpha       multiplicative voltage decay per step    0.3
``NeuronParams.vth``      theta       firing threshold (spike if v > theta)    0.3
``NeuronParams.grad_win`` w           half-width of the rectangular window     0.3
``NeuronParams.grad_amp`` A           amplitude of the pseudo-derivative       1.0
``SleepParams.n_samples`` N_s         sleep samples per episode                128
``SleepParams.n_steps``   T_s         time steps per sleep sample              50
``SleepParams.lr``        eta_s       sleep learning rate                      1e-4/3
``SleepParams.oja_power`` p           power of the output count in the decay   2
========================  ==========  =======================================  ========

The defaults are those of the BioGrad authors' N-MNIST run script (Tang et al. 2021,
arXiv:2110.14092); their MNIST neuron parameters are not published.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from lava_biograd.validation import check_choice, check_float, check_int, check_layer_sizes


@dataclass(frozen=True)
class NeuronParams:
    """Somatic LIF and pseudo-derivative parameters of one layer.

    Parameters
    ----------
    vdecay : float, default=0.3
        Voltage decay ``alpha`` in [0, 1]: ``v_t = alpha * v_{t-1} * (1 - s_{t-1}) + I_t``.
    vth : float, default=0.3
        Threshold ``theta`` > 0: ``s_t = 1`` if ``v_t > theta``.
    grad_win : float, default=0.3
        Half-width ``w`` > 0 of the pseudo-derivative window.
    grad_amp : float, default=1.0
        Amplitude ``A`` > 0: ``sigma'(v) = A * 1[|v - theta| < w]``.
    """

    vdecay: float = 0.3
    vth: float = 0.3
    grad_win: float = 0.3
    grad_amp: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "vdecay", check_float("vdecay", self.vdecay, minimum=0.0, maximum=1.0))
        object.__setattr__(self, "vth", check_float("vth", self.vth, minimum=0.0, min_open=True))
        object.__setattr__(self, "grad_win", check_float("grad_win", self.grad_win, minimum=0.0, min_open=True))
        object.__setattr__(self, "grad_amp", check_float("grad_amp", self.grad_amp, minimum=0.0, min_open=True))


@dataclass(frozen=True)
class SleepParams:
    """Sleep-phase settings (spike-based weight mirror with an Oja-type decay).

    Parameters
    ----------
    n_samples : int, default=128
        Sleep samples ``N_s`` simulated in parallel per episode.
    n_steps : int, default=50
        Time steps ``T_s`` per sleep sample.
    lr : float, default=1e-4/3
        Sleep learning rate ``eta_s`` > 0.
    oja_power : float, default=2.0
        Power ``p`` of the output count in the decay term.
    reduction : {'sum', 'mean'}, default='sum'
        How the Hebbian term ``h c^T`` is reduced over the sleep samples. The authors' code
        sums it (so the fixed point of ``B`` grows with ``N_s``) while the decay term always
        uses the mean over samples.
    """

    n_samples: int = 128
    n_steps: int = 50
    lr: float = 1e-4 / 3
    oja_power: float = 2.0
    reduction: str = "sum"

    def __post_init__(self):
        object.__setattr__(self, "n_samples", check_int("sleep n_samples", self.n_samples, minimum=1))
        object.__setattr__(self, "n_steps", check_int("sleep n_steps", self.n_steps, minimum=1))
        object.__setattr__(self, "lr", check_float("sleep lr", self.lr, minimum=0.0, min_open=True))
        object.__setattr__(self, "oja_power", check_float("oja_power", self.oja_power, minimum=0.0))
        check_choice("sleep reduction", self.reduction, ("sum", "mean"))


TIMINGS = ("same_step", "delayed")
FEEDBACK_INITS = ("product", "random")


@dataclass(frozen=True)
class NetworkConfig:
    """Architecture and time settings of a BioGrad network.

    Parameters
    ----------
    sizes : tuple of int
        Layer sizes ``(n_0, n_1, ..., n_L, n_o)``: input, hidden layers, output.
    n_steps : int
        Time steps ``T`` per sample.
    error_start : int
        First time step ``t0`` (0-based) at which the output error is computed and sent;
        the error is averaged over ``K = T - t0`` steps. Must satisfy ``0 <= t0 < T``.
    neuron : NeuronParams or tuple of NeuronParams
        One record for all layers, or one per non-input layer.
    timing : {'same_step', 'delayed'}, default='same_step'
        ``'same_step'``: layer ``l`` receives the spikes that layer ``l-1`` emits in the same
        step, as in the authors' code. ``'delayed'``: every feed-forward connection delays
        spikes by one step, as Lava's ``Dense`` and neuromorphic hardware do, so layer
        ``l`` at step ``t`` receives ``s^{l-1}_{t-1}`` (and the first layer ``x_{t-1}``).
    """

    sizes: tuple
    n_steps: int = 20
    error_start: int = 5
    neuron: object = field(default_factory=NeuronParams)
    timing: str = "same_step"

    def __post_init__(self):
        sizes = check_layer_sizes("layer sizes", self.sizes)
        object.__setattr__(self, "sizes", sizes)
        n_steps = check_int("T (n_steps)", self.n_steps, minimum=1)
        object.__setattr__(self, "n_steps", n_steps)
        t0 = check_int("t0 (error_start)", self.error_start, minimum=0)
        if t0 >= n_steps:
            raise ValueError(
                f"t0 (error_start) must be smaller than T (n_steps) so that the error is "
                f"sent on at least one step, got t0={t0} and T={n_steps}"
            )
        object.__setattr__(self, "error_start", t0)
        neuron = self.neuron
        if isinstance(neuron, NeuronParams):
            neuron = (neuron,) * (len(sizes) - 1)
        elif isinstance(neuron, dict):
            neuron = (NeuronParams(**neuron),) * (len(sizes) - 1)
        else:
            neuron = tuple(n if isinstance(n, NeuronParams) else NeuronParams(**n) for n in neuron)
            if len(neuron) != len(sizes) - 1:
                raise ValueError(
                    f"neuron must be one NeuronParams or one per non-input layer "
                    f"({len(sizes) - 1} for sizes {sizes}), got {len(neuron)}"
                )
        object.__setattr__(self, "neuron", neuron)
        check_choice("timing", self.timing, TIMINGS)

    @property
    def n_layers(self) -> int:
        """Number of weight layers (hidden layers plus the output layer)."""
        return len(self.sizes) - 1

    @property
    def n_hidden(self) -> int:
        """Number of hidden layers ``L``."""
        return len(self.sizes) - 2

    @property
    def n_error_steps(self) -> int:
        """Number of error steps ``K = T - t0``."""
        return self.n_steps - self.error_start

    def to_dict(self) -> dict:
        """Return a JSON-serialisable description."""
        return {
            "sizes": list(self.sizes),
            "n_steps": self.n_steps,
            "error_start": self.error_start,
            "neuron": [asdict(n) for n in self.neuron],
            "timing": self.timing,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "NetworkConfig":
        """Build a config from :meth:`to_dict` output."""
        return cls(
            sizes=tuple(data["sizes"]),
            n_steps=data["n_steps"],
            error_start=data["error_start"],
            neuron=tuple(NeuronParams(**n) for n in data["neuron"]),
            timing=data.get("timing", "same_step"),
        )
