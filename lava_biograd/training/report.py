"""Read a run's ``metrics.jsonl`` and format learning curves and seed studies as Markdown tables."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path


def read_history(run_dir) -> list:
    """Return the per-epoch metric dicts of a run folder (or of its metrics.jsonl), oldest first."""
    path = Path(run_dir)
    if path.name != "metrics.jsonl" or not path.is_file():
        path = path / "metrics.jsonl"
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
    best = _best_validation(history)
    if best is not None:
        summary += (f" Best validation {_percent(best['validation_accuracy'])}% at epoch {best['epoch']}, "
                    f"test {_percent(best.get('test_accuracy'))}% there.")
    tests = [h["test_accuracy"] for h in history if h.get("test_accuracy") is not None]
    if tests:
        summary += f" Highest test accuracy of any epoch: {_percent(max(tests))}% (for reference only, not a selection)."
    return "\n".join(rows) + "\n\n" + summary


def _best_validation(history: list):
    """Return the epoch record of highest validation accuracy, or None for a run without validation."""
    with_validation = [h for h in history if h.get("validation_accuracy") is not None]
    if not with_validation:
        return None
    return max(with_validation, key=lambda h: h["validation_accuracy"])


def _mean_and_sd(values: list) -> str:
    """Format the mean and the sample standard deviation of accuracies in percent."""
    mean = 100 * statistics.fmean(values)
    if len(values) < 2:
        return f"{mean:.2f}% (one run, no standard deviation)"
    sd = 100 * statistics.stdev(values)
    return f"{mean:.2f}% (SD {sd:.2f}, SE {sd / math.sqrt(len(values)):.2f}, n = {len(values)})"


def format_comparison(histories: list, names: list) -> str:
    """Return a Markdown table with one row per run and the mean over runs, for seed studies.

    Each row gives the run's last epoch and its test accuracy there, and for runs with a
    validation split the best validation accuracy with the test accuracy at that epoch.
    The summary gives the mean, the sample standard deviation (SD) and the standard error
    of the mean (SE = SD / sqrt(n)) of each test column over the runs that have it. A
    warning line precedes them when the runs end at different epochs, for example while
    some are still training.
    """
    if len(histories) != len(names):
        raise ValueError(f"got {len(histories)} histories but {len(names)} names; pass one name per run")
    any_validation = any(_best_validation(history) is not None for history in histories)
    header = ["run", "last epoch", "test % at last epoch"]
    if any_validation:
        header += ["best validation % (epoch)", "test % at that epoch"]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    last_tests, selected_tests = [], []
    for name, history in zip(names, histories):
        last = history[-1]
        cells = [str(name), str(last.get("epoch", "")), _percent(last.get("test_accuracy"))]
        if last.get("test_accuracy") is not None:
            last_tests.append(last["test_accuracy"])
        if any_validation:
            best = _best_validation(history)
            cells += ["", ""]
            if best is not None:
                cells[3] = f"{_percent(best['validation_accuracy'])} ({best.get('epoch')})"
                cells[4] = _percent(best.get("test_accuracy"))
                if best.get("test_accuracy") is not None:
                    selected_tests.append(best["test_accuracy"])
        rows.append("| " + " | ".join(cells) + " |")

    lines = []
    last_epochs = sorted({history[-1].get("epoch", 0) for history in histories})
    if len(last_epochs) > 1:
        lines.append(f"WARNING: the runs end at different epochs ({', '.join(map(str, last_epochs))}), "
                     "so their mean mixes training lengths; wait for unfinished runs or compare like with like.")
    if last_tests:
        lines.append(f"Test accuracy at the last epoch: mean {_mean_and_sd(last_tests)}.")
    if selected_tests:
        without = len(histories) - len(selected_tests)
        note = f" {without} run(s) without a validation split are left out of this mean." if without else ""
        lines.append(f"Test accuracy at the best-validation epoch: mean {_mean_and_sd(selected_tests)}.{note}")
    return "\n".join(rows) + "\n\n" + "\n".join(lines)
