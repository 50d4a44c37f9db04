r"""Export the forward network as a NIR graph (Neuromorphic Intermediate Representation, nir 1.0.x).

Graph, per weight layer ``l`` (``Delay`` only for ``timing='delayed'``)::

    input -> [delay_0] -> affine_0 -> lif_0 -> [delay_1] -> affine_1 -> lif_1 -> ... -> output

* ``nir.Affine(weight=W_l, bias=b_l)``: the synaptic current ``I_t = W s^{in}_t + b``.
* ``nir.LIF(tau, r, v_leak=0, v_threshold=theta, v_reset=0)`` for ``alpha < 1`` and
  ``nir.IF(r=1/dt, v_threshold=theta, v_reset=0)`` for ``alpha = 1`` (no leak).
* ``nir.Delay(delay=dt)`` (one step) on the spikes entering layer ``l`` under ``'delayed'`` timing.
* Graph metadata: ``dt``, ``discretization``, ``timing``, ``n_steps`` (T) and
  ``producer``. NIR defines none of these keys. A consumer must apply them to get our
  numbers.

Why ``LIF``. NIR's ``LIF`` (``tau dv/dt = (v_leak - v) + R I``, spike if
``v > v_threshold``, then ``v = v_reset``) has one state, like our soma. ``CubaLIF``
adds a synaptic current state, which our neuron lacks.

Discretisation with step ``dt``. NIR is continuous in time and has no time unit, so
``dt`` is an export parameter (default 1.0), and the parameters are chosen so that a
stated discretisation gives ``v_t = alpha v_{t-1} + I_t`` exactly:

====================  ========================================================  ===============================
``discretization``    update per step                                           parameters
====================  ========================================================  ===============================
``forward_euler``     ``v += dt/tau (v_leak - v + r I)``                        ``tau = dt / (1 - alpha)``,
                                                                                ``r = 1 / (1 - alpha)``
``zero_order_hold``   ``v = e^{-dt/tau} v + (1 - e^{-dt/tau})(v_leak + r I)``   ``tau = -dt / ln(alpha)``,
                                                                                ``r = 1 / (1 - alpha)``
either (``IF``)       ``v += dt r I``                                           ``r = 1 / dt``
====================  ========================================================  ===============================

``forward_euler`` is the default. snnTorch's NIR export uses the same rule for its
``Leaky`` neuron (``tau = dt / (1 - beta)``, ``r = tau / dt``, with ``dt = 1e-4``), as
read in its source. How other tools import NIR was not checked. A consumer that
applies another rule to the same file gets another leak. For example, exact
integration of a ``forward_euler`` file with ``dt = 1`` gives ``exp(-(1 - alpha))``,
which is 0.497 instead of 0.3. ``zero_order_hold`` cannot express ``alpha = 0``.

What the graph captures exactly, under the stated ``dt`` and discretisation:

* the current ``W s + b`` every step (the bias enters every step, as in our model);
* the leak ``alpha``, the strict threshold ``v > theta`` and the spike trains. NIR
  resets ``v`` to ``v_reset = 0`` right after the spike. Our model resets one step
  later, through the factor ``(1 - s_{t-1})`` of ``v_t = alpha v_{t-1}(1 - s_{t-1}) + I_t``.
  Both give the same ``v_t`` at every step that follows, and therefore the same spikes;
* ``'delayed'`` timing, as one ``Delay`` of ``dt`` per connection, and ``'same_step'``
  timing as no delay. Whether other NIR consumers implement ``Delay`` was not checked.

What it does not capture:

* the pre-reset voltage at a spike step (NIR's state there is ``v_reset``);
* the sample structure: ``T`` steps per sample with all state reset to zero before each
  sample (stored only as the ``n_steps`` metadata);
* input spikes as one-step pulses of height 1. In continuous time a spike is an
  impulse, and a continuous-time simulator scales its effect by its own conventions;
* everything used only in training: the pseudo-derivative, feedback weights, error
  neurons and eligibility traces.

:mod:`lava_biograd.export.nir_sim` runs such a graph in numpy with these conventions.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from lava_biograd.atomic import atomic_output
from lava_biograd.reference import BioGradNetwork
from lava_biograd.reference.params import TIMINGS
from lava_biograd.validation import check_choice, check_float

__all__ = ["DEFAULT_DT", "DISCRETIZATIONS", "PRODUCER", "export_nir", "lif_parameters", "read_nir", "to_nir"]

logger = logging.getLogger(__name__)

DISCRETIZATIONS = ("forward_euler", "zero_order_hold")

DEFAULT_DT = 1.0
"""Default time step of an exported graph, in NIR time units."""

PRODUCER = "lava_biograd"


def lif_parameters(alpha: float, discretization: str = "forward_euler", dt: float = DEFAULT_DT) -> tuple:
    """Return ``(tau, r)`` of a NIR ``LIF`` whose discretisation with step ``dt`` gives ``v_t = alpha v_{t-1} + I_t``.

    ``forward_euler``: ``tau = dt / (1 - alpha)``. ``zero_order_hold``:
    ``tau = -dt / ln(alpha)``. Both: ``r = 1 / (1 - alpha)``. ``alpha = 1`` has no
    finite ``tau`` (it is ``nir.IF``), and ``zero_order_hold`` rejects ``alpha = 0``.
    """
    check_choice("discretization", discretization, DISCRETIZATIONS)
    dt = check_float("dt", dt, minimum=0.0, min_open=True)
    alpha = check_float("alpha (vdecay)", alpha, minimum=0.0, maximum=1.0)
    if alpha == 1.0:
        raise ValueError("alpha = 1 has no leak and no finite tau; it is exported as nir.IF")
    r = 1.0 / (1.0 - alpha)
    if discretization == "forward_euler":
        return dt * r, r
    if alpha == 0.0:
        raise ValueError("zero_order_hold cannot express alpha = 0 (tau = 0); export with forward_euler")
    return -dt / np.log(alpha), r


def to_nir(net: BioGradNetwork, timing: str | None = None, discretization: str = "forward_euler",
           dt: float = DEFAULT_DT):
    """Build the ``nir.NIRGraph`` of the forward network of ``net``.

    Parameters
    ----------
    net : BioGradNetwork
    timing : {'same_step', 'delayed'}, optional
        Timing the graph encodes; the network's own timing when omitted.
    discretization : {'forward_euler', 'zero_order_hold'}
        Rule that the LIF parameters are chosen for (see the module docstring).
    dt : float
        Length of one time step in NIR time units.

    Returns
    -------
    nir.NIRGraph
    """
    import nir

    if not isinstance(net, BioGradNetwork):
        raise TypeError(f"net must be a BioGradNetwork, got {type(net).__name__}")
    timing = net.config.timing if timing is None else check_choice("timing", timing, TIMINGS)
    check_choice("discretization", discretization, DISCRETIZATIONS)
    dt = check_float("dt", dt, minimum=0.0, min_open=True)
    sizes = net.config.sizes
    nodes = {"input": nir.Input(input_type={"input": np.array([sizes[0]])})}
    edges = []
    previous = "input"
    for index, (w, b, neuron) in enumerate(zip(net.weights, net.biases, net.neurons)):
        n_out, n_in = w.shape
        if timing == "delayed":
            delay = f"delay_{index}"
            nodes[delay] = nir.Delay(delay=np.full(n_in, dt))
            edges.append((previous, delay))
            previous = delay
        affine = f"affine_{index}"
        nodes[affine] = nir.Affine(weight=np.array(w), bias=np.array(b))
        edges.append((previous, affine))
        soma = f"lif_{index}"
        nodes[soma] = _soma_node(nir, n_out, neuron.vdecay, neuron.vth, discretization, dt)
        edges.append((affine, soma))
        previous = soma
    nodes["output"] = nir.Output(output_type={"output": np.array([sizes[-1]])})
    edges.append((previous, "output"))
    metadata = {"dt": dt, "discretization": discretization, "timing": timing,
                "n_steps": int(net.config.n_steps), "producer": PRODUCER}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)


def _soma_node(nir, n: int, alpha: float, theta: float, discretization: str, dt: float):
    threshold = np.full(n, theta, dtype=np.float64)
    reset = np.zeros(n, dtype=np.float64)
    if alpha == 1.0:
        return nir.IF(r=np.full(n, 1.0 / dt), v_threshold=threshold, v_reset=reset)
    tau, r = lif_parameters(alpha, discretization, dt)
    return nir.LIF(tau=np.full(n, tau), r=np.full(n, r), v_leak=np.zeros(n), v_threshold=threshold, v_reset=reset)


def export_nir(net: BioGradNetwork, path, timing: str | None = None, discretization: str = "forward_euler",
               dt: float = DEFAULT_DT) -> Path:
    """Write the NIR graph of ``net`` (see :func:`to_nir`) to ``path``, atomically.

    The graph is written to a temporary file beside ``path``, read back with
    ``nir.read``, and only then renamed onto ``path``.
    """
    import nir

    graph = to_nir(net, timing=timing, discretization=discretization, dt=dt)
    path = Path(path)
    with atomic_output(path) as tmp:
        nir.write(tmp, graph)
        read_nir(tmp)
    logger.info("wrote NIR graph %s: sizes %s, timing %s, %s with dt=%g", path, net.config.sizes,
                graph.metadata["timing"], discretization, dt)
    return path


def read_nir(path):
    """Return the ``nir.NIRGraph`` stored in ``path``.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        The file is not HDF5 or does not contain a valid NIR graph.
    """
    import h5py
    import nir

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"NIR file {str(path)!r} not found")
    if not h5py.is_hdf5(path):
        raise ValueError(f"{str(path)!r} is not an HDF5 file; a NIR file is HDF5")
    try:
        return nir.read(path)
    except (KeyError, ValueError, AssertionError, TypeError) as error:
        raise ValueError(f"{str(path)!r} is not a valid NIR file: {error!r}") from error
