"""BPTT baseline: reverse pass against an independent forward-mode derivative, loss, training step."""

import copy

import numpy as np
import pytest

from lava_biograd.baseline import (
    Adam,
    bptt_backward,
    bptt_gradients,
    bptt_step,
    lif_forward,
    softmax_cross_entropy,
)
from lava_biograd.reference import BioGradNetwork, NetworkConfig, NeuronParams

SIZES = (6, 5, 4, 3)
N_STEPS = 8
BATCH = 4
TIMINGS = ("same_step", "delayed")
NEURONS = (
    NeuronParams(vdecay=0.5, vth=0.3, grad_win=0.3, grad_amp=1.0),
    NeuronParams(vdecay=0.3, vth=0.25, grad_win=0.35, grad_amp=0.7),
    NeuronParams(vdecay=0.8, vth=0.2, grad_win=0.25, grad_amp=1.3),
)


def _tiny_problem(seed=0):
    """Float64 weights that keep every layer spiking part of the time, and random input spikes."""
    rng = np.random.default_rng(seed)
    weights = [rng.uniform(-0.4, 0.6, size=(n_out, n_in)) for n_in, n_out in zip(SIZES[:-1], SIZES[1:])]
    biases = [rng.uniform(-0.1, 0.2, size=n_out) for n_out in SIZES[1:]]
    x = (rng.random((N_STEPS, BATCH, SIZES[0])) < 0.5).astype(np.float64)
    return weights, biases, x, rng


def _forward_mode(weights, biases, neurons, x, tangent_w, tangent_b, g, timing):
    """Return ``d/d eps sum_n <g_n, c_n>`` along ``(tangent_w, tangent_b)``, written step by step.

    The tangent follows the same recursion as the voltage: ``dv_t = alpha dv_{t-1} (1 - s_{t-1})
    - alpha v_{t-1} ds_{t-1} + dW p_t + W dp_t + db`` with ``ds_t = sigma'(v_t) dv_t``. It also
    returns the spikes of every layer so the caller can check the forward pass.
    """
    t_steps, batch, _ = x.shape
    sizes = [w.shape[0] for w in weights]
    v = [np.zeros((batch, n)) for n in sizes]
    s = [np.zeros((batch, n)) for n in sizes]
    dv = [np.zeros((batch, n)) for n in sizes]
    ds = [np.zeros((batch, n)) for n in sizes]
    # Spikes and tangents that wait one step before reaching the next layer ('delayed').
    delay_buffer = [np.zeros((batch, w.shape[1])) for w in weights]
    delay_tangent = [np.zeros((batch, w.shape[1])) for w in weights]
    spikes = [np.zeros((t_steps, batch, n)) for n in sizes]
    derivative = 0.0
    for t in range(t_steps):
        inputs, input_tangent = x[t], np.zeros_like(x[t])
        for i, (w, b, dw, db, neuron) in enumerate(zip(weights, biases, tangent_w, tangent_b, neurons)):
            if timing == "delayed":
                pre, pre_tangent = delay_buffer[i], delay_tangent[i]
                delay_buffer[i], delay_tangent[i] = inputs, input_tangent
            else:
                pre, pre_tangent = inputs, input_tangent
            alpha = neuron.vdecay
            v_new = alpha * v[i] * (1 - s[i]) + pre @ w.T + b
            dv_new = (alpha * dv[i] * (1 - s[i]) - alpha * v[i] * ds[i]
                      + pre @ dw.T + pre_tangent @ w.T + db)
            s_new = (v_new > neuron.vth).astype(np.float64)
            window = (np.abs(v_new - neuron.vth) < neuron.grad_win).astype(np.float64)
            v[i], s[i], dv[i], ds[i] = v_new, s_new, dv_new, neuron.grad_amp * window * dv_new
            spikes[i][t] = s_new
            inputs, input_tangent = s[i], ds[i]
        derivative += float(np.sum(g * input_tangent))
    return derivative, spikes


def _directions(weights, biases, rng):
    """Yield tangent directions: one per layer alone, then two over all layers at once."""
    for layer in range(len(weights)):
        tangent_w = [np.zeros_like(w) for w in weights]
        tangent_b = [np.zeros_like(b) for b in biases]
        tangent_w[layer] = rng.standard_normal(weights[layer].shape)
        tangent_b[layer] = rng.standard_normal(biases[layer].shape)
        yield tangent_w, tangent_b
    for _ in range(2):
        yield ([rng.standard_normal(w.shape) for w in weights],
               [rng.standard_normal(b.shape) for b in biases])


