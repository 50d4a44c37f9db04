"""Lava's learning engine (LearningDense + Loihi3FLearningRule) computes the fixed simulator's update.

Setting: a 20 -> 8 layer, T = 12, with given input spikes, given error input and, in the
open-loop run, given soma input, so that ``sigma'`` is the simulator's and does not
depend on the learned weights. 48 samples run back to back with 6 silent steps after
each (so the presynaptic trace carried into the next sample is below 0.03).

Reference: the fixed-point simulator's presynaptic trace
(:func:`~lava_biograd.reference.fixed.dynamics.presynaptic_trace_run`, reset per sample,
rounded half up) on the train the synapse receives, ``E = sum_t sigma'_t x1_t``, and the
expected value of its stochastically rounded update, ``-lambda d E`` weight steps, that
is ``-2 lambda d E`` mantissa units. Expected engine values carry the factor
``exp(-1/65535)`` per y factor.

Tolerances, per synapse:

* Rounding noise: the engine rounds ``x1`` decays, every tag increment and every weight
  update stochastically, and the neuron rounds the error factors. With ``c = m 2^(s-5)``
  the weight change is ``R(2^s floor(m t y / 32))``, so its standard deviation per
  sample is at most ``1/2 + 2^s / 2 + sd(c t y)``. Here ``Var(t) <= T/4 +
  (n_sigma sd(x1) / 2^a)^2``, ``sd(x1) <= 1 / (2 sqrt(1 - alpha^2))``, and ``Var(y) <=
  1/4``. Samples are independent, because each draws its own random numbers from the
  engine's stream. The check allows 5 standard deviations of the sum.
* Deterministic bias: the floor of ``m t y / 32`` lowers each nonzero update by less
  than ``2^s``. Half-up rounding moves the simulator's ``x1`` by at most
  ``0.5 / (1 - alpha)`` from the engine's expectation, plus the carried trace.

Averaging over samples, not over ``rng_seed``: lava-nc 0.10.0 seeds the tag and weight
rounding stream with the constant 2, and ``rng_seed`` reaches only the trace streams.
"""

import math

import numpy as np
import pytest

from lava_biograd.lava.loihi_learning import (
    RESET_UNIT,
    SIGMA_UNIT,
    TAG_MAX,
    Y_DECAY_FACTOR,
    LoihiRuleMapping,
    dendrite_bound,
    map_layer,
    map_learning_rate,
    run_loihi_layer,
    trace_tau,
)
from lava_biograd.reference import BioGradNetwork, NetworkConfig, NeuronParams
from lava_biograd.reference.fixed import FixedBioGradNetwork
from lava_biograd.reference.fixed.arithmetic import exact_matmul
from lava_biograd.reference.fixed.dynamics import presynaptic_trace_run, pseudo_derivative, soma_run, synaptic_current
from lava_biograd.reference.fixed.quantisation import LayerFormat
from lava_biograd.reference.sleep import delay_one_step

N_IN, N_OUT, T = 20, 8, 12
N_SAMPLES = 48
GAP = 6
ERROR_START = 3
LAYER = LayerFormat(decay=2867, vth_mant=20, window=600, weight_exp=0, bias_exp=0, trace_impulse=88)
ALPHA = (4096 - LAYER.decay) / 4096
MULTIPLIER = (16384, 24)  # lambda = 2^-10 weight steps per unit of d E
ERROR_RANGE = 60
Z = 5.0


def _given_sequences(seed):
    rng = np.random.default_rng(seed)
    x = (rng.random((N_SAMPLES, T, N_IN)) < 0.3).astype(np.int64)
    currents = rng.integers(0, 40, (N_SAMPLES, T, N_OUT))
    errors = np.zeros((N_SAMPLES, T, N_OUT), np.int64)
    errors[:, ERROR_START:] = rng.integers(0, 7, (N_SAMPLES, T - ERROR_START, N_OUT))
    # Alternate the sign per sample and per neuron, so both error factors are used and the
    # weights random-walk near zero instead of saturating.
    signs = np.where((np.arange(N_SAMPLES)[:, None] + np.arange(N_OUT)[None, :]) % 2 == 0, 1, -1)
    errors *= signs[:, None, :]
    return x, currents, errors


def _simulator_eligibility(x, sd):
    """Return ``E_k = sum_t sigma'_t x1_t`` per sample, shape (n_samples, n_out, n_in), simulator trace."""
    x1 = np.array([presynaptic_trace_run(sample, LAYER) for sample in x])
    return np.einsum("kti,ktj->kij", sd, x1).astype(np.float64)


