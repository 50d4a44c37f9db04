"""Tests of the fixed-point BioGrad simulator and of the float reference's presynaptic-trace option.

The tests check the integer primitives (decay rounding, saturation, wrap, stochastic
rounding), the quantisers and the format choice against analytic values. They check that
the simulator's fast and online forms agree, and that the integer update matches the
float gradient of the network with the same effective parameters. On real MNIST,
fixed-point training has to track float training.
"""

import numpy as np
import pytest

from lava_biograd.reference import BioGradNetwork, NetworkConfig, NeuronParams, SleepParams
from lava_biograd.reference.fixed import FixedBioGradNetwork, choose_format
from lava_biograd.reference.fixed.arithmetic import (
    STATE_MAX,
    decay_round_half_up,
    decay_toward_zero,
    exact_matmul,
    shift_floor,
    stochastic_divide,
    wrap_current,
)
from lava_biograd.reference.fixed.dynamics import (
    FixedTraces,
    error_current_int,
    error_neuron_step_int,
    presynaptic_trace_run,
    pseudo_derivative,
    soma_run,
)
from lava_biograd.reference.fixed.learning import fixed_point_multiplier
from lava_biograd.reference.fixed.quantisation import (
    LayerFormat,
    decay_code,
    dequantise_bias,
    dequantise_weights,
    quantise_bias,
    quantise_feedback,
    quantise_weights,
)
from lava_biograd.reference.sleep import draw_sleep_noise
from lava_biograd.reference.traces import OnlineTraces, PresynapticTraces, presynaptic_trace

LAYER = LayerFormat(decay=2867, vth_mant=1229, window=78643, weight_exp=1, bias_exp=3, trace_impulse=88)
SCALE_EXP = 18


def _small_float_network(seed=1, gain=3.0, approximation="exact"):
    config = NetworkConfig((20, 16, 8, 4), n_steps=12, error_start=3, timing="delayed",
                           neuron=NeuronParams(vdecay=0.3, vth=0.2, grad_win=0.3, grad_amp=1.0))
    net = BioGradNetwork(config, np.random.default_rng(seed), dtype="float64", trace_approximation=approximation)
    for w in net.weights:
        w *= gain  # stronger weights so that every layer spikes in 12 steps
    return net


def _batch(rng, batch=6):
    x = (rng.random((12, batch, 20)) < 0.5).astype(np.float64)
    return x, rng.integers(0, 4, batch)


def _signed_decay(value: int, decay: int) -> int:
    """Lava's sign-magnitude decay written with Python integers, as an independent oracle."""
    magnitude = (abs(value) * (4096 - decay)) >> 12
    return magnitude if value >= 0 else -magnitude


# --------------------------------------------------------------------------- integer primitives
def test_decay_rounds_toward_zero():
    values = np.array([100000, -100000, 4095, -4095, 1, -1, 0])
    expected = [_signed_decay(int(v), 2867) for v in values]
    assert decay_toward_zero(values, 2867).tolist() == expected
    assert expected[:2] == [30004, -30004]  # floor would give -30005


def test_decay_round_half_up():
    # 3 * 2048 / 4096 = 1.5 -> 2 and -1.5 -> -1 (half up), 1 * 2048 / 4096 = 0.5 -> 1.
    assert decay_round_half_up(np.array([3, -3, 1, -1]), 2048).tolist() == [2, -1, 1, 0]


def test_shift_floor_matches_lava_dense():
    assert shift_floor(np.array([5, -5, 6]), -1).tolist() == [2, -3, 3]
    assert shift_floor(np.array([5, -5]), 2).tolist() == [20, -20]


def test_wrap_current_lava_rule():
    half, period = 1 << 23, 1 << 24
    values = np.array([half, half + 5, -half, -half - 3, 12345])
    assert wrap_current(values).tolist() == [half, half + 5 - period, half, half - 3, 12345]


