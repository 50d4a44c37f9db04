"""Build and run the BioGrad network as a graph of Lava Processes.

Wake graph (one sample at a time, samples streamed back to back, ``T`` steps each)::

    SpikeSource ─► BioGradDense W_1 ─► BioGradNeuron 1 ─► ... ─► BioGradDense W_o ─► BioGradNeuron o ─► ErrorSource
                        ▲ post            │ a_err ▲                     ▲ post              │ a_err ▲    (softmax error,
                        └─────────────────┘       │                     └───────────────────┘       │  error neuron pair,
                                         FeedbackDense B_1 ◄────────────────────────────────────────┴──── output counts)

The error source sends the error neuron pair's signed spikes ``z`` (``output='spikes'``) to
the output layer's dendrites and to every ``FeedbackDense``. It also exports the output
counts, so a learning graph has no separate counter; an inference graph ends in a
``SpikeCounter``.

Timing: every feed-forward connection (``BioGradDense``) delays by one step, as Lava's
``Dense`` and neuromorphic hardware do, and drops the spikes in flight at a sample
boundary. The error pathway (output spikes → error source → error neurons → dendrites)
acts within the step. This is the ``timing='delayed'`` option of the reference model, so
the two compute the same numbers.

Sleep graph (one per hidden layer ``l``, ``N_s`` samples in parallel as a batch axis)::

    SpikeSource (noise of layer l) ─► BioGradDense W_{l+1} (no bias) ─► BioGradNeuron ─► ... ─► output ─► OjaFeedback B_l
                     └────────────────────────────────────────────────────────────────────────────────► (noise_in)

Large arrays cross the host boundary in bulk. Weights enter as Var initial values when a
graph is built, and the models write learned weights and spike counts to ``.npz`` files.
``Var.get`` in Lava 0.10 moves one element per message, about 16.5 µs each here, so a
784x500 matrix would take about 6.5 s (extrapolated by ``benchmarks/bench_lava.py``).
Every run goes through :class:`lava_biograd.lava.runner.LavaSession`.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from lava_biograd.reference import BioGradNetwork, SleepParams
from lava_biograd.reference.fixed import FixedBioGradNetwork
from lava_biograd.reference.sleep import draw_sleep_noise
from lava_biograd.validation import check_array, check_choice, check_float, check_int, check_labels

RUN_TAGS = ("floating_pt", "fixed_pt")


@dataclass
class WakeRun:
    """Outcome of one wake or inference run over a stream of samples.

    Attributes
    ----------
    counts : ndarray of shape (n_samples, n_o)
        Output spike counts per sample.
    records : dict or None
        With ``record=True``: per layer ``neuron<i>`` (``v, s, sd, dendrite`` for every step
        of the run) and ``dense<i>`` (``e, g`` for every step).
    seconds : float
        Wall-clock time of the run (build, compile, run and read-back).
    """

    counts: np.ndarray
    records: dict | None
    seconds: float


def _load_npz(path: Path) -> dict:
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


class LavaBioGradNetwork:
    """The parameters of a BioGrad network, trained and evaluated by Lava graphs.

    Parameters
    ----------
    net : BioGradNetwork or FixedBioGradNetwork
        Source of the architecture, neuron parameters and initial ``W, b, B``: a float
        network for ``'floating_pt'``, a fixed-point one for ``'fixed_pt'``. The Lava
        graph always uses ``'delayed'`` timing; :attr:`reference` returns a copy of the
        float reference model with that timing and the current parameters, for comparison.
    run_tag : {'floating_pt', 'fixed_pt'}
        ProcessModel tag for ``Loihi2SimCfg``. With ``'fixed_pt'`` the integer state is
        :attr:`fixed`, a copy of ``net`` that every run updates. ``weights``, ``biases``
        and ``feedback`` are then its dequantised float view.
    dtype : {'float64', 'float32'}
        Arithmetic precision inside the float models.
    timeout_s : float
        Limit of every blocking Lava call (see :class:`LavaSession`).
    """

    def __init__(self, net: BioGradNetwork | FixedBioGradNetwork, run_tag: str = "floating_pt",
                 dtype: str = "float64", timeout_s: float = 600.0):
        self.run_tag = check_choice("run_tag", run_tag, RUN_TAGS)
        self.fixed = None
        if self.run_tag == "fixed_pt":
            if not isinstance(net, FixedBioGradNetwork):
                raise TypeError(f"run_tag='fixed_pt' needs a FixedBioGradNetwork, got {type(net).__name__}; "
                                "convert with FixedBioGradNetwork.from_float(net, rounding_rng)")
            self.fixed = net.copy()
            net = self.fixed.to_float()
        elif not isinstance(net, BioGradNetwork):
            raise TypeError(f"net must be a BioGradNetwork, got {type(net).__name__}")
        self.dtype = np.dtype(check_choice("dtype", str(np.dtype(dtype)), ("float64", "float32")))
        self.timeout_s = check_float("timeout_s", timeout_s, minimum=0.0, min_open=True)
        self.config = replace(net.config, timing="delayed")
        self.weights = [w.astype(self.dtype) for w in net.weights]
        self.biases = [b.astype(self.dtype) for b in net.biases]
        self.feedback = [b.astype(self.dtype) for b in net.feedback]
        self._workdir = tempfile.TemporaryDirectory(prefix="lava_biograd_")

    # ----------------------------------------------------------------- helpers
    @property
    def reference(self) -> BioGradNetwork:
        """A reference model with this network's current parameters and ``'delayed'`` timing."""
        state = {"config": self.config.to_dict(), "dtype": self.dtype.name}
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            state[f"W{i}"], state[f"b{i}"] = w, b
        for i, f in enumerate(self.feedback):
            state[f"B{i}"] = f
        return BioGradNetwork.from_state_dict(state)

    def _forward_parameters(self, index: int) -> tuple:
        """Return ``(W, b)`` of layer ``index``: float, or the integer mantissas for ``'fixed_pt'``."""
        if self.fixed is None:
            return self.weights[index], self.biases[index]
        return self.fixed.weights[index], self.fixed.biases[index]

    def _fixed_layer(self, index: int, learning: bool = False, lr: float = 0.0) -> tuple:
        """Return the ``fixed`` arguments ``(dense, neuron)`` of layer ``index``; ``(None, None)`` for float."""
        if self.fixed is None:
            return None, None
        from lava_biograd.lava._fixed_support import dense_spec

        return dense_spec(self.fixed, index, learning, lr), self.fixed.fmt.layers[index]

    def _sync_from_fixed(self) -> None:
        """Refresh the float view ``weights, biases, feedback`` from the integer state."""
        view = self.fixed.to_float()
        self.weights = [w.astype(self.dtype) for w in view.weights]
        self.biases = [b.astype(self.dtype) for b in view.biases]
        self.feedback = [b.astype(self.dtype) for b in view.feedback]

    def _path(self, name: str) -> Path:
        return Path(self._workdir.name) / f"{name}.npz"

    def _run_cfg(self):
        from lava.magma.core.run_configs import Loihi2SimCfg

        from lava_biograd.lava.hardware import check_run_config

        return check_run_config(Loihi2SimCfg(select_tag=self.run_tag))

    def _check_samples(self, x, labels=None):
        cfg = self.config
        x = check_array("samples", x, ndim=3)
        if x.shape[1:] != (cfg.n_steps, cfg.sizes[0]):
            raise ValueError(
                f"samples must have shape (n_samples, T={cfg.n_steps}, n_0={cfg.sizes[0]}), got {x.shape}"
            )
        if x.shape[0] == 0:
            raise ValueError("samples must contain at least one sample")
        if labels is not None:
            labels = check_labels(labels, cfg.sizes[-1], x.shape[0])
        return x, labels

    # ----------------------------------------------------------------- wake
    def _build_wake(self, x, labels, learning: bool, lr: float, record: bool):
        from lava_biograd.lava.counter.process import SpikeCounter
        from lava_biograd.lava.error_source.process import ErrorSource
        from lava_biograd.lava.feedback.process import FeedbackDense
        from lava_biograd.lava.neuron.process import BioGradNeuron
        from lava_biograd.lava.plastic_dense.process import BioGradDense
        from lava_biograd.lava.source.process import SpikeSource

        cfg = self.config
        n_samples, n_steps = x.shape[0], cfg.n_steps
        export = {"export_every": 0, "n_samples": n_samples}
        source = SpikeSource(data=x, name="source")
        upstream = source.s_out
        neurons, denses = [], []
        for i, neuron_params in enumerate(cfg.neuron):
            weights, bias = self._forward_parameters(i)
            dense_fixed, neuron_fixed = self._fixed_layer(i, learning, lr)
            dense = BioGradDense(
                weights=weights, bias=bias, sample_steps=n_steps, learning=learning, lr=lr,
                vdecay=neuron_params.vdecay, n_error_steps=cfg.n_error_steps, dtype=self.dtype.name, record=record,
                export_path=str(self._path(f"dense{i}")) if (learning or record) else None, fixed=dense_fixed,
                name=f"dense{i}", **export)
            neuron = BioGradNeuron(
                shape=(cfg.sizes[i + 1],), neuron=neuron_params, sample_steps=n_steps, dtype=self.dtype.name,
                record=record, export_path=str(self._path(f"neuron{i}")) if record else None, fixed=neuron_fixed,
                name=f"neuron{i}", **export)
            upstream.connect(dense.s_in)
            dense.a_out.connect(neuron.a_in)
            if learning:
                neuron.post_out.connect(dense.post_in)
            upstream = neuron.s_out
            neurons.append(neuron)
            denses.append(dense)
        counts_path = str(self._path("counts"))
        if not (learning or record):
            counter = SpikeCounter(n=cfg.sizes[-1], sample_steps=n_steps, n_samples=n_samples,
                                   export_path=counts_path, name="counter")
            upstream.connect(counter.s_in)
            return source, n_samples * n_steps
        # The error source also runs the error neuron pair and exports the output counts, which
        # saves two Lava processes per step against ErrorSource -> ErrorNeuronPair plus a counter.
        fixed = None if self.fixed is None else self.fixed.fmt
        error = ErrorSource(labels=np.asarray(labels, dtype=np.int64), n_classes=cfg.sizes[-1], sample_steps=n_steps,
                            error_start=cfg.error_start, output="spikes", export_path=counts_path, fixed=fixed,
                            name="error_source")
        upstream.connect(error.s_in)
        error.e_out.connect(neurons[-1].a_err)
        for i, b in enumerate(self.feedback if self.fixed is None else self.fixed.feedback_mant):
            feedback = FeedbackDense(weights=b, name=f"feedback{i}")
            error.e_out.connect(feedback.z_in)
            feedback.a_out.connect(neurons[i].a_err)
        return source, n_samples * n_steps

    def run_wake(self, x, labels=None, learning: bool = True, lr: float = 1e-3 / 128, record: bool = False) -> WakeRun:
        """Stream ``x`` through the wake graph; with ``learning`` update ``W, b`` after every sample.

        Parameters
        ----------
        x : ndarray of shape (n_samples, T, n_0)
            Input spikes.
        labels : ndarray of int, shape (n_samples,)
            Needed for learning and recording (they drive the error source).
        learning : bool
            Apply the BioGrad update at the end of every sample (online, batch size 1).
        lr : float
            Per-sample learning rate. The batch trainer's ``lr`` over batch ``N`` becomes
            ``lr / N`` here, which keeps the step size per sample.
        record : bool
            Return per-step states (small networks only).
        """
        from lava_biograd.lava.runner import LavaSession

        x, labels = self._check_samples(x, labels)
        if self.fixed is not None and not np.all(np.isin(x, (0, 1))):
            raise ValueError("samples must contain only 0 and 1 for the fixed_pt graph")
        if (learning or record) and labels is None:
            raise ValueError("labels are needed when learning or recording, because they drive the error source")
        if learning:
            lr = check_float("lr", lr, minimum=0.0, min_open=True)
        start = time.perf_counter()
        source, n_steps = self._build_wake(x, labels, learning, lr if learning else 0.0, record)
        with LavaSession(source, self._run_cfg(), timeout_s=self.timeout_s) as session:
            session.run(n_steps)
        counts = _load_npz(self._path("counts"))["counts"]
        records = None
        if learning or record:
            for i in range(self.config.n_layers):
                # Without learning the dense models keep no traces and write no file.
                data = _load_npz(self._path(f"dense{i}")) if learning else {}
                if learning and self.fixed is not None:
                    from lava_biograd.lava._fixed_support import absorb_dense_export

                    absorb_dense_export(self.fixed, i, data)
                elif learning:
                    self.weights[i] = data["weights"].astype(self.dtype)
                    self.biases[i] = data["bias"].astype(self.dtype)
                if record:
                    records = records or {}
                    records[f"dense{i}"] = {k[len("history_"):]: v for k, v in data.items() if k.startswith("history_")}
                    neuron = _load_npz(self._path(f"neuron{i}"))
                    records[f"neuron{i}"] = {k[len("history_"):]: v for k, v in neuron.items() if k.startswith("history_")}
        if learning and self.fixed is not None:
            self._sync_from_fixed()
        return WakeRun(counts=counts, records=records, seconds=time.perf_counter() - start)

    def predict(self, x):
        """Return ``(predictions, counts)`` of an inference run over ``x`` (n_samples, T, n_0)."""
        run = self.run_wake(x, learning=False)
        return run.counts.argmax(axis=1), run.counts

    # ----------------------------------------------------------------- sleep
    def _build_sleep(self, layer: int, noise: np.ndarray, params: SleepParams):
        from lava_biograd.lava.neuron.process import BioGradNeuron
        from lava_biograd.lava.oja_feedback.process import OjaFeedback
        from lava_biograd.lava.plastic_dense.process import BioGradDense
        from lava_biograd.lava.source.process import SpikeSource

        cfg = self.config
        source = SpikeSource(data=noise[None], name=f"sleep_noise{layer}")
        upstream = source.s_out
        for k in range(layer + 1, cfg.n_layers):
            weights, bias = self._forward_parameters(k)
            bias = np.zeros_like(bias) if k == layer + 1 else bias
            dense_fixed, neuron_fixed = self._fixed_layer(k)
            dense = BioGradDense(weights=weights, bias=bias, sample_steps=params.n_steps, batch=params.n_samples,
                                 dtype=self.dtype.name, fixed=dense_fixed, name=f"sleep_dense{k}")
            neuron = BioGradNeuron(shape=(params.n_samples, cfg.sizes[k + 1]), neuron=cfg.neuron[k],
                                   sample_steps=params.n_steps, dtype=self.dtype.name, fixed=neuron_fixed,
                                   name=f"sleep_neuron{k}")
            upstream.connect(dense.s_in)
            dense.a_out.connect(neuron.a_in)
            upstream = neuron.s_out
        master = self.feedback[layer] if self.fixed is None else self.fixed.feedback[layer]
        oja = OjaFeedback(weights=master, sleep=params, dtype=self.dtype.name,
                          export_path=str(self._path(f"feedback{layer}")), name=f"oja{layer}")
        source.s_out.connect(oja.noise_in)
        upstream.connect(oja.s_in)
        return source

    def sleep(self, params: SleepParams, rng: np.random.Generator | None = None, noise=None) -> None:
        """Run one sleep episode: one Lava graph per hidden layer, top layer first.

        The noise is drawn with :func:`lava_biograd.reference.sleep.draw_sleep_noise` from
        ``rng`` (the same draws as the reference), or taken from ``noise``.
        """
        from lava_biograd.lava.runner import LavaSession

        if not isinstance(params, SleepParams):
            raise TypeError(f"params must be a SleepParams, got {type(params).__name__}")
        hidden = self.config.sizes[1:-1]
        if noise is None:
            if not isinstance(rng, np.random.Generator):
                raise TypeError("sleep needs rng (a numpy.random.Generator) or explicit noise")
            _, noise = draw_sleep_noise(rng, hidden, params, self.dtype)
        if self.fixed is not None and not all(np.all(np.isin(n, (-1, 0, 1))) for n in noise):
            raise ValueError("sleep noise must contain only -1, 0 and 1 for the fixed_pt graph")
        for layer in range(len(hidden) - 1, -1, -1):
            source = self._build_sleep(layer, np.asarray(noise[layer], dtype=float), params)
            with LavaSession(source, self._run_cfg(), timeout_s=self.timeout_s) as session:
                session.run(params.n_steps)
            learned = _load_npz(self._path(f"feedback{layer}"))["weights"]
            if self.fixed is None:
                self.feedback[layer] = learned.astype(self.dtype)
            else:
                self.fixed.feedback[layer] = learned.astype(np.float64)
        if self.fixed is not None:
            self.fixed.requantise_feedback()
            self._sync_from_fixed()

    # ----------------------------------------------------------------- online training
    def train_online(self, x, labels, lr: float, sleep_every: int = 128, sleep_params: SleepParams | None = None,
                     rng: np.random.Generator | None = None, chunk: int | None = None, callback=None) -> np.ndarray:
        """Learn online from a stream of samples, sleeping every ``sleep_every`` samples.

        One Lava graph runs ``min(sleep_every, chunk)`` samples; between graphs the weights
        move to the next graph in bulk and sleep episodes run (``sleep_every=0`` disables
        sleep). ``callback(done, predictions)`` is called after every graph.
        Returns the training predictions (argmax of the output counts per sample).

        Parameters
        ----------
        x : ndarray of shape (n_samples, T, n_0)
            Input spikes, sample first (the reference model takes ``(T, batch, n_0)``).
        labels : ndarray of int, shape (n_samples,)
        lr : float
            Per-sample learning rate, ``lr_batch / N`` for the batch trainer's ``lr_batch``.
        sleep_every : int
            Samples between sleep episodes (0: no sleep).
        sleep_params : SleepParams, optional
            Sleep settings (default: ``SleepParams()``).
        rng : numpy.random.Generator
            Source of the sleep noise; required when ``sleep_every > 0`` and the network
            has hidden layers.
        chunk : int, optional
            Largest number of samples per Lava graph.
        callback : callable, optional
        """
        x, labels = self._check_samples(x, labels)
        lr = check_float("lr", lr, minimum=0.0, min_open=True)
        sleep_every = check_int("sleep_every", sleep_every, minimum=0)
        if sleep_every and self.config.n_hidden and rng is None:
            raise ValueError("rng is needed for the sleep noise whenever sleep_every > 0; "
                             "pass rng=numpy.random.default_rng(seed), or sleep_every=0 to learn without sleep")
        sleep_params = sleep_params or SleepParams()
        step = sleep_every or (chunk or x.shape[0])
        if chunk:
            step = min(step, check_int("chunk", chunk, minimum=1))
        predictions = np.empty(x.shape[0], dtype=np.int64)
        done = 0
        while done < x.shape[0]:
            stop = min(done + step, x.shape[0])
            run = self.run_wake(x[done:stop], labels[done:stop], learning=True, lr=lr)
            predictions[done:stop] = run.counts.argmax(axis=1)
            if sleep_every and self.config.n_hidden and stop % sleep_every == 0:
                self.sleep(sleep_params, rng)
            done = stop
            if callback is not None:
                callback(done, predictions[:done])
        return predictions

    def close(self) -> None:
        """Delete the exchange folder of the exported arrays."""
        self._workdir.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
