"""Command-line interface: ``lava-biograd train`` and ``lava-biograd evaluate``.

Run ``lava-biograd train --help`` for every option. Invalid arguments stop the program
with a one-line message that names the value and the fix; nothing is trained then.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from lava_biograd.cli_help import DefaultsHelpFormatter

logger = logging.getLogger("lava_biograd.cli")

DATASET_DEFAULTS = {
    # dataset: (T, t0)
    "mnist": (20, 5),
    "nmnist": (60, 19),
}
DEFAULT_EPOCHS = 18


class UsageError(ValueError):
    """An invalid command-line value; printed without a traceback."""


def _number(kind, minimum=None, strict=False, description="a number"):
    """Return an argparse ``type`` that parses ``kind`` and checks a lower bound, with a clear message."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {description}, got {text!r}") from None
        too_small = minimum is not None and (value <= minimum if strict else value < minimum)
        if too_small or value in (float("inf"), float("-inf")) or value != value:
            raise argparse.ArgumentTypeError(f"expected {description}, got {text}")
        return value

    return parse


_positive_int = _number(int, 1, description="a positive integer")
_non_negative_int = _number(int, 0, description="an integer >= 0")
_positive_float = _number(float, 0.0, strict=True, description="a positive finite number")
_float = _number(float, description="a finite number")


