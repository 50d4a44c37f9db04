r"""Operation counts of BioGrad training on Loihi and an energy estimate per training sample.

:func:`operation_counts` counts, per training sample, what a Loihi-style chip would do for
a BioGrad network. :func:`energy_estimate` prices the counts with per-operation
energies, and :func:`format_energy` writes a one-line summary for the CLI. The result is
an **estimate**. It prices only the operations below, and it takes the per-operation
energies from a table that was not checked against the primary source (see
:data:`LOIHI_ENERGY_PJ`).

Counting rules (``n_l`` layer sizes with ``n_0`` the input, ``S_l`` spikes of layer
``l`` per sample, ``T`` steps, ``K = T - t0`` error steps, ``Z`` error-neuron spikes):

* **Synaptic operations**, one per spike and target synapse (spike times fan-out):

  - forward: ``sum_l S_{l-1} n_l`` over the weight layers;
  - feedback: ``Z (1 + sum_hidden n_l)``, because each error spike reaches its output
    dendrite and one dendrite per hidden neuron;
  - error input: ``2 n_o K`` graded inputs from the host softmax into the error neurons.

* **Neuron updates**, one per compartment and step, because the chip updates every
  compartment every step: soma ``T sum_{l>=1} n_l``, dendrite ``T sum_{l>=1} n_l`` and
  error neurons ``2 n_o T``. The input layer is a spike source and is not counted.
* **Learning engine**:

  - presynaptic trace updates: ``T sum_l n_{l-1}`` (one ``x1`` per axon and step);
  - tag updates: ``T sum_l n_l n_{l-1}`` with ``tag_rule='every_step'`` (the engine
    evaluates the tag rule of every synapse in every epoch, ``t_epoch = 1``), or the
    measured number of synapses with ``sigma'_i x1_j != 0`` with ``tag_rule='active'``;
  - weight updates: ``sum_l n_l n_{l-1}`` and bias updates ``sum_l n_l``, once per
    sample (a bias is a synapse from an always-on input).

* **Sleep**, one episode every ``sleep_every`` samples, divided by ``sleep_every``. For
  hidden layer ``l`` it counts the signed noise events times the fan-out of
  ``W_{l+1}``, the spikes of the layers above times their fan-out, a neuron update
  ``N_s T_s`` times per neuron above ``l``, and ``n_l n_o`` updates of ``B_l``.

Energy: synaptic operations at the synaptic-spike-operation energy, tag, weight, bias and
``B`` updates at the synaptic-update energy, neuron updates at the neuron-update energy.
Trace updates, spike routing between cores, the host softmax and static power are not
priced.
"""

from __future__ import annotations

import numpy as np

from lava_biograd.reference.params import SleepParams
from lava_biograd.validation import check_array, check_choice, check_float, check_int, check_layer_sizes

ENERGY_SOURCE = (
    "Davies et al., 'Loihi: A Neuromorphic Manycore Processor with On-Chip Learning', "
    "IEEE Micro 38(1), 2018, per-operation energies"
)

ENERGY_VERIFIED = False
"""The primary table was not opened. The values are quoted from secondary sources that cite it."""

LOIHI_ENERGY_PJ = {
    "synaptic_op": 23.6,
    "synaptic_update": 120.0,
    "neuron_update": 81.0,
}
"""Energy per operation in pJ, attributed to :data:`ENERGY_SOURCE` (unverified, see :data:`ENERGY_VERIFIED`).

NOTE: secondary sources quote 23.6 pJ per synaptic spike operation, 120 pJ per synaptic
(learning) update and 81 pJ per neuron update. The primary table was not opened here, so
these values are unverified and may need correction.
"""

TAG_RULES = ("every_step", "active")

NOISE_EVENT_RATE = 1.0 / 3.0
"""Expected rate of nonzero signed sleep noise ``xi^+ - xi^-`` per unit and step: ``E[2p(1-p)]`` for ``p ~ U(0, 1)``."""


