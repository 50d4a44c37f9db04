r"""Benchmark the training throughput of the numpy reference model in both trace forms.

One training batch is timed in the four phases the trainer runs
(:class:`lava_biograd.training.trainer.Trainer`): Bernoulli encoding of the input,
``BioGradNetwork.wake``, ``BioGradNetwork.apply_update`` (plain SGD) and
``BioGradNetwork.sleep`` (one episode after every batch). The ``fast`` and the ``online``
trace forms run in one process on the same batches, the same initial weights and the same
sleep noise.

With ``t_{k,phase}`` the wall time of phase ``phase`` in timed batch ``k`` and ``B`` the
batch size, the reported throughputs are

.. math::

    r_\mathrm{train} = B / \operatorname{median}_k (t_{k,wake} + t_{k,update} + t_{k,sleep}),
    \qquad
    r_\mathrm{all} = B / \operatorname{median}_k (t_{k,encode} + t_{k,wake} + t_{k,update} + t_{k,sleep}).

The bars are checked on ``r_train`` of the spec setting (784-500-100-10, ``T = 20``,
``t0 = 5``, batch 128, float32, MNIST): ``r_train(fast) >= 1000`` samples/s on 2 cores and
``r_train(fast) >= 10 r_train(online)``.

The results replace the section between ``<!-- bench_reference:start -->`` and
``<!-- bench_reference:end -->`` in the output Markdown file, so other sections of that
file stay as they are.

Run from the repository root::

    .venv/bin/python benchmarks/bench_reference.py
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import sys
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from lava_biograd.data.dataset import RateCodedImages, mnist_splits
from lava_biograd.reference import BioGradNetwork, NetworkConfig, SleepParams
from lava_biograd.reference.network import TRACE_FORMS
from lava_biograd.training.trainer import make_generators
from lava_biograd.validation import check_int

# The benchmarks folder is not a package, so its shared module is found through sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import REPOSITORY_ROOT, check_benchmark_sizes, machine_info, parse_sizes, write_section  # noqa: E402

SPEC_SIZES = (784, 500, 100, 10)
SPEC_BATCH_SIZE = 128
N_STEPS = 20
ERROR_START = 5
LEARNING_RATE = 1e-3
DTYPE = "float32"

PHASES = ("encode", "wake", "update", "sleep")
TRAIN_PHASES = ("wake", "update", "sleep")

FAST_MIN_SAMPLES_PER_S = 1000.0
MIN_SPEEDUP = 10.0
BAR_CORES = 2

MARKER_START = "<!-- bench_reference:start -->"
MARKER_END = "<!-- bench_reference:end -->"
# Training rates given by the project lead, measured on 784-500-100-10, T=20, batch 128
# on the type of machine the bars refer to. This script does not measure them.
CONTEXT_RATES = (
    ("BioGrad authors' code", "11.7"),
    ("PyTorch BPTT", "1,540"),
    ("dense GEMM floor", "about 3,300"),
)


# ----------------------------------------------------------------- arguments
def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser of the benchmark."""
    parser = argparse.ArgumentParser(
        description="Time training batches (encode, wake, SGD update, sleep) of the numpy reference "
                    "model in the fast and the online trace form and write a Markdown table.",
    )
    parser.add_argument("--batches-fast", type=int, default=20,
                        help="timed batches of the fast form, after the warm-up (default: 20)")
    parser.add_argument("--batches-online", type=int, default=3,
                        help="timed batches of the online form, after the warm-up (default: 3)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="untimed batches per form before timing; the first one also measures "
                             "peak memory with tracemalloc (default: 1)")
    parser.add_argument("--output", default="docs/benchmarks.md",
                        help="Markdown file whose bench_reference section is replaced "
                             "(default: docs/benchmarks.md)")
    parser.add_argument("--seed", type=int, default=0,
                        help="root seed of weights, sample order, input spikes and sleep noise (default: 0)")
    parser.add_argument("--sizes", type=parse_sizes, default=SPEC_SIZES,
                        help="layer sizes, input first, at least one hidden layer (default: 784-500-100-10)")
    parser.add_argument("--batch-size", type=int, default=SPEC_BATCH_SIZE,
                        help=f"samples per batch (default: {SPEC_BATCH_SIZE})")
    parser.add_argument("--synthetic", action="store_true",
                        help="use uniform random 8-bit images and labels instead of MNIST; "
                             "for testing the script, the bars are then not checked")
    parser.add_argument("--data-dir", default=None,
                        help="MNIST data root (default: the library's data search order)")
    return parser


