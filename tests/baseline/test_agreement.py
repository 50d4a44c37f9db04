"""Agreement of the BioGrad update with the BPTT cross-entropy gradient."""

import math

import numpy as np
import pytest

from lava_biograd.baseline import bptt_gradients, compare_gradients, gradient_agreement, softmax_cross_entropy
from lava_biograd.reference import BioGradNetwork, NetworkConfig, NeuronParams

TIMINGS = ("same_step", "delayed")


def _silent_output_network(timing):
    """A 8-6-2 net whose output neurons never spike but always sit inside the surrogate window.

    Output layer: alpha = 0, theta = 0.3, w = 0.3, A = 2, b_o = 0.15 and |W_o| <= 0.02, so
    v^o_t = W_o s^1_t + b_o lies in [0.03, 0.27]: no spike, and sigma' = A at every step.
    Then c_o = 0 and softmax(c_o) - y = (0.5 - y) for every sample and step. Over
    K = T - t0 = 10 error steps an error neuron driven by +0.5 spikes at steps 3, 5, 7, 9
    (threshold 1 is strict), so delta^o = 0.4 (1 - 2y) = 0.8 (softmax(c_o) - y) exactly.
    """
    neurons = (NeuronParams(0.3, 0.3, 0.3, 1.0), NeuronParams(vdecay=0.0, vth=0.3, grad_win=0.3, grad_amp=2.0))
    config = NetworkConfig(sizes=(8, 6, 2), n_steps=12, error_start=2, neuron=neurons, timing=timing)
    net = BioGradNetwork(config, np.random.default_rng(0), dtype="float64")
    rng = np.random.default_rng(1)
    net.weights[0][...] = rng.uniform(-0.2, 0.6, size=net.weights[0].shape)
    net.biases[0][...] = rng.uniform(0.0, 0.1, size=net.biases[0].shape)
    net.weights[1][...] = rng.uniform(-0.02, 0.02, size=net.weights[1].shape)
    net.biases[1][...] = 0.15
    net.feedback[0] = net.weights[1].T.copy()
    x = (rng.random((12, 6, 8)) < 0.4).astype(np.float64)
    labels = np.array([0, 1, 1, 0, 1, 0])
    return net, x, labels


@pytest.mark.parametrize("timing", TIMINGS)
def test_silent_output_exact(timing):
    net, x, labels = _silent_output_network(timing)
    layers = net.forward(x)
    assert layers[-1][2].sum() == 0
    assert 0.1 < layers[0][2].mean() < 0.9
    result = net.wake(x, labels)
    np.testing.assert_allclose(result.deltas[-1], 0.4 * (1 - 2 * np.eye(2)[labels]), rtol=0, atol=1e-15)

    agreement = gradient_agreement(net, x, labels)
    # Output layer: both are the same per-sample vector times E^o, scaled by 0.8.
    assert agreement[2]["cosine"] == pytest.approx(1.0, abs=1e-12)
    assert agreement[2]["norm_ratio"] == pytest.approx(0.8, rel=1e-12)


def test_silent_output_hidden_exact():
    # Same-step timing only. With alpha_o = 0 and sigma'_o = A, the BPTT error reaching the
    # hidden spikes is the constant W_o^T A g, so the BPTT gradient is sum_n (A W_o^T g_n) * E^1_n.
    # With B_1 = W_o^T, BioGrad uses sum_n (0.8 W_o^T g_n) * E^1_n, which gives ratio 0.8 / A.
    net, x, labels = _silent_output_network("same_step")
    agreement = gradient_agreement(net, x, labels)
    assert agreement[1]["cosine"] == pytest.approx(1.0, abs=1e-12)
    assert agreement[1]["norm_ratio"] == pytest.approx(0.4, rel=1e-12)


def test_delayed_hidden_not_exact():
    # Under 'delayed' timing the hidden spikes of the last step never reach the output, so
    # BPTT gives them no gradient while the trace still counts them.
    net, x, labels = _silent_output_network("delayed")
    agreement = gradient_agreement(net, x, labels)
    assert agreement[1]["cosine"] < 1.0 - 1e-6


