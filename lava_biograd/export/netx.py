"""Export the forward network to lava-dl's netx HDF5 format, read it back, and run it in Lava.

File layout (the subset of netx's format that lava-dl 0.6.0 ``netx.hdf5.Network`` reads)::

    simulation/Ts = 1, simulation/tSample = T
    layer/0/type = [b"input"], layer/0/shape = [n_0]
    layer/<l>/type = [b"dense"], shape = [n_l], inFeatures, outFeatures
    layer/<l>/weight   (n_l, n_{l-1}) float32 with integer values (netx casts with astype(int))
    layer/<l>/bias     (n_l,) float32 with integer values (netx maps it to bias_mant, bias_exp = 6)
    layer/<l>/neuron/  type = [b"CUBA"], iDecay = 4096, vDecay, vThMant, refDelay = 1, gradedSpike = False
    lava_biograd/      attrs format_version, network (JSON config), dtype, source (JSON);
                       dataset scale (n_layers,) float64: integer units per float unit

The integers come from :mod:`lava_biograd.export.quantize`, which documents the scaling
of every quantity. netx ignores the ``lava_biograd`` group. :func:`load_network_file`
uses it to rebuild the float network (weights and biases dequantised, neuron
parameters as trained).

Timing in Lava. netx builds ``Dense -> LIF`` per layer. Lava's ``Dense`` sends at step
``t`` what it received at ``t - 1``, and a ``RingBuffer`` source sends column ``t - 1``
at step ``t`` (Lava steps count from 1). Let input column ``t`` contain ``x_t`` and
count reference steps ``t`` from 0 at Lava step ``t + 1``. Then at reference step ``t``:

* the LIF of layer 0 receives ``W_0 x_{t-1}`` (delay 1: the first Dense);
* the LIF of layer ``l`` receives ``W_l s^{l-1}_{t-1}`` (delay 1 per Dense);
* the sink receives the output LIF's spikes of the same step (no delay).

From a zero state this is the reference's ``timing='delayed'``, with reference step
``t`` at Lava step ``t + 1``. :func:`run_netx` realises two timings on one compiled graph:

* ``'delayed'``: samples run one after another, ``T`` steps each. Before each sample
  the voltages and the Dense buffers (spikes in flight) are set to zero, as the
  reference drops spikes in flight at a sample boundary.
* ``'same_step'``: netx's own reset (``reset_interval=T``) clears layer ``l`` at Lava
  steps ``k T + 2 + l``, one step after the layer below. Each layer's window then
  starts when the first spikes of the sample arrive from below, which cancels the
  Dense delays. Layer ``l`` in window step ``t`` receives the spikes of layer ``l-1``
  in window step ``t``: the reference's ``'same_step'`` timing. All samples stream in
  one run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lava_biograd.atomic import atomic_output
from lava_biograd.export.quantize import (
    BIAS_MANT_MAX,
    BIAS_MANT_MIN,
    DECAY_UNITY,
    V_TH_MANT_MAX,
    QuantizedLayer,
    alpha_from_decay,
    quantize_network,
    voltage_decay,
)
from lava_biograd.reference import BioGradNetwork, NetworkConfig, NeuronParams
from lava_biograd.reference.feedback import init_feedback_product
from lava_biograd.reference.params import TIMINGS
from lava_biograd.validation import check_array, check_choice, check_float, check_int

__all__ = [
    "FORMAT_VERSION",
    "METADATA_GROUP",
    "NetxFile",
    "export_netx",
    "load_network_file",
    "read_netx",
    "run_netx",
]

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
"""Version of the ``lava_biograd`` metadata group."""

METADATA_GROUP = "lava_biograd"

NEURON_TYPES = ("CUBA", "LOIHI")
NETX_WEIGHT_MIN, NETX_WEIGHT_MAX = -256, 254  # netx clips mixed-sign integer weights to this range
FOREIGN_ERROR_START = 0


@dataclass(frozen=True)
class NetxFile:
    """Contents of a netx network file that :func:`read_netx` understands.

    Attributes
    ----------
    layers : list of QuantizedLayer
        Dense layers in order. ``scale`` is the stored scale for files written by
        :func:`export_netx`, and ``vThMant`` for other files (their threshold becomes 1).
    n_inputs : int
        Input size ``n_0``.
    n_steps : int or None
        ``simulation/tSample`` when present.
    config : NetworkConfig or None
        The trained network's config from the ``lava_biograd`` group (None for other files).
    dtype : str
        Float dtype of the exported network (``'float32'`` for other files).
    source : dict
        Facts about the checkpoint (dataset, seed, ...) stored at export; empty otherwise.
    """

    layers: list
    n_inputs: int
    n_steps: int | None
    config: NetworkConfig | None
    dtype: str
    source: dict

    @property
    def sizes(self) -> tuple:
        """Layer sizes ``(n_0, n_1, ..., n_o)``."""
        return (self.n_inputs, *(layer.shape[0] for layer in self.layers))


# --------------------------------------------------------------------------- export
def export_netx(net: BioGradNetwork, path, source: dict | None = None) -> Path:
    """Write the forward network of ``net`` as a netx HDF5 file, atomically.

    Parameters
    ----------
    net : BioGradNetwork
    path : path-like
        Output file, conventionally ``*.net``. It is replaced only after the complete
        file was written and read back successfully.
    source : dict, optional
        JSON-serialisable facts about the origin (for example the checkpoint's dataset
        and seed), stored in the ``lava_biograd`` group.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        A layer cannot be quantised (see :func:`lava_biograd.export.quantize.quantize_layer`).
    """
    if not isinstance(net, BioGradNetwork):
        raise TypeError(f"net must be a BioGradNetwork, got {type(net).__name__}")
    source_json = json.dumps(dict(source or {}))
    layers = quantize_network(net)
    path = Path(path)
    with atomic_output(path) as tmp:
        _write_file(tmp, net, layers, source_json)
        written = read_netx(tmp)
        _check_written(layers, written)
    logger.info("wrote netx network %s: sizes %s, scales %s", path, net.config.sizes,
                ", ".join(f"{layer.scale:.4g}" for layer in layers))
    return path


def _write_string(group, name: str, value: str) -> None:
    group.create_dataset(name, (1,), f"S{max(len(value), 1)}", [value.encode("ascii")])


def _write_file(path: Path, net: BioGradNetwork, layers: list, source_json: str) -> None:
    import h5py

    config = net.config
    with h5py.File(path, "w") as handle:
        simulation = handle.create_group("simulation")
        simulation.create_dataset("Ts", data=1)
        simulation.create_dataset("tSample", data=config.n_steps)
        layer_root = handle.create_group("layer")
        first = layer_root.create_group("0")
        _write_string(first, "type", "input")
        first.create_dataset("shape", data=np.array([config.sizes[0]]))
        for index, layer in enumerate(layers, start=1):
            _write_dense(layer_root.create_group(str(index)), layer)
        meta = handle.create_group(METADATA_GROUP)
        meta.attrs["format_version"] = FORMAT_VERSION
        meta.attrs["network"] = json.dumps(config.to_dict())
        meta.attrs["dtype"] = net.dtype.name
        meta.attrs["source"] = source_json
        meta.create_dataset("scale", data=np.array([layer.scale for layer in layers], dtype=np.float64))


def _write_dense(group, layer: QuantizedLayer) -> None:
    n_out, n_in = layer.shape
    _write_string(group, "type", "dense")
    group.create_dataset("shape", data=np.array([n_out]))
    group.create_dataset("inFeatures", data=n_in)
    group.create_dataset("outFeatures", data=n_out)
    group.create_dataset("weight", data=layer.weight.astype(np.float32))
    group.create_dataset("bias", data=layer.bias.astype(np.float32))
    neuron = group.create_group("neuron")
    _write_string(neuron, "type", "CUBA")
    neuron.create_dataset("iDecay", data=layer.i_decay)
    neuron.create_dataset("vDecay", data=layer.v_decay)
    neuron.create_dataset("vThMant", data=layer.v_th_mant)
    neuron.create_dataset("refDelay", data=1)
    neuron.create_dataset("gradedSpike", data=False)


def _check_written(expected: list, written: NetxFile) -> None:
    for index, (want, got) in enumerate(zip(expected, written.layers)):
        same = (np.array_equal(want.weight, got.weight) and np.array_equal(want.bias, got.bias)
                and want.v_th_mant == got.v_th_mant and want.v_decay == got.v_decay and want.scale == got.scale)
        if not same:
            raise RuntimeError(f"layer {index} read back from the written file differs from the quantised layer")


# --------------------------------------------------------------------------- import
def read_netx(path) -> NetxFile:
    """Read a netx HDF5 file that contains an input layer and a chain of CUBA dense layers.

    Accepted: an optional shape-only ``input`` layer first, then ``dense`` layers whose
    neurons are ``CUBA`` (or ``LOIHI``) with ``iDecay = 4096``, uniform ``vDecay`` and
    ``vThMant``, unary spikes and no synaptic delays. Weights and biases are cast to
    integers as netx casts them (``astype(int)``, truncating toward zero).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        The file is not HDF5, has no or gapped layers, has wrong shapes, or uses a
        layer type, neuron type or feature outside the accepted subset (the message
        names it), or its ``lava_biograd`` group contradicts the layers.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"network file {str(path)!r} not found")
    if not h5py.is_hdf5(path):
        raise ValueError(f"{str(path)!r} is not an HDF5 file; a netx network file (.net) is HDF5")
    with h5py.File(path, "r") as handle:
        layer_groups = _layer_groups(handle, path)
        n_inputs, layers = _read_layers(layer_groups, path)
        n_steps = _read_steps(handle, path)
        if METADATA_GROUP in handle:
            config, dtype, source, scales = _read_metadata(handle[METADATA_GROUP], path)
        else:
            config, dtype, source, scales = None, "float32", {}, None
    if scales is not None:
        layers = _attach_scales(layers, scales, config, n_inputs, path)
    return NetxFile(layers=layers, n_inputs=n_inputs, n_steps=n_steps, config=config, dtype=dtype, source=source)


