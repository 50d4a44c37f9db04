"""Online training and evaluation of a network on Lava (``--backend lava``).

Lava's CPU simulator runs the 784-500-100-10 graph with learning at hundreds of steps
per second on 2 cores (``benchmarks/bench_lava.py`` measures it), against thousands of
samples per second for the batched reference trainer. These paths are therefore meant for
subsets of hundreds to a few thousand samples, and full datasets belong to the reference
trainer.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np

from lava_biograd.reference import BioGradNetwork, SleepParams
from lava_biograd.training.checkpoint import save_checkpoint

logger = logging.getLogger("lava_biograd.lava_online")


def _samples(dataset, rng, dtype=np.float64, batch: int = 256) -> np.ndarray:
    """Encode a whole dataset as sample-major spikes ``(n_samples, T, n_0)``."""
    chunks = []
    for start in range(0, len(dataset), batch):
        index = np.arange(start, min(start + batch, len(dataset)))
        chunks.append(np.transpose(dataset.batch(index, rng, dtype), (1, 0, 2)))
    return np.concatenate(chunks)


def lava_evaluate(net: BioGradNetwork, dataset, rng: np.random.Generator, timeout_s: float = 600.0) -> dict:
    """Run ``dataset`` through a Lava inference graph and compare with the reference model.

    Both see the same input spikes and use ``'delayed'`` timing (one step per
    connection), so their output spike counts are expected to be identical. A float
    network runs on the float graph and is compared with the float reference. A
    fixed-point network runs on the ``fixed_pt`` graph and is compared with the integer
    simulator.

    Returns
    -------
    dict
        ``accuracy`` (Lava), ``reference_accuracy`` (reference, delayed timing),
        ``identical_counts`` (fraction of samples whose output counts agree exactly),
        ``prediction_agreement``, ``samples``, ``seconds``, ``steps_per_s``.
    """
    from lava_biograd.lava.network import LavaBioGradNetwork

    from lava_biograd.reference.fixed import FixedBioGradNetwork

    fixed = isinstance(net, FixedBioGradNetwork)
    x = _samples(dataset, rng)
    with LavaBioGradNetwork(net, run_tag="fixed_pt" if fixed else "floating_pt", timeout_s=timeout_s) as lava_net:
        start = time.perf_counter()
        predictions, counts = lava_net.predict(x)
        seconds = time.perf_counter() - start
        reference = net if fixed else lava_net.reference  # the integer simulator, or the float model
    ref_predictions, ref_counts = reference.predict(np.transpose(x, (1, 0, 2)).astype(reference.dtype))
    labels = dataset.labels
    return {
        "samples": len(dataset),
        "accuracy": float(np.mean(predictions == labels)),
        "reference_accuracy": float(np.mean(ref_predictions == labels)),
        "identical_counts": float(np.mean(np.all(counts == ref_counts, axis=1))),
        "prediction_agreement": float(np.mean(predictions == ref_predictions)),
        "seconds": seconds,
        "steps_per_s": len(dataset) * net.config.n_steps / seconds,
    }


def lava_train_online(net: BioGradNetwork, train_set, test_set, *, lr: float, sleep_every: int,
                      sleep: SleepParams, generators: dict, out_dir, seed: int, header: dict,
                      timeout_s: float = 600.0, eval_rng=None) -> dict:
    """Train ``net`` online on Lava (batch size 1) and evaluate it on Lava.

    Writes ``last.npz`` (a checkpoint the reference ``evaluate`` reads) and one line to
    ``metrics.jsonl`` in ``out_dir``; returns that metrics line.
    """
    from lava_biograd.lava.network import LavaBioGradNetwork

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    order = generators["shuffle"].permutation(len(train_set))
    x = _samples(train_set.subset(order), generators["encode"])
    labels = train_set.labels[order]
    start = time.perf_counter()

    def report(done, predictions):
        accuracy = np.mean(predictions == labels[:done])
        logger.info("lava online: %d/%d samples, running train accuracy %.2f%%, %.1f s",
                    done, len(labels), 100 * accuracy, time.perf_counter() - start)

    with LavaBioGradNetwork(net, timeout_s=timeout_s) as lava_net:
        predictions = lava_net.train_online(x, labels, lr=lr, sleep_every=sleep_every, sleep_params=sleep,
                                            rng=generators["sleep"], callback=report)
        trained = lava_net.reference
    train_seconds = time.perf_counter() - start
    metrics = {"epoch": 1, "backend": "lava", "train_samples": len(labels), "lr_per_sample": lr,
               "train_accuracy": float(np.mean(predictions == labels)), "train_seconds": train_seconds}
    if test_set is not None and len(test_set):
        result = lava_evaluate(trained, test_set, eval_rng, timeout_s=timeout_s)
        metrics.update({f"test_{k}": v for k, v in result.items()})
    state = trained.state_dict()
    arrays = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
    save_checkpoint(out_dir / "last.npz", arrays, {
        "network": trained.config.to_dict(), "dtype": trained.dtype.name, "epoch": 1, "batch_index": 0,
        "running": {}, "history": [metrics], "best": {}, "rng": {}, "agreement_log": [],
        "train": {"seed": seed, "lr": lr, "backend": "lava"}, **header})
    with open(out_dir / "metrics.jsonl", "a") as handle:
        handle.write(json.dumps(metrics) + "\n")
    return metrics