def _check_activity(activity, sizes) -> dict:
    if not isinstance(activity, dict):
        raise TypeError(f"activity must be a dict such as measure_activity returns, got {type(activity).__name__}")
    missing = {"spikes", "error_spikes"} - set(activity)
    if missing:
        raise ValueError(f"activity is missing {sorted(missing)}; use measure_activity")
    spikes = [check_float(f"activity['spikes'][{i}]", float(s), minimum=0.0)
              for i, s in enumerate(activity["spikes"])]
    if len(spikes) != len(sizes):
        raise ValueError(f"activity['spikes'] needs one count per layer including the input ({len(sizes)}), "
                         f"got {len(spikes)}")
    checked = {"spikes": spikes,
               "error_spikes": check_float("activity['error_spikes']", float(activity["error_spikes"]), minimum=0.0)}
    if activity.get("active_tag_updates") is not None:
        active = [check_float(f"activity['active_tag_updates'][{i}]", float(a), minimum=0.0)
                  for i, a in enumerate(activity["active_tag_updates"])]
        if len(active) != len(sizes) - 1:
            raise ValueError(f"activity['active_tag_updates'] needs one count per weight layer ({len(sizes) - 1}), "
                             f"got {len(active)}")
        checked["active_tag_updates"] = active
    return checked


def estimated_sleep_activity(sizes, n_steps: int, activity: dict, sleep: SleepParams) -> dict:
    """Return sleep activity per episode from the noise statistics and the wake firing rates.

    The signed noise is nonzero at the rate :data:`NOISE_EVENT_RATE`; every simulated
    layer is assumed to fire at its wake rate ``S_l / (n_l T)`` per neuron and step.
    Prefer :func:`measure_sleep_activity` where a network is at hand.
    """
    sizes = check_layer_sizes("sizes", sizes)
    n_steps = check_int("n_steps", n_steps, minimum=1)
    if not isinstance(sleep, SleepParams):
        raise TypeError(f"sleep must be a SleepParams, got {type(sleep).__name__}")
    activity = _check_activity(activity, sizes)
    episode_steps = sleep.n_samples * sleep.n_steps
    rates = [s / (n * n_steps) for s, n in zip(activity["spikes"], sizes)]
    n_layers = len(sizes) - 1
    noise, spikes = [], []
    for hidden in range(n_layers - 1):
        noise.append(NOISE_EVENT_RATE * episode_steps * sizes[hidden + 1])
        spikes.append([rates[k + 1] * episode_steps * sizes[k + 1] for k in range(hidden + 1, n_layers)])
    return {"noise_events": noise, "spikes": spikes, "estimated": True}


def operation_counts(sizes, n_steps: int, error_start: int, activity: dict, *, sleep: SleepParams | None = None,
                     sleep_every: int = 128, sleep_activity: dict | None = None,
                     tag_rule: str = "every_step") -> dict:
    """Count the operations of one training sample (see the module docstring for the rules).

    Parameters
    ----------
    sizes : sequence of int
        ``(n_0, n_1, ..., n_o)``.
    n_steps : int
        ``T``.
    error_start : int
        ``t0``; the error pathway runs ``K = T - t0`` steps.
    activity : dict
        Mean counts per sample, as :func:`measure_activity` returns: ``spikes`` (one total
        per layer including the input), ``error_spikes`` (``z^+`` plus ``z^-``) and,
        for ``tag_rule='active'``, ``active_tag_updates`` (one per weight layer).
    sleep : SleepParams, optional
        Sleep settings; ``None`` counts no sleep.
    sleep_every : int, default=128
        Training samples per sleep episode (the batch size of the reference trainer).
    sleep_activity : dict, optional
        Per episode: ``noise_events`` (one per hidden layer) and ``spikes`` (per hidden
        layer, the totals of the layers simulated above it), as
        :func:`measure_sleep_activity` returns. By default
        :func:`estimated_sleep_activity`.
    tag_rule : {'every_step', 'active'}, default='every_step'

    Returns
    -------
    dict
        Counts per training sample (floats, because measured spikes are means), the
        ``config`` they were computed for and the ``rules`` used.
    """
    sizes = check_layer_sizes("sizes", sizes)
    n_steps = check_int("n_steps", n_steps, minimum=1)
    error_start = check_int("error_start", error_start, minimum=0, maximum=n_steps - 1)
    check_choice("tag_rule", tag_rule, TAG_RULES)
    activity = _check_activity(activity, sizes)
    if tag_rule == "active" and "active_tag_updates" not in activity:
        raise ValueError("tag_rule='active' needs activity['active_tag_updates']; use measure_activity")
    n_layers = len(sizes) - 1
    hidden = sizes[1:-1]
    n_out = sizes[-1]
    n_error_steps = n_steps - error_start
    synapses = [sizes[i] * sizes[i + 1] for i in range(n_layers)]
    neurons = sum(sizes[1:])
    spikes = activity["spikes"]

    counts = {
        "synaptic_ops_forward": float(sum(spikes[i] * sizes[i + 1] for i in range(n_layers))),
        "synaptic_ops_feedback": activity["error_spikes"] * (1 + sum(hidden)),
        "synaptic_ops_error_input": float(2 * n_out * n_error_steps),
        "neuron_updates_soma": float(n_steps * neurons),
        "neuron_updates_dendrite": float(n_steps * neurons),
        "neuron_updates_error": float(2 * n_out * n_steps),
        "trace_updates": float(n_steps * sum(sizes[:-1])),
        "tag_updates": (float(n_steps * sum(synapses)) if tag_rule == "every_step"
                        else float(sum(activity["active_tag_updates"]))),
        "weight_updates": float(sum(synapses)),
        "bias_updates": float(neurons),
        "softmax_evaluations": float(n_error_steps),
    }
    counts.update(_sleep_counts(sizes, sleep, sleep_every, sleep_activity, n_steps, activity))
    counts["config"] = {"sizes": sizes, "n_steps": n_steps, "error_start": error_start,
                        "sleep": None if sleep is None else {"n_samples": sleep.n_samples, "n_steps": sleep.n_steps},
                        "sleep_every": sleep_every if sleep is not None else None, "tag_rule": tag_rule,
                        "sleep_activity": _sleep_activity_kind(sleep, sleep_activity)}
    counts["rules"] = {
        "synaptic_op": "spike x fan-out per connection; error input: 2 n_o graded inputs per error step",
        "neuron_update": "every compartment (soma, dendrite, error neuron) every step",
        "tag_update": ("every synapse every step (t_epoch = 1)" if tag_rule == "every_step"
                       else "synapses with sigma' x1 != 0, measured"),
        "sleep": "one episode per sleep_every samples, divided by sleep_every",
    }
    return counts


