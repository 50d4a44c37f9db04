"""Quantisation to Loihi integer units: analytic values, bit fields, and the integer model.

The integer model (``simulate_quantized``) is checked by hand here. The netx tests
check that Lava's fixed-point run reproduces it bit for bit, so its agreement with the
float reference on MNIST (last test) measures the cost of quantisation.
"""

import numpy as np
import pytest

from lava_biograd.export.quantize import (
    QuantizedLayer,
    alpha_from_decay,
    layer_scale,
    quantize_layer,
    quantize_network,
    simulate_quantized,
    voltage_decay,
)
from lava_biograd.reference import BioGradNetwork, NeuronParams

T = 20


@pytest.fixture(scope="module")
def trained(trained_float):
    """The shared trained network and the test split."""
    net, _, splits = trained_float
    return net, splits["test"]


@pytest.mark.parametrize("alpha, v_decay", [(0.3, 2867), (0.5, 2048), (1.0, 0), (0.75, 1024), (0.0, 4095)])
def test_voltage_decay_values(alpha, v_decay):
    # 4096 * 0.7 = 2867.2 rounds to 2867; alpha = 0 saturates at the 12-bit maximum 4095.
    assert voltage_decay(alpha) == v_decay


def test_alpha_from_decay_values():
    assert alpha_from_decay(2048) == 0.5
    assert alpha_from_decay(0) == 1.0
    assert alpha_from_decay(2867) == pytest.approx(0.300049, abs=1e-6)


def test_voltage_decay_rejects_alpha_above_one():
    with pytest.raises(ValueError, match="alpha"):
        voltage_decay(1.5)


def test_layer_scale_rule():
    # min(127 / max|W|, 4095 / max|b|, 131071 / theta); zero biases leave out the bias term.
    assert layer_scale(np.array([[0.5, -0.25]]), np.zeros(1), 0.3) == 254.0
    assert layer_scale(np.array([[-1.0]]), np.array([100.0]), 0.3) == pytest.approx(40.95)
    assert layer_scale(np.array([[0.001]]), np.zeros(1), 2000.0) == pytest.approx(131071 / 2000)


def test_layer_weight_bound():
    weights = np.array([[0.5, -0.25, 0.125], [-0.5, 0.0, 0.1]])
    biases = np.array([0.1, -0.05])
    layer = quantize_layer(weights, biases, NeuronParams(vdecay=0.3, vth=0.3))
    assert layer.scale == 254.0  # 127 / max|W| = 127 / 0.5
    # 0.125 * 254 = 31.75 -> 32; 0.1 * 254 = 25.4 -> 25; -0.25 * 254 = -63.5 -> -64 (half to even)
    np.testing.assert_array_equal(layer.weight, [[127, -64, 32], [-127, 0, 25]])
    np.testing.assert_array_equal(layer.bias, [25, -13])  # 25.4 -> 25, -12.7 -> -13
    assert layer.v_th_mant == 76  # 0.3 * 254 = 76.2
    assert layer.v_decay == 2867
    assert layer.i_decay == 4096
    assert layer.weight.dtype == np.int32


def test_layer_bias_bound():
    # The bias would need 100 * 127 = 12700 > 4095, so the bias bound sets the scale.
    layer = quantize_layer(np.array([[1.0, -1.0]]), np.array([100.0]), NeuronParams(vth=0.3))
    assert layer.scale == pytest.approx(40.95)
    np.testing.assert_array_equal(layer.bias, [4095])
    np.testing.assert_array_equal(layer.weight, [[41, -41]])


def test_layer_threshold_bound():
    layer = quantize_layer(np.array([[0.001]]), np.array([0.0]), NeuronParams(vth=2000.0))
    assert layer.scale == pytest.approx(131071 / 2000)
    assert layer.v_th_mant == 131071


def test_dequantized_error_within_half_step():
    rng = np.random.default_rng(0)
    weights = rng.normal(0, 0.1, (8, 5))
    biases = rng.normal(0, 0.1, 8)
    layer = quantize_layer(weights, biases, NeuronParams(vdecay=0.3, vth=0.3))
    w, b, theta, alpha = layer.dequantized()
    assert np.max(np.abs(w - weights)) <= 0.5 / layer.scale + 1e-12
    assert np.max(np.abs(b - biases)) <= 0.5 / layer.scale + 1e-12
    assert abs(theta - 0.3) <= 0.5 / layer.scale
    assert alpha == (4096 - 2867) / 4096