@pytest.fixture(scope="module")
def open_loop():
    x, currents, errors = _given_sequences(11)
    mapping = map_learning_rate(MULTIPLIER, LAYER, T, ERROR_RANGE)
    weights = 2 * np.random.default_rng(3).integers(-10, 11, (N_OUT, N_IN))
    run = run_loihi_layer(weights, LAYER, mapping, x, errors, currents=currents, gap_steps=GAP, rng_seed=5,
                          read_every_sample=True, record=True, timeout_s=120)
    period = T + GAP
    records = {key: value.reshape(N_SAMPLES, period, N_OUT) for key, value in run.records.items()}
    return {"x": x, "currents": currents, "errors": errors, "mapping": mapping, "run": run, "records": records}


def test_neuron_sigma_matches_simulator_soma(open_loop):
    records = open_loop["records"]
    for k in range(N_SAMPLES):
        current = synaptic_current(open_loop["currents"][k][:, None, :], LAYER)
        v, s = soma_run(current, LAYER)
        np.testing.assert_array_equal(records["v"][k, :T], v[:, 0])
        np.testing.assert_array_equal(records["sd"][k, :T], pseudo_derivative(v, LAYER)[:, 0])
    sd_fraction = records["sd"][:, :T].mean()
    assert 0.2 < sd_fraction < 0.8, f"sigma' is on {sd_fraction:.0%} of the steps; the test is weak"


def test_neuron_factors_follow_mapping(open_loop):
    records, mapping = open_loop["records"], open_loop["mapping"]
    dendrite = open_loop["errors"].sum(axis=1)
    np.testing.assert_array_equal(records["dendrite"][:, T - 1], dendrite)
    np.testing.assert_array_equal(records["y1"][:, 0], RESET_UNIT)
    assert not records["y1"][:, 1:].any()
    np.testing.assert_array_equal(records["y3"][:, :T], SIGMA_UNIT * records["sd"][:, :T])
    np.testing.assert_array_equal(records["bap"][:, T], 1)
    assert records["bap"].sum() == N_SAMPLES * N_OUT
    # The gain is an integer here, so the stochastic rounding of the error factors is exact.
    assert mapping.error_gain == int(mapping.error_gain)
    np.testing.assert_array_equal(records["y2"][:, T], mapping.error_gain * np.maximum(dendrite, 0))
    np.testing.assert_array_equal(records["y3"][:, T], mapping.error_gain * np.maximum(-dendrite, 0))
    assert records["y2"][:, T].max() <= 127
    assert records["y3"][:, T].max() <= 127
    assert not records["s"][:, T:].any()


def _trace_bound(sd, n_steps):
    """Return the bound on ``|E_engine_expected - E_simulator|`` per sample and post neuron (shape (n, n_out))."""
    rounding = 0.5 / (1.0 - ALPHA)
    carried = 127.0 * ALPHA ** (GAP + 1 + np.arange(n_steps))
    return np.einsum("kti,t->ki", sd, rounding + carried)


def test_tags_match_simulator_eligibility(open_loop):
    records, run, mapping = open_loop["records"], open_loop["run"], open_loop["mapping"]
    sd = records["sd"][:, :T]
    eligibility = _simulator_eligibility(open_loop["x"], sd)
    expected = eligibility * Y_DECAY_FACTOR / 2 ** mapping.tag_exp
    assert run.tag_history.shape == (N_SAMPLES, N_OUT, N_IN)
    assert run.tag_history.max() < TAG_MAX, "a tag saturated; the comparison does not hold"
    trace_sd = sd.sum(axis=1) * 0.5 / math.sqrt(1 - ALPHA ** 2) / 2 ** mapping.tag_exp
    noise_sd = np.sqrt(T / 4 + trace_sd ** 2)[:, :, None]
    bound = _trace_bound(sd, T)[:, :, None] / 2 ** mapping.tag_exp + Z * noise_sd
    deviation = np.abs(run.tag_history - expected)
    assert np.all(deviation <= bound), f"largest tag deviation {deviation.max():.2f}, bound {bound.min():.2f}"
    assert expected.max() > 50, "the tags stay small; the comparison is vacuous"