def test_stochastic_divide_unbiased():
    rng = np.random.default_rng(0)
    for numerator in (7, -7, 300, -300):
        draws = stochastic_divide(np.full(40000, numerator), 16, rng)
        assert set(np.unique(draws)) <= {numerator // 16, numerator // 16 + 1}
        assert abs(draws.mean() - numerator / 16) < 0.01


def test_stochastic_divide_exact_when_divisible():
    draws = stochastic_divide(np.array([32, -48, 0]), 16, np.random.default_rng(1))
    assert draws.tolist() == [2, -3, 0]


def test_stochastic_divide_rejects_bad_generator():
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        stochastic_divide(np.array([1]), 2, 123)


@pytest.mark.parametrize("peak", [255, 1 << 20, 1 << 28])  # float32, float64 and int64 paths
def test_exact_matmul_is_exact(peak):
    rng = np.random.default_rng(peak)
    left = rng.integers(-peak, peak + 1, (6, 40))
    right = rng.integers(-peak, peak + 1, (5, 40))
    result = exact_matmul(left, right)
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result, left @ right.T)


def test_fixed_point_multiplier_precision():
    for value in (1.55e-3, 0.37, 1.0, 3.0e4, 7.1e-9):
        mantissa, shift = fixed_point_multiplier(value)
        assert 1 << 14 <= mantissa < 1 << 15
        assert abs(mantissa / 2.0 ** shift - value) / value < 2.0 ** -15


# --------------------------------------------------------------------------- soma
def test_soma_impulse_response():
    current = np.zeros((6, 1, 1), np.int64)
    current[0] = 70000  # below vth = 1229 << 6 = 78656
    v, s = soma_run(current, LAYER)
    expected = [70000]
    for _ in range(5):
        expected.append(_signed_decay(expected[-1], LAYER.decay))
    assert v[:, 0, 0].tolist() == expected
    assert expected[1:3] == [21003, 6301]
    assert s.sum() == 0


def test_soma_negative_impulse_symmetric():
    current = np.zeros((4, 1, 2), np.int64)
    current[0] = [[50001, -50001]]
    v, _ = soma_run(current, LayerFormat(decay=2867, vth_mant=100000, window=1, weight_exp=0, bias_exp=0,
                                         trace_impulse=1))
    np.testing.assert_array_equal(v[:, 0, 0], -v[:, 0, 1])


def test_soma_spike_and_delayed_reset():
    """A spike keeps the pre-reset voltage for its own step; the next step starts from zero."""
    current = np.array([60000, 70000, 5000, 5000])[:, None, None]
    v, s = soma_run(current, LAYER)
    # 60000 * 1229 / 4096 = 18002.9 -> 18002; 88002 > vth = 78656 spikes; the reset zeroes the decayed part
    assert v[:, 0, 0].tolist() == [60000, 88002, 5000, 6500]
    assert s[:, 0, 0].tolist() == [0, 1, 0, 0]


@pytest.mark.parametrize("sign, voltages, spikes", [
    # The largest threshold (2^17 - 1) << 6 = 8388544 lies below 2^23 - 1, so a saturated
    # positive voltage spikes and resets.
    (1, [3_000_000, 6_000_000, STATE_MAX, 3_000_000, 6_000_000], [0, 0, 1, 0, 0]),
    (-1, [-3_000_000, -6_000_000, -STATE_MAX, -STATE_MAX, -STATE_MAX], [0, 0, 0, 0, 0]),
])
def test_soma_saturates_at_24_bits(sign, voltages, spikes):
    layer = LayerFormat(decay=0, vth_mant=(1 << 17) - 1, window=1, weight_exp=0, bias_exp=0, trace_impulse=1)
    v, s = soma_run(np.full((5, 1, 1), sign * 3_000_000, np.int64), layer)
    assert v[:, 0, 0].tolist() == voltages
    assert s[:, 0, 0].tolist() == spikes


