"""Tests of the learning-curve report."""

import json

import pytest

from lava_biograd.cli import main
from lava_biograd.training.report import format_comparison, format_history, read_history


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


def test_comparison_mean_and_spread(tmp_path):
    runs = []
    for seed, (last_test, best_test) in enumerate([(0.97, 0.96), (0.98, 0.99), (0.99, 0.97)]):
        run = tmp_path / f"seed{seed}"
        run.mkdir()
        _write(run, [
            {"epoch": 1, "validation_accuracy": 0.95, "test_accuracy": best_test},
            {"epoch": 2, "validation_accuracy": 0.94, "test_accuracy": last_test},
        ])
        runs.append(run)
    text = format_comparison([read_history(r) for r in runs], ["a", "b", "c"])
    assert "| b | 2 | 98.00 | 95.00 (1) | 99.00 |" in text
    # mean 98, sample SD 1 point, SE 1 / sqrt(3) = 0.577
    assert "last epoch: mean 98.00% (SD 1.00, SE 0.58, n = 3)." in text
    # mean of 96, 99, 97 = 97.33, sample SD sqrt(7/3) = 1.53
    assert "best-validation epoch: mean 97.33% (SD 1.53, SE 0.88, n = 3)." in text


def test_comparison_without_validation_and_single_run(tmp_path):
    _write(tmp_path, [{"epoch": 3, "test_accuracy": 0.9}])
    text = format_comparison([read_history(tmp_path)], ["only"])
    assert "| only | 3 | 90.00 |\n" in text
    assert "best validation" not in text
    assert "mean 90.00% (one run, no standard deviation)" in text
    assert "best-validation" not in text
    with pytest.raises(ValueError, match="one name per run"):
        format_comparison([read_history(tmp_path)], [])


def test_report_command_several_runs(tmp_path, capsys):
    for name, test in [("r1", 0.5), ("r2", 0.7)]:
        (tmp_path / name).mkdir()
        _write(tmp_path / name, [{"epoch": 1, "test_accuracy": test}])
    assert main(["report", str(tmp_path / "r1"), str(tmp_path / "r2")]) == 0
    out = capsys.readouterr().out
    assert "mean 60.00% (SD 14.14, SE 10.00, n = 2)" in out
    assert not (tmp_path / "r1" / "training.png").exists()


def test_comparison_warns_on_different_epochs(tmp_path):
    histories = [[{"epoch": 1, "test_accuracy": 0.5}, {"epoch": 2, "test_accuracy": 0.6}],
                 [{"epoch": 1, "validation_accuracy": 0.4, "test_accuracy": 0.45}]]
    text = format_comparison(histories, ["long", "short"])
    assert "WARNING: the runs end at different epochs (1, 2)" in text
    assert "| long | 2 | 60.00 |  |  |" in text
    assert "1 run(s) without a validation split are left out of this mean." in text


def test_report_command_rejects_repeated_run(tmp_path, capsys):
    _write(tmp_path, [{"epoch": 1, "test_accuracy": 0.5}])
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(tmp_path), str(tmp_path / ".")])
    assert exit_info.value.code == 2
    assert "given more than once" in capsys.readouterr().err


def test_report_accepts_metrics_file(tmp_path, capsys):
    _write(tmp_path, [{"epoch": 1, "test_accuracy": 0.5}])
    assert main(["report", str(tmp_path / "metrics.jsonl")]) == 0
    assert "Last epoch 1: test 50.00%." in capsys.readouterr().out
    assert (tmp_path / "training.png").is_file()
