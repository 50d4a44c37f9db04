"""The Lava graph computes what the reference model computes under 'delayed' timing.

Setting: 20-16-8-4, T=12, t0=3, three consecutive samples with online learning (batch
size 1), then one sleep episode with the same noise in both. Compared per step: spikes,
pre-reset voltages, pseudo-derivatives, dendrites and eligibility traces; after each
sample: weights and biases; after the sleep: every B_l.
"""

from dataclasses import replace

import numpy as np
import pytest

from lava_biograd.lava.network import LavaBioGradNetwork
from lava_biograd.reference import BioGradNetwork, NetworkConfig, NeuronParams, SleepParams
from lava_biograd.reference.sleep import draw_sleep_noise

N_SAMPLES = 3
T = 12
LR = 0.05
SLEEP = SleepParams(n_samples=8, n_steps=10)


def _network(dtype):
    config = NetworkConfig((20, 16, 8, 4), n_steps=T, error_start=3, timing="delayed",
                           neuron=NeuronParams(vdecay=0.3, vth=0.2, grad_win=0.3, grad_amp=1.0))
    net = BioGradNetwork(config, np.random.default_rng(1), dtype=dtype)
    for w in net.weights:
        w *= 3  # strong enough that every layer spikes within 12 steps
    return net


def _reference_run(net, x, labels, noise):
    """Run the reference sample by sample; return per-step records, weights per sample, final B."""
    ref = BioGradNetwork.from_state_dict(net.state_dict())
    steps = {"v": [], "s": [], "sd": [], "dendrites": [], "traces_e": [], "traces_g": []}
    weights = []
    for k in range(x.shape[0]):
        result = ref.wake(x[k][:, None, :], labels[k:k + 1], traces="online", record=True)
        for key in steps:
            steps[key].extend(result.record[key])
        ref.apply_update(result, LR)
        weights.append([w.copy() for w in ref.weights] + [b.copy() for b in ref.biases])
    ref.sleep(SLEEP, None, noise=noise)
    return steps, weights, ref


@pytest.fixture(scope="module", params=["float64", "float32"])
def runs(request):
    dtype = request.param
    net = _network(dtype)
    rng = np.random.default_rng(5)
    x = (rng.random((N_SAMPLES, T, 20)) < 0.5).astype(float)
    labels = rng.integers(0, 4, N_SAMPLES)
    _, noise = draw_sleep_noise(np.random.default_rng(3), (16, 8), SLEEP, np.float64)
    ref_steps, ref_weights, ref = _reference_run(net, x, labels, noise)

    with LavaBioGradNetwork(net, dtype=dtype, timeout_s=120) as lava_net:
        recorded = lava_net.run_wake(x, labels, learning=True, lr=LR, record=True)
        lava_weights = [w.copy() for w in lava_net.weights] + [b.copy() for b in lava_net.biases]
        lava_net.sleep(SLEEP, noise=noise)
        lava_feedback = [b.copy() for b in lava_net.feedback]
    tolerance = 1e-10 if dtype == "float64" else 1e-5
    return {"ref_steps": ref_steps, "ref_weights": ref_weights, "ref": ref, "lava": recorded,
            "lava_weights": lava_weights, "lava_feedback": lava_feedback, "tol": tolerance, "net": net}


def test_graph_spikes_and_voltages_match(runs):
    steps, lava = runs["ref_steps"], runs["lava"].records
    for layer in range(3):
        ref_s = np.array([step[layer][0] for step in steps["s"]])
        ref_v = np.array([step[layer][0] for step in steps["v"]])
        assert ref_s.shape == (N_SAMPLES * T, [16, 8, 4][layer])
        assert ref_s.sum() > 0, f"layer {layer} never spikes; the comparison is vacuous"
        np.testing.assert_array_equal(lava[f"neuron{layer}"]["s"], ref_s)
        np.testing.assert_allclose(lava[f"neuron{layer}"]["v"], ref_v, rtol=0, atol=runs["tol"])