def test_pseudo_derivative_window():
    v = np.array([LAYER.vth - LAYER.window, LAYER.vth - LAYER.window + 1, LAYER.vth + LAYER.window - 1,
                  LAYER.vth + LAYER.window])
    assert pseudo_derivative(v, LAYER).tolist() == [0, 1, 1, 0]


# --------------------------------------------------------------------------- traces and error
def test_presynaptic_trace_single_spike():
    pre = np.zeros((6, 1), np.int64)
    pre[0] = 1
    # 88 * 1229 / 4096 = 26.4 -> 26, then 7.8 -> 8, 2.4 -> 2, 0.6 -> 1, 0.3 -> 0 (half up)
    assert presynaptic_trace_run(pre, LAYER)[:, 0].tolist() == [88, 26, 8, 2, 1, 0]


def test_presynaptic_trace_saturates():
    trace = presynaptic_trace_run(np.ones((8, 1), np.int64), LayerFormat(
        decay=0, vth_mant=1, window=1, weight_exp=0, bias_exp=0, trace_impulse=100))
    assert trace[:, 0].tolist() == [100] + [127] * 7


@pytest.mark.parametrize("approximation", ["presynaptic", "exact"])
def test_fixed_traces_track_float(approximation):
    """Integer tags divided by the impulse follow the float traces of the same voltages."""
    rng = np.random.default_rng(3)
    scale = float(1 << SCALE_EXP)
    v = rng.uniform(-0.2, 0.6, (30, 2, 5))
    s = (v > LAYER.vth / scale).astype(np.float64)
    v_int = np.round(v * scale).astype(np.int64)
    sd = pseudo_derivative(v_int, LAYER)
    pre = (rng.random((30, 2, 7)) < 0.4).astype(np.int64)
    alpha = (4096 - LAYER.decay) / 4096
    fixed = FixedTraces(2, 5, 7, LAYER, approximation, SCALE_EXP)
    floating = (PresynapticTraces if approximation == "presynaptic" else OnlineTraces)(2, 5, 7, alpha)
    for t in range(30):
        fixed.step(pre[t], v_int[t], s[t].astype(np.int64), sd[t])
        floating.step(pre[t].astype(np.float64), v_int[t] / scale, s[t], sd[t].astype(np.float64))
    assert np.abs(floating.e).max() > 1, "the traces stayed near zero; the comparison is vacuous"
    np.testing.assert_allclose(fixed.e / LAYER.trace_impulse, floating.e, atol=0.1 * np.abs(floating.e).max())
    np.testing.assert_allclose(fixed.g / LAYER.trace_impulse, floating.g, atol=0.1 * np.abs(floating.g).max())


def test_error_current_quantised():
    e = error_current_int(np.array([[0, 0]]), np.array([[1.0, 0.0]]), 256)
    assert e.tolist() == [[-128, 128]]


def test_error_neurons_fire_at_scale():
    u = z = np.zeros(1, np.int64)
    spikes = []
    for _ in range(6):
        u, _, z, _ = error_neuron_step_int(u, np.zeros(1, np.int64), z, np.zeros(1, np.int64), np.array([100]), 256)
        spikes.append(int(z[0]))
    # u = 100, 200, 300 (spike), 300 - 256 + 100 = 144, 244, 344 (spike)
    assert spikes == [0, 0, 1, 0, 0, 1]


# --------------------------------------------------------------------------- quantisers and format
def test_weight_quantiser_round_trip():
    mantissas = np.arange(-256, 256, 2)
    restored = quantise_weights(dequantise_weights(mantissas, LAYER, SCALE_EXP), LAYER, SCALE_EXP)
    np.testing.assert_array_equal(restored, mantissas)