def test_weight_updates_match_simulator(open_loop):
    records, run, mapping = open_loop["records"], open_loop["run"], open_loop["mapping"]
    history = run.weight_history
    assert history.shape == (N_SAMPLES + 1, N_OUT, N_IN)
    assert np.abs(history).max() < 250, "a weight came near saturation; the comparison does not hold"
    observed = np.diff(history, axis=0).astype(np.float64)

    sd = records["sd"][:, :T]
    dendrite = records["dendrite"][:, T - 1].astype(np.float64)
    eligibility = _simulator_eligibility(open_loop["x"], sd)
    lam = MULTIPLIER[0] / 2.0 ** MULTIPLIER[1]
    simulator = -2.0 * lam * dendrite[:, :, None] * eligibility
    assert mapping.update_scale == 2.0 * lam
    expected = simulator * Y_DECAY_FACTOR ** 2

    # Rounding noise per sample (see the module docstring).
    rule_scale = mapping.rule_mantissa * 2.0 ** (mapping.rule_exp - 5)
    y = (records["y2"][:, T] + records["y3"][:, T]).astype(np.float64)[:, :, None]
    tag = eligibility / 2 ** mapping.tag_exp
    trace_sd = sd.sum(axis=1) * 0.5 / math.sqrt(1 - ALPHA ** 2) / 2 ** mapping.tag_exp
    tag_var = (T / 4 + trace_sd ** 2)[:, :, None]
    product_sd = rule_scale * np.sqrt(tag_var * 0.25 + tag_var * y ** 2 + 0.25 * tag ** 2)
    sample_sd = 0.5 + 2.0 ** mapping.rule_exp / 2 + product_sd
    # Deterministic bias: floor of the product, and the trace model.
    floor_bias = 2.0 ** mapping.rule_exp * ((y > 0) & (eligibility > 0))
    trace_bias = mapping.update_scale * np.abs(dendrite)[:, :, None] * _trace_bound(sd, T)[:, :, None]

    # Sum over samples with each sample's deviation signed like its expected update, so a
    # wrong scale shows even though the error sign alternates.
    sign = np.sign(expected)
    deviation = np.abs((sign * (observed - expected)).sum(axis=0))
    bound = (floor_bias + trace_bias).sum(axis=0) + Z * np.sqrt((sample_sd ** 2).sum(axis=0))
    signal = np.abs(expected).sum(axis=0)
    assert np.all(deviation <= bound), (
        f"largest deviation {deviation.max():.1f} (bound there {bound[np.unravel_index(deviation.argmax(), bound.shape)]:.1f})")
    assert np.median(bound / signal) < 0.35, "the tolerance is too loose to detect a wrong scale"
    # A simulator update with the wrong sign or twice the scale violates the bound.
    for wrong in (-simulator, 2 * simulator):
        wrong_deviation = np.abs((np.sign(wrong) * (observed - wrong)).sum(axis=0))
        assert np.mean(wrong_deviation > bound) > 0.5


def test_closed_loop_forward_uses_learned_weights():
    rng = np.random.default_rng(21)
    n_samples = 3
    x = (rng.random((n_samples, T, N_IN)) < 0.4).astype(np.int64)
    errors = np.zeros((n_samples, T, N_OUT), np.int64)
    errors[:, ERROR_START:] = rng.integers(-6, 7, (n_samples, T - ERROR_START, N_OUT))
    weights = 2 * rng.integers(-10, 30, (N_OUT, N_IN))
    bias = rng.integers(0, 8, N_OUT)
    layer = LayerFormat(decay=2867, vth_mant=400, window=12000, weight_exp=1, bias_exp=3, trace_impulse=88)
    mapping = map_learning_rate(MULTIPLIER, layer, T, ERROR_RANGE)
    run = run_loihi_layer(weights, layer, mapping, x, errors, bias_mant=bias, gap_steps=1, rng_seed=1,
                          read_every_sample=True, record=True)
    period = T + 1
    assert np.any(run.weight_history[1] != run.weight_history[0]), "no learning happened; the test is vacuous"
    for k in range(n_samples):
        pre = delay_one_step(x[k])[:, None, :]
        current = synaptic_current(exact_matmul(pre.reshape(T, N_IN), run.weight_history[k]), layer, bias)
        v, s = soma_run(current[:, None, :], layer)
        assert s.sum() > 0, f"sample {k} has no spikes"
        window = slice(k * period, k * period + T)
        np.testing.assert_array_equal(run.records["v"][window], v[:, 0])
        np.testing.assert_array_equal(run.records["s"][window], s[:, 0])