def check_args(args: argparse.Namespace) -> argparse.Namespace:
    """Validate parsed arguments, raising ``ValueError`` or ``TypeError`` that names the option."""
    check_int("--batches-fast", args.batches_fast, minimum=1)
    check_int("--batches-online", args.batches_online, minimum=1)
    check_int("--warmup", args.warmup, minimum=0)
    check_int("--seed", args.seed, minimum=0)
    check_int("--batch-size", args.batch_size, minimum=1)
    args.sizes = check_benchmark_sizes(args.sizes, args.synthetic, "the benchmark times the sleep phase, which updates the feedback weights of hidden layers")
    return args


def is_spec_setting(args: argparse.Namespace) -> bool:
    """Return whether the run uses the setting the bars are defined for (MNIST, 784-500-100-10, batch 128)."""
    return not args.synthetic and tuple(args.sizes) == SPEC_SIZES and args.batch_size == SPEC_BATCH_SIZE


# ----------------------------------------------------------------- data and timing
def load_dataset(args: argparse.Namespace) -> RateCodedImages:
    """Return the MNIST training split, or uniform random 8-bit images with ``--synthetic``."""
    if not args.synthetic:
        return mnist_splits(data_dir=args.data_dir, n_steps=N_STEPS)["train"]
    rng = np.random.default_rng([args.seed, 7])
    n_samples = args.batch_size * (args.warmup + max(args.batches_fast, args.batches_online))
    images = rng.integers(0, 256, size=(n_samples, args.sizes[0]), dtype=np.uint8)
    labels = rng.integers(0, args.sizes[-1], size=n_samples)
    return RateCodedImages(images, labels, N_STEPS, name="synthetic")


def batch_indices(permutation: np.ndarray, batch: int, batch_size: int) -> np.ndarray:
    """Return the sample indices of batch number ``batch``, wrapping around the permutation."""
    positions = np.arange(batch * batch_size, (batch + 1) * batch_size) % len(permutation)
    return permutation[positions]


def run_batch(net: BioGradNetwork, dataset, index: np.ndarray, form: str, generators: dict,
              sleep_params: SleepParams) -> dict:
    """Train on one batch as the trainer does and return the wall time of each phase in seconds."""
    start = time.perf_counter()
    x = dataset.batch(index, generators["encode"], net.dtype)
    encoded = time.perf_counter()
    result = net.wake(x, dataset.labels[index], traces=form)
    woken = time.perf_counter()
    net.apply_update(result, LEARNING_RATE)
    updated = time.perf_counter()
    net.sleep(sleep_params, generators["sleep"])
    slept = time.perf_counter()
    return {"encode": encoded - start, "wake": woken - encoded, "update": updated - woken, "sleep": slept - updated}


def time_form(form: str, dataset, args: argparse.Namespace, n_batches: int) -> dict:
    """Time ``n_batches`` training batches of one trace form after ``args.warmup`` untimed ones.

    Every form starts from the same seed, so both forms see the same initial weights,
    batches, input spikes and sleep noise. The first warm-up batch runs under
    :mod:`tracemalloc` and gives the peak memory allocated during one batch.

    Returns
    -------
    dict
        ``times`` (phase name to a list of ``n_batches`` seconds), ``peak_alloc_bytes``
        (int, or None without warm-up) and ``max_rss_bytes`` (peak resident size of the
        process so far, which includes every form run before this one).
    """
    config = NetworkConfig(sizes=tuple(args.sizes), n_steps=N_STEPS, error_start=ERROR_START)
    generators = make_generators(args.seed)
    net = BioGradNetwork(config, generators["init"], dtype=DTYPE)
    permutation = generators["shuffle"].permutation(len(dataset))
    sleep_params = SleepParams()

    peak_alloc = None
    for batch in range(args.warmup):
        index = batch_indices(permutation, batch, args.batch_size)
        if batch == 0:
            tracemalloc.start()
            try:
                run_batch(net, dataset, index, form, generators, sleep_params)
                peak_alloc = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
        else:
            run_batch(net, dataset, index, form, generators, sleep_params)

    times = {phase: [] for phase in PHASES}
    for batch in range(args.warmup, args.warmup + n_batches):
        index = batch_indices(permutation, batch, args.batch_size)
        for phase, seconds in run_batch(net, dataset, index, form, generators, sleep_params).items():
            times[phase].append(seconds)
    # ru_maxrss is in KiB on Linux.
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"times": times, "peak_alloc_bytes": peak_alloc, "max_rss_bytes": max_rss}


