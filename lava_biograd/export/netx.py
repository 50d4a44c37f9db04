"""Export the forward network to lava-dl's netx HDF5 format, read it back, and run it in Lava.

File layout (the subset of netx's format that lava-dl 0.6.0 ``netx.hdf5.Network`` reads)::

    simulation/Ts = 1, simulation/tSample = T
    layer/0/type = [b"input"], layer/0/shape = [n_0]
    layer/<l>/type = [b"dense"], shape = [n_l], inFeatures, outFeatures
    layer/<l>/weight   (n_l, n_{l-1}) float32 with integer values (netx casts with astype(int))
    layer/<l>/bias     (n_l,) float32 with integer values (netx maps it to bias_mant, bias_exp = 6)
    layer/<l>/neuron/  type = [b"CUBA"], iDecay = 4096, vDecay, vThMant, refDelay = 1, gradedSpike = False
    lava_biograd/      attrs format_version, network (JSON config), dtype, source (JSON);
                       dataset scale (n_layers,) float64: integer units per float unit;
                       fixed-point exports only: attrs precision = 'fixed', fixed_format (JSON)

For a float :class:`~lava_biograd.reference.BioGradNetwork` the integers come from
:mod:`lava_biograd.export.quantize`, which documents the scaling of every quantity.
netx ignores the ``lava_biograd`` group. :func:`load_network_file` uses it to rebuild
the float network (weights and biases dequantised, neuron parameters as trained).

Fixed-point networks. A :class:`~lava_biograd.reference.fixed.FixedBioGradNetwork` is
written with its own integers, without quantising again, so that netx computes the
simulator's dynamics bit for bit. Per layer, with the format's ``weight_exp`` ``e``,
``bias_exp`` ``k``, ``vth_mant``, ``decay`` and ``S = 2^scale_exp``:

==================  ======================================  ===============================  ======================================
quantity            simulator                               netx file                        Lava model built by netx
==================  ======================================  ===============================  ======================================
synaptic input      ``shift(W_mant x, e)`` (floor if e<0)   ``weight = W_mant 2^e``          ``Dense`` sums ``weight x`` exactly
bias                ``bias_mant << k``                      ``bias = bias_mant 2^(k - 6)``   ``bias_mant = bias``, ``bias_exp = 6``
threshold           ``v > vth_mant << 6``                   ``vThMant = vth_mant``           ``vth``, compared after ``<< 6``
voltage decay       ``decay_0(v, dv)``, toward zero         ``vDecay = decay``               ``dv``, sign-magnitude truncation
current             none: ``I_t`` from this step only       ``iDecay = 4096``                ``du = 4095``, plus offset 1: no memory
current wrap        ``wrap_24((.) << 6)``                   (none)                           same single 24-bit wrap of ``u``
voltage saturation  ``+-(2^23 - 1)``                        (none)                           same clip of ``v``
scale metadata      ``S``                                   ``scale = 2^(scale_exp - 6)``    (ignored)
==================  ======================================  ===============================  ======================================

* Weights. netx has no weight exponent of its own: ``optimize_weight_bits``
  (lava-dl 0.6.0) shifts the file's integers left by ``s`` bits into the 8-bit synapse
  and sets ``weight_exp = -s``, so Lava's ``Dense`` outputs ``weight x`` for any
  integers in its range. The simulator's input ``shift(W_mant x, e)`` has that form
  when ``e >= 0``, and when ``e < 0`` and every mantissa is a multiple of ``2^-e``
  (always for ``e = -1``, because mantissas are even). Otherwise it floors the sum,
  which no netx file reproduces. The written ``weight`` must also lie in
  [-256, 254], the range netx keeps without clipping. :func:`_netx_weight_bits` and
  :func:`_lava_dense_weights` recompute both libraries' steps, and the export checks
  that they give back ``weight``. Layers with one sign only can fail that check,
  because Lava's ``Dense`` clips inhibitory weights at -255 while netx shifts them
  to -256.
* Bias. netx fixes ``bias_exp = 6``. ``bias_mant 2^(k - 6)`` must be an integer in
  the 13-bit range, which holds for every mantissa when ``k = 6``.
* :data:`NETX_FORMAT_OPTIONS` are the ``choose_format`` options (``weight_exp`` in
  [-1, 0], ``bias_exp = 6``) under which every mantissa that training can reach has
  an exact netx form, unless all weights of a layer are zero or share one sign. Pass
  them to ``FixedBioGradNetwork.from_float`` before training. Other formats export
  only when the actual values fit, and otherwise raise ``ValueError`` naming the
  layer, the values and this fix.
* Reset. The simulator computes ``v_t = decay_0(v_{t-1} (1 - s_{t-1})) + I_t``, and
  Lava's LIF sets ``v = 0`` in the spike step. ``decay_0(0) = 0``, so both enter the
  next step with ``v = 0`` and their spike trains are identical. Only the stored
  voltage in a spike step differs.
* Timing. The simulator always uses ``'delayed'`` timing: one step of delay per
  connection, which is Lava's ``Dense`` buffer (see below). Run the file with
  ``run_netx(path, x, timing='delayed')``.
* Lava sends the sum ``weight x`` to the LIF as a 32-bit integer, and the LIF shifts
  it left by 6 bits in 32 bits. The export therefore also checks
  ``64 max_i sum_j |weight_ij| < 2^31``. The simulator computes in 64 bits, so the two
  would differ beyond that bound.

:func:`load_network_file` rebuilds a ``FixedBioGradNetwork`` from such a file
(``W_mant = weight 2^-e``, ``bias_mant = bias 2^(6 - k)``). The float feedback masters
and the rounding streams are not stored: the feedback is set to the product of the
dequantised downstream weights, and the rounding streams start from seed 0.

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
from dataclasses import asdict, dataclass
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
from lava_biograd.reference.fixed import FixedBioGradNetwork, FixedPointFormat, LayerFormat
from lava_biograd.reference.fixed.quantisation import VTH_SHIFT, dequantise_weights
from lava_biograd.reference.params import TIMINGS
from lava_biograd.validation import check_array, check_choice, check_float, check_int

__all__ = [
    "FORMAT_VERSION",
    "METADATA_GROUP",
    "NETX_FORMAT_OPTIONS",
    "NetxFile",
    "export_netx",
    "fixed_netx_layers",
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

NETX_BIAS_EXP = 6
"""Bias exponent that netx gives every CUBA neuron (lava-dl 0.6.0)."""

NETX_FORMAT_OPTIONS = {"weight_exp_bounds": (-1, 0), "bias_exp": NETX_BIAS_EXP}
"""``choose_format`` options of a fixed-point network that :func:`export_netx` writes exactly.

