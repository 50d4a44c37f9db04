r"""Batched fixed-point simulator of the BioGrad network, bit-identical to the ``fixed_pt`` Lava graph.

Timing is that of the Lava graph (the reference model's ``timing='delayed'``): every
feed-forward connection delays by one step, and the error pathway acts within the step.
The integer arithmetic is that of :mod:`~lava_biograd.reference.fixed.dynamics` and
:mod:`~lava_biograd.reference.fixed.learning`.

Speed. ``wake`` runs layer by layer over the whole sample, as the float reference's
fast form does. Integer matrix products run as float32 or float64 BLAS products. This is
exact because every operand and every partial sum is an integer below ``2^24``
(float32) or ``2^53`` (float64).
:func:`~lava_biograd.reference.fixed.arithmetic.exact_matmul` checks the bound and falls
back to an ``int64`` product when it does not hold. With ``'presynaptic'`` traces the
batch update ``sum_n d_n E_n = sum_{n,t} (d_n sigma'_{n,t}) x1_{n,t}^T`` is one GEMM over
batch and time. ``'exact'`` traces keep per-synapse state of shape ``(batch, n_post,
n_pre)``: they are meant for small networks (35 against 3,000 samples/s for 784-100-10).
``wake(..., record=True)`` runs the step-by-step online form instead (the order of the
Lava graph) and records every state. Both forms give identical integers.

Measured on one core of an AMD EPYC (numpy 1.26, OpenBLAS, one thread): 784-500-10,
``T = 20``, batch 128, ``'presynaptic'`` traces, wake + update + one sleep episode per
batch: about 830 samples/s, so about a minute per 50,000-image MNIST epoch.

Sleep. The forward dynamics of the sleep phase are the integer ones. The Oja update of
``B_l`` runs in float64 on a float master copy. The wake-phase feedback pathway then
uses its 8-bit quantisation
(:func:`~lava_biograd.reference.fixed.quantisation.quantise_feedback`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from lava_biograd.reference.feedback import alignment
from lava_biograd.reference.fixed.arithmetic import STATE_MAX, as_int, exact_matmul
from lava_biograd.reference.fixed.dynamics import (
    FixedTraces,
    bias_trace_sequence,
    dendrite_step,
    error_current_int,
    error_neuron_step_int,
    presynaptic_trace_run,
    pseudo_derivative,
    soma_run,
    soma_step,
    synaptic_current,
)
from lava_biograd.reference.fixed.learning import clone_generator, learning_scale, update_bias, update_weights
from lava_biograd.reference.fixed.quantisation import (
    BIAS_MANT_MAX,
    BIAS_MANT_MIN,
    TAG_MAX,
    TRACE_MAX,
    FixedPointFormat,
    LayerFormat,
    choose_format,
    dequantise_bias,
    dequantise_weights,
    quantise_bias,
    quantise_feedback,
    quantise_weights,
)
from lava_biograd.reference.network import BioGradNetwork
from lava_biograd.reference.params import NetworkConfig, SleepParams
from lava_biograd.reference.sleep import delay_one_step, draw_sleep_noise, oja_update
from lava_biograd.validation import check_array, check_choice, check_float

@dataclass
class FixedWakeResult:
    """Outcome of one fixed-point wake pass over a batch.

    Attributes
    ----------
    weight_products, bias_products : list of ndarray of int64
        ``sum_n d_n E_n`` and ``sum_n d_n G_n`` per layer (hidden layers first).
    batch : int
        Number of samples ``N``.
    counts : ndarray of shape (batch, n_o)
        Output spike counts.
    predictions : ndarray of shape (batch,)
        First index of the maximal count.
    dendrites : list of ndarray of shape (batch, n_l)
        Integer dendrites ``d`` at the end of the sample.
    record : dict or None
        Per-step states of the online form (``record=True``).
    """

    weight_products: list
    bias_products: list
    batch: int
    counts: np.ndarray
    predictions: np.ndarray
    dendrites: list
    record: dict | None = None


class FixedBioGradNetwork:
    """BioGrad network in Loihi-constrained integer arithmetic (see the module docstring).

    Parameters
    ----------
    config : NetworkConfig
        Architecture and time settings; the timing is always ``'delayed'``.
    fmt : FixedPointFormat
    weights : list of ndarray of int
        Even 8-bit mantissas ``W_mant`` per layer, shape ``(n_out, n_in)``.
    biases : list of ndarray of int
        13-bit bias mantissas per layer.
    feedback : list of ndarray of float
        Float master copies of ``B_l`` (quantised for the wake phase).
    rounding_rng : numpy.random.Generator
        Parent of one child generator per layer (``rounding_rng.spawn``) that draws the
        stochastic rounding of that layer's updates.

    Attributes
    ----------
    feedback_mant, feedback_exp : list
        Quantised feedback ``B_l ~ feedback_mant[l] 2^feedback_exp[l]`` used while awake.
    rounding : list of numpy.random.Generator
        Per-layer rounding streams.
    dtype : numpy.dtype
        float32: the dtype of the 0/1 input arrays that the data encoders produce for this
        model (the model itself computes in integers).
    """

    def __init__(self, config: NetworkConfig, fmt: FixedPointFormat, weights, biases, feedback,
                 rounding_rng: np.random.Generator):
        if not isinstance(config, NetworkConfig):
            raise TypeError(f"config must be a NetworkConfig, got {type(config).__name__}")
        if not isinstance(fmt, FixedPointFormat):
            raise TypeError(f"fmt must be a FixedPointFormat, got {type(fmt).__name__}")
        if not isinstance(rounding_rng, np.random.Generator):
            raise TypeError(f"rounding_rng must be a numpy.random.Generator, got {type(rounding_rng).__name__}; "
                            "pass numpy.random.default_rng(seed)")
        if len(fmt.layers) != config.n_layers:
            raise ValueError(f"fmt has {len(fmt.layers)} layers, the network {config.n_layers}")
        if config.n_steps * TRACE_MAX > TAG_MAX:
            raise ValueError(f"T={config.n_steps} steps can saturate the 16-bit tags; use T <= {TAG_MAX // TRACE_MAX}")
        n_out = config.sizes[-1]
        if config.n_error_steps * n_out * 256 > STATE_MAX:
            raise ValueError(f"K={config.n_error_steps} error steps with {n_out} classes can saturate the 24-bit "
                             "dendrites; shorten the error window")
        self.config = replace(config, timing="delayed")
        self.fmt = fmt
        self.dtype = np.dtype(np.float32)
        sizes = config.sizes
        self.weights, self.biases = [], []
        for i, (n_in, n_o) in enumerate(zip(sizes[:-1], sizes[1:])):
            w = as_int(check_array(f"weights[{i}]", weights[i], shape=(n_o, n_in))).copy()
            if np.any(w % 2) or w.min(initial=0) < -256 or w.max(initial=0) > 254:
                raise ValueError(f"weights[{i}] must be even mantissas in [-256, 254]; use quantise_weights")
            b = as_int(check_array(f"biases[{i}]", biases[i], shape=(n_o,))).copy()
            if b.min(initial=0) < BIAS_MANT_MIN or b.max(initial=0) > BIAS_MANT_MAX:
                raise ValueError(f"biases[{i}] must lie in [{BIAS_MANT_MIN}, {BIAS_MANT_MAX}]; use quantise_bias")
            self.weights.append(w)
            self.biases.append(b)
        self.feedback = [np.array(check_array(f"feedback[{i}]", f, shape=(n, n_out)), dtype=np.float64)
                         for i, (f, n) in enumerate(zip(feedback, sizes[1:-1]))]
        if len(self.feedback) != config.n_hidden:
            raise ValueError(f"need {config.n_hidden} feedback matrices, got {len(self.feedback)}")
        self.feedback_mant, self.feedback_exp = [], []
        self.requantise_feedback()
        self.rounding = rounding_rng.spawn(config.n_layers)

    # ----------------------------------------------------------------- conversion
    @classmethod
    def from_float(cls, net: BioGradNetwork, rounding_rng: np.random.Generator, fmt: FixedPointFormat | None = None,
                   **format_options) -> "FixedBioGradNetwork":
        """Quantise a float network; ``fmt`` defaults to :func:`choose_format` with ``format_options``."""
        if not isinstance(net, BioGradNetwork):
            raise TypeError(f"net must be a BioGradNetwork, got {type(net).__name__}")
        if fmt is None:
            fmt = choose_format(net.config, net.weights, net.biases, **format_options)
        elif format_options:
            raise ValueError(f"give either fmt or format options, not both (got {sorted(format_options)})")
        weights = [quantise_weights(w, layer, fmt.scale_exp) for w, layer in zip(net.weights, fmt.layers)]
        biases = [quantise_bias(b, layer, fmt.scale_exp) for b, layer in zip(net.biases, fmt.layers)]
        return cls(net.config, fmt, weights, biases, net.feedback, rounding_rng)

    def to_float(self) -> BioGradNetwork:
        """Return a float64 reference network with the dequantised parameters and the effective
        neuron parameters of the format (``'delayed'`` timing)."""
        fmt = self.fmt
        config = replace(self.config, neuron=fmt.effective_neurons())
        state = {"config": config.to_dict(), "dtype": "float64"}
        for i, layer in enumerate(fmt.layers):
            state[f"W{i}"] = dequantise_weights(self.weights[i], layer, fmt.scale_exp)
            state[f"b{i}"] = dequantise_bias(self.biases[i], layer, fmt.scale_exp)
        for i, f in enumerate(self.feedback):
            state[f"B{i}"] = f
        return BioGradNetwork.from_state_dict(state)

    def copy(self) -> "FixedBioGradNetwork":
        """Return a deep copy, with copies of the rounding generators in their current state."""
        twin = object.__new__(FixedBioGradNetwork)
        twin.__dict__.update(self.__dict__)
        twin.weights = [w.copy() for w in self.weights]
        twin.biases = [b.copy() for b in self.biases]
        twin.feedback = [f.copy() for f in self.feedback]
        twin.feedback_mant = [f.copy() for f in self.feedback_mant]
        twin.feedback_exp = list(self.feedback_exp)
        twin.rounding = [clone_generator(rng) for rng in self.rounding]
        return twin

    def state_dict(self) -> dict:
        """Return the integer parameters, float feedback masters, format and rounding states.

        Arrays are ``W*``/``b*`` (mantissas) and ``B*`` (float masters); the other entries
        are JSON-serialisable, so a checkpoint stores them in its header.
        """
        state = {"config": self.config.to_dict(), "dtype": "float64", "precision": "fixed",
                 "fixed_format": {"scale_exp": self.fmt.scale_exp, "error_scale": self.fmt.error_scale,
                                  "trace_approximation": self.fmt.trace_approximation,
                                  "layers": [asdict(layer) for layer in self.fmt.layers]},
                 "rounding": [rng.bit_generator.state for rng in self.rounding]}
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            state[f"W{i}"], state[f"b{i}"] = w, b
        for i, f in enumerate(self.feedback):
            state[f"B{i}"] = f
        return state

    @classmethod
    def from_state_dict(cls, state: dict) -> "FixedBioGradNetwork":
        """Rebuild a network from :meth:`state_dict` output (shapes and ranges are checked)."""
        config = NetworkConfig.from_dict(state["config"])
        spec = dict(state["fixed_format"])
        fmt = FixedPointFormat(layers=tuple(LayerFormat(**layer) for layer in spec.pop("layers")), **spec)
        net = cls(config, fmt, [state[f"W{i}"] for i in range(config.n_layers)],
                  [state[f"b{i}"] for i in range(config.n_layers)],
                  [state[f"B{i}"] for i in range(config.n_hidden)], np.random.default_rng(0))
        for rng, bit_state in zip(net.rounding, state["rounding"]):
            rng.bit_generator.state = bit_state
        return net

    def requantise_feedback(self) -> None:
        """Quantise the float masters ``feedback`` into ``feedback_mant`` and ``feedback_exp``."""
        pairs = [quantise_feedback(f) for f in self.feedback]
        self.feedback_mant = [p[0] for p in pairs]
        self.feedback_exp = [p[1] for p in pairs]

    # ----------------------------------------------------------------- helpers
    def _check_input(self, x) -> np.ndarray:
        cfg = self.config
        x = check_array("input spikes", x, ndim=3)
        if x.shape[0] != cfg.n_steps or x.shape[2] != cfg.sizes[0]:
            raise ValueError(
                f"input spikes must have shape (T={cfg.n_steps}, batch, n_0={cfg.sizes[0]}), got {x.shape}")
        if not np.all((x == 0) | (x == 1)):
            raise ValueError("input spikes must be 0 or 1 for the fixed-point model")
        return x.astype(np.int8)

    def _onehot(self, labels, batch: int) -> np.ndarray:
        labels = check_array("labels", labels, shape=(batch,))
        n_out = self.config.sizes[-1]
        if not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(f"labels must be integers, got dtype {labels.dtype}")
        if labels.size and (labels.min() < 0 or labels.max() >= n_out):
            raise ValueError(f"labels must lie in [0, {n_out - 1}], got values in [{labels.min()}, {labels.max()}]")
        onehot = np.zeros((batch, n_out), np.float64)
        onehot[np.arange(batch), labels] = 1.0
        return onehot

    def _layer_current(self, pre, index: int, with_bias: bool = True) -> np.ndarray:
        t_steps, batch, n_in = pre.shape
        acc = exact_matmul(pre.reshape(t_steps * batch, n_in), self.weights[index])
        bias = self.biases[index] if with_bias else None
        return synaptic_current(acc, self.fmt.layers[index], bias).reshape(t_steps, batch, -1)

    # ----------------------------------------------------------------- forward
    def forward(self, x) -> list:
        """Run the integer forward dynamics; return ``[(pre, v, s), ...]`` per layer.

        ``pre`` is the delayed presynaptic train the layer receives (``int8``), ``v`` the
        pre-reset voltage and ``s`` the spikes (``int64``), each of shape ``(T, batch, n)``.
        """
        inputs = self._check_input(x)
        layers = []
        for index, layer in enumerate(self.fmt.layers):
            pre = delay_one_step(inputs).astype(np.int8)
            v, s = soma_run(self._layer_current(pre, index), layer)
            layers.append((pre, v, s))
            inputs = s
        return layers

    def predict(self, x):
        """Return ``(predictions, counts)`` for input spikes of shape ``(T, batch, n_0)``."""
        counts = self.forward(x)[-1][2].sum(axis=0)
        return counts.argmax(axis=1), counts

    # ----------------------------------------------------------------- wake
    def wake(self, x, labels, traces: str = "fast", record: bool = False) -> FixedWakeResult:
        """Run the wake phase on a batch; return the integer update products.

        Parameters
        ----------
        x : ndarray of shape (T, batch, n_0)
            Input spikes (0 or 1).
        labels : ndarray of int, shape (batch,)
        traces : {'fast', 'online'}, default='fast'
            Evaluation order, as in the float reference; both give identical integers.
        record : bool, default=False
            Run the online form and return every per-step state in ``record``.
        """
        check_choice("traces", traces, ("fast", "online"))
        x = self._check_input(x)
        onehot = self._onehot(labels, x.shape[1])
        if record or traces == "online":
            return self._wake_online(x, onehot)
        return self._wake_fast(x, onehot)

    def _error_signal(self, s_out, onehot) -> np.ndarray:
        """Return ``N^+ - N^-`` of the integer error pair over the error window, shape ``(batch, n_o)``."""
        cfg, scale = self.config, self.fmt.error_scale
        counts = np.cumsum(s_out, axis=0)
        shape = onehot.shape
        u_pos, u_neg, z_pos, z_neg = (np.zeros(shape, np.int64) for _ in range(4))
        net = np.zeros(shape, np.int64)
        for t in range(cfg.error_start, cfg.n_steps):
            e = error_current_int(counts[t], onehot, scale)
            u_pos, u_neg, z_pos, z_neg = error_neuron_step_int(u_pos, u_neg, z_pos, z_neg, e, scale)
            net += z_pos - z_neg
        return net

    def _wake_fast(self, x, onehot) -> FixedWakeResult:
        fmt = self.fmt
        layers = self.forward(x)
        signal = self._error_signal(layers[-1][2], onehot)
        # One product replaces the per-step 24-bit accumulation: the constructor checked that it cannot saturate.
        dendrites = [signal @ b.T for b in self.feedback_mant] + [signal]
        batch = x.shape[1]
        weight_products, bias_products = [], []
        for (pre, v, s), layer, d in zip(layers, fmt.layers, dendrites):
            sd = pseudo_derivative(v, layer)
            if fmt.trace_approximation == "presynaptic":
                modulated = sd * d[None]
                t_steps, _, n_post = modulated.shape
                x1 = presynaptic_trace_run(pre, layer)
                weight_products.append(exact_matmul(modulated.reshape(-1, n_post).T,
                                                    x1.reshape(t_steps * batch, -1).T))
                bias_products.append(np.einsum("tni,t->i", modulated, bias_trace_sequence(t_steps, layer)))
            else:
                traces = FixedTraces(batch, v.shape[2], pre.shape[2], layer, "exact", fmt.scale_exp)
                for t in range(v.shape[0]):
                    traces.step(pre[t], v[t], s[t], sd[t])
                weight_products.append(np.einsum("ni,nij->ij", d, traces.e))
                bias_products.append(np.einsum("ni,ni->i", d, traces.g))
        counts = layers[-1][2].sum(axis=0)
        return FixedWakeResult(weight_products, bias_products, batch, counts, counts.argmax(axis=1), dendrites)

    def _wake_online(self, x, onehot) -> FixedWakeResult:
        cfg, fmt = self.config, self.fmt
        t_steps, batch, _ = x.shape
        sizes = cfg.sizes
        n_layers = cfg.n_layers
        scale = fmt.error_scale
        zeros = [np.zeros((batch, n), np.int64) for n in sizes[1:]]
        v, s, dendrites = list(zeros), list(zeros), list(zeros)
        traces = [FixedTraces(batch, sizes[i + 1], sizes[i], fmt.layers[i], fmt.trace_approximation, fmt.scale_exp)
                  for i in range(n_layers)]
        counts = np.zeros((batch, sizes[-1]), np.int64)
        u_pos, u_neg, z_pos, z_neg = (np.zeros((batch, sizes[-1]), np.int64) for _ in range(4))
        previous = [np.zeros((batch, n), np.int64) for n in sizes[:-1]]  # one-step delay buffers
        trace_key = "x1" if fmt.trace_approximation == "presynaptic" else "p"
        log = {key: [] for key in ("v", "s", "sd", "e", "z_pos", "z_neg", "dendrites", "traces_e", "traces_g",
                                   f"traces_{trace_key}")}

        for t in range(t_steps):
            inputs = as_int(x[t])
            sd_step = []
            for i, layer in enumerate(fmt.layers):
                pre, previous[i] = previous[i], inputs
                current = synaptic_current(exact_matmul(pre, self.weights[i]), layer, self.biases[i])
                v[i], s[i] = soma_step(v[i], s[i], current, layer)
                sd = pseudo_derivative(v[i], layer)
                traces[i].step(pre, v[i], s[i], sd)
                sd_step.append(sd)
                inputs = s[i]

            counts = counts + s[-1]
            e = np.zeros_like(counts)
            if t >= cfg.error_start:
                e = error_current_int(counts, onehot, scale)
                u_pos, u_neg, z_pos, z_neg = error_neuron_step_int(u_pos, u_neg, z_pos, z_neg, e, scale)
                signal = z_pos - z_neg
                dendrites[-1] = dendrite_step(dendrites[-1], signal)
                for i, b in enumerate(self.feedback_mant):
                    dendrites[i] = dendrite_step(dendrites[i], signal @ b.T)

            log["v"].append(list(v))
            log["s"].append(list(s))
            log["sd"].append(sd_step)
            log["e"].append(e)
            log["z_pos"].append(z_pos)
            log["z_neg"].append(z_neg)
            log["dendrites"].append(list(dendrites))
            log["traces_e"].append([tr.e.copy() for tr in traces])
            log["traces_g"].append([tr.g.copy() for tr in traces])
            log[f"traces_{trace_key}"].append([getattr(tr, trace_key).copy() for tr in traces])

        weight_products = [np.einsum("ni,nij->ij", d, tr.e) for d, tr in zip(dendrites, traces)]
        bias_products = [np.einsum("ni,ni->i", d, tr.g) for d, tr in zip(dendrites, traces)]
        return FixedWakeResult(weight_products, bias_products, batch, counts, counts.argmax(axis=1), dendrites, log)

    # ----------------------------------------------------------------- update
    def learning_scales(self, lr: float) -> list:
        """Return the :class:`~lava_biograd.reference.fixed.learning.LearningScale` of every layer for ``lr``."""
        lr = check_float("lr", lr, minimum=0.0, min_open=True)
        exps = list(self.feedback_exp) + [None]
        return [learning_scale(lr, layer, self.fmt.scale_exp, self.config.n_error_steps, exp)
                for layer, exp in zip(self.fmt.layers, exps)]

    def apply_update(self, result: FixedWakeResult, lr: float) -> None:
        """Apply the stochastically rounded batch-mean update of every layer (weights, then bias).

        ``lr`` is the float learning rate ``eta`` of the reference model's ``apply_update``.
        """
        if not isinstance(result, FixedWakeResult):
            raise TypeError(f"result must be a FixedWakeResult, got {type(result).__name__}")
        for i, scale in enumerate(self.learning_scales(lr)):
            rng = self.rounding[i]
            self.weights[i] = update_weights(self.weights[i], result.weight_products[i], scale.weight,
                                             result.batch, rng)
            self.biases[i] = update_bias(self.biases[i], result.bias_products[i], scale.bias, result.batch, rng)

    # ----------------------------------------------------------------- sleep
    def sleep(self, params: SleepParams, rng: np.random.Generator, noise=None) -> float:
        """Run one sleep episode on every ``B_l`` (top layer first); return the noise rate ``p``.

        The noise is that of :func:`~lava_biograd.reference.sleep.draw_sleep_noise` (the same
        draws as the float reference for the same ``rng``), or ``noise`` when given.
        """
        if not isinstance(params, SleepParams):
            raise TypeError(f"params must be a SleepParams, got {type(params).__name__}")
        hidden = self.config.sizes[1:-1]
        if noise is None:
            p, noise = draw_sleep_noise(rng, hidden, params, np.float32)
        else:
            p = float("nan")
        for index in range(len(hidden) - 1, -1, -1):
            signed = np.asarray(noise[index])
            if not np.all((signed == 0) | (signed == 1) | (signed == -1)):
                raise ValueError(f"sleep noise of hidden layer {index + 1} must contain only -1, 0 and 1")
            signed = signed.astype(np.int8)
            inputs = signed
            for k in range(index + 1, self.config.n_layers):
                current = self._layer_current(delay_one_step(inputs), k, with_bias=k > index + 1)
                _, inputs = soma_run(current, self.fmt.layers[k])
            hebbian_input = signed.sum(axis=0, dtype=np.int64).astype(np.float64)
            counts = inputs.sum(axis=0).astype(np.float64)
            self.feedback[index] = oja_update(self.feedback[index], hebbian_input, counts, params)
        self.requantise_feedback()
        return p

    # ----------------------------------------------------------------- metrics
    def alignment(self) -> dict:
        """Return ``{l: (angle_deg, ratio)}`` of the quantised ``B_l`` against the dequantised forward weights."""
        fmt = self.fmt
        weights = [dequantise_weights(w, layer, fmt.scale_exp) for w, layer in zip(self.weights, fmt.layers)]
        feedback = [np.ldexp(m.astype(np.float64), e) for m, e in zip(self.feedback_mant, self.feedback_exp)]
        return alignment(weights, feedback)
