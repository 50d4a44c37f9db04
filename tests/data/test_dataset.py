"""Tests of the spike dataset interface and the rate-coded MNIST datasets."""

import numpy as np
import pytest

from lava_biograd.data.dataset import RateCodedImages, SpikeDataset, mnist_splits
from lava_biograd.data.mnist import load_mnist


def one_hot_images(labels, n_inputs=12):
    """Images whose only non-zero pixel, 255, sits at the index of the sample's label."""
    images = np.zeros((len(labels), n_inputs), dtype=np.uint8)
    images[np.arange(len(labels)), labels] = 255
    return images


class RecordedSpikes(SpikeDataset):
    """Deterministic dataset of stored spike trains, as an event-camera dataset would be."""

    def __init__(self, spikes, labels):
        self.spikes = spikes  # (N, n_steps, n_inputs)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.name = "recorded"
        self.n_steps = spikes.shape[1]
        self.n_inputs = spikes.shape[2]

    def batch(self, indices, rng, dtype=np.float32):
        indices = self.check_indices(indices)
        return self.spikes[indices].transpose(1, 0, 2).astype(dtype)

    def subset(self, indices):
        indices = self.check_indices(indices)
        return RecordedSpikes(self.spikes[indices], self.labels[indices])


@pytest.fixture
def small():
    labels = np.array([3, 0, 7, 7, 1, 9, 4])
    return RateCodedImages(one_hot_images(labels), labels, n_steps=6, name="toy")


def test_attributes(small):
    assert len(small) == 7
    assert small.n_inputs == 12
    assert small.n_steps == 6
    assert small.n_classes == 10
    assert small.name == "toy"
    assert small.labels.dtype == np.int64


def test_batch_shape_and_dtype(small):
    spikes = small.batch(np.array([0, 2, 5]), np.random.default_rng(0))
    assert spikes.shape == (6, 3, 12)
    assert spikes.dtype == np.float32
    spikes = small.batch([1], np.random.default_rng(0), dtype=np.float64)
    assert spikes.dtype == np.float64


def test_batch_aligned_with_labels(small):
    indices = np.array([5, 0, 3, 3, 1])
    spikes = small.batch(indices, np.random.default_rng(1))
    # Pixel 255 spikes at every step and pixel 0 never, so each sample spikes only at its label.
    expected = np.zeros((len(indices), 12), dtype=np.float32)
    expected[np.arange(len(indices)), small.labels[indices]] = 1.0
    for step in range(small.n_steps):
        np.testing.assert_array_equal(spikes[step], expected)


def test_batch_rate_matches_pixel():
    images = np.array([[0, 51, 128, 255]], dtype=np.uint8)
    dataset = RateCodedImages(np.repeat(images, 2000, axis=0), np.zeros(2000, dtype=int), n_steps=50)
    rates = dataset.batch(np.arange(2000), np.random.default_rng(2)).mean(axis=(0, 1))
    expected = images[0] / 255
    # Each pixel has 100,000 draws, so the standard error is at most 0.0016 and the bound is 5 of them.
    np.testing.assert_allclose(rates, expected, atol=0.008)
    assert rates[0] == 0.0
    assert rates[3] == 1.0


def test_batch_reproducible(small):
    first = small.batch([0, 1, 2], np.random.default_rng(3))
    second = small.batch([0, 1, 2], np.random.default_rng(3))
    np.testing.assert_array_equal(first, second)


def test_empty_batch(small):
    assert small.batch(np.array([], dtype=np.int64), np.random.default_rng(0)).shape == (6, 0, 12)


def test_subset_selects_samples(small):
    part = small.subset([4, 2])
    assert isinstance(part, RateCodedImages)
    assert len(part) == 2
    assert part.labels.tolist() == [1, 7]
    np.testing.assert_array_equal(part.images, small.images[[4, 2]])
    assert part.n_steps == small.n_steps
    assert part.name == small.name


def test_subset_batch_matches_parent():
    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, size=(10, 20), dtype=np.uint8)
    dataset = RateCodedImages(images, rng.integers(0, 10, size=10), n_steps=5)
    indices = np.array([9, 3, 6])
    part = dataset.subset(indices)
    np.testing.assert_array_equal(
        part.batch([0, 1, 2], np.random.default_rng(5)),
        dataset.batch(indices, np.random.default_rng(5)),
    )


