r"""Benchmark the Lava BioGrad wake graph against Lava's stock processes, and bulk weight transfer.

Everything runs in one process on the CPU simulator of lava-nc 0.10.0
(``Loihi2SimCfg(select_tag="floating_pt")``), and every Lava run goes through
:class:`lava_biograd.lava.runner.LavaSession`. The models compute in float64, except the
BioGrad models of the speed graph with ``--dtype float32``.

**Graph speed.** Two graphs of the same layer sizes get the same Bernoulli-encoded MNIST
spike trains (``T = 20`` steps per sample):

* the BioGrad wake graph with learning,
  ``LavaBioGradNetwork(net)._build_wake(x, labels, learning=True, lr=1e-3/128)``, which
  includes the error pathway and the per-sample weight update;
* Lava's stock processes without learning: ``RingBuffer -> Dense -> LIF -> ... -> LIF ->
  RingBuffer`` sink, with ``du = 1``, ``dv = 1 - alpha``, ``vth = theta`` and the BioGrad
  biases, so the forward dynamics match the BioGrad soma except for the per-sample reset.

Each graph is compiled and started, runs ``warmup_samples * T`` untimed steps, then
``samples * T`` timed steps in one ``session.run`` call (a Lava graph cannot run again
after it stops, so the warm-up shares the session). With ``t_run`` the wall time of that
call and ``n`` the timed steps, the rate is ``r = n / t_run`` and the bar is
``r_BioGrad / r_stock >= 0.3``.

**Bulk weight transfer** of ``W_1`` (``sizes[1] x sizes[0]`` float64, 500 x 784 by default),
bar ``< 0.5 s`` each way:

* out: a ProcessModel writes the matrix with ``write_npz_atomic`` and the host reads it with
  ``_load_npz``. ``t_out = t_write + t_load``, where ``t_write`` is measured on the host in
  isolation and ``t_load`` from the return of ``session.run`` of a one-sample learning
  graph to the loaded array. The loaded matrix is compared with the reference model's
  one-sample update.
* in: weights enter as Var initial values when the graph is built.
  ``t_in = median(t_start(W_1)) - median(t_start(2 x 2))``, where ``t_start`` covers the
  construction of ``SpikeSource -> BioGradDense -> BioGradNeuron -> SpikeCounter`` plus
  ``session.start()`` (compilation and runtime start). One sample then runs, and its
  spike counts are compared with the reference model.
* contrast: Lava's own ``Var.get`` on a small ``weights`` Var (50 x 100 by default), with the
  time per element extrapolated linearly to ``W_1``.

The results replace the section between ``<!-- bench_lava:start -->`` and
``<!-- bench_lava:end -->`` of the output Markdown file.

Run from the repository root on an otherwise idle machine::

    .venv/bin/python benchmarks/bench_lava.py

and ``--samples 3`` for a quick check (a few seconds of timed steps).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from lava_biograd.data.dataset import RateCodedImages, mnist_splits
from lava_biograd.lava._model_support import write_npz_atomic
from lava_biograd.lava.network import LavaBioGradNetwork, _load_npz
from lava_biograd.lava.runner import LavaSession
from lava_biograd.reference import BioGradNetwork, NetworkConfig, NeuronParams
from lava_biograd.validation import check_float, check_int

# The benchmarks folder is not a package, so its shared module is found through sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import check_benchmark_sizes, command_line, machine_info, parse_sizes, write_section  # noqa: E402

SPEC_SIZES = (784, 500, 100, 10)
SPEC_MATRIX_SHAPE = (500, 784)
N_STEPS = 20
ERROR_START = 5
LEARNING_RATE = 1e-3 / 128
DTYPE = "float64"
DEFAULT_SAMPLES = 100
SMALL_MATRIX_SHAPE = (2, 2)

MIN_RATIO = 0.3
MAX_TRANSFER_S = 0.5

MARKER_START = "<!-- bench_lava:start -->"
MARKER_END = "<!-- bench_lava:end -->"


# ----------------------------------------------------------------- arguments
def parse_shape(text: str) -> tuple:
    """Parse a matrix shape written as ``50x100`` (rows x columns) into a tuple of two int."""
    parts = text.lower().split("x")
    try:
        shape = tuple(int(part) for part in parts)
    except ValueError:
        shape = ()
    if len(shape) != 2:
        raise argparse.ArgumentTypeError(
            f"a matrix shape must be two integers joined by 'x', for example 50x100, got {text!r}"
        )
    return shape


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser of the benchmark."""
    parser = argparse.ArgumentParser(
        description="Time the Lava BioGrad wake graph with learning against a graph of Lava's stock "
                    "processes of the same size, time bulk weight transfer in and out of Lava, and "
                    "write a Markdown section.",
    )
    parser.add_argument("--samples", type=int, default=DEFAULT_SAMPLES,
                        help=f"timed samples of {N_STEPS} steps per graph (default: {DEFAULT_SAMPLES}). "
                             "Use 3 for a quick check")
    parser.add_argument("--warmup-samples", type=int, default=1,
                        help="untimed samples run in the same session before timing (default: 1)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="repetitions of each transfer measurement, reported as median and range (default: 3)")
    parser.add_argument("--sizes", type=parse_sizes, default=SPEC_SIZES,
                        help="layer sizes, input first, at least one hidden layer (default: 784-500-100-10). "
                             "The transferred matrix is W_1 of these sizes")
    parser.add_argument("--var-get-shape", type=parse_shape, default=(50, 100),
                        help="shape (outputs x inputs) of the weights Var read with Lava's Var.get "
                             "(default: 50x100)")
    parser.add_argument("--dtype", choices=("float64", "float32"), default=DTYPE,
                        help="arithmetic precision of the BioGrad ProcessModels in the speed graph "
                             "(default: float64, the library default). The stock graph and the transfer "
                             "graphs always use float64")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="limit in seconds of each blocking Lava call (default: 600)")
    parser.add_argument("--output", default="docs/benchmarks.md",
                        help="Markdown file whose bench_lava section is replaced (default: docs/benchmarks.md)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the weights, the sample choice and the input spikes (default: 0)")
    parser.add_argument("--synthetic", action="store_true",
                        help="use uniform random 8-bit images and labels instead of MNIST, for testing "
                             "the script. The speed bar is then not checked")
    parser.add_argument("--data-dir", default=None,
                        help="MNIST data root (default: the library's data search order)")
    return parser