# --------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``lava-biograd`` command."""
    parser = argparse.ArgumentParser(
        prog="lava-biograd",
        description="Train and evaluate spiking networks with BioGrad (Tang et al. 2021, arXiv:2110.14092).",
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="logging verbosity (default: INFO)")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a network and write checkpoints, metrics and a plot",
                           formatter_class=DefaultsHelpFormatter)
    data = train.add_argument_group("data")
    data.add_argument("--dataset", default="mnist", help="dataset: mnist or nmnist")
    data.add_argument("--data-dir", default=None,
                      help="data root (default: $LAVA_BIOGRAD_DATA, then ../shared/data beside the checkout, "
                           "then the user cache)")
    data.add_argument("--train-subset", type=_positive_int, default=None,
                      help="train on the first N samples of the training split only")
    data.add_argument("--test-subset", type=_positive_int, default=None,
                      help="evaluate on the first N samples of the validation and test splits only")
    data.add_argument("--n-validation", type=_non_negative_int, default=10000,
                      help="size of the validation split taken from the end of the training set (0: none)")
    data.add_argument("--no-verify", action="store_true", help="skip the sha256 check of the data files")

    net = train.add_argument_group("network")
    net.add_argument("--hidden", type=_positive_int, nargs="+", default=[500, 100],
                     help="hidden layer sizes; input and output sizes come from the dataset")
    net.add_argument("--steps", type=_positive_int, default=None,
                     help="time steps T per sample (default: 20 for mnist, 60 for nmnist)")
    net.add_argument("--t0", type=_non_negative_int, default=None,
                     help="first error step t0, 0 <= t0 < T (default: 5 for mnist, 19 for nmnist)")
    net.add_argument("--vdecay", type=_float, default=0.3, help="voltage decay alpha per step, in [0, 1]")
    net.add_argument("--vth", type=_float, default=0.3, help="firing threshold theta (> 0)")
    net.add_argument("--grad-win", type=_float, default=0.3, help="half-width w of the pseudo-derivative window")
    net.add_argument("--grad-amp", type=_float, default=1.0, help="amplitude A of the pseudo-derivative")
    net.add_argument("--timing", default="same_step", choices=["same_step", "delayed"],
                     help="same_step: no synaptic delay; delayed: one step per connection (hardware timing)")
    net.add_argument("--feedback-init", default="product", choices=["product", "random"],
                     help="initial B_l: product of downstream forward weights, or random")
    net.add_argument("--dtype", default="float32", choices=["float32", "float64"], help="floating-point precision")
    net.add_argument("--precision", default="float", choices=["float", "fixed"],
                     help="float: the float reference; fixed: Loihi-constrained integer arithmetic (8-bit weights, "
                          "24-bit voltages, presynaptic traces) with hardware timing")
    net.add_argument("--netx-compatible", action="store_true",
                     help="with --precision fixed, choose the integer format so that the trained network exports "
                          "to lava-dl netx exactly (weight exponents in [-1, 0], bias exponent 6)")
    net.add_argument("--trace-approximation", default=None, choices=["exact", "presynaptic"],
                     help="eligibility trace: exact per-synapse trace, or the presynaptic-trace approximation of a "
                          "learning engine (default: exact for float, presynaptic for fixed)")

    opt = train.add_argument_group("learning")
    opt.add_argument("--method", default="biograd", choices=["biograd", "bptt"],
                     help="biograd: wake/sleep learning with SGD; bptt: backprop through time with Adam (baseline)")
    opt.add_argument("--lr", type=_positive_float, default=None,
                     help="learning rate (default: 1e-3 for biograd SGD, 1e-4 for bptt Adam)")
    opt.add_argument("--lr-decay", type=_float, default=0.65,
                     help="factor in (0, 1] applied to the learning rate once per epoch after the first "
                          "--lr-decay-after epochs (1: constant, as the BioGrad authors trained; 0.65 was chosen on "
                          "the MNIST validation split)")
    opt.add_argument("--lr-decay-after", type=_non_negative_int, default=11,
                     help="number of epochs trained at the initial learning rate")
    opt.add_argument("--agreement-every", type=_non_negative_int, default=0,
                     help="with biograd, compare the update with the BPTT gradient every N batches (0: never)")
    opt.add_argument("--epochs", type=_positive_int, default=DEFAULT_EPOCHS, help="training epochs")
    opt.add_argument("--batch-size", type=_positive_int, default=128, help="samples per update")
    opt.add_argument("--traces", default="fast", choices=["fast", "online"],
                     help="eligibility trace evaluation (identical results; online is much slower)")

    sleep = train.add_argument_group("sleep phase")
    sleep.add_argument("--sleep-every", type=_non_negative_int, default=1,
                       help="batches between sleep episodes (0: no sleep)")
    sleep.add_argument("--sleep-samples", type=_positive_int, default=128, help="noise samples N_s per episode")
    sleep.add_argument("--sleep-steps", type=_positive_int, default=50, help="time steps T_s per sleep sample")
    sleep.add_argument("--sleep-lr", type=_positive_float, default=1e-4 / 3,
                       help="sleep learning rate eta_s (default: 1e-4/3, about 3.33e-05)")
    sleep.add_argument("--oja-power", type=_float, default=2.0, help="power of the output count in the decay")
    sleep.add_argument("--sleep-reduction", default="sum", choices=["sum", "mean"],
                       help="reduction of the Hebbian term over the sleep samples")

    run = train.add_argument_group("run")
    run.add_argument("--backend", default="reference", choices=["reference", "lava", "loihi2"],
                     help="reference: batched numpy trainer; lava: online learning (batch size 1) in a Lava graph "
                          "with delayed timing, for subsets; loihi2: Loihi 2 hardware, which needs Intel's "
                          "Lava-Loihi extension")
    run.add_argument("--seed", type=_non_negative_int, default=0, help="root seed of every random stream")
    run.add_argument("--out", default="runs/mnist", help="output folder for checkpoints, metrics.jsonl and training.png")
    run.add_argument("--resume", action="store_true", help="continue the run saved in OUT/last.npz")
    run.add_argument("--eval-batch-size", type=_positive_int, default=1000, help="samples per evaluation pass")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    evaluate = sub.add_parser("evaluate", help="report the accuracy of a checkpoint",
                              formatter_class=DefaultsHelpFormatter)
    evaluate.add_argument("checkpoint", help="checkpoint file (.npz) written by train, or a netx network file (.net)")
    evaluate.add_argument("--split", default="test", choices=["test", "validation", "train"], help="split to evaluate")
    evaluate.add_argument("--data-dir", default=None, help="data root (as for train)")
    evaluate.add_argument("--limit", type=_positive_int, default=None, help="evaluate the first N samples only")
    evaluate.add_argument("--seed", type=_non_negative_int, default=None,
                          help="seed of the input encoding (default: the training seed)")
    evaluate.add_argument("--eval-batch-size", type=_positive_int, default=1000, help="samples per pass")
    evaluate.add_argument("--backend", default="reference", choices=["reference", "lava", "loihi2"],
                          help="lava: run the samples through a Lava graph and compare with the reference")
    evaluate.add_argument("--no-verify", action="store_true", help="skip the sha256 check of the data files")

    report = sub.add_parser("report", formatter_class=DefaultsHelpFormatter,
                            help="print a run's per-epoch metrics as a Markdown table and redraw its plot. "
                                 "With several runs (for example seeds), print one row per run and the mean")
    report.add_argument("run_dirs", nargs="+", metavar="run_dir",
                        help="output folder of a train run, or its metrics.jsonl file")

    download = sub.add_parser("download", help="download a dataset into the user cache (needs internet)",
                              formatter_class=DefaultsHelpFormatter)
    download.add_argument("dataset", choices=["mnist"], help="dataset to download")
    download.add_argument("--dest", default=None,
                          help="destination folder (default: the user cache, which train searches last)")

    from lava_biograd.export.cli import add_export_parser

    add_export_parser(sub)
    return parser