def test_graph_pseudo_derivatives_and_dendrites_match(runs):
    steps, lava = runs["ref_steps"], runs["lava"].records
    n_layers = 3
    for layer in range(n_layers):
        ref_sd = np.array([steps["sd"][n_layers * k + layer][0] for k in range(N_SAMPLES * T)])
        ref_d = np.array([step[layer][0] for step in steps["dendrites"]])
        np.testing.assert_array_equal(lava[f"neuron{layer}"]["sd"], ref_sd)
        assert np.abs(ref_d).max() > 0, f"layer {layer} dendrite never receives error"
        np.testing.assert_allclose(lava[f"neuron{layer}"]["dendrite"], ref_d, rtol=0, atol=runs["tol"])


def test_graph_traces_match(runs):
    steps, lava = runs["ref_steps"], runs["lava"].records
    for layer in range(3):
        ref_e = np.array([step[layer][0] for step in steps["traces_e"]])
        ref_g = np.array([step[layer][0] for step in steps["traces_g"]])
        np.testing.assert_allclose(lava[f"dense{layer}"]["e"], ref_e, rtol=0, atol=runs["tol"] * 10)
        np.testing.assert_allclose(lava[f"dense{layer}"]["g"], ref_g, rtol=0, atol=runs["tol"] * 10)


def test_graph_weight_updates_match(runs):
    initial = runs["net"].weights + runs["net"].biases
    final_ref = runs["ref_weights"][-1]
    for got, want, start in zip(runs["lava_weights"], final_ref, initial):
        assert np.abs(want - start).max() > 1e-3, "learning did not move the weights; the test is vacuous"
        np.testing.assert_allclose(got, want, rtol=0, atol=runs["tol"])


def test_graph_sleep_updates_match(runs):
    for got, want in zip(runs["lava_feedback"], runs["ref"].feedback):
        np.testing.assert_allclose(got, want, rtol=0, atol=runs["tol"])


def test_graph_output_counts_match(runs):
    steps = runs["ref_steps"]
    ref_out = np.array([step[2][0] for step in steps["s"]]).reshape(N_SAMPLES, T, 4).sum(axis=1)
    np.testing.assert_array_equal(runs["lava"].counts, ref_out)


def test_inference_matches_reference():
    net = _network("float64")
    rng = np.random.default_rng(9)
    x = (rng.random((4, T, 20)) < 0.5).astype(float)
    with LavaBioGradNetwork(net, timeout_s=120) as lava_net:
        predictions, counts = lava_net.predict(x)
    ref = BioGradNetwork.from_state_dict(net.state_dict())
    ref.config = replace(ref.config, timing="delayed")
    ref_predictions, ref_counts = ref.predict(np.transpose(x, (1, 0, 2)))
    np.testing.assert_array_equal(counts, ref_counts)
    np.testing.assert_array_equal(predictions, ref_predictions)


@pytest.mark.parametrize("labels, error, match", [
    (np.array([0.9, 1.9]), TypeError, "labels must be an integer array"),
    (np.array(["0", "1"]), TypeError, "labels must be an integer array"),
    (np.array([0, 4]), ValueError, r"labels must lie in \[0, 3\]"),
    (np.array([0]), ValueError, r"one label per sample \(2\)"),
])
def test_run_wake_rejects_bad_labels(labels, error, match):
    x = np.zeros((2, T, 20))
    with LavaBioGradNetwork(_network("float64"), timeout_s=60) as lava_net:
        with pytest.raises(error, match=match):
            lava_net.run_wake(x, labels, lr=LR)


def test_train_online_checks_lr_before_rng():
    x = np.zeros((2, T, 20))
    with LavaBioGradNetwork(_network("float64"), timeout_s=60) as lava_net:
        with pytest.raises(ValueError, match="lr must be > 0"):
            lava_net.train_online(x, np.array([0, 1]), lr=-1e-3)
        with pytest.raises(ValueError, match="rng is needed for the sleep noise whenever sleep_every > 0"):
            lava_net.train_online(x, np.array([0, 1]), lr=1e-3)