def _layer_groups(handle, path: Path) -> list:
    if "layer" not in handle:
        raise ValueError(f"{str(path)!r} has no 'layer' group, so it is not a netx network file")
    root = handle["layer"]
    names = list(root.keys())
    if not names:
        raise ValueError(f"{str(path)!r} has an empty 'layer' group; the network has no layers")
    if sorted(names, key=lambda n: (len(n), n)) != [str(i) for i in range(len(names))]:
        raise ValueError(
            f"{str(path)!r}: layers must be numbered 0..{len(names) - 1} without gaps, got {sorted(names)}"
        )
    return [root[str(i)] for i in range(len(names))]


def _read_string(group, name: str, where: str) -> str:
    if name not in group:
        raise ValueError(f"{where} has no '{name}' entry")
    value = group[name][()]
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise ValueError(f"{where}/{name} must hold one string, got shape {value.shape}")
        value = value.reshape(-1)[0]
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    return str(value)


def _read_scalar(group, name: str, where: str) -> float:
    if name not in group:
        raise ValueError(f"{where} has no '{name}' entry")
    values = np.asarray(group[name][()], dtype=np.float64).reshape(-1)
    if values.size == 0 or np.any(values != values[0]):
        raise ValueError(
            f"{where}/{name} must be one value for the whole layer, got {values.size} values "
            f"in [{values.min() if values.size else 'none'}, {values.max() if values.size else 'none'}]; "
            "per-neuron parameters are not supported"
        )
    return float(values[0])


