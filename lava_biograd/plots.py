r"""Figures for the tutorials: neuron dynamics, spike rasters, confusion matrices, traces
against BPTT and feedback alignment curves.

Every function takes numpy arrays (no notebook state), checks them, draws one new figure
and returns the :class:`matplotlib.figure.Figure`. Without a display the Agg backend is
selected, as in :mod:`lava_biograd.plotting`. Time is the discrete step index
``t = 0 .. T-1`` throughout.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.ticker import MaxNLocator

from lava_biograd.plotting import _pyplot
from lava_biograd.reference.params import NeuronParams
from lava_biograd.validation import check_array, check_float, check_int


# ---------------------------------------------------------------------- validation
def _real_array(name: str, array, ndim: int | tuple | None) -> np.ndarray:
    """Return ``array`` as a finite float64 array.

    ``ndim`` is the required number of dimensions, a tuple of allowed numbers, or None
    for any number from 1 up.
    """
    array = np.asarray(array)
    if ndim is None:
        if array.ndim == 0:
            raise ValueError(f"{name} must be an array with at least 1 dimension, got a scalar")
    else:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if array.ndim not in allowed:
            expected = " or ".join(str(n) for n in allowed)
            raise ValueError(f"{name} must have {expected} dimensions, got shape {array.shape}")
    if array.dtype == bool:
        array = array.astype(np.float64)
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"{name} must be a real-valued array, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got NaN or inf entries")
    return array


def _spike_array(name: str, array, ndim: int | tuple) -> np.ndarray:
    """Return ``array`` as float64 after checking that every entry is 0 or 1."""
    array = _real_array(name, array, ndim)
    if not np.all((array == 0) | (array == 1)):
        raise ValueError(f"{name} must contain spikes (0 or 1 only), got values in [{array.min()}, {array.max()}]")
    return array


def _names(name: str, names, count: int, default) -> list:
    """Return ``names`` as a list of ``count`` strings, or ``default(i)`` for each index when None."""
    if names is None:
        return [default(i) for i in range(count)]
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeError(f"{name} must be a sequence of strings, got {names!r}")
    if len(names) != count:
        raise ValueError(f"{name} must contain {count} entries (one per panel or curve), got {len(names)}")
    for i, item in enumerate(names):
        if not isinstance(item, str):
            raise TypeError(f"{name}[{i}] must be a string, got {item!r}")
    return list(names)


def _label_array(name: str, labels) -> np.ndarray:
    labels = check_array(name, labels, ndim=1)
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{name} must be an integer array of class indices, got dtype {labels.dtype}")
    if labels.size and labels.min() < 0:
        raise ValueError(f"{name} must be non-negative class indices, got minimum {labels.min()}")
    return labels.astype(np.int64)


# ---------------------------------------------------------------------- single neuron
def plot_time_series(series: Mapping, xlabel: str = "time step t", title: str | None = None,
                     column_names: Sequence | None = None):
    """Draw one panel per named series against the time step, panels sharing the time axis.

    Parameters
    ----------
    series : mapping of str to array_like
        Panel label to values of shape ``(T,)`` (one line) or ``(T, k)`` (``k`` lines).
        Every entry must have the same ``T``.
    xlabel : str, default="time step t"
    title : str, optional
        Title of the top panel.
    column_names : sequence of str, optional
        Legend entries for the ``k`` lines of the 2-D series, shown once, in the first
        panel with ``k`` lines. Every 2-D series must then have ``k`` columns.

    Returns
    -------
    matplotlib.figure.Figure
        ``len(series)`` axes, top to bottom in the order of ``series``.
    """
    if not isinstance(series, Mapping) or not series:
        raise TypeError(f"series must be a non-empty mapping of label to array, got {series!r}")
    arrays = {}
    for label, values in series.items():
        if not isinstance(label, str):
            raise TypeError(f"series labels must be strings, got {label!r}")
        arrays[label] = _real_array(f"series[{label!r}]", values, (1, 2))
    lengths = {label: a.shape[0] for label, a in arrays.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"every series must have the same number of time steps, got {lengths}")
    if column_names is not None:
        widths = {label: a.shape[1] for label, a in arrays.items() if a.ndim == 2}
        if not widths or len(set(widths.values())) != 1:
            raise ValueError(
                f"column_names needs 2-D series that all have the same number of columns, got {widths or 'none'}"
            )
        column_names = _names("column_names", column_names, next(iter(widths.values())), str)

    plt = _pyplot()
    fig, axes = plt.subplots(len(arrays), 1, sharex=True, squeeze=False,
                             figsize=(7, 1.6 * len(arrays) + 0.6))
    legend_drawn = False
    for ax, (label, values) in zip(axes[:, 0], arrays.items()):
        steps = np.arange(values.shape[0])
        lines = ax.plot(steps, values, marker="o", markersize=3)
        if column_names is not None and values.ndim == 2 and not legend_drawn:
            ax.legend(lines, column_names, fontsize="small", loc="upper left", ncol=min(len(column_names), 5))
            legend_drawn = True
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
    axes[-1, 0].set_xlabel(xlabel)
    axes[-1, 0].xaxis.set_major_locator(MaxNLocator(integer=True))
    if title is not None:
        axes[0, 0].set_title(title)
    fig.tight_layout()
    return fig


def plot_neuron_dynamics(v, s, sd, neuron: NeuronParams, inputs=None):
    r"""Draw the somatic voltage, spikes and pseudo-derivative of one neuron over time.

    The voltage panel shows the pre-reset voltage :math:`v_t`, the threshold
    :math:`\theta`, the window :math:`|v - \theta| < w` in which
    :math:`\sigma'(v) = A` (shaded) and a marker at every spike :math:`s_t = 1`.

    Parameters
    ----------
    v : array_like of shape (T,)
        Pre-reset voltage.
    s : array_like of shape (T,)
        Output spikes, 0 or 1.
    sd : array_like of shape (T,)
        Pseudo-derivative :math:`\sigma'(v_t)`.
    neuron : NeuronParams
        Supplies :math:`\theta` (``vth``) and :math:`w` (``grad_win``).
    inputs : array_like of shape (T,) or (T, n_in), optional
        Presynaptic spikes, drawn in an extra top panel as a raster.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes (voltage, pseudo-derivative), or three with ``inputs`` on top.
    """
    if not isinstance(neuron, NeuronParams):
        raise TypeError(f"neuron must be a NeuronParams, got {type(neuron).__name__}")
    v = _real_array("v", v, 1)
    s = _spike_array("s", s, 1)
    sd = _real_array("sd", sd, 1)
    if not (v.shape == s.shape == sd.shape):
        raise ValueError(f"v, s and sd must have the same shape (T,), got {v.shape}, {s.shape} and {sd.shape}")
    if inputs is not None:
        inputs = _spike_array("inputs", inputs, (1, 2))
        if inputs.shape[0] != v.shape[0]:
            raise ValueError(
                f"inputs must cover the T={v.shape[0]} steps of v along axis 0, got shape {inputs.shape}"
            )
        inputs = inputs.reshape(inputs.shape[0], -1)

    plt = _pyplot()
    n_panels = 2 if inputs is None else 3
    ratios = [3, 1.4] if inputs is None else [1.2, 3, 1.4]
    fig, axes = plt.subplots(n_panels, 1, sharex=True, figsize=(7, 1.4 * sum(ratios) + 0.6),
                             gridspec_kw={"height_ratios": ratios})
    steps = np.arange(v.shape[0])
    if inputs is not None:
        ax_in = axes[0]
        t_in, j_in = np.nonzero(inputs)
        ax_in.plot(t_in, j_in, linestyle="none", marker="|", markersize=10, color="black")
        ax_in.set_ylabel("input j")
        ax_in.set_ylim(-0.5, inputs.shape[1] - 0.5)
    ax_v, ax_sd = axes[-2], axes[-1]
    ax_v.axhspan(neuron.vth - neuron.grad_win, neuron.vth + neuron.grad_win, color="tab:orange", alpha=0.15,
                 label=r"window $|v-\theta|<w$")
    ax_v.axhline(neuron.vth, color="tab:red", linestyle="--", label=r"threshold $\theta$")
    ax_v.plot(steps, v, marker="o", markersize=3, label=r"$v_t$ (pre-reset)")
    spiking = np.flatnonzero(s)
    ax_v.plot(spiking, v[spiking], linestyle="none", marker="*", markersize=11, color="tab:red",
              label=r"spike $s_t=1$")
    ax_v.set_ylabel("voltage")
    ax_v.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=4, fontsize="small", frameon=False)
    ax_v.grid(True, alpha=0.3)
    ax_sd.plot(steps, sd, drawstyle="steps-mid", color="tab:green")
    ax_sd.set_ylabel(r"$\sigma'(v_t)$")
    ax_sd.set_xlabel("time step t")
    ax_sd.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_sd.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------- network activity
def plot_spike_raster(spikes: Sequence, names: Sequence | None = None, image=None, title: str | None = None):
    """Draw a spike raster per layer, stacked with a shared time axis.

    Parameters
    ----------
    spikes : sequence of array_like of shape (T, n_l)
        Spikes (0 or 1) of each layer of one sample, bottom layer first. Each layer is
        drawn in its own panel, with the neuron index on the vertical axis.
    names : sequence of str, optional
        Panel labels; default ``"layer 0"``, ``"layer 1"``, ...
    image : array_like of shape (H, W), optional
        The input image of the sample, drawn in an extra axes to the left.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        ``len(spikes)`` raster axes (top panel = last layer), plus one image axes when
        ``image`` is given. Each raster axes contains one image with a black cell per spike.
    """
    if isinstance(spikes, np.ndarray) or not isinstance(spikes, Sequence) or not spikes:
        raise TypeError(
            f"spikes must be a non-empty list of (T, n) arrays, one per layer, got {type(spikes).__name__}; "
            "wrap a single layer as [spikes]"
        )
    layers = [_spike_array(f"spikes[{i}]", layer, 2) for i, layer in enumerate(spikes)]
    steps = {layer.shape[0] for layer in layers}
    if len(steps) != 1:
        raise ValueError(f"every layer must have the same number of time steps, got {[a.shape[0] for a in layers]}")
    names = _names("names", names, len(layers), lambda i: f"layer {i}")
    if image is not None:
        image = _real_array("image", image, 2)

    plt = _pyplot()
    n_layers = len(layers)
    fig = plt.figure(figsize=(9 if image is not None else 7, 1.2 + 1.4 * n_layers))
    grid = fig.add_gridspec(n_layers, 2 if image is not None else 1,
                            width_ratios=[1, 3] if image is not None else None)
    column = 1 if image is not None else 0
    axes = []
    for row in range(n_layers):
        axes.append(fig.add_subplot(grid[row, column], sharex=axes[0] if axes else None))
    # Top panel shows the last layer, so the raster reads bottom-up like the network.
    for ax, layer, name in zip(reversed(axes), layers, names):
        n_steps, n_neurons = layer.shape
        # Each (step, neuron) cell is black for a spike. With tens of steps this reads
        # better than tick markers, which merge into bars in large layers.
        ax.imshow(layer.T, aspect="auto", cmap="Greys", vmin=0.0, vmax=1.0, interpolation="nearest",
                  origin="lower", extent=(-0.5, n_steps - 0.5, -0.5, n_neurons - 0.5))
        if n_neurons <= 10:
            ax.set_yticks(range(n_neurons))
        ax.set_ylabel(f"{name}\n({int(layer.sum())} spikes)")
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)
    axes[-1].set_xlabel("time step t")
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    if image is not None:
        ax_image = fig.add_subplot(grid[:, 0])
        ax_image.imshow(image, cmap="gray_r")
        ax_image.set_xticks([])
        ax_image.set_yticks([])
        ax_image.set_title("input image")
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(labels, predictions, n_classes: int | None = None) -> np.ndarray:
    """Count every (true class, predicted class) pair.

    Parameters
    ----------
    labels, predictions : array_like of int, shape (N,)
        True and predicted class indices.
    n_classes : int, optional
        Number of classes; default ``1 + max(labels, predictions)``.

    Returns
    -------
    ndarray of shape (n_classes, n_classes), dtype int64
        Entry ``[i, j]`` is the number of samples of class ``i`` predicted as ``j``.
    """
    labels = _label_array("labels", labels)
    predictions = _label_array("predictions", predictions)
    if labels.shape != predictions.shape:
        raise ValueError(
            f"labels and predictions must have the same length, got {labels.size} and {predictions.size}"
        )
    largest = int(max(labels.max(initial=-1), predictions.max(initial=-1)))
    if n_classes is None:
        n_classes = largest + 1
        if n_classes == 0:
            raise ValueError("labels and predictions are empty; pass n_classes to get an empty matrix")
    n_classes = check_int("n_classes", n_classes, minimum=1)
    if largest >= n_classes:
        raise ValueError(f"class indices must be < n_classes={n_classes}, got {largest}")
    matrix = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix


def plot_confusion_matrix(labels, predictions, n_classes: int | None = None, class_names: Sequence | None = None):
    """Draw the confusion matrix, coloured by the fraction of each true class, with counts.

    Parameters
    ----------
    labels, predictions, n_classes
        As in :func:`confusion_matrix`.
    class_names : sequence of str, optional
        Tick labels; default the class indices.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: the matrix (rows true class, columns predicted class, title with the
        accuracy) and its colour bar.
    """
    matrix = confusion_matrix(labels, predictions, n_classes)
    n = matrix.shape[0]
    class_names = _names("class_names", class_names, n, str)
    per_class = matrix.sum(axis=1, keepdims=True)
    # A class without samples gets a row of zeros instead of 0/0.
    fractions = np.divide(matrix, per_class, out=np.zeros(matrix.shape), where=per_class > 0)
    total = matrix.sum()
    accuracy = np.trace(matrix) / total if total else float("nan")

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(0.5 * n + 2.5, 0.5 * n + 2))
    mesh = ax.imshow(fractions, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(mesh, ax=ax, label="fraction of the true class")
    for i in range(n):
        for j in range(n):
            if matrix[i, j]:
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize="small",
                        color="white" if fractions[i, j] > 0.5 else "black")
    ax.set_xticks(range(n), class_names)
    ax.set_yticks(range(n), class_names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"accuracy {100 * accuracy:.1f}% on {total} samples")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------- equivalence checks
def plot_trace_vs_bptt(traces: Sequence, references: Sequence, names: Sequence | None = None):
    r"""Scatter eligibility traces against the BPTT derivatives they should equal.

    Each panel plots every entry of one trace array (for example :math:`E`) against the
    same entry of its reference (for example :math:`\partial c / \partial W` by BPTT),
    with the identity line, and gives :math:`\max |\text{trace} - \text{reference}|` in
    its title.

    Parameters
    ----------
    traces, references : sequence of array_like
        Pairs of arrays of equal shape, one panel per pair.
    names : sequence of str, optional
        Panel titles; default ``"pair 0"``, ``"pair 1"``, ...

    Returns
    -------
    matplotlib.figure.Figure
        One axes per pair, each with one scatter collection and one identity line.
    """
    for label, value in (("traces", traces), ("references", references)):
        if isinstance(value, np.ndarray) or not isinstance(value, Sequence) or not value:
            raise TypeError(
                f"{label} must be a non-empty list of arrays, got {type(value).__name__}; "
                f"wrap a single array as [array]"
            )
    if len(traces) != len(references):
        raise ValueError(
            f"traces and references must contain the same number of arrays, got {len(traces)} and {len(references)}"
        )
    names = _names("names", names, len(traces), lambda i: f"pair {i}")
    pairs = []
    for i, (trace, reference) in enumerate(zip(traces, references)):
        trace = _real_array(f"traces[{i}]", trace, None)
        reference = _real_array(f"references[{i}]", reference, None)
        if trace.shape != reference.shape:
            raise ValueError(
                f"traces[{i}] and references[{i}] must have the same shape, got {trace.shape} and {reference.shape}"
            )
        pairs.append((trace.ravel(), reference.ravel()))

    plt = _pyplot()
    fig, axes = plt.subplots(1, len(pairs), squeeze=False, figsize=(4.2 * len(pairs), 4.2))
    for ax, (trace, reference), name in zip(axes[0], pairs, names):
        low = min(trace.min(), reference.min())
        high = max(trace.max(), reference.max())
        margin = 0.05 * (high - low) if high > low else 1.0
        limits = (low - margin, high + margin)
        ax.plot(limits, limits, color="tab:red", linewidth=1, label="identity")
        ax.scatter(reference, trace, s=10, alpha=0.6, label="entries")
        ax.set_xlim(limits)
        ax.set_ylim(limits)
        ax.set_aspect("equal")
        ax.set_xlabel("BPTT derivative")
        ax.set_ylabel("eligibility trace")
        ax.set_title(f"{name}\nmax |difference| = {np.max(np.abs(trace - reference)):.1e}")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------- feedback alignment
def stack_alignment(records: Sequence):
    """Turn a list of ``BioGradNetwork.alignment()`` results into arrays.

    Parameters
    ----------
    records : sequence of dict
        Each ``{layer: (angle_deg, ratio)}`` for the same hidden layers.

    Returns
    -------
    angles, ratios : ndarray of shape (len(records), n_layers)
        Columns in increasing layer order.
    """
    if isinstance(records, Mapping) or not isinstance(records, Sequence) or not records:
        raise TypeError(
            f"records must be a non-empty list of alignment dicts, got {type(records).__name__}; "
            "wrap a single net.alignment() result as [result]"
        )
    for i, record in enumerate(records):
        if not isinstance(record, Mapping) or not record:
            raise TypeError(f"records[{i}] must be a non-empty dict {{layer: (angle, ratio)}}, got {record!r}")
    layers = sorted(records[0])
    for i, record in enumerate(records):
        if sorted(record) != layers:
            raise ValueError(f"records[{i}] has the layers {sorted(record)}, but records[0] has {layers}")
        for layer in layers:
            value = record[layer]
            if len(value) != 2 or not all(isinstance(x, numbers.Real) for x in value):
                raise ValueError(f"records[{i}][{layer}] must be a pair (angle, ratio), got {value!r}")
    angles = np.array([[record[layer][0] for layer in layers] for record in records], np.float64)
    ratios = np.array([[record[layer][1] for layer in layers] for record in records], np.float64)
    return angles, ratios


def plot_alignment_curves(steps, angles, ratios, condition_names: Sequence | None = None,
                          layer_names: Sequence | None = None, xlabel: str = "training batch",
                          ratio_log: bool = False):
    r"""Draw the feedback angle and norm ratio of every hidden layer over time, per condition.

    With :math:`M_l = W_o W_L \cdots W_{l+1}`, the angle is the one between
    :math:`\mathrm{vec}(B_l)` and :math:`\mathrm{vec}(M_l^\top)` in degrees and the ratio
    is :math:`\|B_l\|_F / \|M_l\|_F` (see :meth:`BioGradNetwork.alignment`).

    Parameters
    ----------
    steps : array_like of shape (n_records,)
        When each record was taken (batch or sleep episode).
    angles, ratios : array_like of shape (n_conditions, n_records, n_layers)
        One curve per condition and layer; :func:`stack_alignment` gives the
        ``(n_records, n_layers)`` slice of one condition.
    condition_names : sequence of str, optional
        Legend entries; default ``"condition 0"``, ...
    layer_names : sequence of str, optional
        Column titles; default ``"B_1"``, ``"B_2"``, ...
    xlabel : str, default="training batch"
    ratio_log : bool, default=False
        Logarithmic vertical axis for the ratio.

    Returns
    -------
    matplotlib.figure.Figure
        ``2 * n_layers`` axes: angles in the top row, ratios in the bottom row, one column
        per layer, one line per condition in each.
    """
    steps = _real_array("steps", steps, 1)
    angles = _real_array("angles", angles, 3)
    ratios = _real_array("ratios", ratios, 3)
    if angles.shape != ratios.shape:
        raise ValueError(f"angles and ratios must have the same shape, got {angles.shape} and {ratios.shape}")
    n_conditions, n_records, n_layers = angles.shape
    if steps.shape[0] != n_records:
        raise ValueError(
            f"steps must have one entry per record ({n_records}, axis 1 of angles), got {steps.shape[0]}"
        )
    condition_names = _names("condition_names", condition_names, n_conditions, lambda i: f"condition {i}")
    layer_names = _names("layer_names", layer_names, n_layers, lambda i: f"$B_{{{i + 1}}}$")

    plt = _pyplot()
    fig, axes = plt.subplots(2, n_layers, sharex=True, squeeze=False, figsize=(4.5 * n_layers + 1, 6.5))
    for layer in range(n_layers):
        ax_angle, ax_ratio = axes[0, layer], axes[1, layer]
        for condition, name in enumerate(condition_names):
            ax_angle.plot(steps, angles[condition, :, layer], label=name)
            ax_ratio.plot(steps, ratios[condition, :, layer], label=name)
        ax_angle.set_title(layer_names[layer])
        ax_angle.set_ylabel(r"angle to $M_l^\top$ (degrees)")
        ax_ratio.set_ylabel(r"ratio $\|B_l\|_F / \|M_l\|_F$")
        ax_ratio.set_xlabel(xlabel)
        if ratio_log:
            ax_ratio.set_yscale("log")
        for ax in (ax_angle, ax_ratio):
            ax.grid(True, alpha=0.3)
    axes[0, 0].legend(fontsize="small")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------- learning curves
def plot_learning_curves(steps, curves: Mapping, xlabel: str = "training batch", ylabel: str = "accuracy (%)",
                         chance: float | None = None, title: str | None = None):
    """Draw several named curves against a shared horizontal axis, for example accuracy per batch.

    Parameters
    ----------
    steps : array_like of shape (n,)
        Horizontal positions (batch, epoch, ...), shared by every curve.
    curves : mapping of str to array_like of shape (n,)
        Legend entry to values, drawn in the order of the mapping.
    xlabel, ylabel : str
    chance : float, optional
        Chance level, drawn as a dashed horizontal line labelled ``"chance"``.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        One axes with one line per curve, then the chance line when ``chance`` is given.
    """
    steps = _real_array("steps", steps, 1)
    if not isinstance(curves, Mapping) or not curves:
        raise TypeError(f"curves must be a non-empty mapping of label to array, got {curves!r}")
    arrays = {}
    for label, values in curves.items():
        if not isinstance(label, str):
            raise TypeError(f"curves labels must be strings, got {label!r}")
        values = _real_array(f"curves[{label!r}]", values, 1)
        if values.shape != steps.shape:
            raise ValueError(
                f"curves[{label!r}] must have one value per step ({steps.size}), got {values.size}"
            )
        arrays[label] = values
    if chance is not None:
        chance = check_float("chance", chance)

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, values in arrays.items():
        ax.plot(steps, values, marker="o" if steps.size <= 30 else None, markersize=4, label=label)
    if chance is not None:
        ax.axhline(chance, color="gray", linestyle="--", label="chance")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    if title is not None:
        ax.set_title(title)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------- fixed point and energy
def plot_integer_histograms(arrays: Sequence, names: Sequence | None = None, limits: tuple | None = None,
                            xlabel: str = "integer value"):
    """Draw how often each integer value occurs in each array, one panel per array.

    Each value that occurs gets one bar, of width 0.8 times the smallest gap between two
    values that occur. Bars of values on a grid, such as Loihi's even 8-bit weight
    mantissas, therefore stay apart when the axis is zoomed in.

    Parameters
    ----------
    arrays : sequence of array_like of int
        Integer-valued arrays of any shape, for example the weight mantissas per layer.
    names : sequence of str, optional
        Panel titles; default ``"array 0"``, ``"array 1"``, ...
    limits : (int, int), optional
        Smallest and largest representable value, drawn as dashed vertical lines.
    xlabel : str, default="integer value"

    Returns
    -------
    matplotlib.figure.Figure
        One axes per array, each with one bar per distinct value (height = count) and a
        title with the number of distinct values and their range.
    """
    if isinstance(arrays, np.ndarray) or not isinstance(arrays, Sequence) or not arrays:
        raise TypeError(
            f"arrays must be a non-empty list of integer arrays, got {type(arrays).__name__}; "
            "wrap a single array as [array]"
        )
    checked = []
    for i, array in enumerate(arrays):
        array = _real_array(f"arrays[{i}]", array, None)
        if not np.all(array == np.round(array)):
            raise ValueError(f"arrays[{i}] must contain integer values, got non-integer entries")
        checked.append(array.astype(np.int64).ravel())
    names = _names("names", names, len(checked), lambda i: f"array {i}")
    if limits is not None:
        if isinstance(limits, (str, bytes)) or not isinstance(limits, Sequence) or len(limits) != 2:
            raise TypeError(f"limits must be a pair (lowest, highest) of integers, got {limits!r}")
        low = check_int("limits[0]", limits[0])
        high = check_int("limits[1]", limits[1])
        if low > high:
            raise ValueError(f"limits must satisfy lowest <= highest, got ({low}, {high}); swap them")
        limits = (low, high)

    plt = _pyplot()
    fig, axes = plt.subplots(1, len(checked), squeeze=False, figsize=(4.5 * len(checked), 3.6))
    for ax, values, name in zip(axes[0], checked, names):
        distinct, counts = np.unique(values, return_counts=True)
        spacing = np.min(np.diff(distinct)) if distinct.size > 1 else 1
        ax.bar(distinct, counts, width=0.8 * spacing, color="tab:blue")
        if limits is not None:
            ax.axvline(limits[0], color="tab:red", linestyle="--", linewidth=1, label="representable range")
            ax.axvline(limits[1], color="tab:red", linestyle="--", linewidth=1)
            ax.legend(fontsize="small", loc="upper right")
        ax.set_title(f"{name}\n{distinct.size} distinct values in [{distinct[0]}, {distinct[-1]}]")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("count")
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


ENERGY_OPERATIONS = ("synaptic_op", "synaptic_update", "neuron_update")
"""Operation types that :func:`lava_biograd.energy.energy_estimate` prices."""


def plot_energy_breakdown(estimates: Mapping, log: bool = True):
    """Draw the estimated energy per training sample by operation type, one bar per estimate.

    Parameters
    ----------
    estimates : mapping of str to dict
        Legend entry to a result of :func:`lava_biograd.energy.energy_estimate`.
    log : bool, default=True
        Logarithmic vertical axis; the operation types differ by orders of magnitude.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with one bar container per estimate, one bar per operation type in
        :data:`ENERGY_OPERATIONS` (height in nJ). The title marks the result as an
        estimate and states whether the per-operation energies are verified.
    """
    if not isinstance(estimates, Mapping) or not estimates:
        raise TypeError(f"estimates must be a non-empty mapping of label to energy_estimate result, got {estimates!r}")
    for label, estimate in estimates.items():
        if not isinstance(label, str):
            raise TypeError(f"estimates labels must be strings, got {label!r}")
        if not isinstance(estimate, Mapping) or "total_nj" not in estimate or any(
                key not in estimate for key in ENERGY_OPERATIONS):
            raise TypeError(f"estimates[{label!r}] must be the dict that energy_estimate returns")

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    positions = np.arange(len(ENERGY_OPERATIONS))
    width = 0.8 / len(estimates)
    for index, (label, estimate) in enumerate(estimates.items()):
        heights = [float(estimate[key]["nj"]) for key in ENERGY_OPERATIONS]
        total = float(estimate["total_nj"])
        ax.bar(positions + (index - (len(estimates) - 1) / 2) * width, heights, width=width,
               label=f"{label} (total {total / 1e3:.3g} µJ)")
    ax.set_xticks(positions, [key.replace("_", " ") + "s" for key in ENERGY_OPERATIONS])
    ax.set_ylabel("energy per training sample (nJ)")
    if log:
        ax.set_yscale("log")
    unverified = any(estimate.get("verified") is False for estimate in estimates.values())
    ax.set_title("estimate" + (", per-operation energies unverified" if unverified else ""))
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------- event data
EVENT_COLOURS = {1: "tab:blue", 0: "tab:red"}
"""Colour of ON (polarity 1) and OFF (polarity 0) events in the event figures."""


def _check_sensor_size(sensor_size) -> tuple:
    if isinstance(sensor_size, (str, bytes)) or not isinstance(sensor_size, Sequence) or len(sensor_size) != 3:
        raise TypeError(f"sensor_size must be (width, height, polarities), got {sensor_size!r}; N-MNIST: (34, 34, 2)")
    return tuple(check_int(f"sensor_size[{i}]", value, minimum=1) for i, value in enumerate(sensor_size))


def _event_fields(events, sensor_size: tuple) -> tuple:
    """Return ``(x, y, t_ms, p)`` of a structured event array after checking it against the sensor."""
    names = getattr(getattr(events, "dtype", None), "names", None)
    if names is None or any(field not in names for field in ("x", "y", "t", "p")):
        raise TypeError(
            f"events must be a structured array with fields x, y, t, p, got {type(events).__name__} "
            f"with fields {names}; read a recording with lava_biograd.data.nmnist.read_events"
        )
    events = np.ravel(events)
    if events.size == 0:
        raise ValueError("events must contain at least one event")
    width, height, polarities = sensor_size
    x, y, p = (events[field].astype(np.int64) for field in ("x", "y", "p"))
    for field, values, extent in (("x", x, width), ("y", y, height), ("p", p, polarities)):
        if values.min() < 0 or values.max() >= extent:
            raise ValueError(
                f"events field {field!r} must lie in [0, {extent - 1}] for sensor_size {sensor_size}, "
                f"got values in [{values.min()}, {values.max()}]"
            )
    return x, y, events["t"].astype(np.float64) / 1000.0, p


def plot_events(events, sensor_size: tuple = (34, 34, 2), window_ms: float | None = None, bin_ms: float = 5.0,
                title: str | None = None):
    """Draw an event recording: events per pixel and polarity, event rate over time, x and y over time.

    Parameters
    ----------
    events : numpy structured array
        Fields ``x``, ``y``, ``t`` (µs) and ``p`` (0 = OFF, 1 = ON), as
        :func:`lava_biograd.data.nmnist.read_events` returns.
    sensor_size : (int, int, int), default=(34, 34, 2)
        ``(W, H, P)``, with ``P`` 1 or 2.
    window_ms : float, optional
        End of the encoded window, drawn as a dashed line on the time axes.
    bin_ms : float, default=5.0
        Bin width of the event-rate panel, in ms.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        First ``P`` image axes on the left, each with its colour bar: the ``H x W`` event
        count per pixel, ON (polarity 1) first. Then three axes on the right that share
        the time axis in ms: events per bin and polarity, ``x`` against ``t`` and ``y``
        against ``t``, with one scatter collection per polarity, ON first.
    """
    sensor_size = _check_sensor_size(sensor_size)
    width, height, polarities = sensor_size
    if polarities not in (1, 2):
        raise ValueError(f"sensor_size must have 1 or 2 polarities, got {polarities}")
    x, y, t_ms, p = _event_fields(events, sensor_size)
    if window_ms is not None:
        window_ms = check_float("window_ms", window_ms, minimum=0.0, min_open=True)
    bin_ms = check_float("bin_ms", bin_ms, minimum=0.0, min_open=True)

    plt = _pyplot()
    fig = plt.figure(figsize=(11, 6))
    grid = fig.add_gridspec(3 * polarities, 2, width_ratios=[1, 2.4])
    polarity_order = list(range(polarities - 1, -1, -1))  # ON (1) first
    polarity_names = {1: "ON", 0: "OFF"} if polarities == 2 else {0: "events"}
    for row, polarity in enumerate(polarity_order):
        ax = fig.add_subplot(grid[3 * row:3 * row + 3, 0])
        counts = np.zeros((height, width), np.int64)
        chosen = p == polarity
        np.add.at(counts, (y[chosen], x[chosen]), 1)
        cmap = "Blues" if polarity == 1 else "Reds"
        image = ax.imshow(counts, cmap=cmap, interpolation="nearest")
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
        ax.set_title(f"{polarity_names[polarity]} events per pixel ({int(chosen.sum())})", fontsize="small")
        ax.set_xlabel("x")
        ax.set_ylabel("y")

    rows = polarities  # grid rows per right-hand axes
    ax_rate = fig.add_subplot(grid[0:rows, 1])
    ax_x = fig.add_subplot(grid[rows:2 * rows, 1], sharex=ax_rate)
    ax_y = fig.add_subplot(grid[2 * rows:3 * rows, 1], sharex=ax_rate)
    end = max(float(t_ms.max()), window_ms or 0.0)
    edges = np.arange(0.0, end + bin_ms, bin_ms)
    for polarity in polarity_order:
        chosen = p == polarity
        colour = EVENT_COLOURS[polarity] if polarities == 2 else "black"
        ax_rate.hist(t_ms[chosen], bins=edges, histtype="step", color=colour, label=polarity_names[polarity])
        ax_x.scatter(t_ms[chosen], x[chosen], s=1, color=colour, label=polarity_names[polarity])
        ax_y.scatter(t_ms[chosen], y[chosen], s=1, color=colour)
    ax_rate.set_ylabel(f"events per {bin_ms:g} ms")
    ax_x.set_ylabel("x")
    ax_y.set_ylabel("y")
    ax_y.set_xlabel("time (ms)")
    for ax in (ax_rate, ax_x, ax_y):
        if window_ms is not None:
            ax.axvline(window_ms, color="black", linestyle="--", linewidth=1)
        ax.grid(True, alpha=0.3)
    for ax in (ax_rate, ax_x):
        ax.tick_params(labelbottom=False)
    ax_rate.legend(fontsize="small", loc="upper right")
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_event_frames(spikes, sensor_size: tuple = (34, 34, 2), steps=None, bin_ms: float | None = None,
                      n_columns: int = 10):
    """Draw binned event spikes as one sensor frame per time step.

    Step ``k`` of ``spikes`` is reshaped in (polarity, y, x) order, so input
    ``p * H * W + y * W + x`` becomes pixel ``(y, x)`` of polarity ``p``. With two
    polarities each pixel shows ``ON + 2 OFF``: 0 no spike, 1 ON only, 2 OFF only, 3 both.

    Parameters
    ----------
    spikes : array_like of shape (T, P * H * W)
        0/1 spikes of one sample, as :func:`lava_biograd.data.binning.bin_events` returns.
    sensor_size : (int, int, int), default=(34, 34, 2)
        ``(W, H, P)``, with ``P`` 1 or 2.
    steps : array_like of int, optional
        Steps to draw; default all ``T``.
    bin_ms : float, optional
        Bin width; when given, frame titles also give the start time of the bin in ms.
    n_columns : int, default=10
        Frames per row.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per drawn step, in the order of ``steps``, each holding one ``H x W``
        image of the values above.
    """
    sensor_size = _check_sensor_size(sensor_size)
    width, height, polarities = sensor_size
    if polarities not in (1, 2):
        raise ValueError(f"sensor_size must have 1 or 2 polarities, got {polarities}")
    spikes = _spike_array("spikes", spikes, 2)
    if spikes.shape[1] != width * height * polarities:
        raise ValueError(
            f"spikes must have P*H*W = {width * height * polarities} inputs per step for sensor_size "
            f"{sensor_size}, got shape {spikes.shape}"
        )
    n_steps = spikes.shape[0]
    if steps is None:
        steps = np.arange(n_steps)
    steps = check_array("steps", steps, ndim=1)
    if steps.size == 0:
        raise ValueError("steps must name at least one step")
    if steps.dtype == bool or not np.issubdtype(steps.dtype, np.integer):
        raise TypeError(f"steps must be integer step indices, got dtype {steps.dtype}")
    if steps.min() < 0 or steps.max() >= n_steps:
        raise ValueError(f"steps must lie in [0, {n_steps - 1}], got values in [{steps.min()}, {steps.max()}]")
    if bin_ms is not None:
        bin_ms = check_float("bin_ms", bin_ms, minimum=0.0, min_open=True)
    n_columns = check_int("n_columns", n_columns, minimum=1)

    frames = spikes.reshape(n_steps, polarities, height, width)
    if polarities == 2:
        values = frames[:, 1] + 2 * frames[:, 0]
        colours = ["white", EVENT_COLOURS[1], EVENT_COLOURS[0], "tab:purple"]
    else:
        values = frames[:, 0]
        colours = ["white", "black"]
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    cmap = ListedColormap(colours)
    plt = _pyplot()
    n_columns = min(n_columns, steps.size)
    n_rows = -(-steps.size // n_columns)
    fig, axes = plt.subplots(n_rows, n_columns, squeeze=False, figsize=(1.1 * n_columns, 1.25 * n_rows + 0.5))
    for ax in axes.ravel()[steps.size:]:
        fig.delaxes(ax)
    for ax, step in zip(axes.ravel(), steps):
        ax.imshow(values[step], cmap=cmap, vmin=0, vmax=len(colours) - 1, interpolation="nearest")
        label = f"t={step}" if bin_ms is None else f"{step * bin_ms:g} ms"
        ax.set_title(label, fontsize="x-small")
        ax.set_xticks([])
        ax.set_yticks([])
    if polarities == 2:
        handles = [Patch(facecolor=colour, edgecolor="gray", label=name)
                   for colour, name in zip(colours[1:], ("ON", "OFF", "ON and OFF"))]
        fig.legend(handles=handles, loc="upper center", ncol=3, fontsize="small", frameon=False)
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / (1.25 * n_rows + 0.5)))
    else:
        fig.tight_layout()
    return fig