def _sleep_activity_kind(sleep, sleep_activity) -> str | None:
    if sleep is None:
        return None
    if sleep_activity is None or sleep_activity.get("estimated", False):
        return "estimated"
    return "measured"


def _sleep_counts(sizes, sleep, sleep_every, sleep_activity, n_steps, activity) -> dict:
    """Return the sleep counts per training sample; zeros without sleep or without hidden layers."""
    zero = {"synaptic_ops_sleep": 0.0, "neuron_updates_sleep": 0.0, "sleep_weight_updates": 0.0,
            "sleep_noise_events": 0.0}
    if sleep is None:
        return zero
    if not isinstance(sleep, SleepParams):
        raise TypeError(f"sleep must be a SleepParams or None, got {type(sleep).__name__}")
    sleep_every = check_int("sleep_every", sleep_every, minimum=1)
    n_layers = len(sizes) - 1
    if n_layers < 2:
        return zero
    if sleep_activity is None:
        sleep_activity = estimated_sleep_activity(sizes, n_steps, activity, sleep)
    if not isinstance(sleep_activity, dict) or {"noise_events", "spikes"} - set(sleep_activity):
        raise ValueError("sleep_activity must be a dict with 'noise_events' and 'spikes'; use measure_sleep_activity")

    noise, spikes = sleep_activity["noise_events"], sleep_activity["spikes"]
    if len(noise) != n_layers - 1 or len(spikes) != n_layers - 1:
        raise ValueError(f"sleep_activity needs one entry per hidden layer ({n_layers - 1}), "
                         f"got {len(noise)} and {len(spikes)}")

    episode_steps = sleep.n_samples * sleep.n_steps
    synaptic_ops = neuron_updates = weight_updates = noise_total = 0.0
    for index in range(n_layers - 1):
        above = list(range(index + 1, n_layers))  # weight layers simulated when hidden layer index+1 sleeps
        if len(spikes[index]) != len(above):
            raise ValueError(f"sleep_activity['spikes'][{index}] needs {len(above)} totals, got {len(spikes[index])}")
        noise_events = check_float(f"sleep_activity['noise_events'][{index}]", float(noise[index]), minimum=0.0)
        synaptic_ops += noise_events * sizes[index + 2]
        for position, k in enumerate(above[1:]):
            spike_total = check_float(f"sleep_activity['spikes'][{index}][{position}]",
                                      float(spikes[index][position]), minimum=0.0)
            synaptic_ops += spike_total * sizes[k + 1]
        neuron_updates += episode_steps * sum(sizes[k + 1] for k in above)
        weight_updates += sizes[index + 1] * sizes[-1]
        noise_total += noise_events
    return {"synaptic_ops_sleep": synaptic_ops / sleep_every, "neuron_updates_sleep": neuron_updates / sleep_every,
            "sleep_weight_updates": weight_updates / sleep_every, "sleep_noise_events": noise_total / sleep_every}


