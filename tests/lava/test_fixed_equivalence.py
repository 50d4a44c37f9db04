"""The fixed_pt Lava graph computes the integers of the fixed-point simulator, bit for bit.

Setting: 20-16-8-4, T=12, t0=3, three consecutive samples with online learning (batch
size 1, so the simulator's batch update is the per-sample update), then one sleep
episode with the same noise in both, for both trace approximations. Both sides use the
same per-layer rounding streams.

Compared per step are the spikes, pre-reset voltages, pseudo-derivatives, dendrites,
tags ``E`` and ``G``, and the traces (``x1`` or ``P``). After the samples the weight and
bias mantissas and the rounding streams' states are compared, and after the sleep the
float masters and the 8-bit mantissas of every ``B_l``.

The delays are those of both implementations: one step per feed-forward connection
(``pre_t = x_{t-1}``), none on the error pathway.
"""

import numpy as np
import pytest
from lava.proc.lif.models import PyLifModelBitAcc

from lava_biograd.lava.network import LavaBioGradNetwork
from lava_biograd.reference import BioGradNetwork, NetworkConfig, NeuronParams, SleepParams
from lava_biograd.reference.fixed import FixedBioGradNetwork
from lava_biograd.reference.fixed.dynamics import soma_step, synaptic_current
from lava_biograd.reference.fixed.quantisation import LayerFormat
from lava_biograd.reference.sleep import draw_sleep_noise

N_SAMPLES = 3
T = 12
LR = 0.05
SLEEP = SleepParams(n_samples=8, n_steps=10)
SIZES = (16, 8, 4)


def _fixed_network(approximation):
    config = NetworkConfig((20, *SIZES), n_steps=T, error_start=3, timing="delayed",
                           neuron=NeuronParams(vdecay=0.3, vth=0.2, grad_win=0.3, grad_amp=1.0))
    net = BioGradNetwork(config, np.random.default_rng(1), dtype="float64")
    for w in net.weights:
        w *= 3  # strong enough that every layer spikes within 12 steps
    return FixedBioGradNetwork.from_float(net, np.random.default_rng(7), trace_approximation=approximation)


def _simulator_run(fixed, x, labels, noise):
    """Run the simulator sample by sample (online form); return the per-step records and the network."""
    sim = fixed.copy()
    records = []
    for k in range(x.shape[0]):
        result = sim.wake(x[k][:, None, :], labels[k:k + 1], record=True)
        records.append(result.record)
        sim.apply_update(result, LR)
    learned = [w.copy() for w in sim.weights] + [b.copy() for b in sim.biases]
    streams = [rng.bit_generator.state for rng in sim.rounding]
    sim.sleep(SLEEP, None, noise=noise)
    return records, learned, streams, sim


def _steps(records, key, layer):
    """Stack one layer's per-step values of ``key`` over all samples (batch index 0)."""
    return np.array([step[layer][0] for record in records for step in record[key]])


@pytest.fixture(scope="module", params=["presynaptic", "exact"])
def runs(request):
    approximation = request.param
    fixed = _fixed_network(approximation)
    rng = np.random.default_rng(5)
    x = (rng.random((N_SAMPLES, T, 20)) < 0.5).astype(float)
    labels = rng.integers(0, 4, N_SAMPLES)
    _, noise = draw_sleep_noise(np.random.default_rng(3), SIZES[:-1], SLEEP, np.float64)
    records, learned, streams, sim = _simulator_run(fixed, x, labels, noise)

    with LavaBioGradNetwork(fixed, run_tag="fixed_pt", timeout_s=120) as lava_net:
        wake = lava_net.run_wake(x, labels, learning=True, lr=LR, record=True)
        lava_learned = [w.copy() for w in lava_net.fixed.weights] + [b.copy() for b in lava_net.fixed.biases]
        lava_streams = [rng.bit_generator.state for rng in lava_net.fixed.rounding]
        lava_net.sleep(SLEEP, noise=noise)
        lava_feedback = [b.copy() for b in lava_net.fixed.feedback]
        lava_mantissas = [b.copy() for b in lava_net.fixed.feedback_mant]
        float_view = [w.copy() for w in lava_net.weights]
    return {"approximation": approximation, "initial": fixed, "records": records, "learned": learned,
            "streams": streams, "sim": sim, "wake": wake, "lava_learned": lava_learned,
            "lava_streams": lava_streams, "lava_feedback": lava_feedback, "lava_mantissas": lava_mantissas,
            "float_view": float_view}


def test_fixed_graph_spikes_and_voltages_match(runs):
    lava = runs["wake"].records
    for layer, n in enumerate(SIZES):
        ref_s = _steps(runs["records"], "s", layer)
        assert ref_s.shape == (N_SAMPLES * T, n)
        assert ref_s.sum() > 0, f"layer {layer} never spikes; the comparison is vacuous"
        np.testing.assert_array_equal(lava[f"neuron{layer}"]["s"], ref_s)
        np.testing.assert_array_equal(lava[f"neuron{layer}"]["v"], _steps(runs["records"], "v", layer))


