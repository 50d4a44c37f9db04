"""Fixtures for the Lava tests.

Lava 0.10 runs every ProcessModel in a non-daemon child process of the test interpreter.
A child left alive (for example after pytest-timeout interrupts a hung run) keeps pytest
from exiting, so the autouse fixture below kills every child that appeared during a test.

This folder has no ``__init__.py`` on purpose: as a package named ``lava`` it would
shadow the ``lava`` namespace package of lava-nc once ``tests/`` is on ``sys.path``.
"""

import multiprocessing

import pytest


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
