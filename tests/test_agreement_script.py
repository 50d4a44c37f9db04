"""Smoke test of scripts/agreement_curve.py on a tiny trained run."""

import importlib.util
from pathlib import Path

import numpy as np

from lava_biograd.data.dataset import mnist_splits
from lava_biograd.reference import BioGradNetwork, NetworkConfig
from lava_biograd.training.trainer import Trainer, TrainConfig, make_generators

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "agreement_curve.py"


def test_agreement_curve_on_checkpoints(mnist_root, tmp_path, capsys):
    splits = mnist_splits(data_dir=mnist_root, n_steps=20)
    generators = make_generators(0)
    net = BioGradNetwork(NetworkConfig((784, 16, 10), n_steps=20, error_start=5), generators["init"])
    Trainer(net, splits["train"].subset(np.arange(256)), {}, TrainConfig(epochs=2, batch_size=64, seed=0),
            tmp_path, generators=generators, progress=False).fit()

    spec = importlib.util.spec_from_file_location("agreement_curve", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main([str(tmp_path), "--batches", "1", "--batch-size", "8", "--plot", str(tmp_path / "a.png")]) == 0
    table = capsys.readouterr().out
    assert "| 1 |" in table
    assert "| 2 |" in table
    assert (tmp_path / "a.png").stat().st_size > 0
    cosines = [float(cell) for line in table.splitlines()[2:] for cell in line.strip("|").split("|")[1:3]]
    assert all(-1 <= c <= 1 for c in cosines)
