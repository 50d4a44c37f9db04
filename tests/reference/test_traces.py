"""Eligibility traces: a worked one-synapse example and equality with BPTT of the spike count."""

import numpy as np
import pytest

from lava_biograd.baseline import bptt_gradients
from lava_biograd.reference import NeuronParams
from lava_biograd.reference.neuron import lif_run, pseudo_derivative
from lava_biograd.reference.traces import OnlineTraces, eligibility_fast

# One synapse, alpha=0.5, theta=0.3, w=0.3, A=1, W=0.4, b=0.1, input spikes 1,1,0,1,0.
# Expected per-step values of the trace equations, rounded to 4 decimals.
EXAMPLE_NEURON = NeuronParams(vdecay=0.5, vth=0.3, grad_win=0.3, grad_amp=1.0)
EXAMPLE_WEIGHT = 0.4
EXAMPLE_BIAS = 0.1
EXAMPLE_INPUT = (1, 1, 0, 1, 0)
EXAMPLE_TABLE = {
    "v": (0.5000, 0.5000, 0.1000, 0.5500, 0.1000),
    "s": (1, 1, 0, 1, 0),
    "sd": (1, 1, 1, 1, 1),
    "p_tilde": (1.0000, 0.7500, -0.1875, 0.9156, -0.2518),
    "e": (1.0000, 1.7500, 1.5625, 2.4781, 2.2263),
    "p_after": (-0.5000, -0.3750, -0.1688, -0.5036, -0.2266),
    "q_tilde": (1.0000, 0.7500, 0.8125, 1.3656, 0.6245),
    "g": (1.0000, 1.7500, 2.5625, 3.9281, 4.5526),
}
EXAMPLE_E = 2.2263281
EXAMPLE_G = 4.5525781
TABLE_TOLERANCE = 5.1e-5  # rounding to 4 decimals


def _example_soma():
    x = np.array(EXAMPLE_INPUT, np.float64).reshape(-1, 1, 1)
    current = EXAMPLE_WEIGHT * x + EXAMPLE_BIAS
    v, s = lif_run(current, EXAMPLE_NEURON)
    return x, v, s, pseudo_derivative(v, EXAMPLE_NEURON)


def test_example_online_table():
    x, v, s, sd = _example_soma()
    traces = OnlineTraces(1, 1, 1, EXAMPLE_NEURON.vdecay, np.float64)
    columns = {name: [] for name in EXAMPLE_TABLE}
    for t in range(len(EXAMPLE_INPUT)):
        # P-tilde and Q-tilde are the values before the post-synaptic reset factor.
        columns["p_tilde"].append(EXAMPLE_NEURON.vdecay * traces.p[0, 0, 0] + x[t, 0, 0])
        columns["q_tilde"].append(EXAMPLE_NEURON.vdecay * traces.q[0, 0] + 1.0)
        e_before = traces.e[0, 0, 0]
        traces.step(x[t], v[t], s[t], sd[t])
        assert traces.e[0, 0, 0] - e_before == pytest.approx(sd[t, 0, 0] * columns["p_tilde"][-1], abs=1e-15)
        columns["v"].append(v[t, 0, 0])
        columns["s"].append(s[t, 0, 0])
        columns["sd"].append(sd[t, 0, 0])
        columns["e"].append(traces.e[0, 0, 0])
        columns["p_after"].append(traces.p[0, 0, 0])
        columns["g"].append(traces.g[0, 0])
    for name, expected in EXAMPLE_TABLE.items():
        np.testing.assert_allclose(columns[name], expected, rtol=0, atol=TABLE_TOLERANCE, err_msg=name)
    assert traces.e[0, 0, 0] == pytest.approx(EXAMPLE_E, abs=5e-8)
    assert traces.g[0, 0] == pytest.approx(EXAMPLE_G, abs=5e-8)


def test_example_fast_form():
    x, v, s, sd = _example_soma()
    e, g = eligibility_fast(x, v, s, sd, EXAMPLE_NEURON.vdecay)
    assert e.shape == (1, 1, 1)
    assert g.shape == (1, 1)
    assert e[0, 0, 0] == pytest.approx(EXAMPLE_E, abs=5e-8)
    assert g[0, 0] == pytest.approx(EXAMPLE_G, abs=5e-8)


def test_example_equals_bptt():
    x = np.array(EXAMPLE_INPUT, np.float64).reshape(-1, 1, 1)
    grad_w, grad_b = bptt_gradients([np.array([[EXAMPLE_WEIGHT]])], [np.array([EXAMPLE_BIAS])],
                                    EXAMPLE_NEURON, x, np.ones((1, 1)))
    assert grad_w[0][0, 0] == pytest.approx(EXAMPLE_E, abs=5e-8)
    assert grad_b[0][0] == pytest.approx(EXAMPLE_G, abs=5e-8)


# ---------------------------------------------------------------------- random layer
N_PRE, N_POST, N_STEPS, BATCH = 20, 8, 30, 3
LAYER_NEURON = NeuronParams(vdecay=0.6, vth=0.3, grad_win=0.3, grad_amp=1.0)


