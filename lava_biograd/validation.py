"""Argument checks shared by the reference model, the data loaders and the CLI.

Every check raises ``ValueError`` (or ``TypeError`` for a wrong type) with a message that
names the argument, the constraint, the value received and, where one exists, the fix.
"""

from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return repr(value)


def check_int(name: str, value, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as ``int`` after checking its type and closed bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_float(
    name: str,
    value,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    min_open: bool = False,
    max_open: bool = False,
) -> float:
    """Return ``value`` as ``float`` after checking it is finite and inside the bounds.

    ``min_open``/``max_open`` make the corresponding bound strict.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_describe(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None:
        if min_open and value <= minimum:
            raise ValueError(f"{name} must be > {minimum}, got {value}")
        if not min_open and value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None:
        if max_open and value >= maximum:
            raise ValueError(f"{name} must be < {maximum}, got {value}")
        if not max_open and value > maximum:
            raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_choice(name: str, value, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def check_layer_sizes(name: str, sizes) -> tuple[int, ...]:
    """Return layer sizes as a tuple of positive ints (input, hidden..., output)."""
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of positive integers, got {_describe(sizes)}") from None
    if len(sizes) < 2:
        raise ValueError(
            f"{name} must list at least an input and an output size, got {sizes}; "
            "for example (784, 500, 100, 10)"
        )
    return tuple(check_int(f"{name}[{i}]", s, minimum=1) for i, s in enumerate(sizes))


def check_array(name: str, array, *, shape: tuple | None = None, ndim: int | None = None) -> np.ndarray:
    """Return ``array`` as an ndarray after checking its dimensions and shape.

    ``None`` inside ``shape`` matches any length along that axis.
    """
    array = np.asarray(array)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {array.shape}")
    if shape is not None:
        ok = array.ndim == len(shape) and all(
            want is None or want == got for want, got in zip(shape, array.shape)
        )
        if not ok:
            expected = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {expected}, got {array.shape}")
    return array


def check_dtype(name: str, dtype) -> np.dtype:
    """Return a float32 or float64 numpy dtype."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"{name} must be 'float32' or 'float64', got {dtype!r}") from None
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"{name} must be 'float32' or 'float64', got {dtype.name!r}")
    return dtype


def check_labels(labels, n_classes: int, n_samples: int | None = None) -> np.ndarray:
    """Return 1-D integer ``labels`` with values in ``[0, n_classes)`` as int64.

    With ``n_samples`` the array must also contain exactly one label per sample.
    """
    labels = check_array("labels", labels, ndim=1)
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels must be an integer array, got dtype {labels.dtype}; "
                        "convert class indices with labels.astype(int)")
    if n_samples is not None and labels.shape[0] != n_samples:
        raise ValueError(f"labels must contain one label per sample ({n_samples}), got {labels.shape[0]}; "
                         "pass an array of shape (n_samples,)")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"labels must lie in [0, {n_classes - 1}] for {n_classes} classes, "
            f"got values in [{labels.min()}, {labels.max()}]"
        )
    return labels.astype(np.int64, copy=False)