def _random_network(timing, seed=0):
    config = NetworkConfig(sizes=(12, 10, 8, 4), n_steps=20, error_start=5, timing=timing)
    net = BioGradNetwork(config, np.random.default_rng(seed), dtype="float64")
    rng = np.random.default_rng(seed + 10)
    for w, b in zip(net.weights, net.biases):
        w[...] = rng.uniform(-0.6, 0.8, size=w.shape) / np.sqrt(w.shape[1])
        b[...] = rng.uniform(0.0, 0.1, size=b.shape)
    x = (rng.random((20, 6, 12)) < 0.4).astype(np.float64)
    labels = rng.integers(0, 4, size=6)
    return net, x, labels


@pytest.mark.parametrize("timing", TIMINGS)
def test_agreement_direct_computation(timing):
    net, x, labels = _random_network(timing)
    agreement = gradient_agreement(net, x, labels)
    assert sorted(agreement) == [1, 2, 3]

    result = net.wake(x, labels)
    _, grad_counts = softmax_cross_entropy(result.counts, labels)
    grad_w, _ = bptt_gradients(net.weights, net.biases, list(net.neurons), x, grad_counts, timing)
    for layer in (1, 2, 3):
        a, g = result.grad_weights[layer - 1], grad_w[layer - 1]
        cosine = np.sum(a * g) / (np.linalg.norm(a) * np.linalg.norm(g))
        assert -1.0 <= agreement[layer]["cosine"] <= 1.0
        assert agreement[layer]["cosine"] == pytest.approx(cosine, abs=1e-12)
        assert agreement[layer]["norm_ratio"] == pytest.approx(np.linalg.norm(a) / np.linalg.norm(g), rel=1e-12)
    # Not exact in general: the hidden layers see B_l instead of the time-resolved backward pass.
    assert agreement[1]["cosine"] < 1.0 - 1e-6


def test_agreement_batch_duplicate():
    # Both sides are batch means, so repeating every sample changes neither number.
    net, x, labels = _random_network("same_step", seed=1)
    single = gradient_agreement(net, x, labels)
    double = gradient_agreement(net, np.concatenate([x, x], axis=1), np.concatenate([labels, labels]))
    for layer, values in single.items():
        assert double[layer]["cosine"] == pytest.approx(values["cosine"], abs=1e-12)
        assert double[layer]["norm_ratio"] == pytest.approx(values["norm_ratio"], rel=1e-12)


def test_agreement_trace_forms_and_state():
    net, x, labels = _random_network("delayed", seed=2)
    weights = [w.copy() for w in net.weights]
    feedback = [b.copy() for b in net.feedback]
    fast = gradient_agreement(net, x, labels, traces="fast")
    online = gradient_agreement(net, x, labels, traces="online")
    for layer, values in fast.items():
        assert online[layer]["cosine"] == pytest.approx(values["cosine"], abs=1e-10)
        assert online[layer]["norm_ratio"] == pytest.approx(values["norm_ratio"], rel=1e-10)
    for new, old in zip(net.weights + net.feedback, weights + feedback):
        np.testing.assert_array_equal(new, old)


def test_compare_gradients_values():
    values = compare_gradients(np.array([[1.0, 0.0]]), np.array([1.0, 1.0]))
    assert values["cosine"] == pytest.approx(1 / math.sqrt(2), rel=1e-15)
    assert values["norm_ratio"] == pytest.approx(1 / math.sqrt(2), rel=1e-15)
    opposite = compare_gradients(np.array([2.0, -4.0]), np.array([-1.0, 2.0]))
    assert opposite["cosine"] == pytest.approx(-1.0, abs=1e-15)
    assert opposite["norm_ratio"] == pytest.approx(2.0)
    empty = compare_gradients(np.zeros(3), np.zeros(3))
    assert math.isnan(empty["cosine"])
    assert math.isnan(empty["norm_ratio"])
    with pytest.raises(ValueError, match="same number"):
        compare_gradients(np.zeros(3), np.zeros(4))


def test_agreement_rejects_arguments():
    net, x, labels = _random_network("same_step")
    with pytest.raises(TypeError, match="BioGradNetwork"):
        gradient_agreement(object(), x, labels)
    with pytest.raises(ValueError, match="labels"):
        gradient_agreement(net, x, labels + 10)
    with pytest.raises(ValueError, match="traces"):
        gradient_agreement(net, x, labels, traces="slow")