def _read_layers(groups: list, path: Path):
    n_inputs = None
    layers = []
    for index, group in enumerate(groups):
        where = f"{path.name}: layer {index}"
        layer_type = _read_string(group, "type", where)
        if layer_type == "input" and index == 0:
            if "neuron" in group:
                raise ValueError(f"{where} is an input layer with neurons, which is not supported; "
                                 "only a shape-only input layer is")
            n_inputs = int(np.prod(np.asarray(group["shape"][()]))) if "shape" in group else None
            continue
        if layer_type != "dense":
            raise ValueError(
                f"{where} has type {layer_type!r}, which is not supported; only an input layer followed by "
                "'dense' layers with CUBA neurons can be read"
            )
        layer = _read_dense(group, where, n_inputs if not layers else layers[-1].shape[0])
        if n_inputs is None:
            n_inputs = layer.shape[1]
        layers.append(layer)
    if not layers:
        raise ValueError(f"{str(path)!r} has no dense layer; the network must have at least one")
    return n_inputs, layers


def _read_dense(group, where: str, n_in: int | None) -> QuantizedLayer:
    for key in ("delay", "weight_rec"):
        if key in group:
            raise ValueError(f"{where} has '{key}' (synaptic delays or recurrent weights), which is not supported")

    if "weight" not in group or not hasattr(group["weight"], "shape"):
        raise ValueError(f"{where} has no real 'weight' dataset (complex weights are not supported)")
    if "shape" not in group:
        raise ValueError(f"{where} has no 'shape' entry")
    n_out = int(np.prod(np.asarray(group["shape"][()])))
    weight = np.asarray(group["weight"][()]).astype(int)
    if weight.ndim == 1:
        weight = weight.reshape(n_out, -1)
    if weight.ndim != 2 or weight.shape[0] != n_out:
        raise ValueError(f"{where}: weight shape {weight.shape} does not match the layer shape ({n_out},)")
    if n_in is not None and weight.shape[1] != n_in:
        raise ValueError(f"{where}: weight shape {weight.shape} expects {weight.shape[1]} inputs, "
                         f"but the previous layer has {n_in} outputs")
    if weight.min() < NETX_WEIGHT_MIN or weight.max() > NETX_WEIGHT_MAX:
        raise ValueError(f"{where}: integer weights in [{weight.min()}, {weight.max()}] exceed the range "
                         f"[{NETX_WEIGHT_MIN}, {NETX_WEIGHT_MAX}] that netx runs without clipping")

    bias = np.zeros(n_out, dtype=int)
    if "bias" in group:
        bias = np.asarray(group["bias"][()]).astype(int).reshape(-1)
        if bias.shape != (n_out,):
            raise ValueError(f"{where}: bias shape {bias.shape} does not match the layer shape ({n_out},)")
        if bias.min() < BIAS_MANT_MIN or bias.max() > BIAS_MANT_MAX:
            raise ValueError(f"{where}: bias mantissas in [{bias.min()}, {bias.max()}] exceed the 13-bit "
                             f"range [{BIAS_MANT_MIN}, {BIAS_MANT_MAX}]")

    if "neuron" not in group:
        raise ValueError(f"{where} has no 'neuron' group (netx would use a non-spiking integrator); "
                         "a CUBA neuron group is required")
    v_th_mant, v_decay = _read_neuron(group["neuron"], f"{where}/neuron")
    return QuantizedLayer(weight=weight.astype(np.int32), bias=bias.astype(np.int32), v_th_mant=v_th_mant,
                          v_decay=v_decay, scale=float(v_th_mant))