def test_zero_weights_rejected():
    with pytest.raises(ValueError, match="every weight of the layer is zero"):
        quantize_layer(np.zeros((2, 3)), np.zeros(2), NeuronParams())


def test_threshold_rounding_to_zero_rejected():
    # scale = 127 / 1 = 127 and 0.001 * 127 = 0.127 rounds to 0.
    with pytest.raises(ValueError, match="rounds to vThMant=0"):
        quantize_layer(np.array([[1.0]]), np.array([0.0]), NeuronParams(vth=0.001))


def test_explicit_scale_overflow_rejected():
    with pytest.raises(ValueError, match=r"integer weight values in \[-1000, 1000\]"):
        quantize_layer(np.array([[1.0, -1.0]]), np.array([0.0]), NeuronParams(), scale=1000.0)


def test_non_finite_weights_rejected():
    with pytest.raises(ValueError, match="NaN or inf"):
        quantize_layer(np.array([[np.nan]]), np.array([0.0]), NeuronParams())


def _one_neuron(weight, bias, v_th_mant, v_decay):
    return QuantizedLayer(weight=np.array([[weight]], np.int32), bias=np.array([bias], np.int32),
                          v_th_mant=v_th_mant, v_decay=v_decay, scale=1.0)


def test_simulate_strict_threshold_and_reset():
    # W=10, vth=15, alpha=1/2: v = 640, 320+640 = 960 (equal to 15<<6: no spike), 480+640 = 1120 (spike), 0.
    layer = _one_neuron(10, 0, 15, 2048)
    x = np.array([1, 1, 1, 0], float).reshape(4, 1, 1)
    spikes, voltages = simulate_quantized([layer], x, timing="same_step", record=True)
    np.testing.assert_array_equal(voltages[0][:, 0, 0], [640, 960, 1120, 0])
    np.testing.assert_array_equal(spikes[0][:, 0, 0], [0, 0, 1, 0])


def test_simulate_delayed_shifts_input():
    layer = _one_neuron(10, 0, 15, 2048)
    x = np.array([1, 1, 1, 0], float).reshape(4, 1, 1)
    spikes, voltages = simulate_quantized([layer], x, timing="delayed", record=True)
    np.testing.assert_array_equal(voltages[0][:, 0, 0], [0, 640, 960, 1120])
    np.testing.assert_array_equal(spikes[0][:, 0, 0], [0, 0, 0, 1])


def test_simulate_truncates_decay_toward_zero():
    # bias -1 -> -64 per step, keep 1229/4096: 64 * 1229 >> 12 = 19 (floor of -19.2 would give -20).
    layer = _one_neuron(0, -1, 15, 2867)
    x = np.zeros((3, 1, 1))
    _, voltages = simulate_quantized([layer], x, timing="same_step", record=True)
    np.testing.assert_array_equal(voltages[0][:, 0, 0], [-64, -83, -88])


def test_simulate_rejects_graded_input():
    with pytest.raises(ValueError, match="0 or 1"):
        simulate_quantized([_one_neuron(1, 0, 1, 0)], np.full((2, 1, 1), 0.5))


def test_quantized_mnist_agreement(trained):
    """Integer network vs float reference on 500 MNIST test images, 'delayed' timing.

    Measured with this fixture: 99 % identical predictions and a mean absolute
    difference of 0.046 spikes per output neuron (29 output spikes per sample). The
    bounds leave room for other seeds (98.7-99.5 % and 0.04-0.09 over three seeds,
    2,000 images each).
    """
    net, test_set = trained
    x = test_set.batch(np.arange(500), np.random.default_rng(2))
    reference = BioGradNetwork.from_state_dict({**net.state_dict(), "dtype": "float64"})
    predictions, counts = reference.predict(x)
    integer_counts = simulate_quantized(quantize_network(net), x, timing="delayed")[-1].sum(axis=0)
    assert counts.sum() > 500 * 10  # the network is active, so agreement is not trivial
    assert np.mean(integer_counts.argmax(axis=1) == predictions) >= 0.97
    assert np.mean(np.abs(integer_counts - counts)) <= 0.15
    assert np.mean(predictions == test_set.labels[:500]) >= 0.6