def test_fixed_graph_pseudo_derivatives_and_dendrites_match(runs):
    lava = runs["wake"].records
    for layer in range(len(SIZES)):
        ref_sd = _steps(runs["records"], "sd", layer)
        ref_d = _steps(runs["records"], "dendrites", layer)
        assert ref_sd.sum() > 0, f"layer {layer} never enters the window"
        assert np.abs(ref_d).max() > 0, f"layer {layer} dendrite never receives error"
        np.testing.assert_array_equal(lava[f"neuron{layer}"]["sd"], ref_sd)
        np.testing.assert_array_equal(lava[f"neuron{layer}"]["dendrite"], ref_d)


def test_fixed_graph_traces_match(runs):
    lava = runs["wake"].records
    trace_key = "x1" if runs["approximation"] == "presynaptic" else "p"
    for layer in range(len(SIZES)):
        for key, ref_key in (("e", "traces_e"), ("g", "traces_g"), (trace_key, f"traces_{trace_key}")):
            ref = _steps(runs["records"], ref_key, layer)
            assert np.abs(ref).max() > 0, f"layer {layer} trace {key} stays zero; the comparison is vacuous"
            np.testing.assert_array_equal(lava[f"dense{layer}"][key], ref)


def test_fixed_graph_weight_updates_match(runs):
    initial = runs["initial"].weights + runs["initial"].biases
    for got, want, start in zip(runs["lava_learned"], runs["learned"], initial):
        assert np.abs(want - start).max() > 0, "learning did not move the mantissas; the test is vacuous"
        np.testing.assert_array_equal(got, want)
    assert runs["lava_streams"] == runs["streams"]


def test_fixed_graph_sleep_updates_match(runs):
    for got, want in zip(runs["lava_feedback"], runs["sim"].feedback):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(runs["lava_mantissas"], runs["sim"].feedback_mant):
        np.testing.assert_array_equal(got, want)


def test_fixed_graph_output_counts_match(runs):
    ref = _steps(runs["records"], "s", len(SIZES) - 1).reshape(N_SAMPLES, T, SIZES[-1]).sum(axis=1)
    np.testing.assert_array_equal(runs["wake"].counts, ref)


def test_fixed_graph_float_view_is_dequantised(runs):
    expected = runs["sim"].to_float()
    for got, want in zip(runs["float_view"], expected.weights):
        np.testing.assert_array_equal(got, want)


def test_fixed_inference_matches_simulator():
    fixed = _fixed_network("presynaptic")
    x = (np.random.default_rng(9).random((4, T, 20)) < 0.5).astype(float)
    with LavaBioGradNetwork(fixed, run_tag="fixed_pt", timeout_s=120) as lava_net:
        predictions, counts = lava_net.predict(x)
    ref_predictions, ref_counts = fixed.predict(np.transpose(x, (1, 0, 2)))
    assert ref_counts.sum() > 0
    np.testing.assert_array_equal(counts, ref_counts)
    np.testing.assert_array_equal(predictions, ref_predictions)


def test_fixed_graph_rejects_float_network():
    net = BioGradNetwork(NetworkConfig((4, 3)), np.random.default_rng(0))
    with pytest.raises(TypeError, match="needs a FixedBioGradNetwork"):
        LavaBioGradNetwork(net, run_tag="fixed_pt")


def test_fixed_graph_rejects_graded_input():
    with LavaBioGradNetwork(_fixed_network("presynaptic"), run_tag="fixed_pt") as lava_net:
        with pytest.raises(ValueError, match="only 0 and 1"):
            lava_net.predict(np.full((1, T, 20), 0.5))


def test_soma_matches_lava_bit_accurate_lif():
    """Without a spike in the previous step, one soma step equals a step of Lava's PyLifModelBitAcc
    with full current decay (du = 4095): same decay rounding, current wrap and voltage saturation."""
    rng = np.random.default_rng(0)
    n = 2000
    layer = LayerFormat(decay=2867, vth_mant=1229, window=1, weight_exp=0, bias_exp=3, trace_impulse=1)
    v_prev = rng.integers(-(1 << 23) + 1, 1 << 23, n)
    a_in = rng.integers(-(1 << 18), 1 << 18, n)  # beyond 2^17 the shifted current wraps
    bias = rng.integers(-4096, 4096, n)

    lif = PyLifModelBitAcc({})
    lif.u = np.zeros(n, np.int32)
    lif.v = v_prev.astype(np.int32)
    lif.du, lif.dv = 4095, layer.decay
    lif.bias_mant = bias.astype(np.int16)
    lif.bias_exp = np.full(n, layer.bias_exp, np.int16)
    lif.scale_bias()
    lif.subthr_dynamics(a_in.astype(np.int32))

    current = synaptic_current(a_in, layer, bias)
    v, _ = soma_step(v_prev, np.zeros(n, np.int64), current, layer)
    assert np.any(np.abs(a_in) >= 1 << 17), "no input wraps; the comparison misses the wrap"
    assert np.any(np.abs(v) == (1 << 23) - 1), "no voltage saturates; the comparison misses the clip"
    np.testing.assert_array_equal(v, lif.v)