def _read_neuron(group, where: str) -> tuple:
    neuron_type = _read_string(group, "type", where)
    if neuron_type not in NEURON_TYPES:
        raise ValueError(
            f"{where} has neuron type {neuron_type!r}, which is not supported; only CUBA (LOIHI) neurons map to "
            "the BioGrad LIF (SDNN and RF neurons have other dynamics)"
        )
    if "messageBits" in group and _read_scalar(group, "messageBits", where) > 0:
        raise ValueError(f"{where} sends graded spikes (messageBits > 0), which is not supported")
    if "gradedSpike" in group and _read_scalar(group, "gradedSpike", where):
        raise ValueError(f"{where} sends graded spikes (gradedSpike), which is not supported")
    i_decay = _read_scalar(group, "iDecay", where)
    if i_decay != DECAY_UNITY:
        raise ValueError(
            f"{where} has iDecay={i_decay:g}, which keeps a synaptic current between steps; the BioGrad "
            f"neuron has none, so only iDecay={DECAY_UNITY} (full current decay) is supported"
        )
    v_decay = _read_scalar(group, "vDecay", where)
    if v_decay != int(v_decay) or not 0 <= v_decay <= DECAY_UNITY:
        raise ValueError(f"{where}: vDecay must be an integer in [0, {DECAY_UNITY}], got {v_decay:g}")
    v_th_mant = _read_scalar(group, "vThMant", where)
    if v_th_mant != int(v_th_mant) or not 1 <= v_th_mant <= V_TH_MANT_MAX:
        raise ValueError(f"{where}: vThMant must be an integer in [1, {V_TH_MANT_MAX}], got {v_th_mant:g}")
    return int(v_th_mant), int(v_decay)