# --------------------------------------------------------------------------- data
def load_splits(dataset: str, data_dir, n_steps: int, n_validation: int, verify: bool) -> dict:
    """Return ``{'train', 'validation', 'test'}`` spike datasets (validation may be None)."""
    if dataset == "mnist":
        from lava_biograd.data.dataset import mnist_splits

        return mnist_splits(data_dir=data_dir, n_steps=n_steps, n_validation=n_validation, verify=verify)
    if dataset == "nmnist":
        from lava_biograd.data.nmnist import nmnist_splits

        if n_steps != DATASET_DEFAULTS["nmnist"][0]:
            raise UsageError(
                f"N-MNIST is binned into 60 steps of 5 ms (the first 300 ms); --steps must be 60, got {n_steps}"
            )
        splits = dict(nmnist_splits(data_dir=data_dir, n_validation=n_validation, verify=verify))
        logger.info("N-MNIST split: %s", splits.pop("description", "not described"))
        return splits
    raise UsageError(f"unknown dataset {dataset!r}; choose mnist or nmnist")


def _first(dataset, n):
    if dataset is None or n is None:
        return dataset
    if n >= len(dataset):
        if n > len(dataset):
            logger.warning("the %s split has %d samples, fewer than the %d requested; using all of them",
                           dataset.name, len(dataset), n)
        return dataset
    import numpy as np

    return dataset.subset(np.arange(n))


# --------------------------------------------------------------------------- commands
def _train_settings(args):
    from lava_biograd.reference import NetworkConfig

    if args.dataset not in DATASET_DEFAULTS:
        raise UsageError(f"unknown dataset {args.dataset!r}; choose one of {', '.join(DATASET_DEFAULTS)}")
    default_steps, default_t0 = DATASET_DEFAULTS[args.dataset]
    n_steps = args.steps if args.steps is not None else default_steps
    t0 = args.t0 if args.t0 is not None else min(default_t0, n_steps - 1)
    if t0 >= n_steps:
        raise UsageError(f"--t0 must be smaller than --steps (T), got t0={t0} and T={n_steps}")
    try:
        return _build_settings(args, n_steps, t0) + (NetworkConfig,)
    except ValueError as error:
        raise UsageError(_option_names(str(error))) from None


# Parameter names in library messages and the options that set them.
OPTION_NAMES = {"vdecay": "--vdecay", "vth": "--vth", "grad_win": "--grad-win", "grad_amp": "--grad-amp",
                "lr_decay": "--lr-decay", "sleep lr": "--sleep-lr", "oja_power": "--oja-power",
                "n_validation": "--n-validation"}


def _option_names(message: str) -> str:
    """Replace a leading library parameter name in ``message`` with its command-line option."""
    for name, option in OPTION_NAMES.items():
        if message.startswith(name + " "):
            return option + message[len(name):]
    return message


def _build_settings(args, n_steps, t0):
    from lava_biograd.reference import NeuronParams, SleepParams
    from lava_biograd.training.trainer import TrainConfig

    neuron = NeuronParams(vdecay=args.vdecay, vth=args.vth, grad_win=args.grad_win, grad_amp=args.grad_amp)
    sleep = SleepParams(n_samples=args.sleep_samples, n_steps=args.sleep_steps, lr=args.sleep_lr,
                        oja_power=args.oja_power, reduction=args.sleep_reduction)
    if args.method == "bptt" and args.agreement_every:
        raise UsageError("--agreement-every compares BioGrad with BPTT and needs --method biograd")
    lr = args.lr
    if lr is None:
        lr = 1e-4 if args.method == "bptt" else 1e-3
    train = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=lr, lr_decay=args.lr_decay,
                        lr_decay_after=args.lr_decay_after,
                        sleep_every=args.sleep_every,
                        sleep=sleep, seed=args.seed, eval_batch_size=args.eval_batch_size, traces=args.traces,
                        method=args.method, agreement_every=args.agreement_every,
                        count_operations=args.precision == "fixed")
    return n_steps, t0, neuron, train