def energy_estimate(counts: dict, energies_pj: dict | None = None) -> dict:
    """Price the operation counts of one training sample; return an estimate in pJ and nJ.

    Parameters
    ----------
    counts : dict
        Output of :func:`operation_counts`.
    energies_pj : dict, optional
        ``{'synaptic_op', 'synaptic_update', 'neuron_update'}`` in pJ; default
        :data:`LOIHI_ENERGY_PJ`.

    Returns
    -------
    dict
        Per operation type ``count``, ``pj_per_op`` and ``nj``; ``total_nj``; ``source``,
        ``verified`` and ``label`` (always ``'estimate'``).
    """
    if not isinstance(counts, dict) or "synaptic_ops_forward" not in counts:
        raise TypeError("counts must be the dict that operation_counts returns")
    energies = dict(LOIHI_ENERGY_PJ)
    custom = energies_pj is not None
    if custom:
        if not isinstance(energies_pj, dict) or set(energies_pj) != set(LOIHI_ENERGY_PJ):
            raise ValueError(f"energies_pj must have exactly the keys {sorted(LOIHI_ENERGY_PJ)}")
        energies = {key: check_float(f"energies_pj[{key!r}]", value, minimum=0.0)
                    for key, value in energies_pj.items()}
    totals = {
        "synaptic_op": sum(counts[key] for key in ("synaptic_ops_forward", "synaptic_ops_feedback",
                                                   "synaptic_ops_error_input", "synaptic_ops_sleep")),
        "synaptic_update": sum(counts[key] for key in ("tag_updates", "weight_updates", "bias_updates",
                                                       "sleep_weight_updates")),
        "neuron_update": sum(counts[key] for key in ("neuron_updates_soma", "neuron_updates_dendrite",
                                                     "neuron_updates_error", "neuron_updates_sleep")),
    }
    estimate = {}
    for key, count in totals.items():
        estimate[key] = {"count": count, "pj_per_op": energies[key], "nj": count * energies[key] * 1e-3}
    estimate["total_nj"] = sum(estimate[key]["nj"] for key in totals)
    estimate["source"] = "user-supplied per-operation energies" if custom else ENERGY_SOURCE
    estimate["verified"] = None if custom else ENERGY_VERIFIED
    estimate["label"] = "estimate"
    estimate["not_priced"] = "trace updates, spike routing, host softmax, static power"
    return estimate