def test_weight_quantiser_error_and_saturation():
    step = 2.0 ** (7 + LAYER.weight_exp - SCALE_EXP)
    w = np.random.default_rng(0).uniform(-0.12, 0.12, 1000)
    mant = quantise_weights(w, LAYER, SCALE_EXP)
    assert np.all(mant % 2 == 0)
    assert np.abs(dequantise_weights(mant, LAYER, SCALE_EXP) - w).max() <= step / 2
    assert quantise_weights(np.array([1.0, -1.0]), LAYER, SCALE_EXP).tolist() == [254, -256]


def test_bias_quantiser_round_trip():
    mantissas = np.array([-4096, -1, 0, 1, 4095])
    np.testing.assert_array_equal(quantise_bias(dequantise_bias(mantissas, LAYER, SCALE_EXP), LAYER, SCALE_EXP),
                                  mantissas)
    assert quantise_bias(np.array([10.0, -10.0]), LAYER, SCALE_EXP).tolist() == [4095, -4096]


def test_feedback_quantiser_covers_peak():
    b = np.random.default_rng(2).normal(0, 0.01, (16, 4))
    mant, exponent = quantise_feedback(b)
    assert np.all(mant % 2 == 0)
    assert np.abs(mant).max() <= 256
    assert np.abs(np.ldexp(mant.astype(float), exponent) - b).max() <= 2.0 ** exponent
    assert quantise_feedback(np.zeros((2, 2)))[0].tolist() == [[0, 0], [0, 0]]


def test_choose_format_analytic():
    config = NetworkConfig((784, 100, 10), neuron=NeuronParams(vdecay=0.3, vth=0.3, grad_win=0.3))
    weights = [np.full((100, 784), 1 / 28), np.full((10, 100), 0.1)]
    biases = [np.full(100, 1 / 28), np.full(10, 0.1)]
    fmt = choose_format(config, weights, biases)
    assert fmt.scale_exp == 18  # largest S = 2^s with 16 S <= 2^23 - 1
    layer = fmt.layers[0]
    assert (layer.decay, layer.vth_mant, layer.window) == (2867, 1229, 78643)
    # 2 * (1/28) * 2^18 = 18724.6 needs 254 * 2^(6 + e) >= it: e = 1 (32512); 2 * 0.1 * 2^18 needs e = 2
    assert [lay.weight_exp for lay in fmt.layers] == [1, 2]
    # 2 * (1/28) * 2^18 needs 4095 * 2^e >= it: e = 3; 2 * 0.1 * 2^18 = 52428.8 needs e = 4
    assert [lay.bias_exp for lay in fmt.layers] == [3, 4]
    assert layer.trace_impulse == 88


def test_decay_code_rejects_zero_decay():
    with pytest.raises(ValueError, match="does not fit in 12 bits"):
        decay_code(0.0)


def test_choose_format_lowers_scale_for_large_weights():
    # 2 * 50 * S <= 254 * 2^13 = 2080768 holds up to S = 20807: S = 2^14, weight_exp = 7
    fmt = choose_format(NetworkConfig((4, 3)), [np.full((3, 4), 50.0)], [np.zeros(3)])
    assert fmt.scale_exp == 14
    assert fmt.layers[0].weight_exp == 7
    # one mantissa unit is 2^(6 + 7) / 2^14 = 0.5, so 50.0 is the mantissa 100
    assert quantise_weights(np.array([50.0]), fmt.layers[0], fmt.scale_exp).tolist() == [100]


def test_choose_format_rejects_huge_biases():
    with pytest.raises(ValueError, match="voltage scale of 2\\^"):
        choose_format(NetworkConfig((4, 3)), [np.zeros((3, 4))], [np.full(3, 1e6)])


def test_effective_neuron_matches_codes():
    neuron = LAYER.effective_neuron(SCALE_EXP)
    assert neuron.vdecay == (4096 - 2867) / 4096
    assert neuron.vth == 78656 / 2 ** 18
    assert neuron.grad_win == 78643 / 2 ** 18


