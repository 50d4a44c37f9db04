"""Tests of the batched reference network: trace forms, error coding, sleep, determinism, learning."""

import numpy as np
import pytest

from lava_biograd.reference import BioGradNetwork, NetworkConfig, NeuronParams, SleepParams
from lava_biograd.reference.error import error_neuron_run, output_error, softmax
from lava_biograd.reference.feedback import alignment, downstream_products, init_feedback_product
from lava_biograd.reference.neuron import lif_run
from lava_biograd.reference.sleep import draw_sleep_noise


def _small_network(timing="same_step", dtype="float64", seed=1, gain=3.0):
    config = NetworkConfig((20, 16, 8, 4), n_steps=12, error_start=3, timing=timing,
                           neuron=NeuronParams(vdecay=0.3, vth=0.2, grad_win=0.3, grad_amp=1.0))
    net = BioGradNetwork(config, np.random.default_rng(seed), dtype=dtype)
    for w in net.weights:
        w *= gain  # stronger weights so that every layer spikes in 12 steps
    return net


def _batch(rng, n_steps=12, batch=6, n_in=20, n_out=4, rate=0.5):
    x = (rng.random((n_steps, batch, n_in)) < rate).astype(np.float64)
    return x, rng.integers(0, n_out, batch)


@pytest.mark.parametrize("timing", ["same_step", "delayed"])
def test_online_and_fast_traces_agree_float64(timing):
    net = _small_network(timing)
    rng = np.random.default_rng(5)
    for _ in range(3):
        x, labels = _batch(rng)
        fast = net.wake(x, labels, traces="fast")
        online = net.wake(x, labels, traces="online")
        assert all(np.abs(g).max() > 0 for g in fast.grad_weights), "a layer got no gradient; the test is vacuous"
        for g_fast, g_online in zip(fast.grad_weights, online.grad_weights):
            np.testing.assert_allclose(g_fast, g_online, rtol=0, atol=1e-10)
        for g_fast, g_online in zip(fast.grad_biases, online.grad_biases):
            np.testing.assert_allclose(g_fast, g_online, rtol=0, atol=1e-10)
        np.testing.assert_array_equal(fast.counts, online.counts)
        for d_fast, d_online in zip(fast.deltas, online.deltas):
            np.testing.assert_allclose(d_fast, d_online, rtol=0, atol=1e-12)
        net.apply_update(fast, 0.05)


def test_online_and_fast_traces_agree_float32():
    net = _small_network(dtype="float32")
    x, labels = _batch(np.random.default_rng(2))
    fast = net.wake(x, labels, traces="fast")
    online = net.wake(x, labels, traces="online")
    for g_fast, g_online in zip(fast.grad_weights, online.grad_weights):
        assert g_fast.dtype == np.float32
        np.testing.assert_allclose(g_fast, g_online, rtol=0, atol=1e-5)


def test_delayed_timing_shifts_first_spike():
    """Under delayed timing an input at step 0 reaches layer k at step k (one step per connection)."""
    config = NetworkConfig((1, 1, 1), n_steps=6, error_start=0, timing="delayed",
                           neuron=NeuronParams(vdecay=0.0, vth=0.5, grad_win=0.1, grad_amp=1.0))
    net = BioGradNetwork(config, np.random.default_rng(0), dtype="float64")
    net.weights = [np.ones((1, 1)), np.ones((1, 1))]
    net.biases = [np.zeros(1), np.zeros(1)]
    x = np.zeros((6, 1, 1))
    x[0] = 1
    layers = net.forward(x)
    assert layers[0][2][:, 0, 0].tolist() == [0, 1, 0, 0, 0, 0]
    assert layers[1][2][:, 0, 0].tolist() == [0, 0, 1, 0, 0, 0]


def test_lif_multiplicative_reset_analytic():
    """Constant current 0.2 with alpha=0.5, theta=0.31: v = 0.2, 0.3, 0.35 (spike), 0.2 (reset), ..."""
    neuron = NeuronParams(vdecay=0.5, vth=0.31, grad_win=0.1, grad_amp=1.0)
    v, s = lif_run(np.full((5, 1, 1), 0.2), neuron)
    np.testing.assert_allclose(v[:, 0, 0], [0.2, 0.3, 0.35, 0.2, 0.3])
    assert s[:, 0, 0].tolist() == [0, 0, 1, 0, 0]