def _read_steps(handle, path: Path):
    if "simulation" not in handle or "tSample" not in handle["simulation"]:
        return None
    value = _read_scalar(handle["simulation"], "tSample", f"{path.name}: simulation")
    if value != int(value) or value < 1:
        raise ValueError(f"{path.name}: simulation/tSample must be a positive integer, got {value:g}")
    return int(value)


def _read_metadata(group, path: Path):
    where = f"{path.name}: {METADATA_GROUP}"
    version = group.attrs.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(f"{where} has format version {version}, this library reads {FORMAT_VERSION}")
    try:
        config = NetworkConfig.from_dict(json.loads(group.attrs["network"]))
        source = json.loads(group.attrs.get("source", "{}"))
        scales = np.asarray(group["scale"][()], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{where} is damaged or incomplete ({error}); export the checkpoint again") from error
    dtype = str(group.attrs.get("dtype", "float32"))
    if dtype not in ("float32", "float64"):
        raise ValueError(f"{where} gives dtype {dtype!r}; expected 'float32' or 'float64'")
    return config, dtype, source, scales


def _attach_scales(layers: list, scales: np.ndarray, config: NetworkConfig, n_inputs: int, path: Path) -> list:
    sizes = (n_inputs, *(layer.shape[0] for layer in layers))
    if tuple(config.sizes) != sizes or scales.shape != (len(layers),):
        raise ValueError(
            f"{path.name}: the {METADATA_GROUP} group describes sizes {config.sizes} with {scales.size} scales, "
            f"but the layers have sizes {sizes}; the file was changed after export"
        )
    attached = []
    for index, (layer, scale, neuron) in enumerate(zip(layers, scales, config.neuron)):
        if not np.isfinite(scale) or scale <= 0:
            raise ValueError(f"{path.name}: scale of layer {index} must be positive and finite, got {scale}")
        if layer.v_th_mant != int(np.rint(neuron.vth * scale)) or layer.v_decay != voltage_decay(neuron.vdecay):
            raise ValueError(
                f"{path.name}: layer {index} has vThMant={layer.v_th_mant}, vDecay={layer.v_decay}, but the "
                f"{METADATA_GROUP} group gives theta={neuron.vth}, alpha={neuron.vdecay} at scale {scale:.6g}; "
                "the file was changed after export"
            )
        attached.append(QuantizedLayer(weight=layer.weight, bias=layer.bias, v_th_mant=layer.v_th_mant,
                                       v_decay=layer.v_decay, scale=float(scale)))
    return attached


def load_network_file(path, n_steps: int | None = None) -> BioGradNetwork:
    """Rebuild a float ``BioGradNetwork`` for inference from a netx ``.net`` file.

    Weights and biases are dequantised: ``W = W_int / scale``, ``b = bias_mant / scale``.

    * Files from :func:`export_netx`: the stored scale per layer and the stored
      config (sizes, ``T``, ``t0``, timing and the neuron parameters as trained).
    * Other files (a chain of CUBA dense layers, see :func:`read_netx`):
      ``scale = vThMant``, so ``theta = 1``, and ``alpha = (4096 - vDecay) / 4096``.
      The training parameters ``grad_win`` and ``grad_amp`` are set to 1 and ``t0``
      to 0, because inference does not use them. ``T`` is ``simulation/tSample``
      unless ``n_steps`` is given. The timing is ``'delayed'``, which netx's Dense
      chain computes for one sample from a zero state.

    The feedback weights are not part of the file. They are set to the product of the
    downstream forward weights, so the returned network can also be trained further.

    Parameters
    ----------
    path : path-like
    n_steps : int, optional
        Time steps per sample; overrides the file's ``T``.

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`read_netx`; ``ValueError`` also when a foreign file has no
        ``simulation/tSample`` and ``n_steps`` is not given.
    """
    model = read_netx(path)
    if n_steps is not None:
        n_steps = check_int("n_steps", n_steps, minimum=1)
    if model.config is not None:
        config = model.config
        if n_steps is not None:
            config = NetworkConfig(sizes=config.sizes, n_steps=n_steps, error_start=min(config.error_start, n_steps - 1),
                                   neuron=config.neuron, timing=config.timing)
    else:
        steps = n_steps if n_steps is not None else model.n_steps
        if steps is None:
            raise ValueError(f"{str(path)!r} has no simulation/tSample; pass n_steps (time steps per sample)")
        neurons = tuple(NeuronParams(vdecay=alpha_from_decay(layer.v_decay), vth=1.0, grad_win=1.0, grad_amp=1.0)
                        for layer in model.layers)
        config = NetworkConfig(sizes=model.sizes, n_steps=steps, error_start=FOREIGN_ERROR_START, neuron=neurons,
                               timing="delayed")
    dtype = np.dtype(model.dtype)
    weights = [(layer.weight / layer.scale).astype(dtype) for layer in model.layers]
    biases = [(layer.bias / layer.scale).astype(dtype) for layer in model.layers]
    state = {"config": config.to_dict(), "dtype": dtype.name}
    for index, (w, b) in enumerate(zip(weights, biases)):
        state[f"W{index}"], state[f"b{index}"] = w, b
    for index, feedback in enumerate(init_feedback_product(weights)):
        state[f"B{index}"] = feedback
    return BioGradNetwork.from_state_dict(state)


# --------------------------------------------------------------------------- Lava run
def run_netx(path, x, timing: str = "delayed", timeout_s: float = 120.0) -> np.ndarray:
    """Run a netx file in Lava (``Loihi2SimCfg(select_tag='fixed_pt')``); return the output spikes.

    ``RingBuffer source -> netx.hdf5.Network (net.inp ... net.out) -> RingBuffer sink``,
    run through :class:`lava_biograd.lava.runner.LavaSession`. The module docstring
    derives the alignment of Lava steps with reference steps for both timings.

    Parameters
    ----------
    path : path-like
        netx file with an input layer and CUBA dense layers.
    x : ndarray of shape (T, batch, n_0)
        Input spikes (0 or 1); each sample runs for ``T`` steps from a zero state.
    timing : {'delayed', 'same_step'}
        Reference timing to realise. ``'delayed'`` costs one Var write per layer and
        sample for the state reset; ``'same_step'`` streams all samples in one run.
    timeout_s : float
        Limit of each blocking Lava call.

    Returns
    -------
    ndarray of int8, shape (T, batch, n_o)
        Output spikes aligned with the reference's steps.

    Notes
    -----
    Needs lava-dl (``pip install lava-dl==0.6.0``). The sink's buffer is read with one
    message per element (Lava 0.10), so reading takes about ``T * batch * n_o * 30 us``.
    """
    check_choice("timing", timing, TIMINGS)
    timeout_s = check_float("timeout_s", timeout_s, minimum=0.0, min_open=True)
    x = check_array("input spikes", x, ndim=3)
    if x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"input spikes must have at least one step and one sample, got shape {x.shape}")
    if not np.all((x == 0) | (x == 1)):
        raise ValueError("input spikes must be 0 or 1")
    model = read_netx(path)
    if x.shape[2] != model.n_inputs:
        raise ValueError(f"input spikes must have n_0={model.n_inputs} channels (T, batch, n_0), got shape {x.shape}")
    try:
        from lava.lib.dl.netx import hdf5
    except ImportError as error:
        raise ImportError("run_netx needs lava-dl; install it with `pip install lava-dl==0.6.0`") from error
    if timing == "same_step":
        return _run_streamed(hdf5, Path(path), x, len(model.layers), timeout_s)
    return _run_per_sample(hdf5, Path(path), x, timeout_s)