def check_args(args: argparse.Namespace) -> argparse.Namespace:
    """Validate parsed arguments, raising ``ValueError`` or ``TypeError`` that names the option."""
    check_int("--samples", args.samples, minimum=1)
    check_int("--warmup-samples", args.warmup_samples, minimum=0)
    check_int("--repeats", args.repeats, minimum=1)
    check_int("--seed", args.seed, minimum=0)
    args.timeout = check_float("--timeout", args.timeout, minimum=0.0, min_open=True)
    for i, n in enumerate(args.var_get_shape):
        check_int(f"--var-get-shape[{i}]", n, minimum=1)
    args.sizes = check_benchmark_sizes(args.sizes, args.synthetic, "the BioGrad graph's feedback pathway targets hidden layers")
    return args


def is_spec_setting(args: argparse.Namespace) -> bool:
    """Return whether the speed bar applies: MNIST input and the 784-500-100-10 network."""
    return not args.synthetic and tuple(args.sizes) == SPEC_SIZES


def matrix_shape(sizes) -> tuple:
    """Return the shape ``(sizes[1], sizes[0])`` of ``W_1``, the matrix whose transfer is timed."""
    return (sizes[1], sizes[0])


# ----------------------------------------------------------------- data and networks
def load_samples(args: argparse.Namespace, n_samples: int):
    """Return ``(x, labels)``: ``n_samples`` Bernoulli-encoded samples of shape (n_samples, T, n_0).

    The samples are drawn without replacement from the MNIST training split, or are
    uniform random 8-bit images with ``--synthetic``.
    """
    rng = np.random.default_rng([args.seed, 1])
    if args.synthetic:
        images = rng.integers(0, 256, size=(n_samples, args.sizes[0]), dtype=np.uint8)
        labels = rng.integers(0, args.sizes[-1], size=n_samples)
        dataset = RateCodedImages(images, labels, N_STEPS, name="synthetic")
    else:
        dataset = mnist_splits(data_dir=args.data_dir, n_steps=N_STEPS)["train"]
    indices = rng.choice(len(dataset), size=n_samples, replace=False)
    spikes = dataset.batch(indices, rng, dtype=np.float64)  # (T, n_samples, n_0)
    return np.ascontiguousarray(spikes.transpose(1, 0, 2)), dataset.labels[indices]