Use ``FixedBioGradNetwork.from_float(net, rng, **NETX_FORMAT_OPTIONS)``. The bound
``weight_exp <= 0`` lowers ``S`` until the layer with the largest weights fits, so layers
with smaller weights get fewer mantissa bits. For example, the initial 784-64-10 MNIST
network of the tests gets ``S = 2^15`` and hidden mantissas of at most 36 (of 254).
"""

FIXED_PRECISION = "fixed"
ACCUMULATOR_LIMIT = 2**31  # Lava's LIF shifts the 32-bit input sum W x left by 6 bits in 32 bits


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
    fixed_format : FixedPointFormat or None
        The fixed-point format of a ``FixedBioGradNetwork`` export; None for float exports
        and other files.
    """

    layers: list
    n_inputs: int
    n_steps: int | None
    config: NetworkConfig | None
    dtype: str
    source: dict
    fixed_format: FixedPointFormat | None = None

    @property
    def sizes(self) -> tuple:
        """Layer sizes ``(n_0, n_1, ..., n_o)``."""
        return (self.n_inputs, *(layer.shape[0] for layer in self.layers))


# --------------------------------------------------------------------------- export
def export_netx(net: BioGradNetwork | FixedBioGradNetwork, path, source: dict | None = None) -> Path:
    """Write the forward network of ``net`` as a netx HDF5 file, atomically.

    A float network is quantised by :func:`lava_biograd.export.quantize.quantize_network`.
    A fixed-point network is written with its own integers (:func:`fixed_netx_layers`),
    so that netx computes exactly the simulator's dynamics.

    Parameters
    ----------
    net : BioGradNetwork or FixedBioGradNetwork
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
        A layer cannot be quantised (see :func:`lava_biograd.export.quantize.quantize_layer`),
        or a fixed-point layer has no exact netx form (see :func:`fixed_netx_layers`).
    """
    if isinstance(net, FixedBioGradNetwork):
        layers = fixed_netx_layers(net)
        fixed_format = _format_to_dict(net.fmt)
    elif isinstance(net, BioGradNetwork):
        layers = quantize_network(net)
        fixed_format = None
    else:
        raise TypeError(f"net must be a BioGradNetwork or FixedBioGradNetwork, got {type(net).__name__}")
    source_json = json.dumps(dict(source or {}))
    path = Path(path)
    with atomic_output(path) as tmp:
        _write_file(tmp, net, layers, source_json, fixed_format)
        written = read_netx(tmp)
        _check_written(layers, written)
    logger.info("wrote netx network %s: sizes %s, precision %s, scales %s", path, net.config.sizes,
                "fixed" if fixed_format else "float", ", ".join(f"{layer.scale:.4g}" for layer in layers))
    return path