# --------------------------------------------------------------------------- T4: error neuron coding
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_error_neurons_constant_sign_bound(sign):
    rng = np.random.default_rng(3)
    e = sign * rng.uniform(0, 1, size=(40, 50, 3))
    z_pos, z_neg = error_neuron_run(e)
    net_count = z_pos.sum(axis=0) - z_neg.sum(axis=0)
    undercount = np.abs(e.sum(axis=0)) - np.abs(net_count)
    assert np.all(undercount >= 0)
    assert np.all(undercount <= 1)
    assert np.all(np.sign(net_count) * sign >= 0)


def test_error_neurons_sign_flip_bias():
    """+0.5 for 10 steps then -0.5 for 10 steps integrates to 0 but is coded as 4 net spikes."""
    e = np.concatenate([np.full(10, 0.5), np.full(10, -0.5)])[:, None, None]
    z_pos, z_neg = error_neuron_run(e)
    assert z_pos.sum() - z_neg.sum() == 4
    assert e.sum() == 0


def test_output_error_counts_include_current_step():
    """With t0 = T-1 the only error step uses the counts of all T steps, including step T-1."""
    s_out = np.zeros((3, 1, 2))
    s_out[2, 0, 0] = 1  # a spike on the last step changes the softmax of that same step
    onehot = np.array([[0.0, 1.0]])
    p = softmax(np.array([1.0, 0.0]))
    e = p - onehot[0]
    delta = output_error(s_out, onehot, error_start=2)
    expected = np.where(e > 1, 1.0, np.where(-e > 1, -1.0, 0.0))  # one step: a spike only if |e| > 1
    np.testing.assert_array_equal(delta[0], expected)
    # Over many steps the coded error approaches the time average of e within 1/K.
    s_out = np.zeros((60, 1, 2))
    s_out[0, 0, 0] = 1
    delta = output_error(s_out, onehot, error_start=10)
    assert np.all(np.abs(delta[0] - e) <= 1 / 50 + 1e-12)


# --------------------------------------------------------------------------- T5: sleep
def _single_stage(seed=0):
    config = NetworkConfig((10, 100, 10), n_steps=5, error_start=0,
                           neuron=NeuronParams(vdecay=0.3, vth=0.3, grad_win=0.3, grad_amp=1.0))
    net = BioGradNetwork(config, np.random.default_rng(seed), dtype="float32")
    rng = np.random.default_rng(seed + 1)
    net.weights[1] = rng.uniform(-0.1, 0.1, size=(10, 100)).astype(np.float32)
    net.feedback = init_feedback_product(net.weights)
    return net


def test_sleep_aligns_random_feedback():
    net = _single_stage()
    rng = np.random.default_rng(11)
    net.feedback[0] = rng.uniform(-0.1, 0.1, size=(100, 10)).astype(np.float32)
    start_angle = net.alignment()[1][0]
    params = SleepParams()
    for _ in range(300):
        net.sleep(params, rng)
    end_angle = net.alignment()[1][0]
    assert start_angle > 80
    assert end_angle < 20


def test_sleep_keeps_aligned_feedback_aligned():
    net = _single_stage()
    assert net.alignment()[1][0] < 1e-3
    rng = np.random.default_rng(12)
    for _ in range(200):
        net.sleep(SleepParams(), rng)
    assert net.alignment()[1][0] < 20


def test_sleep_update_matches_formula():
    """One episode equals B + eta_s (h^T c - B diag(<c^2>)) computed by hand from the same noise."""
    net = _single_stage()
    params = SleepParams(n_samples=16, n_steps=10)
    p, noise = draw_sleep_noise(np.random.default_rng(4), (100,), params, np.float32)
    b_before = net.feedback[0].copy()
    net.sleep(params, None, noise=noise)
    _, s = lif_run((noise[0].reshape(-1, 100) @ net.weights[1].T).reshape(10, 16, 10), net.neurons[1])
    counts = s.sum(axis=0)
    h = noise[0].sum(axis=0)
    expected = b_before + params.lr * (h.T @ counts - b_before * np.mean(counts ** 2, axis=0))
    np.testing.assert_allclose(net.feedback[0], expected, rtol=1e-5, atol=1e-7)
    assert 0 <= p <= 1


