"""Tests of the learning-curve report."""

import json

import pytest

from lava_biograd.training.report import format_history, read_history


def _write(tmp_path, records):
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


def test_report_selects_best_validation(tmp_path):
    _write(tmp_path, [
        {"epoch": 1, "lr": 1e-3, "train_accuracy": 0.9, "validation_accuracy": 0.95, "test_accuracy": 0.94,
         "feedback_angle": {"1": 30.0}, "samples_per_s": 1000.0},
        {"epoch": 2, "lr": 1e-3, "train_accuracy": 0.95, "validation_accuracy": 0.93, "test_accuracy": 0.96,
         "feedback_angle": {"1": 20.0}, "samples_per_s": 1100.0},
    ])
    text = format_history(read_history(tmp_path))
    assert "| 1 | 0.001 | 90.00 | 95.00 | 94.00 | 30.0 | 1000 |" in text
    assert "Best validation 95.00% at epoch 1, test 94.00% there." in text
    assert "Last epoch 2: test 96.00%." in text


def test_report_missing_and_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="metrics.jsonl"):
        read_history(tmp_path)
    (tmp_path / "metrics.jsonl").write_text("{not json\n")
    with pytest.raises(ValueError, match="line 1 is not valid JSON"):
        read_history(tmp_path)
