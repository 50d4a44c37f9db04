"""Labelled spike datasets as the trainer consumes them: batches of spike trains by index.

A :class:`SpikeDataset` maps sample indices to a spike array of shape
``(n_steps, batch, n_inputs)`` with values 0 or 1. Stochastic encoders such as
:class:`RateCodedImages` draw new spikes from the generator on every call. Datasets of
recorded events return the same spikes every time and ignore the generator.
"""

from __future__ import annotations

import abc
import os

import numpy as np

from lava_biograd.data.encoding import bernoulli_encode
from lava_biograd.data.mnist import N_VALIDATION, load_mnist, train_validation_split
from lava_biograd.validation import check_array, check_int, check_labels

# Pixel value k of an 8-bit image maps to the spike probability k / 255. The table is
# computed by float32 division, so 255 maps to exactly 1.0.
_PIXEL_PROBABILITY = np.arange(256, dtype=np.float32) / np.float32(255)


class SpikeDataset(abc.ABC):
    """Abstract labelled dataset that returns batches of spike trains.

    Attributes
    ----------
    name : str
        Short identifier, for example ``"mnist"``.
    n_inputs : int
        Number of input channels per step.
    n_steps : int
        Number of time steps ``T`` per sample.
    labels : ndarray of shape (N,), dtype int64
        Class of each sample, in ``[0, n_classes)``.
    n_classes : int
        Number of classes (10 unless a subclass sets another value).

    Subclasses set these attributes and implement :meth:`batch` and :meth:`subset`.
    """

    name: str
    n_inputs: int
    n_steps: int
    labels: np.ndarray
    n_classes: int = 10

    def __len__(self) -> int:
        return len(self.labels)

    def check_indices(self, indices) -> np.ndarray:
        """Validate 1-D integer ``indices`` with values in ``[0, len(self))`` and return them as int64.

        Negative indices are rejected rather than counted from the end, because in a
        batch they are more likely an error than an intent.
        """
        indices = check_array("indices", indices, ndim=1)
        if indices.size == 0:
            return indices.astype(np.int64)
        if indices.dtype == bool or not np.issubdtype(indices.dtype, np.integer):
            raise TypeError(
                f"indices must be an integer array, got dtype {indices.dtype}. "
                "Convert a boolean mask with np.flatnonzero."
            )
        if indices.min() < 0 or indices.max() >= len(self):
            raise IndexError(
                f"indices must lie in [0, {len(self) - 1}] for the {len(self)} samples of "
                f"{self.name!r}, got values in [{indices.min()}, {indices.max()}]"
            )
        return indices.astype(np.int64, copy=False)

    @abc.abstractmethod
    def batch(self, indices, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
        """Return the spike trains of the samples ``indices``.

        Parameters
        ----------
        indices : array_like of int, shape (batch,)
            Sample indices in ``[0, len(self))``. The labels of the batch are
            ``self.labels[indices]``.
        rng : numpy.random.Generator
            Source of randomness for stochastic encodings.
        dtype : {float32, float64}, default=float32

        Returns
        -------
        ndarray of shape (n_steps, batch, n_inputs)
            Spikes, 0 or 1.
        """

    @abc.abstractmethod
    def subset(self, indices) -> "SpikeDataset":
        """Return a dataset of the samples ``indices``, in that order."""

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, samples={len(self)}, "
            f"n_inputs={self.n_inputs}, n_steps={self.n_steps}, n_classes={self.n_classes})"
        )


class RateCodedImages(SpikeDataset):
    r"""8-bit images presented as Bernoulli rate-coded spike trains.

    Pixel value :math:`k` gives the per-step spike probability :math:`q = k / 255`, and
    every call to :meth:`batch` draws new spikes with
    :func:`lava_biograd.data.encoding.bernoulli_encode`, for training and evaluation alike.

    Parameters
    ----------
    images : ndarray of shape (N, n_inputs), dtype uint8
        Flattened images, for example from :func:`lava_biograd.data.mnist.load_mnist`.
        Stored without a copy.
    labels : array_like of int, shape (N,)
        Classes in ``[0, 10)``.
    n_steps : int
        Number of time steps ``T`` per sample, at least 1.
    name : str, default="mnist"
    """

    def __init__(self, images, labels, n_steps: int, name: str = "mnist"):
        images = check_array("images", images, ndim=2)
        if images.dtype != np.uint8:
            raise TypeError(
                f"images must have dtype uint8 (pixel values 0-255), got {images.dtype}. "
                "Pass the arrays returned by load_mnist."
            )
        labels = check_labels(labels, self.n_classes)
        if len(labels) != len(images):
            raise ValueError(
                f"images and labels must have the same number of samples, got {len(images)} "
                f"images and {len(labels)} labels"
            )
        if not isinstance(name, str):
            raise TypeError(f"name must be a string, got {name!r}")
        if not name:
            raise ValueError("name must be a non-empty string, got ''")
        self.images = images
        self.labels = labels
        self.n_steps = check_int("n_steps", n_steps, minimum=1)
        self.n_inputs = images.shape[1]
        self.name = name

    def batch(self, indices, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
        """Draw Bernoulli spike trains for the samples ``indices`` (see :meth:`SpikeDataset.batch`)."""
        indices = self.check_indices(indices)
        probabilities = _PIXEL_PROBABILITY[self.images[indices]]
        return bernoulli_encode(probabilities, self.n_steps, rng, dtype=dtype)

    def subset(self, indices) -> "RateCodedImages":
        """Return a dataset of the samples ``indices`` with copies of their images and labels."""
        indices = self.check_indices(indices)
        return RateCodedImages(self.images[indices], self.labels[indices], self.n_steps, name=self.name)


def mnist_splits(
    data_dir: str | os.PathLike | None = None,
    n_steps: int = 20,
    n_validation: int = N_VALIDATION,
    verify: bool = True,
) -> dict[str, RateCodedImages]:
    """Load MNIST as rate-coded training, validation and test datasets.

    Parameters
    ----------
    data_dir : path-like, optional
        Data root; see :func:`lava_biograd.data.mnist.load_mnist`.
    n_steps : int, default=20
        Time steps per sample.
    n_validation : int, default=10000
        Size of the validation set, taken from the end of the 60,000 training images.
        With 0 the ``"validation"`` dataset is empty.
    verify : bool, default=True
        Check the files against their canonical checksums.

    Returns
    -------
    dict
        ``{"train": ..., "validation": ..., "test": ...}``, each a :class:`RateCodedImages`
        named ``"mnist"``. By default they hold 50,000, 10,000 and 10,000 samples.
    """
    n_steps = check_int("n_steps", n_steps, minimum=1)
    train_images, train_labels = load_mnist("train", data_dir, verify=verify)
    test_images, test_labels = load_mnist("test", data_dir, verify=verify)
    (fit_images, fit_labels), (val_images, val_labels) = train_validation_split(
        train_images, train_labels, n_validation
    )
    return {
        "train": RateCodedImages(fit_images, fit_labels, n_steps),
        "validation": RateCodedImages(val_images, val_labels, n_steps),
        "test": RateCodedImages(test_images, test_labels, n_steps),
    }