# --------------------------------------------------------------------------- fixed-point mapping
def _netx_weight_bits(weight: np.ndarray) -> tuple:
    """Return ``(weights, num_weight_bits, weight_exp)`` that netx passes to Lava's ``Dense``.

    Recomputes ``optimize_weight_bits`` of lava-dl 0.6.0 (``lava.lib.dl.netx.utils``) for
    the integer file weights ``weight``. Mixed-sign weights above 254 or below -256 are
    clipped to [-256, 254]. Then, with ``p`` the largest power of two (at most ``2^8``)
    that divides every weight and ``m = 1`` for mixed signs (0 otherwise)::

        scale = min(127 / max, -128 / min)  (mixed), 255 / max  (all >= 0), -256 / min  (all < 0)
        s = floor(log2(scale)) + m,   weights = weight << s,   weight_exp = -s
        num_weight_bits = 8 - s - (log2(p) - m)

    Raises ``ValueError`` where netx itself fails: all weights zero (infinite scale),
    or a negative ``s``, which would shift by a negative amount.
    """
    weight = np.asarray(weight, dtype=np.int64)
    high, low = int(weight.max()), int(weight.min())
    if low < 0 and (high > NETX_WEIGHT_MAX or (low < NETX_WEIGHT_MIN and high > 0)):
        weight = np.clip(weight, NETX_WEIGHT_MIN, NETX_WEIGHT_MAX)
        high, low = int(weight.max()), int(weight.min())
    if high == 0 and low == 0:
        raise ValueError("every weight of the layer is zero, and netx cannot load such a layer "
                         "(its weight scale is infinite); remove the layer or train it")
    if high < 0:
        signed, scale = 0, -256.0 / low
    elif low >= 0:
        signed, scale = 0, 255.0 / high
    else:
        signed = 1
        scale = min(127.0 / high if high > 0 else np.inf, -128.0 / low)
    shift = int(np.floor(np.log2(scale))) + signed
    if shift < 0:
        raise ValueError(f"netx would shift weights in [{low}, {high}] by {shift} bits, which is undefined; "
                         f"keep integer weights within [{NETX_WEIGHT_MIN}, {NETX_WEIGHT_MAX}]")
    zero_bits = 8
    while zero_bits > 0 and np.any(weight % (1 << zero_bits)):
        zero_bits -= 1
    num_weight_bits = 8 - shift - (zero_bits - signed)
    return np.left_shift(weight, shift), num_weight_bits, -shift