def make_network(sizes, seed: int) -> BioGradNetwork:
    """Return a float64 reference network with the library's initial weights for ``sizes``."""
    config = NetworkConfig(sizes=tuple(sizes), n_steps=N_STEPS, error_start=ERROR_START)
    return BioGradNetwork(config, np.random.default_rng([seed, 2]), dtype=DTYPE)


def _run_cfg():
    from lava.magma.core.run_configs import Loihi2SimCfg

    return Loihi2SimCfg(select_tag="floating_pt")


# ----------------------------------------------------------------- graph speed
def time_runs(session: LavaSession, n_warmup: int, n_timed: int) -> dict:
    """Run ``n_warmup`` untimed and then ``n_timed`` timed steps on a started session.

    A Lava graph cannot run again after it stops, so the warm-up shares the session.

    Returns
    -------
    dict
        ``warmup_s``, ``run_s`` (the timed ``session.run`` call only), ``warmup_steps``,
        ``timed_steps``, ``steps_per_s = timed_steps / run_s`` and ``os_processes`` (the
        OS processes Lava started for the graph).
    """
    begin = time.perf_counter()
    if n_warmup:
        session.run(n_warmup)
    warm = time.perf_counter()
    session.run(n_timed)
    done = time.perf_counter()
    return {"warmup_s": warm - begin, "run_s": done - warm, "warmup_steps": n_warmup, "timed_steps": n_timed,
            "steps_per_s": n_timed / (done - warm), "os_processes": len(session.child_pids)}


def time_biograd_wake(net: BioGradNetwork, x, labels, n_warmup: int, timeout_s: float, dtype: str = DTYPE) -> dict:
    """Time the BioGrad wake graph with learning on ``x``, returning the keys of :func:`time_runs` and more.

    The first ``n_warmup`` steps are untimed and the rest of ``x`` is timed. ``dtype`` is
    the arithmetic precision of the BioGrad ProcessModels (their messages are float64
    either way). The result
    also contains ``start_s`` (build, compilation and runtime start) and
    ``output_spikes_per_sample`` (mean output spike count, from the counter's export),
    which shows that the graph was active.
    """
    with LavaBioGradNetwork(net, dtype=dtype, timeout_s=timeout_s) as lava_net:
        begin = time.perf_counter()
        source, n_steps = lava_net._build_wake(x, labels, learning=True, lr=LEARNING_RATE, record=False)
        session = LavaSession(source, lava_net._run_cfg(), timeout_s=timeout_s)
        with session:
            start_s = time.perf_counter() - begin
            result = time_runs(session, n_warmup, n_steps - n_warmup)
        counts = _load_npz(lava_net._path("counts"))["counts"]
    result.update(start_s=start_s, output_spikes_per_sample=float(counts.sum(axis=1).mean()))
    return result


def build_stock_graph(net: BioGradNetwork, x):
    """Build ``RingBuffer -> (Dense -> LIF) x L -> RingBuffer`` with the weights of ``net``.

    ``x`` of shape (n_samples, T, n_0) is streamed back to back. LIF parameters mirror the
    BioGrad soma: ``du = 1`` (the current is this step's input), ``dv = 1 - alpha``,
    ``vth = theta`` and ``bias_mant = b``. Returns ``(source, sink, n_steps)``.
    """
    from lava.proc.dense.process import Dense
    from lava.proc.io.sink import RingBuffer as SinkBuffer
    from lava.proc.io.source import RingBuffer as SourceBuffer
    from lava.proc.lif.process import LIF

    n_steps = x.shape[0] * x.shape[1]
    source = SourceBuffer(data=x.reshape(n_steps, -1).T.copy())
    upstream = source.s_out
    for i, (weights, bias, neuron) in enumerate(zip(net.weights, net.biases, net.config.neuron)):
        dense = Dense(weights=np.asarray(weights, dtype=np.float64), name=f"stock_dense{i}")
        lif = LIF(shape=(weights.shape[0],), du=1.0, dv=1.0 - neuron.vdecay, vth=neuron.vth,
                  bias_mant=np.asarray(bias, dtype=np.float64), name=f"stock_lif{i}")
        upstream.connect(dense.s_in)
        dense.a_out.connect(lif.a_in)
        upstream = lif.s_out
    sink = SinkBuffer(shape=(net.config.sizes[-1],), buffer=n_steps)
    upstream.connect(sink.a_in)
    return source, sink, n_steps


