"""Operation counts and the Loihi energy estimate: analytic counts of a tiny network, and measured activity."""

import numpy as np
import pytest

from lava_biograd.energy import (
    LOIHI_ENERGY_PJ,
    NOISE_EVENT_RATE,
    energy_estimate,
    estimated_sleep_activity,
    format_energy,
    measure_activity,
    measure_sleep_activity,
    operation_counts,
)
from lava_biograd.reference import BioGradNetwork, NetworkConfig, NeuronParams, SleepParams
from lava_biograd.reference.fixed import FixedBioGradNetwork
from lava_biograd.reference.fixed.dynamics import soma_run
from lava_biograd.reference.sleep import delay_one_step, draw_sleep_noise

SIZES = (4, 3, 2)
ACTIVITY = {"spikes": [6.0, 4.0, 3.0], "error_spikes": 2.0, "active_tag_updates": [10.0, 5.0]}
SLEEP = SleepParams(n_samples=2, n_steps=3)
SLEEP_ACTIVITY = {"noise_events": [7.0], "spikes": [[5.0]]}


def _tiny_counts(**options):
    return operation_counts(SIZES, 5, 2, ACTIVITY, sleep=SLEEP, sleep_every=4, sleep_activity=SLEEP_ACTIVITY,
                            **options)


def test_counts_tiny_network_analytic():
    counts = _tiny_counts()
    expected = {
        "synaptic_ops_forward": 6 * 3 + 4 * 2,
        "synaptic_ops_feedback": 2 * (1 + 3),
        "synaptic_ops_error_input": 2 * 2 * 3,
        "neuron_updates_soma": 5 * (3 + 2),
        "neuron_updates_dendrite": 5 * (3 + 2),
        "neuron_updates_error": 2 * 2 * 5,
        "trace_updates": 5 * (4 + 3),
        "tag_updates": 5 * (4 * 3 + 3 * 2),
        "weight_updates": 4 * 3 + 3 * 2,
        "bias_updates": 3 + 2,
        "softmax_evaluations": 3,
        "synaptic_ops_sleep": 7 * 2 / 4,
        "neuron_updates_sleep": 2 * 3 * 2 / 4,
        "sleep_weight_updates": 3 * 2 / 4,
        "sleep_noise_events": 7 / 4,
    }
    for key, value in expected.items():
        assert counts[key] == pytest.approx(value), key
    assert counts["config"]["sleep_activity"] == "measured"


def test_counts_active_tag_rule():
    counts = _tiny_counts(tag_rule="active")
    assert counts["tag_updates"] == 15
    assert "measured" in counts["rules"]["tag_update"]


def test_counts_deeper_sleep_chain():
    sizes = (5, 4, 3, 2)
    activity = {"spikes": [10.0, 8.0, 6.0, 2.0], "error_spikes": 0.0}
    sleep_activity = {"noise_events": [11.0, 13.0], "spikes": [[9.0, 4.0], [3.0]]}
    counts = operation_counts(sizes, 4, 1, activity, sleep=SLEEP, sleep_every=1, sleep_activity=sleep_activity)
    # Hidden layer 1: noise into W_2 (fan-out 3), its 9 spikes into W_3 (fan-out 2).
    # Hidden layer 2: noise into W_3 (fan-out 2).
    assert counts["synaptic_ops_sleep"] == 11 * 3 + 9 * 2 + 13 * 2
    assert counts["neuron_updates_sleep"] == 6 * (3 + 2) + 6 * 2
    assert counts["sleep_weight_updates"] == 4 * 2 + 3 * 2


def test_counts_without_sleep():
    counts = operation_counts(SIZES, 5, 2, ACTIVITY)
    assert counts["synaptic_ops_sleep"] == 0
    assert counts["neuron_updates_sleep"] == 0
    assert counts["config"]["sleep_activity"] is None


def test_estimated_sleep_activity_analytic():
    estimate = estimated_sleep_activity(SIZES, 5, ACTIVITY, SLEEP)
    assert estimate["noise_events"] == [pytest.approx(NOISE_EVENT_RATE * 2 * 3 * 3)]
    # Output wake rate 3 spikes / (2 neurons x 5 steps), over 2 x 3 sleep steps of 2 neurons.
    assert estimate["spikes"] == [[pytest.approx(3 / 10 * 6 * 2)]]
    counts = operation_counts(SIZES, 5, 2, ACTIVITY, sleep=SLEEP, sleep_every=4)
    assert counts["config"]["sleep_activity"] == "estimated"


