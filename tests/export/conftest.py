"""Fixtures shared by the export tests."""

import argparse

import numpy as np
import pytest

from lava_biograd.data.dataset import mnist_splits
from lava_biograd.export.cli import add_export_parser
from lava_biograd.reference import BioGradNetwork, NetworkConfig
from lava_biograd.training.trainer import Trainer, TrainConfig, make_generators


@pytest.fixture(scope="session")
def netx_hdf5():
    """lava-dl's netx HDF5 module; the test is skipped where lava-dl is not installed."""
    return pytest.importorskip("lava.lib.dl.netx.hdf5")


@pytest.fixture(scope="session")
def parse_export():
    """Return a parser of ``lava-biograd export ...`` argument lists."""
    parser = argparse.ArgumentParser(prog="lava-biograd")
    add_export_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args


T = 20


@pytest.fixture(scope="session")
def trained_float(mnist_root, tmp_path_factory):
    """784-100-10 network (delayed timing) after one pass over 3,000 MNIST images, its checkpoint and the splits.

    The network reaches about 81% on the first 500 test images. Tests must not modify it.
    """
    splits = mnist_splits(data_dir=mnist_root, n_steps=T)
    generators = make_generators(0)
    net = BioGradNetwork(NetworkConfig((784, 100, 10), n_steps=T, error_start=5, timing="delayed"),
                         generators["init"])
    config = TrainConfig(epochs=1, batch_size=32, lr=3e-2, sleep_every=0, seed=0)
    out = tmp_path_factory.mktemp("run")
    Trainer(net, splits["train"].subset(np.arange(3000)), {}, config, out, generators=generators,
            extra_header={"dataset": "mnist", "n_validation": 10000}, progress=False).fit()
    return net, out / "last.npz", splits


def _with_timing(net, timing):
    state = net.state_dict()
    state["dtype"] = "float64"
    state["config"] = {**state["config"], "timing": timing}
    return BioGradNetwork.from_state_dict(state)


@pytest.fixture(scope="session")
def with_timing():
    """Return a function that makes a float64 copy of a network with another timing."""
    return _with_timing