def time_stock_graph(net: BioGradNetwork, x, n_warmup: int, timeout_s: float) -> dict:
    """Time the graph of :func:`build_stock_graph` on ``x``.

    Returns the keys of :func:`time_runs` plus ``start_s`` (build, compilation and runtime
    start) and ``output_spikes_per_sample`` (read from the sink after the timed run with
    ``Var.get``, which moves one value per message).
    """
    begin = time.perf_counter()
    source, sink, n_steps = build_stock_graph(net, x)
    session = LavaSession(source, _run_cfg(), timeout_s=timeout_s)
    with session:
        start_s = time.perf_counter() - begin
        result = time_runs(session, n_warmup, n_steps - n_warmup)
        output_spikes = session.get(sink.data)
    result.update(start_s=start_s, output_spikes_per_sample=float(np.sum(output_spikes)) / x.shape[0])
    return result


# ----------------------------------------------------------------- bulk transfer
def time_host_roundtrip(matrix: np.ndarray, repeats: int, folder) -> dict:
    """Time ``write_npz_atomic`` and ``_load_npz`` of ``matrix`` on the host, ``repeats`` times.

    Returns the medians ``write_s`` and ``load_s``, their ``(min, max)`` as
    ``write_range_s`` and ``load_range_s``, ``file_bytes`` and ``equal`` (whether every
    loaded array equals ``matrix`` exactly).
    """
    path = Path(folder) / "roundtrip.npz"
    writes, loads, equal = [], [], True
    for _ in range(repeats):
        begin = time.perf_counter()
        write_npz_atomic(path, weights=matrix)
        written = time.perf_counter()
        loaded = _load_npz(path)["weights"]
        done = time.perf_counter()
        writes.append(written - begin)
        loads.append(done - written)
        equal = equal and loaded.dtype == matrix.dtype and np.array_equal(loaded, matrix)
    return {"write_s": float(np.median(writes)), "load_s": float(np.median(loads)),
            "write_range_s": (min(writes), max(writes)), "load_range_s": (min(loads), max(loads)),
            "file_bytes": path.stat().st_size, "equal": bool(equal)}


def time_export_in_lava(net: BioGradNetwork, x, labels, timeout_s: float) -> dict:
    """Run a one-sample learning graph and time loading the ``W_1`` its dense model exported.

    ``load_s`` runs from the return of ``session.run`` to the loaded array. The loaded
    ``W_1`` is compared with the reference model's one-sample update (``'delayed'``
    timing, same initial parameters, ``lr = 1e-3/128``): ``max_abs_diff`` is the largest
    absolute difference and ``weights`` the loaded matrix.
    """
    x = x[:1]
    with LavaBioGradNetwork(net, dtype=DTYPE, timeout_s=timeout_s) as lava_net:
        reference = lava_net.reference
        source, n_steps = lava_net._build_wake(x, labels[:1], learning=True, lr=LEARNING_RATE, record=False)
        with LavaSession(source, lava_net._run_cfg(), timeout_s=timeout_s) as session:
            session.run(n_steps)
            returned = time.perf_counter()
            weights = _load_npz(lava_net._path("dense0"))["weights"]
            load_s = time.perf_counter() - returned
    result = reference.wake(x.transpose(1, 0, 2), labels[:1], traces="fast")
    reference.apply_update(result, LEARNING_RATE)
    expected = reference.weights[0]
    return {"load_s": load_s, "weights": weights, "shape": weights.shape,
            "max_abs_diff": float(np.max(np.abs(weights - expected))),
            "max_abs_update": float(np.max(np.abs(expected - net.weights[0].astype(np.float64))))}


def build_minimal_graph(weights, bias, x, neuron: NeuronParams, counts_path):
    """Build ``SpikeSource -> BioGradDense -> BioGradNeuron -> SpikeCounter`` without learning.

    Returns ``(source, dense)``. The counter writes the spike counts of every sample of
    ``x`` (shape (n_samples, T, n_in)) to ``counts_path`` after the last sample.
    """
    from lava_biograd.lava.counter.process import SpikeCounter
    from lava_biograd.lava.neuron.process import BioGradNeuron
    from lava_biograd.lava.plastic_dense.process import BioGradDense
    from lava_biograd.lava.source.process import SpikeSource

    n_out = weights.shape[0]
    n_samples, n_steps = x.shape[:2]
    source = SpikeSource(data=x, name="minimal_source")
    dense = BioGradDense(weights=weights, bias=bias, sample_steps=n_steps, vdecay=neuron.vdecay,
                         dtype=DTYPE, name="minimal_dense")
    layer = BioGradNeuron(shape=(n_out,), neuron=neuron, sample_steps=n_steps, dtype=DTYPE, name="minimal_neuron")
    counter = SpikeCounter(n=n_out, sample_steps=n_steps, n_samples=n_samples, export_path=str(counts_path),
                           name="minimal_counter")
    source.s_out.connect(dense.s_in)
    dense.a_out.connect(layer.a_in)
    layer.s_out.connect(counter.s_in)
    return source, dense


