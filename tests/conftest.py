"""Shared fixtures of the test suite.

Lava 0.10 runs every ProcessModel in a non-daemon child process of the test interpreter.
A child left alive (for example after pytest-timeout interrupts a hung run) keeps pytest
from exiting, so the autouse fixture below kills every child that appeared during a test.
"""

import multiprocessing
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


@pytest.fixture(autouse=True)
def kill_leftover_lava_children():
    """Terminate, then kill, the child processes a test leaves alive."""
    before = {child.pid for child in multiprocessing.active_children()}
    yield
    leftovers = [child for child in multiprocessing.active_children() if child.pid not in before]
    for child in leftovers:
        child.terminate()
    for child in leftovers:
        # Lava's SystemProcess.join() takes no timeout, so call the base method.
        multiprocessing.Process.join(child, 2.0)
        if child.is_alive():
            child.kill()
            multiprocessing.Process.join(child, 1.0)
