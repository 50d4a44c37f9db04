"""Read a run's ``metrics.jsonl`` and format its learning curve as a Markdown table."""

from __future__ import annotations

import json
import math
from pathlib import Path


def read_history(run_dir) -> list:
    """Return the per-epoch metric dicts of a run folder, oldest first."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} not found; pass the --out folder of a train run")
    history = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            history.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{str(path)!r} line {number} is not valid JSON ({exc})") from None
    if not history:
        raise ValueError(f"{str(path)!r} contains no epochs yet")
    return history


def _percent(value) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.2f}"


def format_history(history: list) -> str:
    """Return a Markdown table of accuracy, feedback angle and throughput per epoch, plus a summary line.

    The summary names the last epoch and the epoch of best validation accuracy with its
    test accuracy (model selection on the validation split).
    """
    layers = sorted({k for h in history for k in h.get("feedback_angle", {})}, key=int)
    header = ["epoch", "lr", "train %", "validation %", "test %"] + [f"angle B_{k} (deg)" for k in layers] + ["samples/s"]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for h in history:
        cells = [str(h.get("epoch", "")), f"{h['lr']:.3g}" if "lr" in h else "",
                 _percent(h.get("train_accuracy")), _percent(h.get("validation_accuracy")),
                 _percent(h.get("test_accuracy"))]
        cells += [f"{h.get('feedback_angle', {}).get(k, float('nan')):.1f}" for k in layers]
        cells.append(f"{h['samples_per_s']:.0f}" if "samples_per_s" in h else "")
        rows.append("| " + " | ".join(cells) + " |")
    last = history[-1]
    summary = f"Last epoch {last.get('epoch')}: test {_percent(last.get('test_accuracy'))}%."
    with_validation = [h for h in history if h.get("validation_accuracy") is not None]
    if with_validation:
        best = max(with_validation, key=lambda h: h["validation_accuracy"])
        summary += (f" Best validation {_percent(best['validation_accuracy'])}% at epoch {best['epoch']}, "
                    f"test {_percent(best.get('test_accuracy'))}% there.")
    tests = [h["test_accuracy"] for h in history if h.get("test_accuracy") is not None]
    if tests:
        summary += f" Highest test accuracy of any epoch: {_percent(max(tests))}% (for reference only, not a selection)."
    return "\n".join(rows) + "\n\n" + summary