def reference_counts(weights, bias, x, neuron: NeuronParams) -> np.ndarray:
    """Return the spike counts (n_samples, n_out) of one BioGrad layer in the reference model (``'delayed'``)."""
    n_out, n_in = weights.shape
    config = NetworkConfig(sizes=(n_in, n_out), n_steps=x.shape[1], error_start=ERROR_START, neuron=neuron,
                           timing="delayed")
    layer = BioGradNetwork.from_state_dict({"config": config.to_dict(), "dtype": DTYPE, "W0": weights, "b0": bias})
    return layer.predict(x.transpose(1, 0, 2))[1]


def time_start_with_matrix(weights, bias, x, neuron: NeuronParams, folder, timeout_s: float) -> dict:
    """Time building and starting the minimal graph with ``weights``, then check one run against the reference.

    Returns ``start_s`` (Process construction plus ``session.start()``), ``counts`` (the
    Lava spike counts of the samples in ``x``) and ``counts_equal`` (whether they equal
    :func:`reference_counts`).
    """
    counts_path = Path(folder) / f"counts_{weights.shape[0]}x{weights.shape[1]}.npz"
    begin = time.perf_counter()
    source, _ = build_minimal_graph(weights, bias, x, neuron, counts_path)
    with LavaSession(source, _run_cfg(), timeout_s=timeout_s) as session:
        start_s = time.perf_counter() - begin
        session.run(x.shape[0] * x.shape[1])
    counts = _load_npz(counts_path)["counts"]
    expected = reference_counts(weights, bias, x, neuron)
    return {"start_s": start_s, "counts": counts, "counts_equal": bool(np.array_equal(counts, expected))}


def time_import(net: BioGradNetwork, x, repeats: int, seed: int, folder, timeout_s: float) -> dict:
    """Time the start of the minimal graph with ``W_1`` and with a 2 x 2 matrix, alternating, ``repeats`` times.

    ``matrix_s = median(start with W_1) - median(start with 2 x 2)`` is the cost of
    handing ``W_1`` to Lava as a Var initial value. ``x`` is one sample of input spikes.
    The result also contains the ``(min, max)`` start times as ``big_range_s`` and
    ``small_range_s``, ``counts_equal`` (every run matched :func:`reference_counts`) and
    ``big_spikes`` (spike count of the first run with ``W_1``).
    """
    neuron = net.config.neuron[0]
    big = (np.asarray(net.weights[0], np.float64), np.asarray(net.biases[0], np.float64), x[:1])
    rng = np.random.default_rng([seed, 3])
    small = (rng.normal(0.0, 0.5, SMALL_MATRIX_SHAPE), np.zeros(SMALL_MATRIX_SHAPE[0]),
             (rng.random((1, N_STEPS, SMALL_MATRIX_SHAPE[1])) < 0.5).astype(np.float64))
    runs = {"big": [], "small": []}
    for _ in range(repeats):
        for key, (weights, bias, spikes) in (("big", big), ("small", small)):
            runs[key].append(time_start_with_matrix(weights, bias, spikes, neuron, folder, timeout_s))
    big = [run["start_s"] for run in runs["big"]]
    small = [run["start_s"] for run in runs["small"]]
    big_s, small_s = float(np.median(big)), float(np.median(small))
    return {"big_start_s": big_s, "small_start_s": small_s, "matrix_s": big_s - small_s,
            "big_range_s": (min(big), max(big)), "small_range_s": (min(small), max(small)),
            "counts_equal": all(run["counts_equal"] for key in runs for run in runs[key]),
            "big_spikes": float(runs["big"][0]["counts"].sum())}