def _check_hardware_backend(args) -> None:
    """Raise a clear error for ``--backend loihi2`` when Intel's Lava-Loihi extension is absent."""
    if args.backend == "loihi2":
        from lava_biograd.lava.hardware import check_run_config, make_run_config

        check_run_config(make_run_config("loihi2-hw"))
        raise UsageError("--backend loihi2 is not implemented yet: the graph has no Loihi 2 hardware models; "
                         "use --backend lava with --precision fixed to simulate Loihi arithmetic")


def command_train(args) -> int:
    """Train a network from the parsed arguments; return the exit status."""
    _check_hardware_backend(args)
    from lava_biograd.reference import BioGradNetwork
    from lava_biograd.training.trainer import Trainer, make_generators

    n_steps, t0, neuron, train_config, network_config_cls = _train_settings(args)
    out = Path(args.out)
    last = out / "last.npz"
    if last.exists() and not args.resume:
        raise UsageError(f"{str(out)!r} already contains a run ({last}); pass --resume to continue it or choose another --out")
    if args.resume and not last.exists():
        raise UsageError(f"--resume needs {str(last)!r}, which does not exist; start without --resume")

    splits = load_splits(args.dataset, args.data_dir, n_steps, args.n_validation, not args.no_verify)
    train_set = _first(splits["train"], args.train_subset)
    eval_sets = {"validation": _first(splits.get("validation"), args.test_subset),
                 "test": _first(splits["test"], args.test_subset)}
    sizes = (train_set.n_inputs, *args.hidden, train_set.n_classes)
    config = network_config_cls(sizes=sizes, n_steps=n_steps, error_start=t0, neuron=neuron, timing=args.timing)

    generators = make_generators(train_config.seed)
    approximation = args.trace_approximation or ("presynaptic" if args.precision == "fixed" else "exact")
    net = BioGradNetwork(config, generators["init"], dtype=args.dtype, feedback_init=args.feedback_init,
                         trace_approximation=approximation)
    if args.netx_compatible and args.precision != "fixed":
        raise UsageError("--netx-compatible chooses a fixed-point format; use it with --precision fixed")
    if args.precision == "fixed":
        net = _to_fixed_point(args, net, approximation, train_config)
    header = {"dataset": args.dataset, "method": args.method, "precision": args.precision,
              "trace_approximation": approximation, "n_validation": args.n_validation,
              "train_subset": args.train_subset, "test_subset": args.test_subset, "feedback_init": args.feedback_init}
    if args.backend == "lava":
        return _train_on_lava(args, net, train_set, eval_sets["test"], train_config, generators, header)
    trainer = Trainer(net, train_set, eval_sets, train_config, out, generators=generators, extra_header=header,
                      progress=not args.no_progress and sys.stderr.isatty())
    if args.resume:
        trainer.restore(last)
        if trainer.epoch >= train_config.epochs:
            logger.warning("%s has already completed %d epochs; raise --epochs to train further",
                           last, trainer.epoch)
        else:
            logger.info("resuming %s at epoch %d, batch %d (with the settings given now)", last,
                        trainer.epoch + 1, trainer.batch_index)
    history = trainer.fit()
    final = history[-1]
    summary = {"final_epoch": final["epoch"], "final_test_accuracy": final.get("test_accuracy"), "out": str(out)}
    if trainer.best.get("epoch") is not None:
        summary["best_validation"] = trainer.best
    logger.info("done: %s", json.dumps(summary))
    return 0


