"""The error source sends the error neuron pair's spikes itself, and exports the output counts.

The network builder wires ``ErrorSource(output='spikes')``, which runs the error neuron pair
inside the error source's model. These tests check that this fused Process sends, step by
step, what ``ErrorSource(output='current') -> ErrorNeuronPair`` sends, and what the
reference functions compute, in both float and fixed point.
"""

import numpy as np
import pytest
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.proc.io.sink import RingBuffer

from lava_biograd.lava.error_neurons.process import ErrorNeuronPair
from lava_biograd.lava.error_source.process import ErrorSource
from lava_biograd.lava.runner import LavaSession
from lava_biograd.lava.source.process import SpikeSource
from lava_biograd.reference import BioGradNetwork, NetworkConfig
from lava_biograd.reference.error import error_current, error_neuron_step
from lava_biograd.reference.fixed import FixedBioGradNetwork
from lava_biograd.reference.fixed.dynamics import error_current_int, error_neuron_step_int

N_CLASSES = 4
T = 10
T0 = 3
N_SAMPLES = 3


@pytest.fixture(scope="module")
def stream():
    """Output spikes ``(n_samples, T, n_classes)`` and labels, dense enough that the error neurons fire."""
    rng = np.random.default_rng(0)
    spikes = (rng.random((N_SAMPLES, T, N_CLASSES)) < 0.5).astype(float)
    labels = rng.integers(0, N_CLASSES, N_SAMPLES)
    return spikes, labels


@pytest.fixture(scope="module")
def fixed_format():
    config = NetworkConfig((6, 5, N_CLASSES), n_steps=T, error_start=T0)
    net = BioGradNetwork(config, np.random.default_rng(1), dtype="float64")
    return FixedBioGradNetwork.from_float(net, np.random.default_rng(2)).fmt


def _run_graph(spikes, labels, tag, fixed, fused, counts_path):
    """Return the signed error spikes of every step ``(n_samples * T, n_classes)``."""
    n_steps = spikes.shape[0] * spikes.shape[1]
    source = SpikeSource(data=spikes)
    error = ErrorSource(labels=labels, n_classes=N_CLASSES, sample_steps=T, error_start=T0,
                        output="spikes" if fused else "current", export_path=counts_path, fixed=fixed)
    source.s_out.connect(error.s_in)
    out = error.e_out
    if not fused:
        pair = ErrorNeuronPair(n=N_CLASSES, sample_steps=T, fixed=fixed)
        error.e_out.connect(pair.e_in)
        out = pair.z_out
    sink = RingBuffer(shape=(N_CLASSES,), buffer=n_steps)
    out.connect(sink.a_in)
    with LavaSession(source, Loihi2SimCfg(select_tag=tag), timeout_s=120) as session:
        session.run(n_steps)
        z = session.get(sink.data)
    return np.asarray(z).T


def _reference_spikes(spikes, labels, error_scale=None):
    """The pair's signed spikes per step from the reference functions (integer ones with ``error_scale``)."""
    out = []
    for k in range(spikes.shape[0]):
        onehot = np.eye(N_CLASSES)[labels[k]]
        state = tuple(np.zeros(N_CLASSES, np.int64 if error_scale else float) for _ in range(4))
        counts = np.zeros(N_CLASSES)
        for t in range(T):
            counts = counts + spikes[k, t]
            if error_scale is None:
                e = error_current(counts, onehot) if t >= T0 else np.zeros(N_CLASSES)
                state = error_neuron_step(*state, e)
            else:
                e = error_current_int(counts[None], onehot[None], error_scale)[0] if t >= T0 else np.zeros(N_CLASSES, int)
                state = error_neuron_step_int(*state, e, error_scale)
            out.append(state[2] - state[3])
    return np.array(out, dtype=float)


@pytest.mark.parametrize("tag", ["floating_pt", "fixed_pt"])
def test_fused_error_source_matches_pair(stream, fixed_format, tag, tmp_path):
    spikes, labels = stream
    fixed = fixed_format if tag == "fixed_pt" else None
    fused = _run_graph(spikes, labels, tag, fixed, True, str(tmp_path / "counts.npz"))
    separate = _run_graph(spikes, labels, tag, fixed, False, None)
    expected = _reference_spikes(spikes, labels, None if fixed is None else fixed.error_scale)
    assert np.abs(expected).sum() > 0, "the error neurons never fire; the comparison is vacuous"
    np.testing.assert_array_equal(fused, expected)
    np.testing.assert_array_equal(separate, expected)
    with np.load(tmp_path / "counts.npz") as data:
        np.testing.assert_array_equal(data["counts"], spikes.sum(axis=1))


def test_error_source_rejects_bad_arguments():
    with pytest.raises(ValueError, match="output must be one of"):
        ErrorSource(labels=np.array([0]), n_classes=2, sample_steps=4, error_start=1, output="rates")
    with pytest.raises(ValueError, match="at least one label"):
        ErrorSource(labels=np.array([], dtype=int), n_classes=2, sample_steps=4, error_start=1)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 1\]"):
        ErrorSource(labels=np.array([2]), n_classes=2, sample_steps=4, error_start=1)
    with pytest.raises(ValueError, match="smaller than sample_steps"):
        ErrorSource(labels=np.array([0]), n_classes=2, sample_steps=4, error_start=4)