def time_var_get(shape, seed: int, folder, timeout_s: float) -> dict:
    """Time Lava's ``Var.get`` of the ``weights`` Var of a ``BioGradDense`` of ``shape`` (outputs x inputs).

    The graph is started but not run, so the Var contains its initial value. Returns
    ``get_s``, ``elements``, ``per_element_s`` and ``equal`` (whether the value read
    equals the initial matrix).
    """
    rng = np.random.default_rng([seed, 4])
    weights = rng.normal(0.0, 0.1, shape)
    spikes = np.zeros((1, N_STEPS, shape[1]))
    source, dense = build_minimal_graph(weights, np.zeros(shape[0]), spikes, NeuronParams(),
                                        Path(folder) / "var_get_counts.npz")
    with LavaSession(source, _run_cfg(), timeout_s=timeout_s) as session:
        begin = time.perf_counter()
        value = session.get(dense.weights)
        get_s = time.perf_counter() - begin
    elements = int(np.prod(shape))
    return {"get_s": get_s, "elements": elements, "per_element_s": get_s / elements,
            "equal": bool(np.array_equal(np.asarray(value), weights))}


def check_bars(ratio: float, out_s: float, in_s: float) -> dict:
    """Return ``PASS``/``FAIL`` for ``ratio >= 0.3``, ``out_s < 0.5`` and ``in_s < 0.5`` seconds."""
    return {
        "ratio": "PASS" if ratio >= MIN_RATIO else "FAIL",
        "out": "PASS" if out_s < MAX_TRANSFER_S else "FAIL",
        "in": "PASS" if in_s < MAX_TRANSFER_S else "FAIL",
    }


# ----------------------------------------------------------------- report
def _s(seconds: float) -> str:
    return f"{seconds:,.3f}"


def _range(bounds) -> str:
    return f"{bounds[0]:,.3f}-{bounds[1]:,.3f}"