def test_mapping_scale_is_exact():
    for multiplier in ((16384, 23), (19661, 31), (32767, 40), (16385, 20)):
        for n_steps, error_range in ((12, 60), (20, 15), (60, 1000)):
            mapping = map_learning_rate(multiplier, LAYER, n_steps, error_range)
            assert mapping.update_scale == 2.0 * multiplier[0] / 2.0 ** multiplier[1]
            assert mapping.error_gain * error_range <= 127
            assert 127 * n_steps / 2 ** mapping.tag_exp <= TAG_MAX
            if mapping.rule_exp > -7:
                assert 2 * mapping.error_gain * error_range > 127, "a smaller rule exponent would have fitted"


def test_mapping_tag_shift_and_tau():
    assert map_learning_rate((16384, 23), LAYER, 12, 60).tag_exp == 3
    assert map_learning_rate((16384, 23), LAYER, 20, 60).tag_exp == 4
    assert map_learning_rate((16384, 23), LAYER, 2, 60).tag_exp == 0
    assert math.exp(-1 / trace_tau(LAYER)) == pytest.approx(ALPHA, rel=1e-12)


def test_mapping_rule_strings_parse():
    mapping = map_learning_rate(MULTIPLIER, LAYER, T, ERROR_RANGE)
    rule = mapping.learning_rule(rng_seed=4)
    weight_products = rule.dw.products
    assert [(p.dependency, p.s_mantissa, p.s_exp - 7) for p in weight_products] == [
        ("y0", -1, mapping.rule_exp), ("y0", 1, mapping.rule_exp)]
    tag_products = rule.dt.products
    assert [(p.dependency, p.s_mantissa, p.s_exp - 7) for p in tag_products] == [
        ("u", 1, -mapping.tag_exp), ("u", -1, 0)]
    assert rule.rng_seed == 4
    assert rule.x1_impulse == LAYER.trace_impulse


def test_mapping_rejects_bad_input():
    with pytest.raises(TypeError, match="multiplier"):
        map_learning_rate([16384, 23], LAYER, T, 60)
    with pytest.raises(ValueError, match="n_steps"):
        map_learning_rate(MULTIPLIER, LAYER, 300, 60)
    with pytest.raises(ValueError, match="learning rate"):
        map_learning_rate((16384, -30), LAYER, T, 60)
    with pytest.raises(ValueError, match="alpha = 1"):
        trace_tau(LayerFormat(decay=0, vth_mant=20, window=600, weight_exp=0, bias_exp=0, trace_impulse=8))
    with pytest.raises(ValueError, match="rule_mantissa"):
        LoihiRuleMapping(tag_exp=3, rule_mantissa=9, rule_exp=0, gain_mantissa=1, gain_shift=0, trace_impulse=8,
                         trace_tau=1.0)


def test_map_layer_uses_network_scale():
    config = NetworkConfig((20, 16, 4), n_steps=T, error_start=ERROR_START, timing="delayed",
                           neuron=NeuronParams(vdecay=0.3, vth=0.2, grad_win=0.3, grad_amp=1.0))
    net = BioGradNetwork(config, np.random.default_rng(2), dtype="float64")
    fixed = FixedBioGradNetwork.from_float(net, np.random.default_rng(0))
    lr = 0.05
    for index in range(2):
        mapping = map_layer(fixed, index, lr)
        mantissa, shift = fixed.learning_scales(lr)[index].weight
        assert mapping.update_scale == 2.0 * mantissa / 2.0 ** shift
        assert mapping.error_gain * dendrite_bound(fixed, index) <= 127
    assert dendrite_bound(fixed, 1) == T - ERROR_START
    exact = FixedBioGradNetwork.from_float(net, np.random.default_rng(0), trace_approximation="exact")
    with pytest.raises(ValueError, match="presynaptic"):
        map_layer(exact, 0, lr)


def test_run_rejects_odd_weights():
    mapping = map_learning_rate(MULTIPLIER, LAYER, T, ERROR_RANGE)
    x = np.zeros((1, T, N_IN), np.int64)
    errors = np.zeros((1, T, N_OUT), np.int64)
    with pytest.raises(ValueError, match="even"):
        run_loihi_layer(np.ones((N_OUT, N_IN), np.int64), LAYER, mapping, x, errors)
    with pytest.raises(ValueError, match="errors"):
        run_loihi_layer(np.zeros((N_OUT, N_IN), np.int64), LAYER, mapping, x, errors[:, :, :3])