@pytest.mark.parametrize("timing", TIMINGS)
def test_bptt_matches_forward_mode(timing):
    weights, biases, x, rng = _tiny_problem()
    g = rng.standard_normal((BATCH, SIZES[-1]))
    grad_w, grad_b = bptt_gradients(weights, biases, NEURONS, x, g, timing=timing)

    layers = lif_forward(weights, biases, NEURONS, x, timing=timing)
    for index, (_, v, s) in enumerate(layers):
        # Guard: the comparison means little unless spikes and the surrogate window both occur.
        assert 0.1 < s.mean() < 0.9, f"layer {index} spike rate {s.mean():.2f}"
        window = np.abs(v - NEURONS[index].vth) < NEURONS[index].grad_win
        assert 0.1 < window.mean() < 0.95, f"layer {index} window fraction {window.mean():.2f}"

    for tangent_w, tangent_b in _directions(weights, biases, rng):
        forward, spikes = _forward_mode(weights, biases, NEURONS, x, tangent_w, tangent_b, g, timing)
        reverse = sum(float(np.sum(gw * dw)) for gw, dw in zip(grad_w, tangent_w))
        reverse += sum(float(np.sum(gb * db)) for gb, db in zip(grad_b, tangent_b))
        assert abs(forward) > 1e-3
        assert abs(reverse - forward) <= 1e-10 * max(1.0, abs(forward))
        for layer, (_, _, s) in zip(spikes, layers):
            np.testing.assert_array_equal(layer, s)


def test_bptt_timings_differ():
    weights, biases, x, rng = _tiny_problem()
    g = rng.standard_normal((BATCH, SIZES[-1]))
    same, _ = bptt_gradients(weights, biases, NEURONS, x, g, timing="same_step")
    delayed, _ = bptt_gradients(weights, biases, NEURONS, x, g, timing="delayed")
    assert not np.allclose(same[0], delayed[0])


@pytest.mark.parametrize("timing", TIMINGS)
def test_lif_forward_matches_network(timing):
    config = NetworkConfig(sizes=SIZES, n_steps=N_STEPS, error_start=2, neuron=NEURONS, timing=timing)
    net = BioGradNetwork(config, np.random.default_rng(3), dtype="float64")
    x = (np.random.default_rng(4).random((N_STEPS, BATCH, SIZES[0])) < 0.6).astype(np.float64)
    expected = net.forward(x)
    layers = lif_forward(net.weights, net.biases, list(net.neurons), x, timing=timing)
    for (pre, v, s), (pre_ref, v_ref, s_ref) in zip(layers, expected):
        np.testing.assert_array_equal(pre, pre_ref)
        np.testing.assert_array_equal(v, v_ref)
        np.testing.assert_array_equal(s, s_ref)


def test_bptt_batch_sums_samples():
    weights, biases, x, rng = _tiny_problem(seed=1)
    g = rng.standard_normal((BATCH, SIZES[-1]))
    batched, batched_b = bptt_gradients(weights, biases, NEURONS, x, g)
    for layer in range(len(weights)):
        summed = sum(bptt_gradients(weights, biases, NEURONS, x[:, n:n + 1], g[n:n + 1])[0][layer]
                     for n in range(BATCH))
        np.testing.assert_allclose(batched[layer], summed, rtol=0, atol=1e-12)
    assert batched_b[0].shape == biases[0].shape


def test_bptt_float32_dtype():
    weights, biases, x, rng = _tiny_problem()
    g = rng.standard_normal((BATCH, SIZES[-1]))
    grad64, _ = bptt_gradients(weights, biases, NEURONS, x, g)
    grad32, bias32 = bptt_gradients([w.astype(np.float32) for w in weights],
                                    [b.astype(np.float32) for b in biases], NEURONS, x, g)
    assert grad32[0].dtype == np.float32
    assert bias32[-1].dtype == np.float32
    # Equal up to rounding unless a float32 voltage crosses a threshold or window edge.
    np.testing.assert_allclose(grad32[-1], grad64[-1], atol=1e-4)


