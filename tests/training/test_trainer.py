"""Trainer tests on a real MNIST subset: determinism, resume, interruption, outputs."""

import json

import numpy as np
import pytest

from lava_biograd.data.dataset import mnist_splits
from lava_biograd.reference import BioGradNetwork, NetworkConfig, SleepParams
from lava_biograd.training.checkpoint import load_checkpoint, save_checkpoint
from lava_biograd.training.trainer import Trainer, TrainConfig, make_generators


@pytest.fixture(scope="module")
def small_mnist(mnist_root):
    splits = mnist_splits(data_dir=mnist_root, n_steps=8)
    return splits["train"].subset(np.arange(300)), splits["validation"].subset(np.arange(100))


def _trainer(small_mnist, out_dir, epochs=2, seed=3):
    train, validation = small_mnist
    config = TrainConfig(epochs=epochs, batch_size=64, lr=1e-2, sleep_every=2, seed=seed,
                         sleep=SleepParams(n_samples=8, n_steps=10), eval_batch_size=50)
    generators = make_generators(seed)
    net = BioGradNetwork(NetworkConfig((784, 32, 16, 10), n_steps=8, error_start=2), generators["init"])
    return Trainer(net, train, {"validation": validation}, config, out_dir, generators=generators, progress=False)


def _parameters(trainer):
    return trainer.net.weights + trainer.net.biases + trainer.net.feedback


def test_same_seed_same_history(small_mnist, tmp_path):
    a = _trainer(small_mnist, tmp_path / "a")
    b = _trainer(small_mnist, tmp_path / "b")
    history_a, history_b = a.fit(), b.fit()
    for pa, pb in zip(_parameters(a), _parameters(b)):
        np.testing.assert_array_equal(pa, pb)
    assert [h["validation_accuracy"] for h in history_a] == [h["validation_accuracy"] for h in history_b]


def test_resume_after_epoch_matches_uninterrupted(small_mnist, tmp_path):
    full = _trainer(small_mnist, tmp_path / "full", epochs=2)
    full.fit()
    first = _trainer(small_mnist, tmp_path / "split", epochs=1)
    first.fit()
    resumed = _trainer(small_mnist, tmp_path / "split", epochs=2)
    resumed.restore(tmp_path / "split" / "last.npz")
    resumed.fit()
    for pa, pb in zip(_parameters(full), _parameters(resumed)):
        np.testing.assert_array_equal(pa, pb)
    assert len(resumed.history) == 2


def test_interrupt_mid_epoch_then_resume(small_mnist, tmp_path):
    full = _trainer(small_mnist, tmp_path / "full", epochs=2)
    full.fit()

    interrupted = _trainer(small_mnist, tmp_path / "cut", epochs=2)
    original = interrupted._train_batch
    calls = {"n": 0}

    def counting_batch(index):
        calls["n"] += 1
        if calls["n"] == 7:  # epoch 2, batch 2 (5 batches per epoch)
            interrupted._interrupted = True  # what the SIGINT handler does
        return original(index)

    interrupted._train_batch = counting_batch
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit()
    _, header = load_checkpoint(tmp_path / "cut" / "last.npz")
    assert header["epoch"] == 1
    assert header["batch_index"] == 2

    resumed = _trainer(small_mnist, tmp_path / "cut", epochs=2)
    resumed.restore(tmp_path / "cut" / "last.npz")
    resumed.fit()
    for pa, pb in zip(_parameters(full), _parameters(resumed)):
        np.testing.assert_array_equal(pa, pb)


def test_outputs_written(small_mnist, tmp_path):
    trainer = _trainer(small_mnist, tmp_path, epochs=2)
    trainer.fit()
    for name in ("checkpoint-epoch001.npz", "checkpoint-epoch002.npz", "last.npz", "best.npz", "training.png"):
        assert (tmp_path / name).is_file(), name
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 2
    record = json.loads(lines[-1])
    assert record["epoch"] == 2
    assert set(record["feedback_angle"]) == {"1", "2"}
    assert 0 <= record["validation_accuracy"] <= 1
    assert record["samples_per_s"] > 0


def test_restore_rejects_other_network(small_mnist, tmp_path):
    trainer = _trainer(small_mnist, tmp_path, epochs=1)
    trainer.fit()
    train, validation = small_mnist
    other = BioGradNetwork(NetworkConfig((784, 20, 10), n_steps=8, error_start=2), np.random.default_rng(0))
    stranger = Trainer(other, train, {"validation": validation}, trainer.config, tmp_path / "x", progress=False)
    with pytest.raises(ValueError, match="differs from the requested"):
        stranger.restore(tmp_path / "last.npz")


def test_checkpoint_atomic_and_damage_detected(tmp_path):
    path = save_checkpoint(tmp_path / "c.npz", {"a": np.arange(3)}, {"k": 1})
    arrays, header = load_checkpoint(path)
    np.testing.assert_array_equal(arrays["a"], np.arange(3))
    assert header["k"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]  # no temporary file left
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(ValueError, match="damaged"):
        load_checkpoint(path)
    with pytest.raises(FileNotFoundError, match="not found"):
        load_checkpoint(tmp_path / "missing.npz")


@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": 0}, "epochs must be >= 1"),
    ({"lr": 0.0}, "lr must be > 0"),
    ({"batch_size": -1}, "batch size must be >= 1"),
    ({"traces": "exact"}, "traces must be one of"),
])
def test_train_config_rejects(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def test_learning_rate_schedule(small_mnist, tmp_path):
    trainer = _trainer(small_mnist, tmp_path)
    trainer.config = TrainConfig(lr=0.1, lr_decay=0.5, lr_decay_after=3)
    rates = []
    for epoch in range(5):
        trainer.epoch = epoch
        rates.append(trainer.current_lr)
    assert rates == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.025])


def test_fixed_point_resume_is_exact(small_mnist, tmp_path):
    """A fixed-point run resumed from its epoch-1 checkpoint ends with the same integers."""
    from lava_biograd.reference.fixed import FixedBioGradNetwork

    def fixed_trainer(out_dir, epochs):
        trainer = _trainer(small_mnist, out_dir, epochs=epochs)
        trainer.net = FixedBioGradNetwork.from_float(trainer.net, np.random.default_rng(11))
        return trainer

    full = fixed_trainer(tmp_path / "full", 2)
    full.fit()
    first = fixed_trainer(tmp_path / "split", 1)
    first.fit()
    resumed = fixed_trainer(tmp_path / "split", 2)
    resumed.restore(tmp_path / "split" / "last.npz")
    resumed.fit()
    assert isinstance(resumed.net, FixedBioGradNetwork)
    for a, b in zip(full.net.weights + full.net.biases, resumed.net.weights + resumed.net.biases):
        assert a.dtype.kind == "i"
        np.testing.assert_array_equal(a, b)
    for a, b in zip(full.net.feedback, resumed.net.feedback):
        np.testing.assert_array_equal(a, b)