def test_invalid_indices_rejected(small):
    rng = np.random.default_rng(0)
    with pytest.raises(IndexError, match=r"indices must lie in \[0, 6\]"):
        small.batch([0, 7], rng)
    with pytest.raises(IndexError, match=r"indices must lie in \[0, 6\]"):
        small.batch([-1], rng)
    with pytest.raises(TypeError, match="indices must be an integer array"):
        small.batch([0.0, 1.0], rng)
    with pytest.raises(TypeError, match="np.flatnonzero"):
        small.subset(np.ones(7, dtype=bool))
    with pytest.raises(ValueError, match="indices must have 1 dimensions"):
        small.batch([[0, 1]], rng)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        small.batch([0], None)


def test_invalid_construction_rejected():
    labels = np.array([1, 2])
    images = one_hot_images(labels)
    with pytest.raises(TypeError, match="images must have dtype uint8"):
        RateCodedImages(images / 255.0, labels, 5)
    with pytest.raises(ValueError, match="images must have 2 dimensions"):
        RateCodedImages(images.reshape(2, 3, 4), labels, 5)
    with pytest.raises(ValueError, match="same number of samples"):
        RateCodedImages(images, labels[:1], 5)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 9\]"):
        RateCodedImages(images, np.array([1, 10]), 5)
    with pytest.raises(TypeError, match="labels must be an integer array"):
        RateCodedImages(images, np.array([1.0, 2.0]), 5)
    with pytest.raises(ValueError, match="n_steps must be >= 1"):
        RateCodedImages(images, labels, 0)
    with pytest.raises(ValueError, match="name must be a non-empty string"):
        RateCodedImages(images, labels, 5, name="")
    with pytest.raises(TypeError, match="name must be a string"):
        RateCodedImages(images, labels, 5, name=None)


def test_base_class_abstract():
    with pytest.raises(TypeError):
        SpikeDataset()


def test_deterministic_subclass():
    spikes = (np.arange(3 * 4 * 5).reshape(3, 4, 5) % 3 == 0).astype(np.uint8)
    dataset = RecordedSpikes(spikes, [2, 0, 1])
    batch = dataset.batch([2, 0], np.random.default_rng(0))
    assert batch.shape == (4, 2, 5)
    np.testing.assert_array_equal(batch[:, 0], spikes[2])
    np.testing.assert_array_equal(batch[:, 1], spikes[0])
    assert len(dataset.subset([1])) == 1
    assert "samples=3" in repr(dataset)


# --------------------------------------------------------------------------- real MNIST


@pytest.fixture(scope="module")
def splits(mnist_root):
    return mnist_splits(mnist_root, n_steps=20)


def test_mnist_split_sizes(splits):
    assert {name: len(dataset) for name, dataset in splits.items()} == {
        "train": 50_000,
        "validation": 10_000,
        "test": 10_000,
    }
    for dataset in splits.values():
        assert dataset.n_inputs == 784
        assert dataset.n_steps == 20
        assert dataset.name == "mnist"


def test_mnist_validation_is_last_training_images(splits, mnist_root):
    images, labels = load_mnist("train", mnist_root)
    np.testing.assert_array_equal(splits["validation"].images, images[50_000:])
    np.testing.assert_array_equal(splits["validation"].labels, labels[50_000:])
    np.testing.assert_array_equal(splits["train"].labels, labels[:50_000])


def test_mnist_batch_rate(splits):
    train = splits["train"]
    indices = np.arange(128)
    spikes = train.batch(indices, np.random.default_rng(0))
    assert spikes.shape == (20, 128, 784)
    expected = train.images[indices].mean() / 255
    # About 2,000,000 draws at a rate near 0.13 give a standard error below 0.0003, so the bound is 5 of them.
    assert abs(spikes.mean() - expected) < 0.0015


def test_mnist_splits_invalid_steps(tmp_path):
    with pytest.raises(ValueError, match="n_steps must be >= 1"):
        mnist_splits(tmp_path, n_steps=0)