def test_bptt_rejects_bad_arguments():
    weights, biases, x, rng = _tiny_problem()
    g = rng.standard_normal((BATCH, SIZES[-1]))
    with pytest.raises(ValueError, match="timing"):
        bptt_gradients(weights, biases, NEURONS, x, g, timing="late")
    with pytest.raises(ValueError, match="grad_counts"):
        bptt_gradients(weights, biases, NEURONS, x, g[:, :2])
    with pytest.raises(ValueError, match="columns"):
        bptt_gradients([weights[0], weights[2]], biases[::2], NEURONS[:2], x, g)
    with pytest.raises(ValueError, match="input spikes"):
        bptt_gradients(weights, biases, NEURONS, x[:, :, :5], g)
    with pytest.raises(ValueError, match="neurons"):
        bptt_gradients(weights, biases, NEURONS[:2], x, g)
    with pytest.raises(ValueError, match="float32"):
        bptt_gradients([w.astype(np.float16) for w in weights], biases, NEURONS, x, g)
    with pytest.raises(ValueError, match="layers"):
        bptt_backward(weights, [], NEURONS, g)


def test_cross_entropy_value():
    counts = np.array([[1.0, 2.0, 3.0], [4.0, 4.0, 0.0]])
    labels = np.array([2, 0])
    loss, grad = softmax_cross_entropy(counts, labels)
    first = np.log(np.exp(1) + np.exp(2) + np.exp(3)) - 3
    second = np.log(2 * np.exp(4) + 1) - 4
    assert loss == pytest.approx((first + second) / 2, rel=1e-12)
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-15)
    assert grad[1, 1] == pytest.approx(np.exp(4) / (2 * np.exp(4) + 1) / 2, rel=1e-12)


def test_cross_entropy_gradient_finite_difference():
    rng = np.random.default_rng(5)
    counts = rng.integers(0, 8, size=(3, 4)).astype(np.float64)
    labels = np.array([0, 3, 1])
    _, grad = softmax_cross_entropy(counts, labels)
    step = 1e-6
    numeric = np.zeros_like(counts)
    for index in np.ndindex(counts.shape):
        plus, minus = counts.copy(), counts.copy()
        plus[index] += step
        minus[index] -= step
        numeric[index] = (softmax_cross_entropy(plus, labels)[0] - softmax_cross_entropy(minus, labels)[0]) / (2 * step)
    np.testing.assert_allclose(grad, numeric, atol=1e-8)


def test_cross_entropy_rejects_labels():
    counts = np.zeros((2, 3))
    with pytest.raises(ValueError, match="labels must lie"):
        softmax_cross_entropy(counts, np.array([0, 3]))
    with pytest.raises(TypeError, match="integers"):
        softmax_cross_entropy(counts, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="shape"):
        softmax_cross_entropy(counts, np.array([0]))


def _toy_batch(rng, batch=32, n_in=20, n_steps=20):
    """Two classes: class 0 fires the first half of the inputs at rate 0.6, class 1 the second half."""
    labels = rng.integers(0, 2, size=batch)
    rates = np.full((batch, n_in), 0.05)
    half = n_in // 2
    rates[labels == 0, :half] = 0.6
    rates[labels == 1, half:] = 0.6
    x = (rng.random((n_steps, batch, n_in)) < rates[None]).astype(np.float32)
    return x, labels


@pytest.mark.parametrize("timing", TIMINGS)
def test_bptt_step_applies_adam(timing):
    config = NetworkConfig(sizes=(20, 16, 2), n_steps=20, error_start=5, timing=timing)
    net = BioGradNetwork(config, np.random.default_rng(0), dtype="float64")
    x, labels = _toy_batch(np.random.default_rng(1))
    before = copy.deepcopy(net)
    feedback = [b.copy() for b in net.feedback]

    loss, predictions = bptt_step(net, x, labels, Adam(lr=1e-3))

    counts = before.forward(x)[-1][2].sum(axis=0)
    expected_loss, grad_counts = softmax_cross_entropy(counts, labels)
    grad_w, grad_b = bptt_gradients(before.weights, before.biases, list(before.neurons), x, grad_counts, timing)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    np.testing.assert_array_equal(predictions, counts.argmax(axis=1))
    params = [p for pair in zip(before.weights, before.biases) for p in pair]
    Adam(lr=1e-3).step(params, [g for pair in zip(grad_w, grad_b) for g in pair])
    for new, old in zip(net.weights + net.biases, before.weights + before.biases):
        np.testing.assert_allclose(new, old, rtol=0, atol=1e-15)
    for new, old in zip(net.feedback, feedback):
        np.testing.assert_array_equal(new, old)


def test_bptt_step_learns_toy_task():
    config = NetworkConfig(sizes=(20, 16, 2), n_steps=20, error_start=5)
    net = BioGradNetwork(config, np.random.default_rng(0), dtype="float32")
    rng = np.random.default_rng(2)
    optimizer = Adam(lr=3e-3)
    losses = [bptt_step(net, *_toy_batch(rng), optimizer)[0] for _ in range(60)]
    x, labels = _toy_batch(np.random.default_rng(99), batch=200)
    predictions, _ = net.predict(x)
    assert np.mean(losses[-5:]) < 0.1 * np.mean(losses[:5])
    assert np.mean(predictions == labels) > 0.9


