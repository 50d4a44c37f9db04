"""Plot helpers shared by the CLI and the tutorials (matplotlib, Agg backend when headless)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    if not os.environ.get("DISPLAY") and matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_training_history(history: list, path: str | os.PathLike | None = None):
    """Plot accuracy (train, validation, test), feedback angle per hidden layer and, when
    measured, the cosine between BioGrad's update and the BPTT gradient, per epoch.

    ``history`` is the list of per-epoch metric dicts written by the trainer. Returns the
    figure; saves it as PNG when ``path`` is given.
    """
    plt = _pyplot()
    epochs = [h.get("epoch", number) for number, h in enumerate(history, start=1)]
    has_agreement = any("agreement_cosine" in h for h in history)
    n_panels = 3 if has_agreement else 2
    fig, axes = plt.subplots(1, n_panels, figsize=(5 * n_panels, 4))
    ax_acc, ax_angle = axes[0], axes[1]
    for key, label in (("train_accuracy", "train"), ("validation_accuracy", "validation"), ("test_accuracy", "test")):
        values = [h.get(key) for h in history]
        if any(v is not None for v in values):
            ax_acc.plot(epochs, [np.nan if v is None else 100 * v for v in values], marker="o", label=label)
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy (%)")
    ax_acc.grid(True, alpha=0.3)
    ax_acc.legend()
    layers = sorted({int(k) for h in history for k in h.get("feedback_angle", {})})
    for layer in layers:
        values = [h.get("feedback_angle", {}).get(str(layer), np.nan) for h in history]
        ax_angle.plot(epochs, values, marker="o", label=f"B_{layer}")
    ax_angle.set_xlabel("epoch")
    ax_angle.set_ylabel(r"angle of $B_l$ to $(W_o \cdots W_{l+1})^T$ (degrees)")
    ax_angle.grid(True, alpha=0.3)
    if layers:
        ax_angle.legend()
    if has_agreement:
        ax_cos = axes[2]
        layers = sorted({k for h in history for k in h.get("agreement_cosine", {})}, key=int)
        for layer in layers:
            values = [h.get("agreement_cosine", {}).get(layer, np.nan) for h in history]
            ax_cos.plot(epochs, values, marker="o", label=f"W_{layer}")
        ax_cos.set_xlabel("epoch")
        ax_cos.set_ylabel("cosine(BioGrad update, BPTT gradient)")
        ax_cos.grid(True, alpha=0.3)
        ax_cos.legend()
    from matplotlib.ticker import MaxNLocator

    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    fig.tight_layout()
    if path is not None:
        fig.savefig(Path(path), dpi=100)
        plt.close(fig)
    return fig
