"""Wake-phase updates against BPTT: output layer with a fixed error, hidden layer with an injected error."""

import numpy as np
import pytest

from lava_biograd.baseline import bptt_gradients
from lava_biograd.reference import BioGradNetwork, NetworkConfig, NeuronParams
from lava_biograd.reference.neuron import pseudo_derivative
from lava_biograd.reference.traces import OnlineTraces, eligibility_fast

SIZES = (12, 10, 8, 4)
N_STEPS, ERROR_START, BATCH = 20, 5, 5
TIMINGS = ("same_step", "delayed")
TRACE_FORMS = ("fast", "online")
ATOL = 1e-10


def _network(timing, seed=0):
    neurons = (NeuronParams(0.3, 0.3, 0.3, 1.0), NeuronParams(0.5, 0.25, 0.3, 1.0), NeuronParams(0.4, 0.3, 0.35, 0.8))
    config = NetworkConfig(sizes=SIZES, n_steps=N_STEPS, error_start=ERROR_START, neuron=neurons, timing=timing)
    net = BioGradNetwork(config, np.random.default_rng(seed), dtype="float64")
    rng = np.random.default_rng(seed + 100)
    # Larger weights than the default initialisation so that every layer spikes.
    for w, b in zip(net.weights, net.biases):
        w[...] = rng.uniform(-0.6, 0.8, size=w.shape) / np.sqrt(w.shape[1])
        b[...] = rng.uniform(0.0, 0.1, size=b.shape)
    x = (rng.random((N_STEPS, BATCH, SIZES[0])) < 0.4).astype(np.float64)
    labels = rng.integers(0, SIZES[-1], size=BATCH)
    return net, x, labels


def _check_activity(net, x):
    for index, (_, v, s) in enumerate(net.forward(x)):
        assert 0.05 < s.mean() < 0.9, f"layer {index} spike rate {s.mean():.2f}"
        assert pseudo_derivative(v, net.neurons[index]).any()


def _layer_traces(pre, v, s, neuron, form):
    """Return per-sample ``E, G`` of one layer from the reference trace code."""
    sd = pseudo_derivative(v, neuron)
    if form == "fast":
        return eligibility_fast(pre, v, s, sd, neuron.vdecay)
    t_steps, batch, n_pre = pre.shape
    traces = OnlineTraces(batch, v.shape[2], n_pre, neuron.vdecay, v.dtype)
    for t in range(t_steps):
        traces.step(pre[t], v[t], s[t], sd[t])
    return traces.e, traces.g


# ---------------------------------------------------------------------- output layer, fixed error
@pytest.mark.parametrize("traces", TRACE_FORMS)
@pytest.mark.parametrize("timing", TIMINGS)
def test_output_update_equals_bptt(timing, traces):
    net, x, labels = _network(timing)
    _check_activity(net, x)
    result = net.wake(x, labels, traces=traces)
    error = result.deltas[-1]
    assert np.abs(error).max() > 0.05

    # The wake update is <delta^o_n E_n>_n, the gradient of (1/N) sum_n <delta^o_n, c_{o,n}>.
    grad_w, grad_b = bptt_gradients(net.weights, net.biases, list(net.neurons), x, error / BATCH, timing)
    np.testing.assert_allclose(result.grad_weights[-1], grad_w[-1], rtol=0, atol=ATOL)
    np.testing.assert_allclose(result.grad_biases[-1], grad_b[-1], rtol=0, atol=ATOL)


@pytest.mark.parametrize("form", TRACE_FORMS)
@pytest.mark.parametrize("timing", TIMINGS)
def test_output_traces_fixed_error(timing, form):
    net, x, _ = _network(timing, seed=1)
    _check_activity(net, x)
    error = np.random.default_rng(2).uniform(-1.0, 1.0, size=(BATCH, SIZES[-1]))
    pre, v, s = net.forward(x)[-1]
    e, g = _layer_traces(pre, v, s, net.neurons[-1], form)

    grad_w, grad_b = bptt_gradients(net.weights, net.biases, list(net.neurons), x, error, timing)
    np.testing.assert_allclose(np.einsum("ni,nij->ij", error, e), grad_w[-1], rtol=0, atol=ATOL)
    np.testing.assert_allclose(np.sum(error * g, axis=0), grad_b[-1], rtol=0, atol=ATOL)


# ---------------------------------------------------------------------- hidden layers, injected error
@pytest.mark.parametrize("traces", TRACE_FORMS)
@pytest.mark.parametrize("timing", TIMINGS)
def test_injected_hidden_error_equals_bptt(timing, traces):
    net, x, labels = _network(timing, seed=2)
    x, labels = x[:, :1], labels[:1]
    output_error = net.wake(x, labels, traces=traces).deltas[-1][0]
    assert np.abs(output_error).max() > 0.05
    layers = net.forward(x)
    rng = np.random.default_rng(3)

    for index in range(len(net.feedback)):
        # delta^l = B_l delta^o, and the output error does not depend on B, so a rank-1
        # B_l = delta d^T / |d|^2 injects the chosen constant delta into layer l.
        injected = rng.uniform(-0.5, 0.5, size=SIZES[index + 1])
        net.feedback[index] = np.outer(injected, output_error) / np.dot(output_error, output_error)
        result = net.wake(x, labels, traces=traces)
        np.testing.assert_allclose(result.deltas[index][0], injected, rtol=0, atol=1e-14)

        # BPTT of <delta, c_l> through layer l alone, with its input train held fixed.
        pre = layers[index][0]
        grad_w, grad_b = bptt_gradients([net.weights[index]], [net.biases[index]], net.neurons[index],
                                        pre, injected[None], "same_step")
        assert np.abs(grad_w[0]).max() > 1e-3
        np.testing.assert_allclose(result.grad_weights[index], grad_w[0], rtol=0, atol=ATOL)
        np.testing.assert_allclose(result.grad_biases[index], grad_b[0], rtol=0, atol=ATOL)


@pytest.mark.parametrize("traces", TRACE_FORMS)
@pytest.mark.parametrize("timing", TIMINGS)
def test_hidden_update_batch(timing, traces):
    net, x, labels = _network(timing, seed=4)
    _check_activity(net, x)
    result = net.wake(x, labels, traces=traces)
    layers = net.forward(x)
    for index, feedback in enumerate(net.feedback):
        delta = result.deltas[index]
        np.testing.assert_allclose(delta, result.deltas[-1] @ feedback.T, rtol=0, atol=1e-14)
        grad_w, grad_b = bptt_gradients([net.weights[index]], [net.biases[index]], net.neurons[index],
                                        layers[index][0], delta / BATCH, "same_step")
        np.testing.assert_allclose(result.grad_weights[index], grad_w[0], rtol=0, atol=ATOL)
        np.testing.assert_allclose(result.grad_biases[index], grad_b[0], rtol=0, atol=ATOL)