# --------------------------------------------------------------------------- simulator
@pytest.mark.parametrize("approximation", ["presynaptic", "exact"])
def test_fast_and_online_forms_identical(approximation):
    fixed = FixedBioGradNetwork.from_float(_small_float_network(), np.random.default_rng(7),
                                           trace_approximation=approximation)
    rng = np.random.default_rng(5)
    for _ in range(2):
        x, labels = _batch(rng)
        fast = fixed.wake(x, labels)
        online = fixed.wake(x, labels, traces="online")
        assert online.record is not None
        assert all(np.abs(p).max() > 0 for p in fast.weight_products), "a layer got no update; the test is vacuous"
        for a, b in zip(fast.weight_products + fast.bias_products + fast.dendrites,
                        online.weight_products + online.bias_products + online.dendrites):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(fast.counts, online.counts)
        fixed.apply_update(fast, 0.05)


def test_batch_products_are_sums():
    fixed = FixedBioGradNetwork.from_float(_small_float_network(), np.random.default_rng(7))
    x, labels = _batch(np.random.default_rng(5), batch=1)
    single = fixed.wake(x, labels)
    repeated = fixed.wake(np.repeat(x, 3, axis=1), np.repeat(labels, 3))
    for a, b in zip(single.weight_products + single.bias_products, repeated.weight_products + repeated.bias_products):
        np.testing.assert_array_equal(3 * a, b)


@pytest.mark.parametrize("approximation", ["presynaptic", "exact"])
def test_update_tracks_float_gradient(approximation):
    """The expected integer update equals -lr * gradient of the float network with the same effective parameters."""
    fixed = FixedBioGradNetwork.from_float(_small_float_network(), np.random.default_rng(7),
                                           trace_approximation=approximation)
    floating = fixed.to_float()
    floating.trace_approximation = approximation
    x, labels = _batch(np.random.default_rng(5), batch=32)
    result = fixed.wake(x, labels)
    reference = floating.wake(x, labels)
    np.testing.assert_array_equal(result.counts, reference.counts)
    lr = 0.05
    for i, (scale, layer) in enumerate(zip(fixed.learning_scales(lr), fixed.fmt.layers)):
        mantissa, shift = scale.weight
        step = 2.0 ** (7 + layer.weight_exp - fixed.fmt.scale_exp)
        expected = -result.weight_products[i] * mantissa / 2.0 ** shift / 32 * step
        want = -lr * reference.grad_weights[i]
        assert np.abs(expected - want).max() < 0.02 * np.abs(want).max()
        mantissa, shift = scale.bias
        bias_step = 2.0 ** (layer.bias_exp - fixed.fmt.scale_exp)
        expected = -result.bias_products[i] * mantissa / 2.0 ** shift / 32 * bias_step
        want = -lr * reference.grad_biases[i]
        assert np.abs(expected - want).max() < 0.02 * np.abs(want).max()


def test_update_saturates_and_keeps_weights_even():
    fixed = FixedBioGradNetwork.from_float(_small_float_network(), np.random.default_rng(7))
    x, labels = _batch(np.random.default_rng(5))
    result = fixed.wake(x, labels)
    fixed.apply_update(result, 1e4)  # far too large: every touched weight saturates
    for w in fixed.weights:
        assert np.all(w % 2 == 0)
        assert w.min() >= -256
        assert w.max() <= 254
        assert np.any(np.abs(w) >= 254)
    for b in fixed.biases:
        assert b.min() >= -4096
        assert b.max() <= 4095


def test_update_is_reproducible_per_seed():
    nets = [FixedBioGradNetwork.from_float(_small_float_network(), np.random.default_rng(seed)) for seed in (7, 7, 8)]
    x, labels = _batch(np.random.default_rng(5))
    for net in nets:
        net.apply_update(net.wake(x, labels), 0.05)
    for a, b, c in zip(nets[0].weights, nets[1].weights, nets[2].weights):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, c) for a, c in zip(nets[0].weights, nets[2].weights))