def summarize(times: dict, batch_size: int) -> dict:
    """Return the median seconds per phase and the throughputs ``r_train`` and ``r_all``.

    ``train_s`` is the median of the per-batch sums over wake, update and sleep, and
    ``total_s`` the same with encoding added. Neither is the sum of the phase medians.
    """
    per_batch = {phase: np.asarray(times[phase], dtype=np.float64) for phase in PHASES}
    train = sum(per_batch[phase] for phase in TRAIN_PHASES)
    total = train + per_batch["encode"]
    summary = {f"{phase}_s": float(np.median(per_batch[phase])) for phase in PHASES}
    summary["train_s"] = float(np.median(train))
    summary["total_s"] = float(np.median(total))
    summary["train_samples_per_s"] = batch_size / summary["train_s"]
    summary["total_samples_per_s"] = batch_size / summary["total_s"]
    summary["n_batches"] = len(train)
    return summary


def check_bars(fast_rate: float, online_rate: float) -> dict:
    """Return ``PASS``/``FAIL`` for ``fast >= 1000`` samples/s and ``fast >= 10 x online``."""
    ratio = fast_rate / online_rate
    return {
        "ratio": ratio,
        "fast_rate": "PASS" if fast_rate >= FAST_MIN_SAMPLES_PER_S else "FAIL",
        "speedup": "PASS" if ratio >= MIN_SPEEDUP else "FAIL",
    }


# ----------------------------------------------------------------- command line
def command_line(argv: list) -> str:
    """Return the shell command that reruns this benchmark with ``argv``."""
    python = Path(sys.executable)
    try:
        python_text = str(python.relative_to(REPOSITORY_ROOT))
    except ValueError:
        python_text = str(python)
    script = Path(__file__).resolve().relative_to(REPOSITORY_ROOT)
    return shlex.join([python_text, str(script), *argv])


# ----------------------------------------------------------------- report
def _ms(seconds: float) -> str:
    return f"{1000 * seconds:,.1f}"


def _mib(n_bytes) -> str:
    return "n/a" if n_bytes is None else f"{n_bytes / 2**20:,.1f}"


def trace_state_bytes(sizes, batch_size: int) -> int:
    """Return the bytes of the online form's per-synapse traces ``P`` and ``E`` over all layers (float32)."""
    synapses = sum(n_pre * n_post for n_pre, n_post in zip(sizes[:-1], sizes[1:]))
    return 2 * batch_size * synapses * np.dtype(DTYPE).itemsize


