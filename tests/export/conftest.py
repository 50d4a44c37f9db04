"""Fixtures shared by the export tests."""

import argparse

import pytest

from lava_biograd.export.cli import add_export_parser


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
