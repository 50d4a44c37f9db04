"""Binary time binning of address events into per-step input spike vectors.

This is the N-MNIST input encoding of the BioGrad authors' pipeline (Tang et al. 2021,
arXiv:2110.14092). Timestamps in microseconds are rounded to whole milliseconds. Events
at or after ``duration_ms`` or outside the sensor are dropped. The remaining events are
gathered into bins of ``bin_ms`` milliseconds, and each bin keeps the maximum (0 or 1)
per input, not the event count. Each step is flattened in (polarity, y, x) order.

Binned spikes are kept 8 inputs per byte (``np.packbits``), and :class:`BinnedEvents`
serves them to the trainer as a :class:`lava_biograd.data.dataset.SpikeDataset`.
"""

from __future__ import annotations

import numpy as np

from lava_biograd.data.dataset import SpikeDataset
from lava_biograd.validation import check_array, check_dtype, check_int, check_labels

#: Sensor size of N-MNIST in tonic's order ``(width, height, polarities)``.
NMNIST_SENSOR_SIZE = (34, 34, 2)

_EVENT_FIELDS = ("x", "y", "t", "p")


def check_binning(duration_ms, bin_ms, sensor_size=NMNIST_SENSOR_SIZE) -> tuple[int, int, tuple[int, int, int]]:
    """Validate binning settings and return them as ``(duration_ms, bin_ms, sensor_size)``.

    ``duration_ms`` must be a whole multiple of ``bin_ms`` so that the number of steps
    ``T = duration_ms / bin_ms`` is an integer. ``sensor_size`` is
    ``(width, height, polarities)`` with positive integer entries.
    """
    duration_ms = check_int("duration_ms", duration_ms, minimum=1)
    bin_ms = check_int("bin_ms", bin_ms, minimum=1)
    if duration_ms % bin_ms != 0:
        raise ValueError(
            f"duration_ms must be a multiple of bin_ms so that the number of steps "
            f"duration_ms / bin_ms is an integer, got duration_ms={duration_ms} and bin_ms={bin_ms}; "
            f"for example duration_ms=300 with bin_ms=5 gives 60 steps"
        )
    if isinstance(sensor_size, (str, bytes)) or not hasattr(sensor_size, "__len__") or len(sensor_size) != 3:
        raise ValueError(
            f"sensor_size must be a sequence (width, height, polarities), got {sensor_size!r}; "
            f"N-MNIST uses {NMNIST_SENSOR_SIZE}"
        )
    width, height, polarities = (
        check_int(f"sensor_size[{i}]", value, minimum=1) for i, value in enumerate(sensor_size)
    )
    return duration_ms, bin_ms, (width, height, polarities)


def microseconds_to_milliseconds(t_us) -> np.ndarray:
    """Round integer timestamps from microseconds to the nearest millisecond.

    Ties (``t_us mod 1000 == 500``) round half to even, so the result equals
    ``np.round(t_us / 1000)``, the rounding of the BioGrad authors' loader:
    2500 µs -> 2 ms, 3500 µs -> 4 ms, 299500 µs -> 300 ms. The computation is in
    integers, so it is exact for any int64 timestamp.

    Parameters
    ----------
    t_us : array_like of int
        Timestamps in microseconds.

    Returns
    -------
    numpy.ndarray of int64
        ``q + [r > 500] + [r == 500 and q odd]`` with ``q, r = divmod(t_us, 1000)``.
    """
    t_us = np.asarray(t_us)
    if t_us.dtype.kind not in "iu":
        raise TypeError(f"t_us must contain integers (microseconds), got dtype {t_us.dtype}")
    quotient, remainder = np.divmod(t_us.astype(np.int64), 1000)
    round_up = (remainder > 500) | ((remainder == 500) & (quotient % 2 == 1))
    return quotient + round_up