def _lava_version() -> str:
    try:
        return importlib.metadata.version("lava-nc")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def render_section(results: dict, info: dict, args: argparse.Namespace, command: str,
                   started: datetime, load: tuple) -> str:
    """Return the Markdown section, markers included."""
    sizes = "-".join(map(str, args.sizes))
    data = "synthetic uniform 8-bit images (script test only)" if args.synthetic else "MNIST training split"
    biograd, stock = results["biograd"], results["stock"]
    host, export, imports, var_get = results["host"], results["export"], results["import"], results["var_get"]
    ratio = biograd["steps_per_s"] / stock["steps_per_s"]
    out_s = host["write_s"] + export["load_s"]
    bars = check_bars(ratio, out_s, imports["matrix_s"])
    rows, cols = matrix_shape(args.sizes)
    n_elements = rows * cols
    mib = n_elements * 8 / 2**20
    get_rows, get_cols = args.var_get_shape
    precision = "float64 models and messages"
    if args.dtype != "float64":
        precision = f"BioGrad model arithmetic {args.dtype} in the speed graph, float64 elsewhere and in messages"

    lines = [
        MARKER_START,
        "## Lava graph speed and bulk weight transfer",
        "",
        "Written by `benchmarks/bench_lava.py`. Rerun it to replace this section.",
        "",
    ]
    lines += render_notes(args, load, info["usable_cores"])
    lines += [
        f"Lava {_lava_version()} CPU simulator, `Loihi2SimCfg(select_tag=\"floating_pt\")`. Every graph "
        "runs through `LavaSession` in one process, and both speed graphs get the same input spikes.",
        "",
        f"- Setting: {sizes}, T={N_STEPS}, t0={ERROR_START}, lr {LEARNING_RATE:.4g} per sample, "
        f"{args.warmup_samples} warm-up and {args.samples} timed samples, {data}, seed {args.seed}, "
        f"{precision}",
        f"- Command: `{command}`",
        f"- Date: {started.strftime('%Y-%m-%d %H:%M')} UTC",
        f"- Machine: {info['cpu']}, {info['logical_cores']} logical cores ({info['usable_cores']} usable), "
        f"{info['platform']}",
        f"- Load average (1 min) at start and end: {load[0]:.2f} and {load[1]:.2f}. The value at the "
        "start shows other work on the machine; the value at the end also counts the benchmark's "
        "own Lava processes.",
        f"- Software: Python {info['python']}, numpy {info['numpy']}, lava-nc {_lava_version()}, "
        f"commit {info['commit']}",
        "",
        "### Graph speed",
        "",
        "| graph | OS processes | build + compile + start (s) | warm-up steps | timed steps | timed run (s) "
        "| steps/s | output spikes per sample |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, run in (("BioGrad wake with learning (`LavaBioGradNetwork._build_wake`)", biograd),
                       ("Lava stock processes, no learning (`RingBuffer`, `Dense`, `LIF`)", stock)):
        lines.append(
            f"| {label} | {run['os_processes']} | {_s(run['start_s'])} | {run['warmup_steps']} "
            f"| {run['timed_steps']} | {_s(run['run_s'])} | {run['steps_per_s']:,.1f} "
            f"| {run['output_spikes_per_sample']:.1f} |"
        )
    lines += [
        "",
        f"Ratio BioGrad/stock (steps/s): {ratio:.3f}",
        "",
        "steps/s is the timed steps over the wall time of one `session.run` call, which excludes "
        "building, compiling and starting the graph and the warm-up steps. The BioGrad graph also runs "
        "the error pathway (the error source with its error neuron pair, and one feedback connection per hidden layer) "
        "and updates W and b after every sample. At its last step, inside the timed run, it writes the "
        "learned weights and the output counts to `.npz` files. Output spikes per sample are the mean "
        "over all samples of the run, warm-up included, and show how active each graph was. The stock graph "
        "uses `LIF` with du=1, dv=1-alpha, vth=theta and the BioGrad biases, so its forward dynamics "
        "match the BioGrad soma without the reset between samples. OS processes counts what Lava "
        "started for the graph: one per Process plus its runtime service and shared-memory manager.",
        "",
        f"### Bulk weight transfer of W_1 ({cols} -> {rows}, a {rows} x {cols} float64 matrix, "
        f"{n_elements:,} values, {mib:.1f} MiB)",
        "",
        "| direction | path | seconds | min-max over repeats (s) |",
        "|---|---|---:|---|",
        f"| out | ProcessModel writes the `.npz` (`write_npz_atomic`, timed on the host in isolation, "
        f"median of {args.repeats}) | {_s(host['write_s'])} | {_range(host['write_range_s'])} |",
        f"| out | host loads the `.npz` that a one-sample learning graph exported, from the return of "
        f"`session.run` to the array (`_load_npz`) | {_s(export['load_s'])} | |",
        f"| out | total | {_s(out_s)} | |",
        f"| out, host only | `_load_npz` of the file written above (median of {args.repeats}) "
        f"| {_s(host['load_s'])} | {_range(host['load_range_s'])} |",
        f"| in | build, compile and start SpikeSource -> BioGradDense -> BioGradNeuron -> SpikeCounter "
        f"with W_1 as Var initial value (median of {args.repeats}) | {_s(imports['big_start_s'])} "
        f"| {_range(imports['big_range_s'])} |",
        f"| in | the same graph with a 2 x 2 matrix (median of {args.repeats}) | {_s(imports['small_start_s'])} "
        f"| {_range(imports['small_range_s'])} |",
        f"| in | difference of the medians: cost of W_1 | {_s(imports['matrix_s'])} | |",
        f"| contrast | Lava `Var.get` of a {get_rows} x {get_cols} `weights` Var ({var_get['elements']:,} values), "
        f"measured | {_s(var_get['get_s'])} | |",
        f"| contrast | Lava `Var.get` of W_1, extrapolated linearly at "
        f"{1e6 * var_get['per_element_s']:.1f} µs per value, not measured | "
        f"{_s(var_get['per_element_s'] * n_elements)} | |",
        "",
        "Lava 0.10 builds each ProcessModel inside its forked OS process, so a Var initial value reaches "
        "the model through the fork and not through messages. A difference smaller than the spread of "
        "the start times is noise and can be negative. `Var.get` moves one value per message.",
        "",
        "Checks of the transferred values:",
        "",
        f"- The W_1 loaded after one learning sample differs from the reference model's one-sample "
        f"update by at most {export['max_abs_diff']:.2g}. The update itself changed W_1 by up to "
        f"{export['max_abs_update']:.2g}.",
        f"- The spike counts of the minimal graph equal the reference model's counts in every run: "
        f"{'yes' if imports['counts_equal'] else 'NO'} ({imports['big_spikes']:.0f} spikes with W_1).",
        f"- The host round trip returns the matrix exactly: {'yes' if host['equal'] else 'NO'}. "
        f"`Var.get` returns the initial matrix exactly: {'yes' if var_get['equal'] else 'NO'}.",
        "",
        "### Bars",
        "",
    ]
    lines += render_bars(bars, ratio, out_s, imports["matrix_s"], is_spec_setting(args),
                         matrix_shape(args.sizes) == SPEC_MATRIX_SHAPE)
    lines.append(MARKER_END)
    return "\n".join(lines) + "\n"