def _lava_dense_weights(weights: np.ndarray, num_weight_bits: int) -> np.ndarray:
    """Return the weights that Lava's fixed-point ``Dense`` multiplies with (lava-nc 0.10.0).

    ``PyDenseModelBitAcc`` takes the sign mode from the weights (all >= 0: excitatory,
    all <= 0: inhibitory, else mixed) and clips them to [0, 255], [-255, 0] or
    [-256, 255]. It then rounds them toward minus infinity to a multiple of
    ``2^(8 - num_weight_bits + m)`` (``m = 1`` for mixed signs), inhibitory weights
    after negating them.
    """
    weights = np.asarray(weights, dtype=np.int64)
    if weights.min() >= 0:
        sign, low, high, mixed = 1, 0, 255, 0
    elif weights.max() <= 0:
        sign, low, high, mixed = -1, 0, 255, 0
    else:
        sign, low, high, mixed = 1, -256, 255, 1
    values = np.clip(sign * weights, low, high)
    cleared_bits = 8 - num_weight_bits + mixed
    if cleared_bits < 0:
        raise ValueError(f"Lava's Dense would truncate weights by {cleared_bits} bits, which is undefined")
    return sign * ((values >> cleared_bits) << cleared_bits)


def _netx_input_weights(mantissa: np.ndarray, weight_exp: int, index: int) -> np.ndarray:
    """Return integer weights ``W`` with ``W x = shift(W_mant x, weight_exp)`` for all 0/1 inputs ``x``."""
    mantissa = np.asarray(mantissa, dtype=np.int64)
    if weight_exp >= 0:
        weight = np.left_shift(mantissa, weight_exp)
    else:
        divisor = 1 << -weight_exp
        if np.any(mantissa % divisor):
            raise ValueError(
                f"layer {index}: weight_exp={weight_exp} floors the sum W_mant x / {divisor}, and netx has no "
                f"weight exponent to do that; only mantissas that are multiples of {divisor} could be written. "
                "Quantise the float network with FixedBioGradNetwork.from_float(net, rng, **NETX_FORMAT_OPTIONS) "
                "(weight_exp in [-1, 0]) before training"
            )
        weight = mantissa >> -weight_exp
    low, high = int(weight.min()), int(weight.max())
    if low < NETX_WEIGHT_MIN or high > NETX_WEIGHT_MAX:
        raise ValueError(
            f"layer {index}: W_mant 2^{weight_exp} spans [{low}, {high}], outside the integer weights "
            f"[{NETX_WEIGHT_MIN}, {NETX_WEIGHT_MAX}] that netx keeps without clipping. Quantise the float network "
            "with FixedBioGradNetwork.from_float(net, rng, **NETX_FORMAT_OPTIONS) (weight_exp in [-1, 0]) "
            "before training"
        )
    return weight


def _check_netx_synapse(weight: np.ndarray, index: int) -> None:
    """Raise unless netx and Lava's ``Dense`` turn ``weight`` into a synapse that outputs ``weight x``."""
    shifted, num_weight_bits, weight_exp = _netx_weight_bits(weight)
    used = _lava_dense_weights(shifted, num_weight_bits)
    # weight_exp = -s <= 0, and Lava's Dense shifts the sum right by s: exact for multiples of 2^s.
    expected = np.left_shift(weight, -weight_exp)
    if not np.array_equal(used, expected):
        changed = int(np.count_nonzero(used != expected))
        raise ValueError(
            f"layer {index}: netx and Lava's Dense change {changed} of the integer weights in "
            f"[{int(weight.min())}, {int(weight.max())}] (weight_exp={weight_exp}, {num_weight_bits} weight "
            "bits); this happens when all weights of a layer have one sign. Train further, or export "
            "net.to_float(), which netx quantises again"
        )
    # The largest |W x| over 0/1 inputs x: all inputs with weights of one sign spike.
    positive = np.where(weight > 0, weight, 0).sum(axis=1)
    negative = np.where(weight < 0, -weight, 0).sum(axis=1)
    peak = int(max(positive.max(), negative.max())) << VTH_SHIFT
    if peak >= ACCUMULATOR_LIMIT:
        raise ValueError(f"layer {index}: the synaptic input can reach {peak} after the shift by {VTH_SHIFT}, "
                         f"which overflows the 32-bit input of Lava's LIF (limit {ACCUMULATOR_LIMIT}); "
                         "use fewer inputs per neuron or smaller weights")


