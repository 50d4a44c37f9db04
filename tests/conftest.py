"""Shared fixtures of the test suite."""

from pathlib import Path

import pytest

from lava_biograd.data.mnist import SPLITS, locate_mnist
from lava_biograd.data.paths import resolve_data_dir


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    """Return the data root that contains the four MNIST files, or skip the test when they are missing."""
    try:
        root = resolve_data_dir()
        for split in SPLITS:
            locate_mnist(split, root)
    except FileNotFoundError as error:
        pytest.skip(f"MNIST files not available: {error}")
    return root
