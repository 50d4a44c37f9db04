"""Datasets: MNIST (IDX files, Bernoulli rate coding) and N-MNIST (event recordings, binned).

N-MNIST lives in :mod:`lava_biograd.data.nmnist`, which imports tonic; it is not imported
here so that MNIST work does not load tonic.
"""

from lava_biograd.data.dataset import RateCodedImages, SpikeDataset, mnist_splits
from lava_biograd.data.encoding import bernoulli_encode
from lava_biograd.data.mnist import download_mnist, load_mnist, train_validation_split
from lava_biograd.data.paths import resolve_data_dir

__all__ = [
    "RateCodedImages",
    "SpikeDataset",
    "bernoulli_encode",
    "download_mnist",
    "load_mnist",
    "mnist_splits",
    "resolve_data_dir",
    "train_validation_split",
]
