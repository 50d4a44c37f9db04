r"""The BioGrad network: wake phase, weight update, sleep phase and inference, batched.

One training sample (Tang et al. 2021, arXiv:2110.14092), batched over ``N`` samples that
share the weights:

1. For ``t = 0 .. T-1``: every layer bottom-up does its LIF step and trace step; the
   output count ``c`` accumulates ``s^o_t``; from ``t = t0`` on, the error current
   ``e_t = softmax(c_t) - y`` drives the error pair, whose spikes add ``z^+_t - z^-_t``
   to the output dendrite ``d^o`` and ``B_l (z^+_t - z^-_t)`` to every hidden dendrite
   ``d^l``. The error never acts on the soma.
2. At the end: ``delta = d / K`` with ``K = T - t0``, and the gradient estimates
   ``g(W_l) = <delta^l * E^l>_n``, ``g(b_l) = <delta^l * G^l>_n`` (``<.>_n`` the batch mean).
3. SGD: ``W <- W - eta g(W)``, ``b <- b - eta g(b)``, all layers from traces computed
   with the pre-update weights. ``B_l`` is untouched in the wake phase.

``traces='online'`` runs step 1 exactly in that order with per-synapse traces, as a
neuromorphic core would. ``traces='fast'`` computes the same numbers layer by layer over
the whole sample: the forward pass of a layer over all ``T`` steps is one GEMM, the
dendrites reduce to ``d^l = B_l d^o``, and the traces to the backward recursion of
:mod:`lava_biograd.reference.traces`.

Timing: with ``timing='same_step'`` layer ``l`` receives the spikes of layer ``l-1`` of the
same step; with ``timing='delayed'`` every feed-forward connection delays by one step.
The error pathway has no delay in either mode.

Inference uses the same LIF dynamics; the class is the first index of the maximal
output count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lava_biograd.reference.error import error_current, error_neuron_step, output_error
from lava_biograd.reference.feedback import alignment, init_feedback_product, init_feedback_random
from lava_biograd.reference.neuron import lif_run, lif_step, pseudo_derivative
from lava_biograd.reference.params import FEEDBACK_INITS, NetworkConfig, SleepParams
from lava_biograd.reference.sleep import delay_one_step, draw_sleep_noise, sleep_layer_update
from lava_biograd.reference.traces import OnlineTraces, PresynapticTraces, presynaptic_trace, reverse_sensitivity
from lava_biograd.validation import check_array, check_choice, check_dtype, check_float, check_labels

TRACE_FORMS = ("fast", "online")
TRACE_APPROXIMATIONS = ("exact", "presynaptic")


@dataclass
class WakeResult:
    """Outcome of one wake pass over a batch.

    Attributes
    ----------
    grad_weights, grad_biases : list of ndarray
        Gradient estimates ``<delta * E>_n`` and ``<delta * G>_n`` per layer (hidden
        layers first, output last), in the shapes of the weights and biases.
    counts : ndarray of shape (batch, n_o)
        Output spike counts over all ``T`` steps.
    predictions : ndarray of shape (batch,)
        ``argmax`` of ``counts`` (first maximal index).
    deltas : list of ndarray
        Per-sample error signals ``delta^l = d^l / K`` per layer, shape ``(batch, n_l)``.
    record : dict or None
        Per-step states when the online form ran with ``record=True``.
    """

    grad_weights: list
    grad_biases: list
    counts: np.ndarray
    predictions: np.ndarray
    deltas: list
    record: dict | None = None


def init_forward_weights(sizes, rng: np.random.Generator, dtype=np.float32):
    """Draw ``W_l, b_l ~ U(-1/sqrt(n_{l-1}), 1/sqrt(n_{l-1}))`` (the PyTorch ``Linear`` default)."""
    weights, biases = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / np.sqrt(n_in)
        weights.append(rng.uniform(-bound, bound, size=(n_out, n_in)).astype(dtype))
        biases.append(rng.uniform(-bound, bound, size=n_out).astype(dtype))
    return weights, biases


class BioGradNetwork:
    """A fully connected BioGrad SNN with direct feedback, trained by wake and sleep phases.

    Parameters
    ----------
    config : NetworkConfig
        Layer sizes, ``T``, ``t0``, neuron parameters and timing.
    rng : numpy.random.Generator
        Stream for the weight initialisation (and a random feedback initialisation).
    dtype : {'float32', 'float64'}, default='float32'
    feedback_init : {'product', 'random'}, default='product'
        ``'product'``: ``B_l = (W_o W_L ... W_{l+1})^T`` (aligned from the start);
        ``'random'``: random direction with the same norm.
    trace_approximation : {'exact', 'presynaptic'}, default='exact'
        ``'exact'``: the per-synapse trace ``P`` (``E = dc/dW``). ``'presynaptic'``: the
        presynaptic-trace approximation of a neuromorphic learning engine,
        ``E = sum_t sigma'_t x1_t^T`` (see :mod:`lava_biograd.reference.traces`).
    """

    def __init__(self, config: NetworkConfig, rng: np.random.Generator, dtype="float32",
                 feedback_init: str = "product", trace_approximation: str = "exact"):
        if not isinstance(config, NetworkConfig):
            raise TypeError(f"config must be a NetworkConfig, got {type(config).__name__}")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"rng must be a numpy.random.Generator, got {type(rng).__name__}; "
                "pass numpy.random.default_rng(seed)"
            )
        check_choice("feedback_init", feedback_init, FEEDBACK_INITS)
        self.trace_approximation = check_choice("trace_approximation", trace_approximation, TRACE_APPROXIMATIONS)
        self.config = config
        self.dtype = check_dtype("dtype", dtype)
        self.weights, self.biases = init_forward_weights(config.sizes, rng, self.dtype)
        if feedback_init == "product":
            self.feedback = init_feedback_product(self.weights)
        else:
            self.feedback = init_feedback_random(self.weights, rng)

    # ----------------------------------------------------------------- helpers
    @property
    def neurons(self):
        """Neuron parameters per non-input layer."""
        return self.config.neuron

    def _check_input(self, x) -> np.ndarray:
        cfg = self.config
        x = check_array("input spikes", x, ndim=3)
        if x.shape[0] != cfg.n_steps or x.shape[2] != cfg.sizes[0]:
            raise ValueError(
                f"input spikes must have shape (T={cfg.n_steps}, batch, n_0={cfg.sizes[0]}), "
                f"got {x.shape}"
            )
        return x.astype(self.dtype, copy=False)

    def _onehot(self, labels, batch: int) -> np.ndarray:
        n_out = self.config.sizes[-1]
        labels = check_labels(labels, n_out, batch)
        onehot = np.zeros((batch, n_out), self.dtype)
        onehot[np.arange(batch), labels] = 1
        return onehot

    def _layer_currents(self, inputs: np.ndarray, index: int, with_bias: bool = True) -> np.ndarray:
        t_steps, batch, n_in = inputs.shape
        current = inputs.reshape(t_steps * batch, n_in) @ self.weights[index].T
        if with_bias:
            current += self.biases[index]
        return current.reshape(t_steps, batch, -1)

    # ----------------------------------------------------------------- forward
    def forward(self, x) -> list:
        """Run the forward dynamics; return ``[(pre, v, s), ...]`` per layer.

        ``pre`` is the spike train that layer receives (after the connection delay under
        ``'delayed'`` timing), ``v`` the pre-reset voltage and ``s`` the spikes, each of
        shape ``(T, batch, n)``.
        """
        inputs = self._check_input(x)
        delayed = self.config.timing == "delayed"
        layers = []
        for index, neuron in enumerate(self.neurons):
            pre = delay_one_step(inputs) if delayed else inputs
            v, s = lif_run(self._layer_currents(pre, index), neuron)
            layers.append((pre, v, s))
            inputs = s
        return layers

    def predict(self, x):
        """Return ``(predictions, counts)`` for input spikes of shape ``(T, batch, n_0)``."""
        s_out = self.forward(x)[-1][2]
        counts = s_out.sum(axis=0)
        return counts.argmax(axis=1), counts

    # ----------------------------------------------------------------- wake
    def wake(self, x, labels, traces: str = "fast", record: bool = False) -> WakeResult:
        """Run the wake phase on a batch and return the gradient estimates.

        Parameters
        ----------
        x : ndarray of shape (T, batch, n_0)
            Input spikes (0 or 1).
        labels : ndarray of int, shape (batch,)
        traces : {'fast', 'online'}, default='fast'
            Trace evaluation; both give the same result up to rounding.
        record : bool, default=False
            With ``traces='online'``, also return every per-step state in ``record``.
        """
        check_choice("traces", traces, TRACE_FORMS)
        x = self._check_input(x)
        onehot = self._onehot(labels, x.shape[1])
        if traces == "online":
            return self._wake_online(x, onehot, record)
        if record:
            raise ValueError("record=True needs traces='online', because the fast form keeps no per-step traces")
        return self._wake_fast(x, onehot)

    def _wake_fast(self, x, onehot) -> WakeResult:
        cfg = self.config
        layers = self.forward(x)
        s_out = layers[-1][2]
        delta_out = output_error(s_out, onehot, cfg.error_start)
        deltas = [delta_out @ b.T for b in self.feedback] + [delta_out]
        batch = x.shape[1]
        grad_w, grad_b = [], []
        presynaptic = self.trace_approximation == "presynaptic"
        for (pre, v, s), neuron, delta in zip(layers, self.neurons, deltas):
            sd = pseudo_derivative(v, neuron)
            if presynaptic:  # E = sum_t sigma'_t x1_t^T; G uses q_t, the trace of an input spiking every step
                modulated = sd * delta[None]
                pre = presynaptic_trace(pre, neuron.vdecay)
                bias_trace = presynaptic_trace(np.ones(v.shape[0], self.dtype), neuron.vdecay)
                modulated_bias = modulated * bias_trace[:, None, None]
            else:
                modulated = reverse_sensitivity(v, s, sd, neuron.vdecay)
                modulated *= delta[None]
                modulated_bias = modulated
            t_steps, _, n_out = modulated.shape
            flat = modulated.reshape(t_steps * batch, n_out)
            grad_w.append(flat.T @ pre.reshape(t_steps * batch, -1) / self.dtype.type(batch))
            grad_b.append(modulated_bias.reshape(t_steps * batch, n_out).sum(axis=0) / self.dtype.type(batch))
        counts = s_out.sum(axis=0)
        return WakeResult(grad_w, grad_b, counts, counts.argmax(axis=1), deltas)

    def _wake_online(self, x, onehot, record: bool) -> WakeResult:
        cfg = self.config
        dtype = self.dtype
        t_steps, batch, _ = x.shape
        sizes = cfg.sizes
        n_layers = cfg.n_layers
        delayed = cfg.timing == "delayed"

        v = [np.zeros((batch, n), dtype) for n in sizes[1:]]
        s = [np.zeros((batch, n), dtype) for n in sizes[1:]]
        trace_class = PresynapticTraces if self.trace_approximation == "presynaptic" else OnlineTraces
        traces = [trace_class(batch, sizes[i + 1], sizes[i], self.neurons[i].vdecay, dtype)
                  for i in range(n_layers)]
        dendrites = [np.zeros((batch, n), dtype) for n in sizes[1:]]
        counts = np.zeros((batch, sizes[-1]), dtype)
        u_pos = np.zeros((batch, sizes[-1]), dtype)
        u_neg = np.zeros_like(u_pos)
        z_pos = np.zeros_like(u_pos)
        z_neg = np.zeros_like(u_pos)
        previous = [np.zeros((batch, n), dtype) for n in sizes[:-1]]  # delay buffers
        log = {"v": [], "s": [], "sd": [], "e": [], "z_pos": [], "z_neg": [], "dendrites": [],
               "traces_e": [], "traces_g": []} if record else None

        for t in range(t_steps):
            inputs = x[t]
            for i in range(n_layers):
                if delayed:
                    pre, previous[i] = previous[i], inputs
                else:
                    pre = inputs
                current = pre @ self.weights[i].T + self.biases[i]
                v[i], s[i] = lif_step(v[i], s[i], current, self.neurons[i])
                sd = pseudo_derivative(v[i], self.neurons[i])
                traces[i].step(pre, v[i], s[i], sd)
                if record:
                    log["sd"].append(sd)
                inputs = s[i]
            counts += s[-1]
            if t >= cfg.error_start:
                e = error_current(counts, onehot)
                u_pos, u_neg, z_pos, z_neg = error_neuron_step(u_pos, u_neg, z_pos, z_neg, e)
                signal = z_pos - z_neg
                dendrites[-1] += signal
                for i, b in enumerate(self.feedback):
                    dendrites[i] += signal @ b.T
            else:
                e = np.zeros_like(counts)
            if record:
                log["v"].append([a.copy() for a in v])
                log["s"].append([a.copy() for a in s])
                log["e"].append(e)
                log["z_pos"].append(z_pos.copy())
                log["z_neg"].append(z_neg.copy())
                log["dendrites"].append([d.copy() for d in dendrites])
                log["traces_e"].append([tr.e.copy() for tr in traces])
                log["traces_g"].append([tr.g.copy() for tr in traces])

        n_error_steps = dtype.type(cfg.n_error_steps)
        deltas = [d / n_error_steps for d in dendrites]
        grad_w = [np.mean(delta[:, :, None] * tr.e, axis=0) for delta, tr in zip(deltas, traces)]
        grad_b = [np.mean(delta * tr.g, axis=0) for delta, tr in zip(deltas, traces)]
        return WakeResult(grad_w, grad_b, counts, counts.argmax(axis=1), deltas, log)

    # ----------------------------------------------------------------- update
    def apply_update(self, result: WakeResult, lr: float) -> None:
        """Apply plain SGD: ``W <- W - lr * g(W)`` and ``b <- b - lr * g(b)`` for every layer."""
        lr = self.dtype.type(check_float("lr", lr, minimum=0.0, min_open=True))
        for w, b, gw, gb in zip(self.weights, self.biases, result.grad_weights, result.grad_biases):
            w -= lr * gw
            b -= lr * gb

    # ----------------------------------------------------------------- sleep
    def sleep(self, params: SleepParams, rng: np.random.Generator, noise=None) -> float:
        """Run one sleep episode on all ``B_l``; return the episode's noise rate ``p``.

        ``noise`` (from :func:`draw_sleep_noise`) replaces the draws from ``rng`` when given.
        """
        if not isinstance(params, SleepParams):
            raise TypeError(f"params must be a SleepParams, got {type(params).__name__}")
        hidden = self.config.sizes[1:-1]
        if noise is None:
            p, noise = draw_sleep_noise(rng, hidden, params, self.dtype)
        else:
            p = float("nan")
        delayed = self.config.timing == "delayed"
        for index in range(len(hidden) - 1, -1, -1):
            above = slice(index + 1, None)
            self.feedback[index] = sleep_layer_update(
                self.feedback[index], noise[index].astype(self.dtype, copy=False),
                self.weights[above], self.biases[above], list(self.neurons[above]), params, delayed,
            )
        return p

    # ----------------------------------------------------------------- metrics and state
    def alignment(self) -> dict:
        """Return ``{l: (angle_deg, ratio)}`` of ``B_l`` against ``(W_o ... W_{l+1})^T``."""
        return alignment(self.weights, self.feedback)

    def state_dict(self) -> dict:
        """Return the parameters as a flat dict of arrays plus the config, dtype and trace approximation."""
        state = {"config": self.config.to_dict(), "dtype": self.dtype.name,
                 "trace_approximation": self.trace_approximation}
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            state[f"W{i}"] = w
            state[f"b{i}"] = b
        for i, f in enumerate(self.feedback):
            state[f"B{i}"] = f
        return state

    @classmethod
    def from_state_dict(cls, state: dict) -> "BioGradNetwork":
        """Rebuild a network from :meth:`state_dict` output, checking every shape."""
        config = NetworkConfig.from_dict(state["config"])
        net = cls.__new__(cls)
        net.config = config
        net.trace_approximation = check_choice(
            "trace_approximation", state.get("trace_approximation", "exact"), TRACE_APPROXIMATIONS)
        net.dtype = check_dtype("dtype", state.get("dtype", "float32"))
        sizes = config.sizes
        net.weights, net.biases, net.feedback = [], [], []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            net.weights.append(check_array(f"W{i}", state[f"W{i}"], shape=(n_out, n_in)).astype(net.dtype))
            net.biases.append(check_array(f"b{i}", state[f"b{i}"], shape=(n_out,)).astype(net.dtype))
        for i, n_hidden in enumerate(sizes[1:-1]):
            net.feedback.append(check_array(f"B{i}", state[f"B{i}"], shape=(n_hidden, sizes[-1])).astype(net.dtype))
        return net