def render_notes(args: argparse.Namespace, load: tuple, cores: int) -> list:
    """Return ``NOTE:`` lines for a quick run or a busy machine (empty when neither applies)."""
    notes = []
    if args.samples < DEFAULT_SAMPLES:
        notes.append(
            f"NOTE: quick run with {args.samples} timed samples (the default is {DEFAULT_SAMPLES}). "
            "Rerun the default command on an idle machine before relying on these numbers."
        )
    # The load at the end includes this benchmark's own Lava processes, so only the start counts.
    if load[0] > 0.5 * cores:
        notes.append(
            f"NOTE: the load average exceeded half the {cores} usable cores, so other processes "
            "competed with Lava's processes and every time here is inflated by an unknown amount."
        )
    return [line for note in notes for line in (note, "")]


def render_bars(bars: dict, ratio: float, out_s: float, in_s: float, spec_setting: bool,
                spec_matrix: bool) -> list:
    """Return the Markdown lines of the bar table, marking a bar as not checked outside its setting."""
    speed = bars["ratio"] if spec_setting else "not checked (needs MNIST and 784-500-100-10)"
    out_result = bars["out"] if spec_matrix else "not checked (needs a 784 -> 500 W_1)"
    in_result = bars["in"] if spec_matrix else "not checked (needs a 784 -> 500 W_1)"
    return [
        "| bar | measured | result |",
        "|---|---|---|",
        f"| BioGrad/stock steps/s >= {MIN_RATIO:g} | {ratio:.3f} | {speed} |",
        f"| W_1 out of Lava < {MAX_TRANSFER_S:g} s | {_s(out_s)} s | {out_result} |",
        f"| W_1 into Lava < {MAX_TRANSFER_S:g} s | {_s(in_s)} s | {in_result} |",
    ]


# ----------------------------------------------------------------- entry point
def main(argv=None) -> dict:
    """Run the benchmark, write the Markdown section and return the results.

    Returns
    -------
    dict
        ``biograd`` and ``stock`` (see :func:`time_biograd_wake` and :func:`time_stock_graph`), ``host``
        (:func:`time_host_roundtrip`), ``export`` (:func:`time_export_in_lava`),
        ``import`` (:func:`time_import`), ``var_get`` (:func:`time_var_get`),
        ``section`` (str) and ``output`` (Path).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check_args(args)
    except (TypeError, ValueError) as error:
        parser.error(str(error))
    started = datetime.now(timezone.utc)
    load_start = os.getloadavg()[0]

    x, labels = load_samples(args, args.warmup_samples + args.samples)
    net = make_network(args.sizes, args.seed)
    n_warmup = args.warmup_samples * N_STEPS
    results = {}
    print(f"timing the BioGrad wake graph: {n_warmup} warm-up and {args.samples * N_STEPS} timed steps", flush=True)
    results["biograd"] = time_biograd_wake(net, x, labels, n_warmup, args.timeout, args.dtype)
    print(f"  {results['biograd']['steps_per_s']:,.1f} steps/s", flush=True)
    print("timing the stock-process graph", flush=True)
    results["stock"] = time_stock_graph(net, x, n_warmup, args.timeout)
    print(f"  {results['stock']['steps_per_s']:,.1f} steps/s", flush=True)

    print("timing bulk weight transfer", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_lava_") as folder:
        matrix = np.asarray(net.weights[0], dtype=np.float64)
        results["host"] = time_host_roundtrip(matrix, args.repeats, folder)
        results["export"] = time_export_in_lava(net, x, labels, args.timeout)
        results["import"] = time_import(net, x, args.repeats, args.seed, folder, args.timeout)
        results["var_get"] = time_var_get(args.var_get_shape, args.seed, folder, args.timeout)

    section = render_section(results, machine_info(), args, command_line(__file__, argv), started,
                             (load_start, os.getloadavg()[0]))
    output = write_section(args.output, section)
    print(section)
    print(f"wrote {output}")
    return {**results, "section": section, "output": output}


if __name__ == "__main__":
    main()