def _netx_bias(mantissa: np.ndarray, bias_exp: int, index: int) -> np.ndarray:
    """Return netx bias mantissas ``bias_mant 2^(bias_exp - 6)``, which netx shifts back by 6."""
    mantissa = np.asarray(mantissa, dtype=np.int64)
    if bias_exp >= NETX_BIAS_EXP:
        bias = np.left_shift(mantissa, bias_exp - NETX_BIAS_EXP)
    else:
        divisor = 1 << (NETX_BIAS_EXP - bias_exp)
        if np.any(mantissa % divisor):
            raise ValueError(
                f"layer {index}: bias_exp={bias_exp} is below netx's fixed bias exponent {NETX_BIAS_EXP}, so "
                f"only bias mantissas that are multiples of {divisor} could be written. Quantise the float "
                "network with FixedBioGradNetwork.from_float(net, rng, **NETX_FORMAT_OPTIONS) (bias_exp=6) "
                "before training"
            )
        bias = mantissa >> (NETX_BIAS_EXP - bias_exp)
    if bias.size and (bias.min() < BIAS_MANT_MIN or bias.max() > BIAS_MANT_MAX):
        raise ValueError(
            f"layer {index}: bias_mant 2^{bias_exp - NETX_BIAS_EXP} spans [{int(bias.min())}, {int(bias.max())}], "
            f"outside the 13-bit range [{BIAS_MANT_MIN}, {BIAS_MANT_MAX}] of netx's bias at exponent "
            f"{NETX_BIAS_EXP}. Quantise the float network with FixedBioGradNetwork.from_float(net, rng, "
            "**NETX_FORMAT_OPTIONS) (bias_exp=6) before training"
        )
    return bias


def fixed_netx_layers(net: FixedBioGradNetwork) -> list:
    """Return the netx integers of a fixed-point network, layer by layer, without rounding.

    The module docstring gives the mapping. ``scale`` of every layer is
    ``2^(scale_exp - 6)``: netx weights, biases and thresholds divided by it are the
    float values that the format represents.

    Raises
    ------
    TypeError
        ``net`` is not a ``FixedBioGradNetwork``.
    ValueError
        A weight exponent floors a sum that netx cannot floor, a weight or bias leaves
        netx's range, or netx and Lava's ``Dense`` would change a weight. The message
        names the layer and the values, and how to train an exportable network.
    """
    if not isinstance(net, FixedBioGradNetwork):
        raise TypeError(f"net must be a FixedBioGradNetwork, got {type(net).__name__}")
    fmt = net.fmt
    scale = float(2.0 ** (fmt.scale_exp - VTH_SHIFT))
    layers = []
    for index, (layer, mantissa, bias_mant) in enumerate(zip(fmt.layers, net.weights, net.biases)):
        weight = _netx_input_weights(mantissa, layer.weight_exp, index)
        _check_netx_synapse(weight, index)
        bias = _netx_bias(bias_mant, layer.bias_exp, index)
        layers.append(QuantizedLayer(weight=weight.astype(np.int32), bias=bias.astype(np.int32),
                                     v_th_mant=layer.vth_mant, v_decay=layer.decay, scale=scale))
    return layers


def _format_to_dict(fmt: FixedPointFormat) -> dict:
    return {"scale_exp": fmt.scale_exp, "error_scale": fmt.error_scale,
            "trace_approximation": fmt.trace_approximation, "layers": [asdict(layer) for layer in fmt.layers]}