def test_bptt_step_rejects_optimizer():
    config = NetworkConfig(sizes=(20, 16, 2), n_steps=20, error_start=5)
    net = BioGradNetwork(config, np.random.default_rng(0))
    x, labels = _toy_batch(np.random.default_rng(1))
    with pytest.raises(TypeError, match="Adam"):
        bptt_step(net, x, labels, optimizer="sgd")


def test_adam_two_steps_by_hand():
    params = [np.array([1.0, -2.0])]
    optimizer = Adam(lr=0.1)
    optimizer.step(params, [np.array([0.5, -1.0])])
    # Step 1: m_hat = g and v_hat = g^2, so each entry moves by lr * g / (|g| + eps).
    np.testing.assert_allclose(params[0], [0.900000002, -1.900000001], rtol=0, atol=1e-15)
    optimizer.step(params, [np.array([-0.2, 0.3])])
    # Step 2: m = (0.025, -0.06), v = (2.8975e-4, 1.089e-3),
    # m_hat = m / 0.19, v_hat = v / 0.001999, step = 0.1 * m_hat / (sqrt(v_hat) + 1e-8).
    np.testing.assert_allclose(optimizer.exp_avg[0], [0.025, -0.06], rtol=1e-14)
    np.testing.assert_allclose(optimizer.exp_avg_sq[0], [2.8975e-4, 1.089e-3], rtol=1e-14)
    np.testing.assert_allclose(params[0], [0.8654394181165108, -1.8572151424292263], rtol=0, atol=1e-14)
    assert optimizer.step_count == 2


def test_adam_keeps_float32():
    params = [np.ones((2, 3), np.float32)]
    optimizer = Adam(lr=1e-3)
    optimizer.step(params, [np.full((2, 3), 0.5)])
    assert params[0].dtype == np.float32
    assert optimizer.exp_avg[0].dtype == np.float32
    np.testing.assert_allclose(params[0], 1 - 1e-3, rtol=1e-6)


def test_adam_state_round_trip(tmp_path):
    rng = np.random.default_rng(7)
    params = [rng.standard_normal((3, 2)), rng.standard_normal(3)]
    optimizer = Adam(lr=0.05, beta1=0.8, beta2=0.99, eps=1e-6)
    for _ in range(2):
        optimizer.step(params, [rng.standard_normal(p.shape) for p in params])
    np.savez(tmp_path / "adam.npz", **optimizer.state_dict())

    restored = Adam()
    with np.load(tmp_path / "adam.npz") as state:
        restored.load_state_dict(state)
    assert (restored.lr, restored.beta1, restored.beta2, restored.eps) == (0.05, 0.8, 0.99, 1e-6)
    assert restored.step_count == 2

    grads = [rng.standard_normal(p.shape) for p in params]
    copies = [p.copy() for p in params]
    optimizer.step(params, grads)
    restored.step(copies, grads)
    for original, copied in zip(params, copies):
        np.testing.assert_array_equal(original, copied)


def test_adam_state_before_step():
    state = Adam(lr=0.2).state_dict()
    assert int(state["n_params"]) == 0
    restored = Adam()
    restored.load_state_dict(state)
    assert restored.lr == 0.2
    assert restored.exp_avg is None


def test_adam_rejects_bad_arguments():
    with pytest.raises(ValueError, match="lr"):
        Adam(lr=0.0)
    with pytest.raises(ValueError, match="beta1"):
        Adam(beta1=1.0)
    with pytest.raises(TypeError, match="lr"):
        Adam(lr="fast")
    optimizer = Adam()
    params = [np.zeros(3)]
    with pytest.raises(ValueError, match="shape"):
        optimizer.step(params, [np.zeros(4)])
    with pytest.raises(TypeError, match="float numpy array"):
        optimizer.step([[0.0, 0.0]], [np.zeros(2)])
    optimizer.step(params, [np.ones(3)])
    with pytest.raises(ValueError, match="one optimizer per parameter list"):
        optimizer.step([np.zeros(2)], [np.ones(2)])
    state = optimizer.state_dict()
    del state["exp_avg_sq_0"]
    with pytest.raises(ValueError, match="exp_avg_sq_0"):
        Adam().load_state_dict(state)
    with pytest.raises(ValueError, match="missing the keys"):
        Adam().load_state_dict({"step": np.asarray(1)})