def _to_fixed_point(args, net, approximation, train_config):
    """Quantise a freshly initialised float network into the fixed-point simulator."""
    import numpy as np

    from lava_biograd.reference.fixed import FixedBioGradNetwork

    if args.method != "biograd" or args.backend != "reference" or args.agreement_every:
        raise UsageError("--precision fixed trains with --method biograd on --backend reference, "
                         "without --agreement-every")
    if args.timing != "delayed":
        logger.info("--precision fixed uses hardware timing (one step of delay per connection)")
    rounding = np.random.default_rng([train_config.seed, 7_000_001])  # stochastic rounding of updates
    options = {}
    if args.netx_compatible:
        from lava_biograd.export.netx import NETX_FORMAT_OPTIONS

        options = dict(NETX_FORMAT_OPTIONS)
    fixed = FixedBioGradNetwork.from_float(net, rounding, trace_approximation=approximation, **options)
    logger.info("fixed-point format: voltage scale 2^%d, weight exponents %s", fixed.fmt.scale_exp,
                [layer.weight_exp for layer in fixed.fmt.layers])
    return fixed


def _fixed_point_operations(net, dataset, seed: int, header: dict) -> dict:
    """Count operations per training sample of a fixed-point checkpoint and estimate their energy."""
    import numpy as np

    from lava_biograd.energy import energy_estimate, format_energy, measure_activity, operation_counts
    from lava_biograd.reference import SleepParams
    from lava_biograd.training.trainer import evaluation_generator

    index = np.arange(min(256, len(dataset)))
    x = dataset.batch(index, evaluation_generator(seed, "train"), net.dtype)
    activity = measure_activity(net, x, dataset.labels[index])
    train = header.get("train", {})
    sleep_every = train.get("sleep_every", 1)
    sleep = SleepParams(**train["sleep"]) if sleep_every and "sleep" in train else None
    cfg = net.config
    counts = operation_counts(cfg.sizes, cfg.n_steps, cfg.error_start, activity, sleep=sleep,
                              sleep_every=max(1, sleep_every) * train.get("batch_size", 128))
    estimate = energy_estimate(counts)
    logger.info("%s (activity measured on %d samples)", format_energy(estimate), len(index))
    return {"operations_per_sample": counts, "energy_estimate_per_sample": estimate}


def _train_on_lava(args, net, train_set, test_set, train_config, generators, header) -> int:
    from lava_biograd.training.lava_online import lava_train_online
    from lava_biograd.training.trainer import evaluation_generator

    if args.method != "biograd":
        raise UsageError("--backend lava trains with --method biograd only")
    if args.resume:
        raise UsageError("--backend lava runs one pass over the samples and cannot resume; "
                         "choose a new --out folder to train again")
    if args.traces != "fast":
        raise UsageError("--backend lava always keeps per-synapse traces in its models; leave out --traces")
    if args.epochs != 1:
        logger.info("--backend lava trains one pass over the samples; --epochs %d is not used", args.epochs)
    if len(train_set) > 5000:
        logger.warning("--backend lava runs about 1,000 steps/s: %d samples take long; "
                       "consider --train-subset", len(train_set))
    # One online step per sample: the batch trainer's lr over its batch size keeps the step size per sample.
    lr = train_config.lr / train_config.batch_size
    sleep_every = train_config.sleep_every * train_config.batch_size
    logger.info("lava online training: %d samples, lr per sample %.3g, sleep every %d samples",
                len(train_set), lr, sleep_every)
    metrics = lava_train_online(net, train_set, test_set, lr=lr, sleep_every=sleep_every, sleep=train_config.sleep,
                                generators=generators, out_dir=args.out, seed=train_config.seed, header=header,
                                eval_rng=evaluation_generator(train_config.seed, "test"))
    logger.info("done: %s", json.dumps(metrics))
    return 0