def _format_from_dict(spec: dict) -> FixedPointFormat:
    spec = dict(spec)
    layers = tuple(LayerFormat(**layer) for layer in spec.pop("layers"))
    return FixedPointFormat(layers=layers, **spec)


def _write_string(group, name: str, value: str) -> None:
    group.create_dataset(name, (1,), f"S{max(len(value), 1)}", [value.encode("ascii")])


def _write_file(path: Path, net, layers: list, source_json: str, fixed_format: dict | None) -> None:
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
        if fixed_format is not None:
            meta.attrs["precision"] = FIXED_PRECISION
            meta.attrs["fixed_format"] = json.dumps(fixed_format)


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
            fixed_format = _read_fixed_format(handle[METADATA_GROUP], path)
        else:
            config, dtype, source, scales, fixed_format = None, "float32", {}, None, None
    if scales is not None:
        layers = _attach_scales(layers, scales, config, n_inputs, path, fixed_format)
    return NetxFile(layers=layers, n_inputs=n_inputs, n_steps=n_steps, config=config, dtype=dtype, source=source,
                    fixed_format=fixed_format)


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


def _read_fixed_format(group, path: Path) -> FixedPointFormat | None:
    where = f"{path.name}: {METADATA_GROUP}"
    precision = str(group.attrs.get("precision", "float"))
    if precision == "float":
        return None
    if precision != FIXED_PRECISION:
        raise ValueError(f"{where} gives precision {precision!r}; expected 'float' or 'fixed'")
    try:
        return _format_from_dict(json.loads(group.attrs["fixed_format"]))
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{where} has no valid fixed_format ({error}); export the checkpoint again") from error


def _check_fixed_layers(layers: list, scales: np.ndarray, fmt: FixedPointFormat, path: Path) -> None:
    if len(fmt.layers) != len(layers):
        raise ValueError(f"{path.name}: the fixed_format has {len(fmt.layers)} layers, the file {len(layers)}; "
                         "the file was changed after export")
    scale = 2.0 ** (fmt.scale_exp - VTH_SHIFT)
    for index, (layer, stored, spec) in enumerate(zip(layers, scales, fmt.layers)):
        if stored != scale or layer.v_th_mant != spec.vth_mant or layer.v_decay != spec.decay:
            raise ValueError(
                f"{path.name}: layer {index} has vThMant={layer.v_th_mant}, vDecay={layer.v_decay}, scale={stored}, "
                f"but the fixed_format gives {spec.vth_mant}, {spec.decay}, {scale}; the file was changed after export"
            )


def _attach_scales(layers: list, scales: np.ndarray, config: NetworkConfig, n_inputs: int, path: Path,
                   fixed_format: FixedPointFormat | None = None) -> list:
    sizes = (n_inputs, *(layer.shape[0] for layer in layers))
    if tuple(config.sizes) != sizes or scales.shape != (len(layers),):
        raise ValueError(
            f"{path.name}: the {METADATA_GROUP} group describes sizes {config.sizes} with {scales.size} scales, "
            f"but the layers have sizes {sizes}; the file was changed after export"
        )
    if fixed_format is not None:
        # The config keeps the neuron parameters as trained, and the format contains the integers actually used.
        _check_fixed_layers(layers, scales, fixed_format, path)
        return [QuantizedLayer(weight=layer.weight, bias=layer.bias, v_th_mant=layer.v_th_mant,
                               v_decay=layer.v_decay, scale=float(scale)) for layer, scale in zip(layers, scales)]
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