def test_copy_continues_rounding_stream():
    fixed = FixedBioGradNetwork.from_float(_small_float_network(), np.random.default_rng(7))
    twin = fixed.copy()
    x, labels = _batch(np.random.default_rng(5))
    for net in (fixed, twin):
        net.apply_update(net.wake(x, labels), 0.05)
    for a, b in zip(fixed.weights + fixed.biases, twin.weights + twin.biases):
        np.testing.assert_array_equal(a, b)


def test_sleep_tracks_float_sleep():
    fixed = FixedBioGradNetwork.from_float(_small_float_network(), np.random.default_rng(7))
    floating = fixed.to_float()
    params = SleepParams(n_samples=64, n_steps=20)
    _, noise = draw_sleep_noise(np.random.default_rng(4), (16, 8), params, np.float64)
    before = [b.copy() for b in fixed.feedback]
    fixed.sleep(params, None, noise=noise)
    floating.sleep(params, None, noise=noise)
    for got, want, start in zip(fixed.feedback, floating.feedback, before):
        change, expected = got - start, want - start
        assert np.abs(expected).max() > 0
        cosine = np.sum(change * expected) / (np.linalg.norm(change) * np.linalg.norm(expected))
        assert cosine > 0.99
    for master, mant, exponent in zip(fixed.feedback, fixed.feedback_mant, fixed.feedback_exp):
        expected_mant, expected_exp = quantise_feedback(master)
        np.testing.assert_array_equal(mant, expected_mant)
        assert exponent == expected_exp


@pytest.mark.parametrize("call, message", [
    (lambda f: f.wake(np.full((12, 2, 20), 0.5), np.zeros(2, int)), "must be 0 or 1"),
    (lambda f: f.wake(np.zeros((11, 2, 20)), np.zeros(2, int)), r"shape \(T=12"),
    (lambda f: f.wake(np.zeros((12, 2, 20)), np.array([0, 4])), r"labels must lie in \[0, 3\]"),
    (lambda f: f.wake(np.zeros((12, 2, 20)), np.zeros(2, int), traces="slow"), "traces must be one of"),
    (lambda f: f.apply_update(f.wake(np.zeros((12, 1, 20)), np.zeros(1, int)), 0.0), "lr must be > 0"),
    (lambda f: f.apply_update("result", 0.1), "FixedWakeResult"),
    (lambda f: f.sleep(SleepParams(), None, noise=[np.full((50, 128, 16), 2.0), np.zeros((50, 128, 8))]),
     "only -1, 0 and 1"),
])
def test_simulator_rejects(call, message):
    fixed = FixedBioGradNetwork.from_float(_small_float_network(), np.random.default_rng(7))
    with pytest.raises((ValueError, TypeError), match=message):
        call(fixed)


def test_simulator_rejects_long_samples():
    config = NetworkConfig((4, 3), n_steps=300, error_start=299)
    net = BioGradNetwork(config, np.random.default_rng(0))
    with pytest.raises(ValueError, match="saturate the 16-bit tags"):
        FixedBioGradNetwork.from_float(net, np.random.default_rng(1))


def test_from_float_rejects_plain_seed():
    with pytest.raises(TypeError, match="rounding_rng must be a numpy.random.Generator"):
        FixedBioGradNetwork.from_float(_small_float_network(), 7)


# --------------------------------------------------------------------------- float presynaptic option
def test_presynaptic_traces_worked_example():
    """alpha=0.5, input 1,1,0,1,0, sigma'=1 on every step: x1 = 1, 1.5, 0.75, 1.375, 0.6875 (sum 5.3125)
    and q = 1, 1.5, 1.75, 1.875, 1.9375 (sum 8.0625)."""
    traces = PresynapticTraces(1, 1, 1, 0.5)
    for x in (1, 1, 0, 1, 0):
        traces.step(np.array([[x]], float), np.zeros((1, 1)), np.zeros((1, 1)), np.ones((1, 1)))
    assert traces.e[0, 0, 0] == pytest.approx(5.3125)
    assert traces.g[0, 0] == pytest.approx(8.0625)
    x1 = presynaptic_trace(np.array([1.0, 1.0, 0.0, 1.0, 0.0]), 0.5)
    np.testing.assert_allclose(x1, [1, 1.5, 0.75, 1.375, 0.6875])