def _random_layer(dtype):
    rng = np.random.default_rng(11)
    weights = rng.uniform(-0.15, 0.25, size=(N_POST, N_PRE)).astype(dtype)
    bias = rng.uniform(-0.05, 0.1, size=N_POST).astype(dtype)
    x = (rng.random((N_STEPS, BATCH, N_PRE)) < 0.3).astype(dtype)
    g = rng.standard_normal((BATCH, N_POST)).astype(dtype)
    v, s = lif_run((x.reshape(-1, N_PRE) @ weights.T + bias).reshape(N_STEPS, BATCH, N_POST), LAYER_NEURON)
    return weights, bias, x, g, v, s, pseudo_derivative(v, LAYER_NEURON)


def _online_traces(x, v, s, sd):
    traces = OnlineTraces(BATCH, N_POST, N_PRE, LAYER_NEURON.vdecay, x.dtype)
    for t in range(N_STEPS):
        traces.step(x[t], v[t], s[t], sd[t])
    return traces.e, traces.g


# float32: traces reach about 70 over 30 steps, so a relative term covers the rounding.
@pytest.mark.parametrize("dtype, rtol, atol", [(np.float64, 0.0, 1e-10), (np.float32, 1e-6, 1e-5)])
@pytest.mark.parametrize("form", ["online", "fast"])
def test_traces_equal_bptt(form, dtype, rtol, atol):
    weights, bias, x, g, v, s, sd = _random_layer(dtype)
    # Guard: spikes inside the window make the factor 1 - s - v sigma' negative, so the
    # reset path through the surrogate contributes.
    assert 0.1 < s.mean() < 0.6
    assert np.any((s == 1) & (sd > 0))
    if form == "online":
        e, bias_trace = _online_traces(x, v, s, sd)
    else:
        e, bias_trace = eligibility_fast(x, v, s, sd, LAYER_NEURON.vdecay)
    assert e.dtype == dtype

    for n in range(BATCH):
        # For L = sum_i g_i c_i of one sample: dL/dW_ij = g_i E_ij and dL/db_i = g_i G_i.
        grad_w, grad_b = bptt_gradients([weights], [bias], LAYER_NEURON, x[:, n:n + 1], g[n:n + 1])
        np.testing.assert_allclose(g[n][:, None] * e[n], grad_w[0], rtol=rtol, atol=atol)
        np.testing.assert_allclose(g[n] * bias_trace[n], grad_b[0], rtol=rtol, atol=atol)
        ones_w, ones_b = bptt_gradients([weights], [bias], LAYER_NEURON, x[:, n:n + 1], np.ones((1, N_POST)))
        np.testing.assert_allclose(e[n], ones_w[0], rtol=rtol, atol=atol)
        np.testing.assert_allclose(bias_trace[n], ones_b[0], rtol=rtol, atol=atol)


def test_trace_forms_agree():
    _, _, x, _, v, s, sd = _random_layer(np.float64)
    online_e, online_g = _online_traces(x, v, s, sd)
    fast_e, fast_g = eligibility_fast(x, v, s, sd, LAYER_NEURON.vdecay)
    np.testing.assert_allclose(online_e, fast_e, rtol=0, atol=1e-12)
    np.testing.assert_allclose(online_g, fast_g, rtol=0, atol=1e-12)


def test_online_traces_store_only_spiking_columns():
    # 100 inputs that start spiking at staggered steps, and 30 that never spike: the block of
    # stored columns grows several times, and E must still equal the BPTT derivative.
    rng = np.random.default_rng(4)
    n_pre, n_post, n_steps = 130, 6, 24
    weights = rng.uniform(-0.05, 0.12, size=(n_post, n_pre))
    bias = np.full(n_post, 0.05)
    first = rng.integers(0, n_steps, n_pre)
    first[100:] = n_steps  # never
    x = ((rng.random((n_steps, 1, n_pre)) < 0.5) & (np.arange(n_steps)[:, None, None] >= first)).astype(float)
    v, s = lif_run((x[:, 0] @ weights.T + bias)[:, None, :], LAYER_NEURON)
    sd = pseudo_derivative(v, LAYER_NEURON)
    assert s.sum() > 0
    assert np.any(sd)

    traces = OnlineTraces(1, n_post, n_pre, LAYER_NEURON.vdecay, np.float64)
    capacities = set()
    for t in range(n_steps):
        traces.step(x[t], v[t], s[t], sd[t])
        capacities.add(traces.e_active.base.shape[2] if traces.e_active.base is not None else 0)
    assert len(capacities) >= 3, f"the column block never grew in steps: {capacities}"
    spiked = np.flatnonzero(x.any(axis=(0, 1)))
    np.testing.assert_array_equal(np.sort(traces.columns), spiked)
    np.testing.assert_array_equal(traces.e[0][:, 100:], 0.0)
    np.testing.assert_array_equal(traces.e[0][:, traces.columns], traces.e_active[0])
    grad_w, grad_b = bptt_gradients([weights], [bias], LAYER_NEURON, x, np.ones((1, n_post)))
    np.testing.assert_allclose(traces.e[0], grad_w[0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(traces.g[0], grad_b[0], rtol=0, atol=1e-10)
