"""Measure how closely BioGrad's updates follow the BPTT gradient along a finished training run.

For every ``checkpoint-epochNNN.npz`` in the given run folders, the script draws a few
training batches (fixed seed, the same batches for every checkpoint) and compares, per
layer, BioGrad's update with the BPTT gradient of the mean softmax cross-entropy on the
output spike counts for the same input spikes (:func:`lava_biograd.baseline.gradient_agreement`).
It prints a Markdown table and can save a plot.

Usage::

    python scripts/agreement_curve.py runs/mnist-spec-lr1e-3 runs/mnist-tuned --batches 4 --plot docs/agreement.png
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np


def checkpoints_by_epoch(run_dirs) -> dict:
    """Return ``{epoch: path}`` over the run folders; a later folder wins for the same epoch."""
    found = {}
    for run_dir in run_dirs:
        run_dir = Path(run_dir)
        if not run_dir.is_dir():
            raise FileNotFoundError(f"run folder {str(run_dir)!r} not found")
        for path in sorted(run_dir.glob("checkpoint-epoch*.npz")):
            match = re.fullmatch(r"checkpoint-epoch(\d+)\.npz", path.name)
            if match:
                found[int(match.group(1))] = path
    if not found:
        raise FileNotFoundError(f"no checkpoint-epochNNN.npz files in {', '.join(map(str, run_dirs))}")
    return dict(sorted(found.items()))


def measure(run_dirs, batches: int, batch_size: int, seed: int) -> list:
    """Return one record per epoch: mean cosine and norm ratio per layer over ``batches`` batches."""
    from lava_biograd.baseline import gradient_agreement
    from lava_biograd.data.dataset import mnist_splits
    from lava_biograd.training.checkpoint import load_network

    records = []
    train = None
    for epoch, path in checkpoints_by_epoch(run_dirs).items():
        net, _ = load_network(path)
        if train is None:
            train = mnist_splits(n_steps=net.config.n_steps)["train"]
        rng = np.random.default_rng(seed)
        cosines, ratios = [], []
        for _ in range(batches):
            index = rng.choice(len(train), size=batch_size, replace=False)
            x = train.batch(index, rng, net.dtype)
            agreement = gradient_agreement(net, x, train.labels[index])
            cosines.append({k: v["cosine"] for k, v in agreement.items()})
            ratios.append({k: v["norm_ratio"] for k, v in agreement.items()})
        layers = sorted(cosines[0])
        records.append({
            "epoch": epoch,
            "cosine": {k: float(np.mean([c[k] for c in cosines])) for k in layers},
            "norm_ratio": {k: float(np.mean([r[k] for r in ratios])) for k in layers},
        })
        print(f"epoch {epoch}: " + ", ".join(f"W_{k} cos {records[-1]['cosine'][k]:.3f}" for k in layers),
              file=sys.stderr)
    return records


def format_table(records) -> str:
    """Return the records as a Markdown table."""
    layers = sorted(records[0]["cosine"])
    header = ["epoch"] + [f"cos W_{k}" for k in layers] + [f"ratio W_{k}" for k in layers]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in records:
        cells = [str(r["epoch"])] + [f"{r['cosine'][k]:.3f}" for k in layers] + [f"{r['norm_ratio'][k]:.3f}" for k in layers]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def plot(records, path) -> None:
    """Save cosine and norm ratio per layer against the epoch."""
    from lava_biograd.plotting import _pyplot

    plt = _pyplot()
    fig, (ax_cos, ax_ratio) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = [r["epoch"] for r in records]
    for k in sorted(records[0]["cosine"]):
        ax_cos.plot(epochs, [r["cosine"][k] for r in records], marker="o", label=f"W_{k}")
        ax_ratio.plot(epochs, [r["norm_ratio"][k] for r in records], marker="o", label=f"W_{k}")
    ax_cos.set(xlabel="epoch", ylabel="cosine(BioGrad update, BPTT gradient)")
    ax_ratio.set(xlabel="epoch", ylabel="norm ratio ||BioGrad|| / ||BPTT||", yscale="log")
    for ax in (ax_cos, ax_ratio):
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> int:
    """Entry point: measure, print the table and optionally save the plot."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dirs", nargs="+", help="train --out folders holding checkpoint-epochNNN.npz files")
    parser.add_argument("--batches", type=int, default=4, help="batches per checkpoint (default 4)")
    parser.add_argument("--batch-size", type=int, default=128, help="samples per batch (default 128)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the batch choice and input spikes")
    parser.add_argument("--plot", default=None, help="PNG file for the curves")
    args = parser.parse_args(argv)
    if args.batches < 1 or args.batch_size < 1:
        parser.error(f"--batches and --batch-size must be >= 1, got {args.batches} and {args.batch_size}")
    records = measure(args.run_dirs, args.batches, args.batch_size, args.seed)
    print(format_table(records))
    if args.plot:
        plot(records, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