def test_product_feedback_initialisation():
    net = _small_network(gain=1.0)
    m = downstream_products(net.weights)
    np.testing.assert_allclose(net.feedback[0], (net.weights[2] @ net.weights[1]).T)
    np.testing.assert_allclose(net.feedback[1], net.weights[2].T)
    assert len(m) == 2
    for angle, ratio in alignment(net.weights, net.feedback).values():
        assert angle == pytest.approx(0, abs=1e-5)
        assert ratio == pytest.approx(1)


def test_random_feedback_has_product_norm():
    config = NetworkConfig((20, 16, 8, 4), n_steps=5, error_start=0)
    net = BioGradNetwork(config, np.random.default_rng(0), dtype="float64", feedback_init="random")
    for angle, ratio in net.alignment().values():
        assert ratio == pytest.approx(1)
        assert 45 < angle < 135


# --------------------------------------------------------------------------- determinism and state
def test_same_seed_identical_weights():
    def train(seed):
        net = _small_network(seed=seed)
        rng = np.random.default_rng(seed)
        for _ in range(3):
            x, labels = _batch(rng)
            net.apply_update(net.wake(x, labels), 0.05)
            net.sleep(SleepParams(n_samples=4, n_steps=5), rng)
        return net

    a, b, c = train(7), train(7), train(8)
    for wa, wb, wc in zip(a.weights + a.feedback, b.weights + b.feedback, c.weights + c.feedback):
        np.testing.assert_array_equal(wa, wb)
        assert not np.array_equal(wa, wc)


def test_state_dict_round_trip():
    net = _small_network()
    clone = BioGradNetwork.from_state_dict(net.state_dict())
    assert clone.config == net.config
    for a, b in zip(net.weights + net.biases + net.feedback, clone.weights + clone.biases + clone.feedback):
        np.testing.assert_array_equal(a, b)


def test_state_dict_rejects_wrong_shape():
    state = _small_network().state_dict()
    state["W1"] = np.zeros((3, 3))
    with pytest.raises(ValueError, match="W1 must have shape"):
        BioGradNetwork.from_state_dict(state)


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize("kwargs, message", [
    ({"sizes": (784,)}, "at least an input and an output"),
    ({"sizes": (784, 0, 10)}, r"layer sizes\[1\] must be >= 1"),
    ({"sizes": (4, 3), "n_steps": 5, "error_start": 5}, "t0 .* smaller than T"),
    ({"sizes": (4, 3), "n_steps": 0}, r"T \(n_steps\) must be >= 1"),
    ({"sizes": (4, 3), "timing": "late"}, "timing must be one of"),
])
def test_network_config_rejects(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        NetworkConfig(**kwargs)


def test_neuron_params_reject_bad_values():
    with pytest.raises(ValueError, match="vdecay must be <= 1.0, got 1.5"):
        NeuronParams(vdecay=1.5)
    with pytest.raises(ValueError, match="vth must be > 0.0"):
        NeuronParams(vth=0)


def test_wake_rejects_bad_inputs():
    net = _small_network()
    x, labels = _batch(np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"shape \(T=12, batch, n_0=20\)"):
        net.wake(x[:, :, :5], labels)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\]"):
        net.wake(x, labels + 10)
    with pytest.raises(ValueError, match="traces must be one of"):
        net.wake(x, labels, traces="slow")


# --------------------------------------------------------------------------- T6: end-to-end learning
def test_toy_task_learns():
    """Four rate-coded prototypes with noise: accuracy rises well above chance (25%)."""
    rng = np.random.default_rng(0)
    prototypes = rng.uniform(0, 1, size=(4, 30))
    config = NetworkConfig((30, 40, 4), n_steps=15, error_start=3)
    net = BioGradNetwork(config, np.random.default_rng(1), dtype="float32")

    def sample(n):
        labels = rng.integers(0, 4, n)
        q = np.clip(prototypes[labels] + rng.normal(0, 0.1, size=(n, 30)), 0, 1)
        return (rng.random((15, n, 30)) < q).astype(np.float32), labels

    x_test, y_test = sample(400)
    before = np.mean(net.predict(x_test)[0] == y_test)
    errors = []
    for _ in range(100):
        x, labels = sample(32)
        result = net.wake(x, labels)
        errors.append(np.abs(result.deltas[-1]).mean())
        net.apply_update(result, 0.02)
        net.sleep(SleepParams(n_samples=16, n_steps=10), rng)
    after = np.mean(net.predict(x_test)[0] == y_test)
    assert after > 0.9
    assert after > before + 0.2
    assert np.mean(errors[-20:]) < np.mean(errors[:20])