def _format_nj(value: float) -> str:
    """Return an energy in nJ with a readable unit (nJ, uJ or mJ)."""
    for unit, scale in (("mJ", 1e6), ("uJ", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.3g} nJ"


def format_energy(estimate: dict) -> str:
    """Return a one-line summary of :func:`energy_estimate` for the CLI."""
    if not isinstance(estimate, dict) or "total_nj" not in estimate:
        raise TypeError("estimate must be the dict that energy_estimate returns")
    parts = ", ".join(f"{estimate[key]['count']:.3g} {key.replace('_', ' ')}s x {estimate[key]['pj_per_op']:g} pJ "
                      f"= {_format_nj(estimate[key]['nj'])}"
                      for key in ("synaptic_op", "synaptic_update", "neuron_update"))
    status = "unverified" if estimate.get("verified") is False else "user-supplied"
    return (f"Estimated Loihi energy per training sample (estimate): {_format_nj(estimate['total_nj'])} ({parts}); "
            f"per-operation energies: {estimate['source']} ({status}); not priced: {estimate['not_priced']}")


# --------------------------------------------------------------------------- measurement
def measure_activity(net, x, labels) -> dict:
    """Measure the mean activity per sample of a fixed-point network's wake phase.

    Runs the integer forward dynamics and error neurons of
    :class:`~lava_biograd.reference.fixed.FixedBioGradNetwork` (``'delayed'`` timing) on
    a batch, without changing the network.

    Parameters
    ----------
    net : FixedBioGradNetwork
    x : ndarray of shape (T, batch, n_0)
        Input spikes (0 or 1).
    labels : ndarray of int, shape (batch,)

    Returns
    -------
    dict
        ``spikes``: mean spikes per sample of the input and of every layer;
        ``error_spikes``: mean ``z^+`` plus ``z^-`` spikes per sample;
        ``active_tag_updates``: per weight layer, the mean number per sample of
        (step, synapse) pairs with ``sigma'_i x1_j != 0``; ``batch``.
    """
    from lava_biograd.reference.fixed import FixedBioGradNetwork
    from lava_biograd.reference.fixed.dynamics import (
        error_current_int,
        error_neuron_step_int,
        presynaptic_trace_run,
        pseudo_derivative,
    )

    if not isinstance(net, FixedBioGradNetwork):
        raise TypeError(f"net must be a FixedBioGradNetwork, got {type(net).__name__}")
    x = check_array("input spikes", x, ndim=3)
    batch = x.shape[1]
    if batch == 0:
        raise ValueError("input spikes must contain at least one sample")
    labels = check_array("labels", labels, shape=(batch,))
    layers = net.forward(x)
    spikes = [float(np.asarray(x).sum()) / batch] + [float(s.sum()) / batch for _, _, s in layers]
    active = []
    for (pre, v, _), layer in zip(layers, net.fmt.layers):
        sd = pseudo_derivative(v, layer)
        traced = (presynaptic_trace_run(pre, layer) > 0).sum(axis=2)
        active.append(float((sd.sum(axis=2) * traced).sum()) / batch)

    cfg = net.config
    onehot = np.zeros((batch, cfg.sizes[-1]))
    onehot[np.arange(batch), np.asarray(labels, dtype=np.int64)] = 1.0
    counts = np.cumsum(layers[-1][2], axis=0)
    scale = net.fmt.error_scale
    state = [np.zeros(onehot.shape, np.int64) for _ in range(4)]
    error_spikes = 0
    for t in range(cfg.error_start, cfg.n_steps):
        state = error_neuron_step_int(*state, error_current_int(counts[t], onehot, scale), scale)
        error_spikes += int(state[2].sum() + state[3].sum())
    return {"spikes": spikes, "error_spikes": error_spikes / batch, "active_tag_updates": active, "batch": batch}


def measure_sleep_activity(net, params: SleepParams, rng: np.random.Generator) -> dict:
    """Measure the activity of one sleep episode of a fixed-point network, without updating ``B``.

    Draws the episode's noise like :meth:`FixedBioGradNetwork.sleep` and runs the same
    integer dynamics above each hidden layer.

    Returns
    -------
    dict
        ``noise_events``: nonzero signed noise entries per hidden layer; ``spikes``: per
        hidden layer, the spike totals of the layers simulated above it (output last);
        ``estimated``: False.
    """
    from lava_biograd.reference.fixed import FixedBioGradNetwork
    from lava_biograd.reference.fixed.arithmetic import exact_matmul
    from lava_biograd.reference.fixed.dynamics import soma_run, synaptic_current
    from lava_biograd.reference.sleep import delay_one_step, draw_sleep_noise

    if not isinstance(net, FixedBioGradNetwork):
        raise TypeError(f"net must be a FixedBioGradNetwork, got {type(net).__name__}")
    if not isinstance(params, SleepParams):
        raise TypeError(f"params must be a SleepParams, got {type(params).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    hidden = net.config.sizes[1:-1]
    _, noise = draw_sleep_noise(rng, hidden, params, np.float32)
    noise_events, spikes = [], []
    for index in range(len(hidden)):
        inputs = np.asarray(noise[index]).astype(np.int8)
        noise_events.append(float(np.count_nonzero(inputs)))
        totals = []
        for k in range(index + 1, net.config.n_layers):
            pre = delay_one_step(inputs)
            t_steps, batch, n_in = pre.shape
            accumulated = exact_matmul(pre.reshape(t_steps * batch, n_in), net.weights[k])
            bias = net.biases[k] if k > index + 1 else None
            current = synaptic_current(accumulated, net.fmt.layers[k], bias).reshape(t_steps, batch, -1)
            _, inputs = soma_run(current, net.fmt.layers[k])
            totals.append(float(inputs.sum()))
        spikes.append(totals)
    return {"noise_events": noise_events, "spikes": spikes, "estimated": False}

