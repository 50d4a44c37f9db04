"""Mini-batch training of the reference network with checkpoints, metrics and resume.

Per batch: encode the inputs, run the wake phase, apply SGD, and every ``sleep_every``
batches run one sleep episode. Per epoch: evaluate on the held-out splits, log one line,
append one JSON line to ``metrics.jsonl``, write a checkpoint and redraw ``training.png``.

Random streams (all derived from ``seed`` through :class:`numpy.random.SeedSequence`):
``init`` (weights and random feedback), ``shuffle`` (sample order per epoch), ``encode``
(input spikes of training batches), ``sleep`` (noise of the sleep phase). Evaluation
draws its input spikes from a generator seeded by ``(seed, split)`` afresh for every
evaluation, so every epoch is evaluated on the same input spikes. Checkpoints carry the
generator states, so a resumed run continues bit for bit as if it had not stopped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from lava_biograd.atomic import atomic_output
from lava_biograd.reference import BioGradNetwork, SleepParams
from lava_biograd.training.checkpoint import load_checkpoint, save_checkpoint
from lava_biograd.validation import check_choice, check_float, check_int

logger = logging.getLogger("lava_biograd.train")

STREAMS = ("init", "shuffle", "encode", "sleep")
EVAL_SPLIT_IDS = {"train": 0, "validation": 1, "test": 2}


def make_generators(seed: int) -> dict:
    """Return one independent ``numpy.random.Generator`` per stream name in ``STREAMS``."""
    seed = check_int("seed", seed, minimum=0)
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, children)}


def evaluation_generator(seed: int, split: str) -> np.random.Generator:
    """Return the generator that encodes the inputs of one evaluation of ``split``."""
    return np.random.default_rng([seed, 1_000_003, EVAL_SPLIT_IDS.get(split, 3)])


@dataclass(frozen=True)
class TrainConfig:
    """Settings of a training run.

    Parameters
    ----------
    epochs : int
        Number of passes over the training split.
    batch_size : int
        Samples per wake phase and SGD step.
    lr : float
        Learning rate ``eta`` of plain SGD (no momentum, no weight decay) in the first epoch.
    lr_decay : float
        Factor in (0, 1] applied to the learning rate once per epoch after the first
        ``lr_decay_after`` epochs: epoch ``k`` (1-based) uses
        ``lr * lr_decay**max(0, k - lr_decay_after)``. 1 keeps it constant, as the BioGrad
        authors did.
    lr_decay_after : int
        Number of epochs trained at the initial rate ``lr``.
    sleep_every : int
        Batches between sleep episodes; 0 disables the sleep phase.
    sleep : SleepParams
    seed : int
        Root seed of every random stream.
    eval_batch_size : int
        Samples per forward pass when evaluating (does not change results).
    traces : {'fast', 'online'}
        Trace evaluation of the wake phase.
    method : {'biograd', 'bptt'}
        ``'biograd'``: wake phase, SGD and sleep as above. ``'bptt'``: the backprop baseline.
        It runs BPTT through the same LIF dynamics and surrogate, with softmax cross-entropy
        on the output spike counts and Adam at ``lr``. It has no sleep phase, because it
        uses no feedback weights.
    agreement_every : int
        With ``method='biograd'``, every this many batches compare BioGrad's update with
        the BPTT gradient of the same batch (cosine and norm ratio per layer); 0 disables.
    count_operations : bool
        After every epoch, count the operations of one training sample and estimate its
        energy on Loihi (fixed-point networks only).
    """

    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    lr_decay: float = 1.0
    lr_decay_after: int = 0
    sleep_every: int = 1
    sleep: SleepParams = field(default_factory=SleepParams)
    seed: int = 0
    eval_batch_size: int = 1000
    traces: str = "fast"
    method: str = "biograd"
    agreement_every: int = 0
    count_operations: bool = False

    def __post_init__(self):
        check_int("epochs", self.epochs, minimum=1)
        check_int("batch size", self.batch_size, minimum=1)
        check_float("lr", self.lr, minimum=0.0, min_open=True)
        check_float("lr_decay", self.lr_decay, minimum=0.0, maximum=1.0, min_open=True)
        check_int("lr_decay_after", self.lr_decay_after, minimum=0)
        check_int("sleep_every", self.sleep_every, minimum=0)
        check_int("seed", self.seed, minimum=0)
        check_int("eval batch size", self.eval_batch_size, minimum=1)
        check_choice("traces", self.traces, ("fast", "online"))
        check_choice("method", self.method, ("biograd", "bptt"))
        check_int("agreement_every", self.agreement_every, minimum=0)
        if isinstance(self.sleep, dict):
            object.__setattr__(self, "sleep", SleepParams(**self.sleep))

    def to_dict(self) -> dict:
        """Return a JSON-serialisable description."""
        data = asdict(self)
        data["sleep"] = asdict(self.sleep)
        return data


def evaluate(net: BioGradNetwork, dataset, batch_size: int = 1000, rng: np.random.Generator | None = None,
             return_predictions: bool = False):
    """Return the classification accuracy of ``net`` on ``dataset``.

    Inputs are encoded batch by batch with ``rng`` (required for rate-coded data). With
    ``return_predictions=True`` returns ``(accuracy, predictions, counts)``.
    """
    n = len(dataset)
    if n == 0:
        raise ValueError(f"cannot evaluate on an empty dataset ({dataset.name})")
    predictions = np.empty(n, dtype=np.int64)
    counts = np.empty((n, net.config.sizes[-1]), dtype=net.dtype)
    for start in range(0, n, batch_size):
        index = np.arange(start, min(start + batch_size, n))
        x = dataset.batch(index, rng, net.dtype)
        predictions[index], counts[index] = net.predict(x)
    accuracy = float(np.mean(predictions == dataset.labels))
    if return_predictions:
        return accuracy, predictions, counts
    return accuracy


class Trainer:
    """Train a :class:`BioGradNetwork` on a spike dataset, with per-epoch outputs in ``out_dir``.

    Parameters
    ----------
    net : BioGradNetwork
    train_set : SpikeDataset
    eval_sets : dict of str to SpikeDataset or None
        Held-out splits evaluated after every epoch, for example ``validation`` and ``test``.
    config : TrainConfig
    out_dir : path
        Receives ``checkpoint-epochNNN.npz``, ``last.npz``, ``best.npz`` (best validation
        accuracy), ``metrics.jsonl`` and ``training.png``.
    generators : dict, optional
        Generators of the ``shuffle``, ``encode`` and ``sleep`` streams (from
        :func:`make_generators`); built from ``config.seed`` when omitted.
    extra_header : dict, optional
        JSON-serialisable facts stored in every checkpoint (for example the dataset).
    progress : bool
        Show a progress bar with the running training accuracy.
    """

    def __init__(self, net, train_set, eval_sets, config: TrainConfig, out_dir, generators=None,
                 extra_header=None, progress: bool = True):
        if len(train_set) == 0:
            raise ValueError("the training split is empty; check --train-subset and the data directory")
        if train_set.n_inputs != net.config.sizes[0]:
            raise ValueError(
                f"the dataset has {train_set.n_inputs} inputs but the network expects {net.config.sizes[0]}; "
                "set the first layer size to the dataset's input size"
            )
        self.net = net
        self.train_set = train_set
        self.eval_sets = {k: v for k, v in (eval_sets or {}).items() if v is not None and len(v) > 0}
        self.config = config
        self.out_dir = Path(out_dir)
        self.generators = generators or make_generators(config.seed)
        self.extra_header = dict(extra_header or {})
        self.progress = progress
        self.history: list = []
        self.epoch = 0  # completed epochs
        self.batch_index = 0  # completed batches inside the current epoch
        self.permutation = None
        self.running = {"correct": 0, "seen": 0, "train_time": 0.0}
        self.best = {"validation_accuracy": -1.0}
        self._interrupted = False
        self.optimizer = None
        if config.method == "bptt":
            from lava_biograd.baseline import Adam

            self.optimizer = Adam(lr=config.lr)
        self.agreement_log: list = []  # per-measurement records of the current epoch

    @contextlib.contextmanager
    def _deferred_interrupt(self):
        """Turn the first SIGINT into a flag that is checked between batches.

        A batch is then never cut in half (weights updated but not counted), and the
        checkpoint written on interruption is consistent. A second SIGINT interrupts at once.
        """
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum, frame):
            if self._interrupted:
                raise KeyboardInterrupt
            self._interrupted = True
            logger.warning("interrupt received: stopping after the current batch (press Ctrl-C again to abort now)")

        previous = signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    # ----------------------------------------------------------------- checkpoints
    def _header(self) -> dict:
        return {
            "network": self.net.config.to_dict(),
            "dtype": self.net.dtype.name,
            "train": self.config.to_dict(),
            "epoch": self.epoch,
            "batch_index": self.batch_index,
            "running": self.running,
            "history": self.history,
            "best": self.best,
            "agreement_log": self.agreement_log,
            "rng": {name: self.generators[name].bit_generator.state for name in ("shuffle", "encode", "sleep")},
            **self.extra_header,
        }

    def save(self, path) -> Path:
        """Write a checkpoint of the current state to ``path`` (atomically)."""
        state = self.net.state_dict()
        arrays = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
        extras = {k: v for k, v in state.items() if not isinstance(v, np.ndarray) and k not in ("config", "dtype")}
        if self.permutation is not None:
            arrays["permutation"] = self.permutation
        if self.optimizer is not None:
            arrays.update({f"adam/{k}": np.asarray(v) for k, v in self.optimizer.state_dict().items()})
        return save_checkpoint(path, arrays, {**self._header(), "net_state": extras})

    def restore(self, path) -> None:
        """Load network, position, history and generator states from a checkpoint."""
        arrays, header = load_checkpoint(path)
        state = {k: v for k, v in arrays.items() if k != "permutation" and not k.startswith("adam/")}
        state.update(header.get("net_state", {}))
        state["config"] = header["network"]
        state["dtype"] = header["dtype"]
        net = type(self.net).from_state_dict(state)
        if net.config != self.net.config:
            raise ValueError(
                f"checkpoint {str(path)!r} contains a network {net.config.to_dict()} that differs from the requested "
                f"{self.net.config.to_dict()}; resume with the same network settings or start a new output folder"
            )
        self.net.__dict__.update(net.__dict__)
        self.epoch = header["epoch"]
        self.batch_index = header["batch_index"]
        self.running = header["running"]
        self.history = header["history"]
        self.best = header["best"]
        self.permutation = arrays.get("permutation")
        self.agreement_log = header.get("agreement_log", [])
        if self.optimizer is not None:
            adam = {k[len("adam/"):]: v for k, v in arrays.items() if k.startswith("adam/")}
            if not adam:
                raise ValueError(f"checkpoint {str(path)!r} has no Adam state; it was not written by a BPTT run")
            self.optimizer.load_state_dict(adam)
        for name, bit_state in header["rng"].items():
            self.generators[name].bit_generator.state = bit_state

    # ----------------------------------------------------------------- training
    def _train_batch(self, index: np.ndarray) -> np.ndarray:
        x = self.train_set.batch(index, self.generators["encode"], self.net.dtype)
        labels = self.train_set.labels[index]
        if self.optimizer is not None:
            from lava_biograd.baseline import bptt_step

            self.optimizer.lr = self.current_lr
            _, predictions = bptt_step(self.net, x, labels, self.optimizer)
            return predictions
        every = self.config.agreement_every
        if every and self.batch_index % every == 0:
            self._measure_agreement(x, labels)
        result = self.net.wake(x, labels, traces=self.config.traces)
        self.net.apply_update(result, self.current_lr)
        return result.predictions

    @property
    def current_lr(self) -> float:
        """Learning rate of the current epoch ``k = epoch + 1``: ``lr * lr_decay**max(0, k - lr_decay_after)``."""
        return self.config.lr * self.config.lr_decay ** max(0, self.epoch + 1 - self.config.lr_decay_after)

    def _measure_agreement(self, x, labels) -> None:
        from lava_biograd.baseline import gradient_agreement

        agreement = gradient_agreement(self.net, x, labels, traces=self.config.traces)
        self.agreement_log.append({
            "epoch": self.epoch + 1, "batch": self.batch_index,
            "cosine": {str(k): v["cosine"] for k, v in agreement.items()},
            "norm_ratio": {str(k): v["norm_ratio"] for k, v in agreement.items()},
        })

    def _maybe_sleep(self, global_batch: int) -> None:
        every = self.config.sleep_every
        if self.optimizer is not None:
            return
        if every and self.net.config.n_hidden > 0 and (global_batch + 1) % every == 0:
            self.net.sleep(self.config.sleep, self.generators["sleep"])

    def _evaluate_all(self) -> dict:
        results = {}
        for split, dataset in self.eval_sets.items():
            rng = evaluation_generator(self.config.seed, split)
            results[f"{split}_accuracy"] = evaluate(self.net, dataset, self.config.eval_batch_size, rng)
        return results

    def _progress_bar(self, total: int, initial: int):
        if not self.progress:
            return None
        from tqdm.auto import tqdm

        return tqdm(total=total, initial=initial, desc=f"epoch {self.epoch + 1}/{self.config.epochs}",
                    unit="batch", file=sys.stderr, leave=False, dynamic_ncols=True)

    def run_epoch(self) -> dict:
        """Train one epoch (or its remainder after a resume) and return its metrics."""
        n = len(self.train_set)
        batch_size = self.config.batch_size
        n_batches = math.ceil(n / batch_size)
        if self.permutation is None or self.batch_index == 0:
            self.permutation = self.generators["shuffle"].permutation(n)
            self.running = {"correct": 0, "seen": 0, "train_time": 0.0}
        bar = self._progress_bar(n_batches, self.batch_index)
        try:
            while self.batch_index < n_batches:
                index = self.permutation[self.batch_index * batch_size:(self.batch_index + 1) * batch_size]
                start = time.perf_counter()
                predictions = self._train_batch(index)
                self._maybe_sleep(self.epoch * n_batches + self.batch_index)
                self.running["train_time"] += time.perf_counter() - start
                self.running["correct"] += int(np.sum(predictions == self.train_set.labels[index]))
                self.running["seen"] += len(index)
                self.batch_index += 1
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(acc=f"{100 * self.running['correct'] / self.running['seen']:.2f}%")
                if self._interrupted:
                    raise KeyboardInterrupt
        finally:
            if bar is not None:
                bar.close()

        eval_start = time.perf_counter()
        metrics = {
            "epoch": self.epoch + 1,
            "lr": self.current_lr,
            "train_accuracy": self.running["correct"] / max(self.running["seen"], 1),
            **self._evaluate_all(),
        }
        align = self.net.alignment() if self.optimizer is None else {}  # BPTT uses no feedback weights
        metrics["feedback_angle"] = {str(k): v[0] for k, v in align.items()}
        metrics["feedback_ratio"] = {str(k): v[1] for k, v in align.items()}
        if self.agreement_log:
            for key in ("cosine", "norm_ratio"):
                layers = self.agreement_log[0][key]
                metrics[f"agreement_{key}"] = {
                    layer: float(np.nanmean([record[key][layer] for record in self.agreement_log])) for layer in layers
                }
            metrics["agreement_measurements"] = len(self.agreement_log)
            self._append_agreement_records()
        if self.config.count_operations:
            metrics.update(self._operation_metrics())
        metrics["samples_per_s"] = self.running["seen"] / max(self.running["train_time"], 1e-9)
        metrics["train_time_s"] = self.running["train_time"]
        metrics["eval_time_s"] = time.perf_counter() - eval_start
        return metrics

    def _operation_metrics(self) -> dict:
        """Count operations per training sample from the activity on 256 training samples.

        The energy estimate prices those counts with published Loihi per-operation
        energies (see :mod:`lava_biograd.energy`); it is an estimate, not a measurement.
        """
        from lava_biograd.energy import energy_estimate, format_energy, measure_activity, operation_counts

        index = np.arange(min(256, len(self.train_set)))
        x = self.train_set.batch(index, evaluation_generator(self.config.seed, "train"), self.net.dtype)
        activity = measure_activity(self.net, x, self.train_set.labels[index])
        cfg = self.net.config
        sleep = self.config.sleep if self.config.sleep_every else None
        counts = operation_counts(cfg.sizes, cfg.n_steps, cfg.error_start, activity, sleep=sleep,
                                  sleep_every=max(1, self.config.sleep_every) * self.config.batch_size)
        estimate = energy_estimate(counts)
        logger.info("%s", format_energy(estimate))
        return {"operations_per_sample": counts, "energy_estimate_per_sample": estimate}

    def _append_agreement_records(self) -> None:
        """Append this epoch's agreement measurements to ``agreement.jsonl`` and start a new log."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with open(self.out_dir / "agreement.jsonl", "a") as handle:
            for record in self.agreement_log:
                handle.write(json.dumps(record) + "\n")
        self.agreement_log = []

    def _log_epoch(self, m: dict) -> None:
        parts = [f"epoch {m['epoch']}/{self.config.epochs}", f"train {100 * m['train_accuracy']:.2f}%"]
        for split in ("validation", "test"):
            if f"{split}_accuracy" in m:
                parts.append(f"{split} {100 * m[f'{split}_accuracy']:.2f}%")
        for layer in sorted(m["feedback_angle"], key=int):
            parts.append(f"B_{layer} angle {m['feedback_angle'][layer]:.1f} deg ratio {m['feedback_ratio'][layer]:.2f}")
        if "agreement_cosine" in m:
            cosines = ", ".join(f"{layer}: {value:.2f}" for layer, value in m["agreement_cosine"].items())
            parts.append(f"cosine to BPTT {cosines}")
        parts.append(f"{m['samples_per_s']:.0f} samples/s")
        logger.info(" | ".join(parts))

    def _write_outputs(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with atomic_output(self.out_dir / "metrics.jsonl") as tmp:
            tmp.write_text("".join(json.dumps(h) + "\n" for h in self.history))
        try:
            from lava_biograd.plotting import plot_training_history

            plot_training_history(self.history, self.out_dir / "training.png")
        except Exception as exc:  # a plot must never stop training
            logger.warning("could not draw training.png: %s", exc)

    def fit(self) -> list:
        """Train until ``config.epochs`` epochs are complete; return the metrics history.

        On ``KeyboardInterrupt`` the state after the last complete batch is saved to
        ``last.npz`` before the exception propagates, so ``--resume`` loses nothing.
        """
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if self.epoch == 0 and self.batch_index == 0 and not self.history:
            logger.info("start: network %s, %d training samples, %s",
                        "-".join(map(str, self.net.config.sizes)), len(self.train_set),
                        ", ".join(f"{k} {len(v)}" for k, v in self.eval_sets.items()) or "no held-out split")
        self._interrupted = False
        try:
            with self._deferred_interrupt():
                self._fit_epochs()
        except KeyboardInterrupt:
            self.save(self.out_dir / "last.npz")
            logger.warning("interrupted after epoch %d, batch %d; state saved to %s (continue with --resume)",
                           self.epoch, self.batch_index, self.out_dir / "last.npz")
            raise
        return self.history

    def _fit_epochs(self) -> None:
        while self.epoch < self.config.epochs:
            metrics = self.run_epoch()
            self.epoch += 1
            self.batch_index = 0
            self.permutation = None
            self.history.append(metrics)
            self._log_epoch(metrics)
            val = metrics.get("validation_accuracy")
            is_best = val is not None and val > self.best["validation_accuracy"]
            if is_best:
                self.best = {"validation_accuracy": val, "epoch": metrics["epoch"],
                             "test_accuracy": metrics.get("test_accuracy")}
            path = self.save(self.out_dir / f"checkpoint-epoch{self.epoch:03d}.npz")
            self.save(self.out_dir / "last.npz")
            if is_best:
                self.save(self.out_dir / "best.npz")
            self._write_outputs()
            logger.debug("wrote %s", path)
            if self._interrupted:
                raise KeyboardInterrupt