def command_evaluate(args) -> int:
    """Evaluate a checkpoint on a split; returns the exit status."""
    _check_hardware_backend(args)
    from lava_biograd.training.checkpoint import load_network
    from lava_biograd.training.trainer import evaluate, evaluation_generator

    path = Path(args.checkpoint)
    if path.is_dir():
        raise UsageError(f"{str(path)!r} is a folder; pass a checkpoint in it, for example {str(path / 'best.npz')!r}")
    if path.suffix.lower() == ".nir":
        raise UsageError("evaluate reads .npz checkpoints and netx .net files; a .nir graph runs with "
                         "lava_biograd.export.simulate_nir in Python")
    if path.suffix.lower() == ".net":
        from lava_biograd.export.cli import network_file_header
        from lava_biograd.export.netx import load_network_file

        net = load_network_file(args.checkpoint)
        header = network_file_header(args.checkpoint)
    else:
        net, header = load_network(args.checkpoint)
    dataset_name = header.get("dataset", "mnist")
    n_validation = header.get("n_validation", 10000)
    if args.split == "validation" and n_validation == 0:
        raise UsageError(f"{str(args.checkpoint)!r} was trained with --n-validation 0, so it has no validation "
                         "split; evaluate with --split test")
    splits = load_splits(dataset_name, args.data_dir, net.config.n_steps, n_validation, not args.no_verify)
    dataset = splits.get(args.split)
    if dataset is None:
        raise UsageError(f"the {dataset_name} data has no {args.split} split here; choose another --split")
    dataset = _first(dataset, args.limit)
    seed = args.seed if args.seed is not None else header["train"]["seed"]
    if args.backend == "lava":
        from lava_biograd.training.lava_online import lava_evaluate

        result = {"checkpoint": str(args.checkpoint), "dataset": dataset_name, "split": args.split, "backend": "lava",
                  **lava_evaluate(net, dataset, evaluation_generator(seed, args.split))}
        print(json.dumps(result))
        logger.info("lava accuracy on %d %s samples: %.2f%% (reference with delayed timing %.2f%%, identical "
                    "output counts on %.1f%% of samples)", len(dataset), args.split, 100 * result["accuracy"],
                    100 * result["reference_accuracy"], 100 * result["identical_counts"])
        return 0
    accuracy = evaluate(net, dataset, args.eval_batch_size, evaluation_generator(seed, args.split))
    operations = _fixed_point_operations(net, dataset, seed, header) if header.get("precision") == "fixed" else None
    result = {"checkpoint": str(args.checkpoint), "dataset": dataset_name, "split": args.split,
              "samples": len(dataset), "accuracy": accuracy}
    if operations is not None:
        result.update(operations)
    print(json.dumps(result))
    logger.info("%s accuracy on %d %s samples: %.2f%%", dataset_name, len(dataset), args.split, 100 * accuracy)
    return 0


def command_download(args) -> int:
    """Download a dataset with checksum verification; returns the exit status."""
    from lava_biograd.data.mnist import download_mnist

    path = download_mnist(dest_dir=args.dest)
    logger.info("MNIST files verified in %s", path)
    return 0


def command_report(args) -> int:
    """Print the learning curve of a run, or a comparison of several runs, as Markdown; returns the exit status."""
    from lava_biograd.training.report import format_comparison, format_history, read_history

    if len(args.run_dirs) > 1:
        resolved = [Path(run_dir).resolve() for run_dir in args.run_dirs]
        repeated = sorted({str(path) for path in resolved if resolved.count(path) > 1})
        if repeated:
            raise ValueError(f"run folder(s) given more than once: {', '.join(repeated)}; pass each run once")
        histories = [read_history(run_dir) for run_dir in args.run_dirs]
        print(format_comparison(histories, args.run_dirs))
        return 0
    run_dir = Path(args.run_dirs[0])
    if run_dir.is_file():
        run_dir = run_dir.parent  # the metrics.jsonl file itself was given
    history = read_history(run_dir)
    print(format_history(history))
    from lava_biograd.plotting import plot_training_history

    plot_training_history(history, run_dir / "training.png")
    logger.info("plot written to %s", run_dir / "training.png")
    return 0


def command_export(args) -> int:
    """Export a checkpoint's forward network as netx HDF5 or NIR; returns the exit status."""
    from lava_biograd.export.cli import command_export as export

    return export(args)


COMMANDS = {"train": command_train, "evaluate": command_evaluate, "download": command_download,
            "report": command_report, "export": command_export}


def main(argv=None) -> int:
    """Entry point of the ``lava-biograd`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        return 130
    except (UsageError, ValueError, TypeError, FileNotFoundError, RuntimeError) as exc:
        # Input problems are reported as one line; programming errors elsewhere still show a traceback
        # with --log-level DEBUG.
        logger.debug("details", exc_info=True)
        parser.exit(2, f"lava-biograd {args.command}: error: {exc}\n")


if __name__ == "__main__":
    sys.exit(main())
