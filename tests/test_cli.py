"""End-to-end tests of the lava-biograd command on real MNIST subsets."""

import json

import pytest

from lava_biograd.cli import main


def test_train_learns_then_evaluate(mnist_root, tmp_path, capsys):
    out = tmp_path / "run"
    status = main(["train", "--data-dir", str(mnist_root), "--train-subset", "3000", "--test-subset", "500",
                   "--hidden", "100", "--epochs", "2", "--lr", "0.005", "--out", str(out), "--no-progress"])
    assert status == 0
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 2
    assert records[-1]["test_accuracy"] > 0.6  # chance is 0.1
    capsys.readouterr()
    assert main(["evaluate", str(out / "last.npz"), "--data-dir", str(mnist_root), "--limit", "500"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["samples"] == 500
    # The same seed and the same first 500 test images give the trainer's own test number.
    assert result["accuracy"] == pytest.approx(records[-1]["test_accuracy"])


def test_resume_continues(mnist_root, tmp_path):
    out = tmp_path / "run"
    common = ["train", "--data-dir", str(mnist_root), "--train-subset", "256", "--test-subset", "100",
              "--hidden", "20", "--steps", "6", "--t0", "2", "--out", str(out), "--no-progress"]
    assert main(common + ["--epochs", "1"]) == 0
    with pytest.raises(SystemExit, match="2"):
        main(common + ["--epochs", "2"])  # the folder already contains a run
    assert main(common + ["--epochs", "2", "--resume"]) == 0
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 2


@pytest.mark.parametrize("arguments, message", [
    (["--steps", "5", "--t0", "5"], "--t0 must be smaller than --steps"),
    (["--lr", "0"], "expected a positive finite number"),
    (["--dataset", "cifar"], "unknown dataset 'cifar'"),
    (["--hidden", "-3"], "expected a positive integer"),
    (["--vdecay", "1.5"], "vdecay must be <= 1.0"),
    (["--resume"], "does not exist"),
])
def test_train_rejects_invalid_arguments(tmp_path, capsys, arguments, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--out", str(tmp_path / "x"), *arguments])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_evaluate_validation_without_split(mnist_root, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data-dir", str(mnist_root), "--train-subset", "128", "--test-subset", "50",
                 "--hidden", "20", "--steps", "6", "--t0", "2", "--epochs", "1", "--n-validation", "0",
                 "--out", str(out), "--no-progress"]) == 0
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", str(out / "last.npz"), "--split", "validation", "--data-dir", str(mnist_root)])
    assert exit_info.value.code == 2
    assert "trained with --n-validation 0" in capsys.readouterr().err


def test_evaluate_missing_checkpoint(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", str(tmp_path / "none.npz")])
    assert "not found" in capsys.readouterr().err


@pytest.mark.timeout(300)
def test_lava_backend_train_and_evaluate(mnist_root, tmp_path, capsys):
    out = tmp_path / "lava"
    status = main(["train", "--backend", "lava", "--data-dir", str(mnist_root), "--train-subset", "40",
                   "--test-subset", "20", "--hidden", "16", "--steps", "8", "--t0", "2", "--batch-size", "16",
                   "--lr", "0.5", "--out", str(out), "--no-progress"])
    assert status == 0
    metrics = json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])
    assert metrics["train_samples"] == 40
    assert metrics["lr_per_sample"] == pytest.approx(0.5 / 16)
    assert metrics["test_identical_counts"] == 1.0  # float Lava equals the reference under delayed timing
    capsys.readouterr()
    assert main(["evaluate", str(out / "last.npz"), "--backend", "lava", "--data-dir", str(mnist_root),
                 "--limit", "20"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["identical_counts"] == 1.0
    assert result["accuracy"] == pytest.approx(metrics["test_accuracy"])


def test_fixed_precision_train_and_evaluate(mnist_root, tmp_path, capsys):
    out = tmp_path / "fixed"
    assert main(["train", "--precision", "fixed", "--data-dir", str(mnist_root), "--train-subset", "2000",
                 "--test-subset", "300", "--hidden", "100", "--epochs", "2", "--out", str(out), "--no-progress"]) == 0
    record = json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])
    assert record["test_accuracy"] > 0.3  # chance is 0.1
    capsys.readouterr()
    assert main(["evaluate", str(out / "last.npz"), "--data-dir", str(mnist_root), "--limit", "300"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["accuracy"] == pytest.approx(record["test_accuracy"])
    for operations in (record["operations_per_sample"], result["operations_per_sample"]):
        assert operations["synaptic_ops_forward"] > 0
    assert "estimate" in json.dumps(result["energy_estimate_per_sample"])
    assert main(["evaluate", str(out / "last.npz"), "--backend", "lava", "--data-dir", str(mnist_root),
                 "--limit", "20"]) == 0
    lava_result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert lava_result["identical_counts"] == 1.0  # the fixed_pt graph equals the integer simulator


def test_hardware_backend_without_extension(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--backend", "loihi2", "--out", str(tmp_path / "hw")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Lava-Loihi extension" in err
    assert "Traceback" not in err


@pytest.fixture
def nmnist_root():
    """Return the data root that contains the real N-MNIST subset, or skip."""
    from lava_biograd.data.nmnist import find_nmnist_source
    from lava_biograd.data.paths import resolve_data_dir

    try:
        root = resolve_data_dir()
        find_nmnist_source("train", root)
        find_nmnist_source("test", root)
    except (FileNotFoundError, ValueError) as error:
        pytest.skip(f"N-MNIST subset not available: {error}")
    return root


@pytest.mark.timeout(600)
def test_nmnist_training_learns(nmnist_root, tmp_path, monkeypatch):
    """Four epochs on the real 1,000-recording subset get well above chance (10%)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # binned tensors go to a scratch cache
    out = tmp_path / "nmnist"
    assert main(["train", "--dataset", "nmnist", "--data-dir", str(nmnist_root), "--n-validation", "0",
                 "--hidden", "100", "--batch-size", "16", "--lr", "1e-2", "--epochs", "4", "--out", str(out),
                 "--no-progress"]) == 0
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["train_accuracy"] > 0.2
    assert records[-1]["test_accuracy"] > 0.2
    assert records[-1]["train_accuracy"] > records[0]["train_accuracy"]


def test_fixed_netx_compatible_export_round_trip(mnist_root, tmp_path, capsys):
    """A fixed-point run with --netx-compatible exports to .net and evaluates to the same accuracy."""
    pytest.importorskip("h5py")
    out = tmp_path / "fixed"
    assert main(["train", "--precision", "fixed", "--netx-compatible", "--data-dir", str(mnist_root),
                 "--train-subset", "1000", "--test-subset", "200", "--hidden", "32", "--epochs", "1",
                 "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(out / "last.npz"), "--data-dir", str(mnist_root), "--limit", "200"]) == 0
    checkpoint_accuracy = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["accuracy"]
    assert main(["export", str(out / "last.npz"), str(tmp_path / "net.net")]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "net.net"), "--data-dir", str(mnist_root), "--limit", "200"]) == 0
    net_accuracy = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["accuracy"]
    assert net_accuracy == pytest.approx(checkpoint_accuracy)