def test_energy_estimate_prices_counts():
    estimate = energy_estimate(_tiny_counts())
    assert estimate["synaptic_op"]["count"] == pytest.approx(26 + 8 + 12 + 3.5)
    assert estimate["synaptic_update"]["count"] == pytest.approx(90 + 18 + 5 + 1.5)
    assert estimate["neuron_update"]["count"] == pytest.approx(25 + 25 + 20 + 3)
    total_pj = 49.5 * 23.6 + 114.5 * 120.0 + 73 * 81.0
    assert estimate["total_nj"] == pytest.approx(total_pj / 1000)
    assert estimate["label"] == "estimate"
    assert estimate["verified"] is False
    assert "Davies" in estimate["source"]
    assert estimate["synaptic_op"]["pj_per_op"] == LOIHI_ENERGY_PJ["synaptic_op"]


def test_energy_estimate_custom_energies():
    estimate = energy_estimate(_tiny_counts(), {"synaptic_op": 1.0, "synaptic_update": 0.0, "neuron_update": 0.0})
    assert estimate["total_nj"] == pytest.approx(49.5e-3)
    assert estimate["verified"] is None
    with pytest.raises(ValueError, match="keys"):
        energy_estimate(_tiny_counts(), {"synaptic_op": 1.0})


def test_format_energy_line():
    line = format_energy(energy_estimate(_tiny_counts()))
    assert line.startswith("Estimated Loihi energy per training sample (estimate): 20.8 nJ")
    assert "unverified" in line
    assert "\n" not in line


def test_counts_reject_bad_input():
    with pytest.raises(ValueError, match="one count per layer"):
        operation_counts(SIZES, 5, 2, {"spikes": [1.0, 2.0], "error_spikes": 0.0})
    with pytest.raises(ValueError, match="active_tag_updates"):
        operation_counts(SIZES, 5, 2, {"spikes": [1.0, 2.0, 3.0], "error_spikes": 0.0}, tag_rule="active")
    with pytest.raises(ValueError, match="error_start"):
        operation_counts(SIZES, 5, 5, ACTIVITY)
    with pytest.raises(TypeError, match="SleepParams"):
        operation_counts(SIZES, 5, 2, ACTIVITY, sleep={"n_samples": 2})
    with pytest.raises(ValueError, match="hidden layer"):
        operation_counts(SIZES, 5, 2, ACTIVITY, sleep=SLEEP, sleep_activity={"noise_events": [], "spikes": []})
    with pytest.raises(ValueError, match=">= 0"):
        operation_counts(SIZES, 5, 2, {"spikes": [1.0, -2.0, 3.0], "error_spikes": 0.0})


@pytest.fixture(scope="module")
def fixed_network():
    config = NetworkConfig((20, 16, 4), n_steps=12, error_start=3, timing="delayed",
                           neuron=NeuronParams(vdecay=0.3, vth=0.2, grad_win=0.3, grad_amp=1.0))
    net = BioGradNetwork(config, np.random.default_rng(1), dtype="float64")
    for w in net.weights:
        w *= 3  # strong enough that every layer spikes within 12 steps
    return FixedBioGradNetwork.from_float(net, np.random.default_rng(7))


def test_measure_activity_matches_online_record(fixed_network):
    rng = np.random.default_rng(4)
    x = (rng.random((12, 5, 20)) < 0.5).astype(np.float32)
    labels = rng.integers(0, 4, 5)
    activity = measure_activity(fixed_network, x, labels)
    record = fixed_network.copy().wake(x, labels, record=True).record
    assert activity["spikes"][0] == pytest.approx(x.sum() / 5)
    for layer in range(2):
        spikes = sum(step[layer].sum() for step in record["s"])
        assert spikes > 0
        assert activity["spikes"][layer + 1] == pytest.approx(spikes / 5)
        active = sum((step_sd[layer].sum(axis=1) * (step_x1[layer] > 0).sum(axis=1)).sum()
                     for step_sd, step_x1 in zip(record["sd"], record["traces_x1"]))
        assert activity["active_tag_updates"][layer] == pytest.approx(active / 5)
    error_spikes = sum(z.sum() for z in record["z_pos"]) + sum(z.sum() for z in record["z_neg"])
    assert error_spikes > 0
    assert activity["error_spikes"] == pytest.approx(error_spikes / 5)


def test_measure_sleep_activity_matches_dynamics(fixed_network):
    params = SleepParams(n_samples=4, n_steps=10)
    measured = measure_sleep_activity(fixed_network, params, np.random.default_rng(9))
    _, noise = draw_sleep_noise(np.random.default_rng(9), (16,), params, np.float32)
    assert measured["noise_events"] == [np.count_nonzero(noise[0])]
    current = fixed_network._layer_current(delay_one_step(noise[0].astype(np.int8)), 1, with_bias=False)
    _, spikes = soma_run(current, fixed_network.fmt.layers[1])
    assert spikes.sum() > 0
    assert measured["spikes"] == [[float(spikes.sum())]]
    assert measured["estimated"] is False