@pytest.mark.parametrize("timing", ["same_step", "delayed"])
def test_float_presynaptic_fast_and_online_agree(timing):
    net = _small_float_network(approximation="presynaptic")
    net.config = NetworkConfig(net.config.sizes, n_steps=12, error_start=3, timing=timing, neuron=net.config.neuron)
    x, labels = _batch(np.random.default_rng(5))
    fast = net.wake(x, labels, traces="fast")
    online = net.wake(x, labels, traces="online")
    for a, b in zip(fast.grad_weights + fast.grad_biases, online.grad_weights + online.grad_biases):
        assert np.abs(a).max() > 0
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_float_presynaptic_differs_from_exact():
    exact = _small_float_network()
    approximate = _small_float_network(approximation="presynaptic")
    x, labels = _batch(np.random.default_rng(5))
    a = exact.wake(x, labels)
    b = approximate.wake(x, labels)
    np.testing.assert_array_equal(a.counts, b.counts)
    assert not np.allclose(a.grad_weights[0], b.grad_weights[0])
    cosine = np.sum(a.grad_weights[-1] * b.grad_weights[-1]) / (
        np.linalg.norm(a.grad_weights[-1]) * np.linalg.norm(b.grad_weights[-1]))
    assert cosine > 0.5


def test_float_trace_approximation_round_trips_and_validates():
    net = _small_float_network(approximation="presynaptic")
    assert BioGradNetwork.from_state_dict(net.state_dict()).trace_approximation == "presynaptic"
    with pytest.raises(ValueError, match="trace_approximation must be one of"):
        BioGradNetwork(net.config, np.random.default_rng(0), trace_approximation="tag")


# --------------------------------------------------------------------------- real MNIST
def test_fixed_training_tracks_float_on_mnist(mnist_root):
    """784-100-10, T=20, 4096 training images in batches of 32 with a sleep episode after each,
    2000 test images: the fixed-point network reaches the accuracy of the float network with
    the same effective parameters and presynaptic traces. Measured with these seeds: float
    0.8215, fixed 0.807; with two further network seeds the gap was 0.023 and 0.026."""
    from lava_biograd.data.dataset import mnist_splits

    splits = mnist_splits(data_dir=mnist_root, n_steps=20, verify=False)
    train, test = splits["train"], splits["test"]
    config = NetworkConfig((784, 100, 10), n_steps=20, error_start=5, timing="delayed")
    fixed = FixedBioGradNetwork.from_float(BioGradNetwork(config, np.random.default_rng(0), dtype="float64"),
                                           np.random.default_rng(100))
    floating = fixed.to_float()
    floating.trace_approximation = "presynaptic"
    accuracies = {}
    for name, model in (("float", floating), ("fixed", fixed)):
        encode, sleep_rng = np.random.default_rng(1), np.random.default_rng(2)
        for start in range(0, 4096, 32):
            index = np.arange(start, start + 32)
            model.apply_update(model.wake(train.batch(index, encode), train.labels[index]), 3e-3)
            model.sleep(SleepParams(), sleep_rng)
        evaluate = np.random.default_rng(9)
        predictions = np.concatenate([model.predict(test.batch(np.arange(s, s + 1000), evaluate))[0]
                                      for s in (0, 1000)])
        accuracies[name] = float(np.mean(predictions == test.labels[:2000]))
    assert accuracies["float"] > 0.6, accuracies
    assert abs(accuracies["fixed"] - accuracies["float"]) < 0.06, accuracies