def bin_events(events, duration_ms=300, bin_ms=5, sensor_size=NMNIST_SENSOR_SIZE) -> np.ndarray:
    """Bin address events into binary spike vectors, one per time step.

    With ``t_ms = round_half_even(t / 1000)`` (see :func:`microseconds_to_milliseconds`)
    an event is kept when ``0 <= t_ms < duration_ms``, ``0 <= x < W``, ``0 <= y < H``
    and ``0 <= p < P``, and it sets

    ``S[t_ms // bin_ms, p * H * W + y * W + x] = 1``.

    Several events on the same input within one bin still give 1 (the maximum over the
    bin, not the count).

    Parameters
    ----------
    events : numpy structured array
        Fields ``x``, ``y``, ``t`` (microseconds) and ``p`` (0 = OFF, 1 = ON), all
        integers, as returned by :func:`lava_biograd.data.nmnist.read_events` or tonic.
    duration_ms : int, default=300
        Length of the encoded window from ``t = 0``; a multiple of ``bin_ms``.
    bin_ms : int, default=5
        Width of one time step in milliseconds.
    sensor_size : (int, int, int), default=(34, 34, 2)
        ``(W, H, P)``: sensor width, height and number of polarities.

    Returns
    -------
    numpy.ndarray of uint8, shape (duration_ms // bin_ms, P * H * W)
        0/1 spikes; for N-MNIST shape (60, 2312).
    """
    duration_ms, bin_ms, (width, height, polarities) = check_binning(duration_ms, bin_ms, sensor_size)
    names = getattr(getattr(events, "dtype", None), "names", None)
    if names is None or any(field not in names for field in _EVENT_FIELDS):
        raise TypeError(
            f"events must be a numpy structured array with fields {_EVENT_FIELDS}, "
            f"got {type(events).__name__} with fields {names}; read recordings with read_events()"
        )
    for field in _EVENT_FIELDS:
        if events.dtype[field].kind not in "iu":
            raise TypeError(f"events field {field!r} must be an integer type, got {events.dtype[field]}")
    events = np.ravel(events)

    x = events["x"].astype(np.int64)
    y = events["y"].astype(np.int64)
    p = events["p"].astype(np.int64)
    t_ms = microseconds_to_milliseconds(events["t"])

    keep = (t_ms >= 0) & (t_ms < duration_ms)
    keep &= (x >= 0) & (x < width) & (y >= 0) & (y < height) & (p >= 0) & (p < polarities)
    steps = t_ms[keep] // bin_ms
    inputs = (p[keep] * height + y[keep]) * width + x[keep]

    spikes = np.zeros((duration_ms // bin_ms, polarities * height * width), dtype=np.uint8)
    spikes[steps, inputs] = 1
    return spikes


def pack_spikes(spikes) -> np.ndarray:
    """Pack 0/1 spikes 8 per byte along the last axis (``np.packbits``, big bit order).

    The last axis of length ``n_inputs`` becomes ``ceil(n_inputs / 8)`` bytes; the
    original length is needed to unpack (:func:`unpack_spikes`).
    """
    spikes = np.asarray(spikes)
    if spikes.ndim < 1:
        raise ValueError("spikes must have at least one axis (the inputs), got a scalar")
    if spikes.size and (spikes.min() < 0 or spikes.max() > 1):
        raise ValueError(
            f"spikes must contain only 0 and 1, got values in [{spikes.min()}, {spikes.max()}]"
        )
    return np.packbits(spikes.astype(np.uint8, copy=False), axis=-1)


def unpack_spikes(packed, n_inputs) -> np.ndarray:
    """Unpack bytes from :func:`pack_spikes` into 0/1 ``uint8`` spikes with ``n_inputs`` on the last axis."""
    packed = np.asarray(packed)
    if packed.dtype != np.uint8:
        raise TypeError(f"packed spikes must have dtype uint8, got {packed.dtype}")
    n_inputs = check_int("n_inputs", n_inputs, minimum=1)
    n_bytes = -(-n_inputs // 8)
    if packed.ndim < 1 or packed.shape[-1] != n_bytes:
        raise ValueError(
            f"packed spikes must have {n_bytes} bytes on the last axis for n_inputs={n_inputs}, "
            f"got shape {packed.shape}"
        )
    return np.unpackbits(packed, axis=-1, count=n_inputs)


class BinnedEvents(SpikeDataset):
    """Event recordings binned into fixed binary spike trains, stored 8 inputs per byte.

    :meth:`batch` returns the same spikes on every call and ignores its generator.

    Parameters
    ----------
    spikes : ndarray of uint8, shape (N, T, n_inputs) or, with ``packed=True``, (N, T, ceil(n_inputs / 8))
        0/1 spikes, or spikes packed by :func:`lava_biograd.data.binning.pack_spikes`.
        Packed spikes are stored without a copy.
    labels : array_like of int, shape (N,)
        Classes in ``[0, 10)``.
    n_inputs : int, optional
        Inputs per step; required with ``packed=True``.
    packed : bool, default=False
    files : sequence of str, optional
        Recording path of each sample.
    name : str, default="nmnist"
    """

    def __init__(self, spikes, labels, *, n_inputs: int | None = None, packed: bool = False,
                 files=None, name: str = "nmnist"):
        if not isinstance(packed, bool):
            raise TypeError(f"packed must be True or False, got {packed!r}")
        spikes = check_array("spikes", spikes, ndim=3)
        if spikes.dtype != np.uint8:
            raise TypeError(f"spikes must have dtype uint8 (0/1 or packed bits), got {spikes.dtype}")
        if packed:
            if n_inputs is None:
                raise ValueError("n_inputs is required with packed=True; N-MNIST has 2312 inputs")
            n_inputs = check_int("n_inputs", n_inputs, minimum=1)
            unpack_spikes(spikes[:0], n_inputs)  # checks the byte count of the last axis
        else:
            if n_inputs is not None and n_inputs != spikes.shape[2]:
                raise ValueError(f"n_inputs={n_inputs} differs from the last axis of spikes {spikes.shape}")
            n_inputs = spikes.shape[2]
            spikes = pack_spikes(spikes)
        labels = check_labels(labels, self.n_classes)
        if len(labels) != len(spikes):
            raise ValueError(
                f"spikes and labels must have the same number of samples, got {len(spikes)} and {len(labels)}"
            )
        if files is not None:
            files = [str(f) for f in files]
            if len(files) != len(labels):
                raise ValueError(f"files must name each of the {len(labels)} samples, got {len(files)} names")
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        self.packed_spikes = spikes
        self.labels = labels
        self.n_inputs = n_inputs
        self.n_steps = spikes.shape[1]
        self.files = files
        self.name = name

    def batch(self, indices, rng: np.random.Generator | None = None, dtype=np.float32) -> np.ndarray:
        """Return the spikes of the samples ``indices`` (see :meth:`SpikeDataset.batch`); ``rng`` is unused."""
        indices = self.check_indices(indices)
        dtype = check_dtype("dtype", dtype)
        spikes = unpack_spikes(self.packed_spikes[indices], self.n_inputs)
        return np.ascontiguousarray(spikes.transpose(1, 0, 2), dtype=dtype)

    def subset(self, indices, name: str | None = None) -> "BinnedEvents":
        """Return a dataset of the samples ``indices`` with copies of their spikes and labels."""
        indices = self.check_indices(indices)
        files = None if self.files is None else [self.files[i] for i in indices]
        return BinnedEvents(self.packed_spikes[indices], self.labels[indices], n_inputs=self.n_inputs,
                            packed=True, files=files, name=name or self.name)
