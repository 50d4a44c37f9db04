r"""Run a NIR graph in discrete time with numpy.

A small interpreter for the node types that :mod:`lava_biograd.export.nir_export`
writes, plus ``Linear`` and ``IF``. Every node is evaluated once per step, in the
topological order of the edges. A node's input is the sum of the outputs of its
predecessors in the same step. A ``Delay`` node returns its input from
``delay / dt`` steps before (zeros before the first step), so the graph must be a DAG.

Per step ``t`` with step ``dt``:

* ``Affine``: ``y = W x + b``. ``Linear``: ``y = W x``.
* ``Delay``: ``y_t = x_{t - d}`` with ``d = delay / dt`` an integer per channel.
* ``LIF``, discretised by the graph's ``discretization`` metadata:
  ``forward_euler``: ``v = v + dt/tau (v_leak - v + r I)``;
  ``zero_order_hold``: ``v = e^{-dt/tau} v + (1 - e^{-dt/tau})(v_leak + r I)``.
* ``IF``: ``v = v + dt r I``.
* Spiking nodes: ``z = [v > v_threshold]``, then ``v = v_reset`` where ``z = 1``.

All states are zero before the first step. Arithmetic is float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lava_biograd.export.nir_export import DISCRETIZATIONS
from lava_biograd.validation import check_array, check_choice, check_float

__all__ = ["NIRRun", "SUPPORTED_NODES", "simulate_nir"]

SUPPORTED_NODES = ("Input", "Output", "Affine", "Linear", "Delay", "LIF", "IF")


@dataclass
class NIRRun:
    """Outcome of :func:`simulate_nir`.

    Attributes
    ----------
    outputs : dict of str to ndarray
        Per ``Output`` node, its input over time, shape ``(T, batch, n)``.
    spikes : dict of str to ndarray
        Per ``LIF``/``IF`` node, its spikes (0 or 1), shape ``(T, batch, n)``.
    voltages : dict of str to ndarray
        Per ``LIF``/``IF`` node, ``v`` before the reset, shape ``(T, batch, n)``.
    """

    outputs: dict
    spikes: dict
    voltages: dict


def simulate_nir(graph, x, dt: float | None = None, discretization: str | None = None) -> NIRRun:
    """Run ``graph`` on the input ``x`` for ``T`` steps.

    Parameters
    ----------
    graph : nir.NIRGraph
        A DAG with exactly one ``Input`` node and nodes of :data:`SUPPORTED_NODES`.
    x : ndarray of shape (T, batch, n_in)
        Input of the ``Input`` node per step.
    dt : float, optional
        Step length; the graph's ``dt`` metadata when omitted.
    discretization : {'forward_euler', 'zero_order_hold'}, optional
        Rule for ``LIF`` nodes; the graph's ``discretization`` metadata when omitted.

    Returns
    -------
    NIRRun

    Raises
    ------
    ValueError
        An unsupported node type, a cycle, a shape mismatch, a non-integer delay, or
        ``dt``/``discretization`` neither given nor stored in the graph.
    """
    import nir

    if not isinstance(graph, nir.NIRGraph):
        raise TypeError(f"graph must be a nir.NIRGraph, got {type(graph).__name__}")
    metadata = graph.metadata if isinstance(graph.metadata, dict) else {}
    dt = _setting("dt", dt, metadata)
    dt = check_float("dt", float(dt), minimum=0.0, min_open=True)
    discretization = check_choice("discretization", str(_setting("discretization", discretization, metadata)),
                                  DISCRETIZATIONS)
    for name, node in graph.nodes.items():
        kind = type(node).__name__
        if kind not in SUPPORTED_NODES:
            raise ValueError(f"node {name!r} has type {kind}, which simulate_nir does not support; "
                             f"supported: {', '.join(SUPPORTED_NODES)}")
    inputs = [name for name, node in graph.nodes.items() if isinstance(node, nir.Input)]
    if len(inputs) != 1:
        raise ValueError(f"the graph must have exactly one Input node, got {len(inputs)}: {inputs}")
    x = check_array("input", x, ndim=3).astype(np.float64)
    n_in = int(np.prod(graph.nodes[inputs[0]].input_type["input"]))
    if x.shape[2] != n_in:
        raise ValueError(f"input must have shape (T, batch, {n_in}) for Input node {inputs[0]!r}, got {x.shape}")
    order, predecessors = _topological_order(graph)
    n_steps, batch, _ = x.shape
    units = {name: _make_unit(node, name, dt, discretization, batch)
             for name, node in graph.nodes.items()}

    traces = {name: [] for name in units}
    for t in range(n_steps):
        values = {}
        for name in order:
            if name == inputs[0]:
                incoming = x[t]
            else:
                sources = predecessors[name]
                if not sources:
                    raise ValueError(f"node {name!r} has no incoming edge")
                incoming = values[sources[0]]
                for source in sources[1:]:
                    incoming = incoming + values[source]
            values[name] = units[name].step(t, incoming)
            traces[name].append(values[name])

    outputs, spikes, voltages = {}, {}, {}
    for name, node in graph.nodes.items():
        if isinstance(node, nir.Output):
            outputs[name] = np.stack(traces[name])
        elif isinstance(node, (nir.LIF, nir.IF)):
            spikes[name] = np.stack(traces[name])
            voltages[name] = np.stack(units[name].voltages)
    return NIRRun(outputs=outputs, spikes=spikes, voltages=voltages)


def _setting(key: str, value, metadata: dict):
    if value is not None:
        return value
    if key not in metadata:
        raise ValueError(f"the graph stores no {key!r} in its metadata; pass {key}=...")
    stored = metadata[key]
    if isinstance(stored, bytes):
        stored = stored.decode("utf-8")
    if isinstance(stored, np.ndarray) and stored.shape == ():
        stored = stored.item()
    return stored


def _topological_order(graph):
    names = list(graph.nodes)
    predecessors = {name: [] for name in names}
    successors = {name: [] for name in names}
    for source, target in graph.edges:
        for end in (source, target):
            if end not in predecessors:
                raise ValueError(f"edge ({source!r}, {target!r}) names the unknown node {end!r}")
        predecessors[target].append(source)
        successors[source].append(target)
    remaining = {name: len(predecessors[name]) for name in names}
    ready = [name for name in names if remaining[name] == 0]
    order = []
    while ready:
        name = ready.pop(0)
        order.append(name)
        for target in successors[name]:
            remaining[target] -= 1
            if remaining[target] == 0:
                ready.append(target)
    if len(order) != len(names):
        cyclic = sorted(name for name in names if remaining[name] > 0)
        raise ValueError(f"the graph has a cycle through {cyclic}; recurrent graphs are not supported")
    return order, predecessors


def _vector(node_name: str, field: str, value, n: int | None = None) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64).reshape(-1)
    if n is not None and array.size != n:
        raise ValueError(f"node {node_name!r}: {field} has {array.size} values, expected {n}")
    return array


class _Unit:
    size: int | None = None

    def check(self, name: str, incoming: np.ndarray) -> None:
        if self.size is not None and incoming.shape[-1] != self.size:
            raise ValueError(f"node {name!r} expects {self.size} inputs, got {incoming.shape[-1]}")


class _Pass(_Unit):
    def __init__(self, name: str):
        self.name = name

    def step(self, t: int, incoming: np.ndarray) -> np.ndarray:
        return incoming


class _Affine(_Unit):
    def __init__(self, name: str, weight, bias):
        weight = np.asarray(weight, dtype=np.float64)
        if weight.ndim != 2:
            raise ValueError(f"node {name!r}: weight must be 2-D (out, in), got shape {weight.shape}")
        self.name = name
        self.weight_t = weight.T.copy()
        self.size = weight.shape[1]
        self.bias = None if bias is None else _vector(name, "bias", bias, weight.shape[0])

    def step(self, t: int, incoming: np.ndarray) -> np.ndarray:
        self.check(self.name, incoming)
        out = incoming @ self.weight_t
        if self.bias is not None:
            out = out + self.bias
        return out


class _Delay(_Unit):
    def __init__(self, name: str, delay, dt: float):
        steps = _vector(name, "delay", delay) / dt
        rounded = np.rint(steps)
        if np.any(np.abs(steps - rounded) > 1e-9 * np.maximum(1.0, np.abs(steps))) or np.any(rounded < 0):
            raise ValueError(f"node {name!r}: delays must be non-negative multiples of dt={dt}, got {steps * dt}")
        self.name = name
        self.steps = rounded.astype(int)
        self.size = self.steps.size
        self.history = []

    def step(self, t: int, incoming: np.ndarray) -> np.ndarray:
        self.check(self.name, incoming)
        self.history.append(incoming)
        out = np.zeros_like(incoming)
        for lag in np.unique(self.steps):
            if t - lag >= 0:
                channels = self.steps == lag
                out[..., channels] = self.history[t - lag][..., channels]
        return out


class _Spiking(_Unit):
    def __init__(self, name: str, n: int, batch: int, decay, gain, offset, threshold, reset):
        self.name = name
        self.size = n
        self.decay, self.gain, self.offset = decay, gain, offset
        self.threshold, self.reset = threshold, reset
        self.v = np.zeros((batch, n))
        self.voltages = []

    def step(self, t: int, incoming: np.ndarray) -> np.ndarray:
        self.check(self.name, incoming)
        v = self.decay * self.v + self.gain * incoming + self.offset
        fired = v > self.threshold
        self.voltages.append(v)
        self.v = np.where(fired, self.reset, v)
        return fired.astype(np.float64)


def _make_unit(node, name: str, dt: float, discretization: str, batch: int):
    import nir

    if isinstance(node, (nir.Input, nir.Output)):
        return _Pass(name)
    if isinstance(node, nir.Affine):
        return _Affine(name, node.weight, node.bias)
    if isinstance(node, nir.Linear):
        return _Affine(name, node.weight, None)
    if isinstance(node, nir.Delay):
        return _Delay(name, node.delay, dt)
    threshold = _vector(name, "v_threshold", node.v_threshold)
    n = threshold.size
    reset = _vector(name, "v_reset", node.v_reset, n)
    r = _vector(name, "r", node.r, n)
    if isinstance(node, nir.IF):
        return _Spiking(name, n, batch, 1.0, dt * r, 0.0, threshold, reset)
    tau = _vector(name, "tau", node.tau, n)
    v_leak = _vector(name, "v_leak", node.v_leak, n)
    if np.any(tau <= 0):
        raise ValueError(f"node {name!r}: tau must be positive, got min {tau.min()}")
    if discretization == "forward_euler":
        rate = dt / tau
        # gain is computed as r * dt / tau, so r = tau / dt gives exactly 1.
        return _Spiking(name, n, batch, 1.0 - rate, r * dt / tau, rate * v_leak, threshold, reset)
    keep = np.exp(-dt / tau)
    return _Spiking(name, n, batch, keep, (1.0 - keep) * r, (1.0 - keep) * v_leak, threshold, reset)