def load_network_file(path, n_steps: int | None = None) -> BioGradNetwork | FixedBioGradNetwork:
    """Rebuild a network for inference from a netx ``.net`` file.

    * Fixed-point files from :func:`export_netx` (``precision = 'fixed'``): a
      ``FixedBioGradNetwork`` with the stored format and config and the mantissas
      ``W_mant = W_int 2^-weight_exp`` and ``bias_mant = bias 2^(6 - bias_exp)``, which
      are exactly the exported ones. Its rounding streams start from seed 0.

    Otherwise a float ``BioGradNetwork`` is returned, with weights and biases
    dequantised: ``W = W_int / scale``, ``b = bias_mant / scale``.

    * Float files from :func:`export_netx`: the stored scale per layer and the stored
      config (sizes, ``T``, ``t0``, timing and the neuron parameters as trained).
    * Other files (a chain of CUBA dense layers, see :func:`read_netx`):
      ``scale = vThMant``, so ``theta = 1``, and ``alpha = (4096 - vDecay) / 4096``.
      The training parameters ``grad_win`` and ``grad_amp`` are set to 1 and ``t0``
      to 0, because inference does not use them. ``T`` is ``simulation/tSample``
      unless ``n_steps`` is given. The timing is ``'delayed'``, which netx's Dense
      chain computes for one sample from a zero state.

    The feedback weights are not part of the file. They are set to the product of the
    (dequantised) downstream forward weights, so the returned network can also be
    trained further.

    Parameters
    ----------
    path : path-like
    n_steps : int, optional
        Time steps per sample; overrides the file's ``T``.

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`read_netx`; ``ValueError`` also when a foreign file has no
        ``simulation/tSample`` and ``n_steps`` is not given, or when the integers of a
        fixed-point file do not fit its format.
    """
    model = read_netx(path)
    if n_steps is not None:
        n_steps = check_int("n_steps", n_steps, minimum=1)
    if model.config is not None:
        config = model.config
        if n_steps is not None:
            config = NetworkConfig(sizes=config.sizes, n_steps=n_steps, error_start=min(config.error_start, n_steps - 1),
                                   neuron=config.neuron, timing=config.timing)
        if model.fixed_format is not None:
            return _rebuild_fixed(model, config, Path(path))
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


def _mantissa_from_netx(values: np.ndarray, exponent: int, what: str, path: Path) -> np.ndarray:
    """Return ``values 2^exponent`` as integers; raise if the product is not an integer."""
    values = np.asarray(values, dtype=np.int64)
    if exponent >= 0:
        return np.left_shift(values, exponent)
    if np.any(values % (1 << -exponent)):
        raise ValueError(f"{path.name}: {what} are not multiples of 2^{-exponent}, so they do not fit the stored "
                         "fixed_format; the file was changed after export")
    return values >> -exponent


def _rebuild_fixed(model: NetxFile, config: NetworkConfig, path: Path) -> FixedBioGradNetwork:
    fmt = model.fixed_format
    weights, biases = [], []
    for index, (layer, spec) in enumerate(zip(model.layers, fmt.layers)):
        weights.append(_mantissa_from_netx(layer.weight, -spec.weight_exp, f"layer {index} weights", path))
        biases.append(_mantissa_from_netx(layer.bias, NETX_BIAS_EXP - spec.bias_exp, f"layer {index} biases", path))
        if np.any(weights[-1] % 2) or weights[-1].min() < NETX_WEIGHT_MIN or weights[-1].max() > NETX_WEIGHT_MAX:
            raise ValueError(f"{path.name}: layer {index} weights give mantissas that are not even values in "
                             f"[{NETX_WEIGHT_MIN}, {NETX_WEIGHT_MAX}] at weight_exp={spec.weight_exp}; "
                             "the file was changed after export")
        if biases[-1].min(initial=0) < BIAS_MANT_MIN or biases[-1].max(initial=0) > BIAS_MANT_MAX:
            raise ValueError(f"{path.name}: layer {index} biases give mantissas outside [{BIAS_MANT_MIN}, "
                             f"{BIAS_MANT_MAX}] at bias_exp={spec.bias_exp}; the file was changed after export")
    float_weights = [dequantise_weights(w, spec, fmt.scale_exp) for w, spec in zip(weights, fmt.layers)]
    return FixedBioGradNetwork(config, fmt, weights, biases, init_feedback_product(float_weights),
                               np.random.default_rng(0))


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