def _source_and_sink(network, data: np.ndarray, n_steps: int):
    from lava.proc.io.sink import RingBuffer as SpikeSink
    from lava.proc.io.source import RingBuffer as SpikeSource

    source = SpikeSource(data=data.astype(np.int32))
    sink = SpikeSink(shape=network.out.shape, buffer=n_steps)
    source.s_out.connect(network.inp)
    network.out.connect(sink.a_in)
    return source, sink


def _columns(x: np.ndarray, total: int) -> np.ndarray:
    """Lay samples end to end: column ``k T + t`` contains ``x[t, k]``, and zeros follow the last sample."""
    n_steps, batch, n_in = x.shape
    data = np.zeros((n_in, total), dtype=np.int32)
    data[:, : batch * n_steps] = x.transpose(2, 1, 0).reshape(n_in, batch * n_steps)
    return data


def _run_streamed(hdf5, path: Path, x: np.ndarray, n_layers: int, timeout_s: float) -> np.ndarray:
    from lava.magma.core.run_configs import Loihi2SimCfg

    from lava_biograd.lava.runner import LavaSession

    n_steps, batch, _ = x.shape
    # reset_offset=1: layer l resets at steps k T + 2 + l (netx adds 1 and then 1 per layer),
    # the step at which sample k's first input column reaches it.
    network = hdf5.Network(net_config=str(path), reset_interval=n_steps, reset_offset=1)
    total = batch * n_steps + n_layers
    source, sink = _source_and_sink(network, _columns(x, total), total)
    with LavaSession(source, Loihi2SimCfg(select_tag="fixed_pt"), timeout_s=timeout_s) as session:
        session.run(total)
        recorded = np.asarray(session.get(sink.data))
    # The output layer (index n_layers - 1) is in window step t of sample k at Lava step
    # k T + 1 + n_layers + t, stored in sink column k T + n_layers + t.
    window = recorded[:, n_layers: n_layers + batch * n_steps]
    return window.reshape(-1, batch, n_steps).transpose(2, 1, 0).astype(np.int8)


def _run_per_sample(hdf5, path: Path, x: np.ndarray, timeout_s: float) -> np.ndarray:
    from lava.magma.core.run_configs import Loihi2SimCfg

    from lava_biograd.lava.runner import LavaSession

    n_steps, batch, _ = x.shape
    network = hdf5.Network(net_config=str(path))
    total = batch * n_steps
    source, sink = _source_and_sink(network, _columns(x, total), total)
    with LavaSession(source, Loihi2SimCfg(select_tag="fixed_pt"), timeout_s=timeout_s) as session:
        for sample in range(batch):
            if sample:
                for block in network.layers:
                    session.set(block.neuron.v, np.zeros(block.neuron.v.shape))
                    session.set(block.synapse.a_buff, np.zeros(block.synapse.a_buff.shape))
            session.run(n_steps)
        recorded = np.asarray(session.get(sink.data))
    # Reference step t of sample k is Lava step k T + 1 + t, stored in sink column k T + t.
    return recorded.reshape(-1, batch, n_steps).transpose(2, 1, 0).astype(np.int8)