def render_section(results: dict, info: dict, args: argparse.Namespace, command: str,
                   started: datetime, load: tuple) -> str:
    """Return the Markdown section, markers included."""
    sizes = "-".join(map(str, args.sizes))
    data = "synthetic uniform 8-bit images (script test only)" if args.synthetic else "MNIST training split"
    fast = results["fast"]["summary"]
    online = results["online"]["summary"]
    bars = check_bars(fast["train_samples_per_s"], online["train_samples_per_s"])
    sleep = SleepParams()

    lines = [
        MARKER_START,
        "## Reference model training throughput",
        "",
        "Written by `benchmarks/bench_reference.py`. Rerun it to replace this section.",
        "",
        "Training batches of the numpy reference model (`BioGradNetwork`) as the trainer runs them: "
        "Bernoulli rate encoding of the inputs, wake phase, SGD update and one sleep episode. "
        "The fast and the online trace form run in one process on the same batches, initial weights "
        "and sleep noise.",
        "",
        f"- Setting: {sizes}, T={N_STEPS}, t0={ERROR_START}, batch {args.batch_size}, {DTYPE}, "
        f"SGD lr {LEARNING_RATE:g}, sleep after every batch (N_s={sleep.n_samples}, T_s={sleep.n_steps}), "
        f"{data}, seed {args.seed}",
        f"- Command: `{command}`",
        f"- Date: {started.strftime('%Y-%m-%d %H:%M')} UTC",
        f"- Machine: {info['cpu']}, {info['logical_cores']} logical cores ({info['usable_cores']} usable), "
        f"{info['platform']}",
        f"- Load average (1 min) at start and end: {load[0]:.2f} and {load[1]:.2f}. Other processes "
        "shared the cores when these are well above 0, and the rates are then low.",
        f"- Software: Python {info['python']}, numpy {info['numpy']}, BLAS {info['blas']}, "
        f"commit {info['commit']}",
        "",
        "| form | timed batches | encode (ms) | wake (ms) | update (ms) | sleep (ms) "
        "| wake+update+sleep (ms) | samples/s | samples/s with encode | tracemalloc peak (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for form in TRACE_FORMS:
        s = results[form]["summary"]
        lines.append(
            f"| {form} | {s['n_batches']} | {_ms(s['encode_s'])} | {_ms(s['wake_s'])} | {_ms(s['update_s'])} "
            f"| {_ms(s['sleep_s'])} | {_ms(s['train_s'])} | {s['train_samples_per_s']:,.1f} "
            f"| {s['total_samples_per_s']:,.1f} | {_mib(results[form]['peak_alloc_bytes'])} |"
        )
    lines += [
        "",
        f"Every time is the median over the timed batches, after {args.warmup} untimed warm-up batch(es) per form. "
        "samples/s is the batch size over the median of the per-batch wake+update+sleep time, so "
        "input encoding is excluded. The column with encode adds it. "
        "The tracemalloc peak is the maximum memory allocated during the first warm-up batch. "
        f"The online form keeps per-synapse traces P and E of shape (batch, n_post, n_pre), "
        f"{_mib(trace_state_bytes(args.sizes, args.batch_size))} MiB here. "
        f"Peak resident set size of the process (ru_maxrss): {_mib(results['fast']['max_rss_bytes'])} MiB "
        f"after the fast form, {_mib(results['online']['max_rss_bytes'])} MiB after both forms.",
        "",
        f"Ratio fast/online (samples/s): {bars['ratio']:,.1f}",
        "",
        "### Bars",
        "",
    ]
    lines += render_bars(bars, fast["train_samples_per_s"], info["usable_cores"], is_spec_setting(args))
    lines += [
        "",
        "Context from the project lead, not measured by this script: on 784-500-100-10, T=20, "
        "batch 128, on this type of machine, "
        + ", ".join(f"{name} trains {rate} samples/s" for name, rate in CONTEXT_RATES[:2])
        + f", and the {CONTEXT_RATES[2][0]} is {CONTEXT_RATES[2][1]} samples/s.",
        MARKER_END,
    ]
    return "\n".join(lines) + "\n"


def render_bars(bars: dict, fast_rate: float, cores: int, spec_setting: bool) -> list:
    """Return the Markdown lines of the bar table, or a line saying why the bars are not checked."""
    if not spec_setting:
        return [
            f"Not checked: the bars are defined for MNIST, {'-'.join(map(str, SPEC_SIZES))} "
            f"and batch {SPEC_BATCH_SIZE}, and this run used another setting."
        ]
    lines = [
        "| bar | measured | result |",
        "|---|---|---|",
        f"| fast >= {FAST_MIN_SAMPLES_PER_S:,.0f} samples/s on {BAR_CORES} cores "
        f"| {fast_rate:,.1f} samples/s on {cores} usable cores | {bars['fast_rate']} |",
        f"| fast >= {MIN_SPEEDUP:g}x online | {bars['ratio']:,.1f}x | {bars['speedup']} |",
    ]
    if cores != BAR_CORES:
        lines += ["", f"NOTE: this machine has {cores} usable cores, while the rate bar is defined for {BAR_CORES}."]
    return lines


# ----------------------------------------------------------------- entry point
def main(argv=None) -> dict:
    """Run the benchmark, write the Markdown section and return the results.

    Returns
    -------
    dict
        ``{"fast": ..., "online": ..., "section": str, "output": Path}``, where each form
        contains ``times``, ``summary`` (from :func:`summarize`), ``peak_alloc_bytes`` and
        ``max_rss_bytes``.
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
    dataset = load_dataset(args)

    results = {}
    n_batches = {"fast": args.batches_fast, "online": args.batches_online}
    for form in TRACE_FORMS:
        print(f"timing the {form} form: {args.warmup} warm-up and {n_batches[form]} timed batches", flush=True)
        results[form] = time_form(form, dataset, args, n_batches[form])
        results[form]["summary"] = summarize(results[form]["times"], args.batch_size)
        print(f"  {results[form]['summary']['train_samples_per_s']:,.1f} samples/s (wake+update+sleep)", flush=True)

    section = render_section(results, machine_info(), args, command_line(argv), started,
                             (load_start, os.getloadavg()[0]))
    output = write_section(args.output, section)
    print(section)
    print(f"wrote {output}")
    return {**results, "section": section, "output": output}


if __name__ == "__main__":
    main()
