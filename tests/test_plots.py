"""Plot helpers of the tutorials: figure layout, the plotted data and input validation."""

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from lava_biograd.plotting import _pyplot
from lava_biograd.data.binning import bin_events
from lava_biograd.data.nmnist import EVENT_DTYPE
from lava_biograd.energy import energy_estimate, operation_counts
from lava_biograd.plots import (
    ENERGY_OPERATIONS,
    confusion_matrix,
    plot_alignment_curves,
    plot_confusion_matrix,
    plot_energy_breakdown,
    plot_event_frames,
    plot_events,
    plot_integer_histograms,
    plot_learning_curves,
    plot_neuron_dynamics,
    plot_spike_raster,
    plot_time_series,
    plot_trace_vs_bptt,
    stack_alignment,
)
from lava_biograd.reference import BioGradNetwork, NetworkConfig, NeuronParams, SleepParams


@pytest.fixture(autouse=True)
def close_figures():
    yield
    _pyplot().close("all")


def _spikes(rng, shape, rate=0.3):
    return (rng.random(shape) < rate).astype(np.float32)


# ---------------------------------------------------------------------- time series
def test_time_series_panels_and_lines():
    rng = np.random.default_rng(0)
    fig = plot_time_series({"a": rng.random(12), "b": rng.random((12, 4)), "c": np.arange(12)},
                           column_names=["k0", "k1", "k2", "k3"])
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3
    assert [len(ax.lines) for ax in fig.axes] == [1, 4, 1]
    assert [ax.get_ylabel() for ax in fig.axes] == ["a", "b", "c"]
    np.testing.assert_array_equal(fig.axes[2].lines[0].get_ydata(), np.arange(12))
    legend = fig.axes[1].get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["k0", "k1", "k2", "k3"]


def test_time_series_rejects_bad_input():
    with pytest.raises(ValueError, match="same number of time steps"):
        plot_time_series({"a": np.zeros(5), "b": np.zeros(6)})
    with pytest.raises(TypeError, match="non-empty mapping"):
        plot_time_series([np.zeros(5)])
    with pytest.raises(TypeError, match="non-empty mapping"):
        plot_time_series({})
    with pytest.raises(ValueError, match="1 or 2 dimensions"):
        plot_time_series({"a": np.zeros((2, 2, 2))})
    with pytest.raises(ValueError, match="finite"):
        plot_time_series({"a": np.array([0.0, np.nan])})
    with pytest.raises(ValueError, match="must contain 3 entries"):
        plot_time_series({"a": np.zeros((5, 3))}, column_names=["x", "y"])
    with pytest.raises(ValueError, match="column_names needs 2-D series"):
        plot_time_series({"a": np.zeros(5)}, column_names=["x"])


# ---------------------------------------------------------------------- neuron dynamics
def test_neuron_dynamics_axes_and_spike_markers():
    neuron = NeuronParams()
    v = np.array([0.1, 0.5, 0.2, 0.7, 0.0])
    s = (v > neuron.vth).astype(float)
    sd = (np.abs(v - neuron.vth) < neuron.grad_win).astype(float)
    fig = plot_neuron_dynamics(v, s, sd, neuron)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    spike_line = fig.axes[0].lines[-1]
    np.testing.assert_array_equal(spike_line.get_xdata(), [1, 3])
    np.testing.assert_array_equal(spike_line.get_ydata(), [0.5, 0.7])

    inputs = np.array([[1, 0], [0, 0], [1, 1], [0, 1], [0, 0]])
    fig = plot_neuron_dynamics(v, s, sd, neuron, inputs=inputs)
    assert len(fig.axes) == 3
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_xdata(), [0, 2, 2, 3])


def test_neuron_dynamics_rejects_bad_input():
    neuron = NeuronParams()
    v, s, sd = np.zeros(4), np.zeros(4), np.zeros(4)
    with pytest.raises(ValueError, match="same shape"):
        plot_neuron_dynamics(v, np.zeros(5), sd, neuron)
    with pytest.raises(ValueError, match="0 or 1 only"):
        plot_neuron_dynamics(v, np.full(4, 0.5), sd, neuron)
    with pytest.raises(TypeError, match="NeuronParams"):
        plot_neuron_dynamics(v, s, sd, {"vth": 0.3})
    with pytest.raises(ValueError, match="T=4 steps"):
        plot_neuron_dynamics(v, s, sd, neuron, inputs=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="1 dimensions"):
        plot_neuron_dynamics(np.zeros((4, 1)), s, sd, neuron)


# ---------------------------------------------------------------------- spike raster
def test_raster_one_image_per_layer():
    rng = np.random.default_rng(1)
    layers = [_spikes(rng, (20, 784)), _spikes(rng, (20, 50)), _spikes(rng, (20, 10))]
    fig = plot_spike_raster(layers, names=["input", "hidden", "output"])
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3
    # Top panel is the last layer.
    for ax, layer in zip(fig.axes, reversed(layers)):
        images = [artist for artist in ax.get_children() if isinstance(artist, AxesImage)]
        assert len(images) == 1
        np.testing.assert_array_equal(images[0].get_array(), layer.T)
    assert fig.axes[-1].get_ylabel() == f"input\n({int(layers[0].sum())} spikes)"


def test_raster_with_image_adds_axes():
    rng = np.random.default_rng(2)
    layers = [_spikes(rng, (8, 16)), _spikes(rng, (8, 4))]
    fig = plot_spike_raster(layers, image=rng.random((4, 4)), title="digit")
    assert len(fig.axes) == 3
    assert fig.axes[-1].get_title() == "input image"


def test_raster_rejects_bad_input():
    rng = np.random.default_rng(3)
    with pytest.raises(ValueError, match="same number of time steps"):
        plot_spike_raster([_spikes(rng, (8, 4)), _spikes(rng, (9, 4))])
    with pytest.raises(ValueError, match="0 or 1 only"):
        plot_spike_raster([np.full((8, 4), 2.0)])
    with pytest.raises(TypeError, match=r"wrap a single layer as \[spikes\]"):
        plot_spike_raster(_spikes(rng, (8, 4)))
    with pytest.raises(ValueError, match="must contain 2 entries"):
        plot_spike_raster([_spikes(rng, (8, 4)), _spikes(rng, (8, 4))], names=["only one"])
    with pytest.raises(ValueError, match="2 dimensions"):
        plot_spike_raster([_spikes(rng, (8, 4))], image=np.zeros(16))


# ---------------------------------------------------------------------- confusion matrix
def test_confusion_matrix_counts():
    labels = np.array([0, 0, 1, 2, 2, 2])
    predictions = np.array([0, 1, 1, 2, 0, 2])
    expected = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_array_equal(confusion_matrix(labels, predictions), expected)
    wide = confusion_matrix(labels, predictions, n_classes=5)
    assert wide.shape == (5, 5)
    np.testing.assert_array_equal(wide[:3, :3], expected)
    assert wide.sum() == len(labels)


def test_confusion_matrix_rejects_bad_input():
    with pytest.raises(ValueError, match="must be < n_classes=2"):
        confusion_matrix([0, 2], [0, 1], n_classes=2)
    with pytest.raises(TypeError, match="integer array"):
        confusion_matrix(np.array([0.0, 1.0]), np.array([0, 1]))
    with pytest.raises(ValueError, match="same length"):
        confusion_matrix([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="non-negative"):
        confusion_matrix([0, -1], [0, 1])
    with pytest.raises(ValueError, match="pass n_classes"):
        confusion_matrix(np.array([], int), np.array([], int))


def test_confusion_plot_axes_and_fractions():
    labels = np.array([0, 0, 1, 1, 1, 1])
    predictions = np.array([0, 1, 1, 1, 1, 0])
    fig = plot_confusion_matrix(labels, predictions, n_classes=3)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2  # matrix and colour bar
    ax = fig.axes[0]
    fractions = ax.get_images()[0].get_array()
    np.testing.assert_allclose(fractions, [[0.5, 0.5, 0.0], [0.25, 0.75, 0.0], [0.0, 0.0, 0.0]])
    assert ax.get_title() == "accuracy 66.7% on 6 samples"
    assert sorted(text.get_text() for text in ax.texts) == ["1", "1", "1", "3"]


# ---------------------------------------------------------------------- traces against BPTT
def test_trace_scatter_pairs():
    rng = np.random.default_rng(4)
    trace_w, trace_b = rng.random((3, 4)), rng.random(3)
    reference_w, reference_b = trace_w + 1e-3, trace_b.copy()
    fig = plot_trace_vs_bptt([trace_w, trace_b], [reference_w, reference_b], names=["E", "G"])
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    for ax, trace, reference in zip(fig.axes, (trace_w, trace_b), (reference_w, reference_b)):
        assert len(ax.lines) == 1  # identity line
        scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
        assert len(scatters) == 1
        np.testing.assert_allclose(scatters[0].get_offsets(), np.column_stack([reference.ravel(), trace.ravel()]))
    assert fig.axes[0].get_title() == "E\nmax |difference| = 1.0e-03"
    assert fig.axes[1].get_title() == "G\nmax |difference| = 0.0e+00"


def test_trace_scatter_rejects_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        plot_trace_vs_bptt([np.zeros((2, 3))], [np.zeros((3, 2))])
    with pytest.raises(ValueError, match="same number of arrays"):
        plot_trace_vs_bptt([np.zeros(2), np.zeros(2)], [np.zeros(2)])
    with pytest.raises(TypeError, match=r"wrap a single array as \[array\]"):
        plot_trace_vs_bptt(np.zeros(3), [np.zeros(3)])
    with pytest.raises(ValueError, match="finite"):
        plot_trace_vs_bptt([np.array([np.inf])], [np.zeros(1)])
    with pytest.raises(ValueError, match="at least 1 dimension"):
        plot_trace_vs_bptt([np.float64(1.0)], [np.float64(1.0)])


# ---------------------------------------------------------------------- feedback alignment
def test_stack_alignment_from_network():
    net = BioGradNetwork(NetworkConfig((12, 8, 6, 3), n_steps=5, error_start=1), np.random.default_rng(5),
                         feedback_init="random")
    records = [net.alignment()]
    net.sleep(SleepParams(n_samples=4, n_steps=5), np.random.default_rng(6))
    records.append(net.alignment())
    angles, ratios = stack_alignment(records)
    assert angles.shape == ratios.shape == (2, 2)
    for row, record in enumerate(records):
        np.testing.assert_array_equal(angles[row], [record[1][0], record[2][0]])
        np.testing.assert_array_equal(ratios[row], [record[1][1], record[2][1]])
    np.testing.assert_allclose(ratios[0], 1.0, rtol=1e-6)


def test_stack_alignment_rejects_bad_input():
    with pytest.raises(ValueError, match=r"records\[1\] has the layers \[1\]"):
        stack_alignment([{1: (10.0, 1.0), 2: (5.0, 1.0)}, {1: (9.0, 1.0)}])
    with pytest.raises(TypeError, match=r"wrap a single net.alignment\(\) result"):
        stack_alignment({1: (10.0, 1.0)})
    with pytest.raises(ValueError, match="pair"):
        stack_alignment([{1: (10.0,)}])


def test_alignment_curves_grid():
    rng = np.random.default_rng(7)
    steps = np.arange(0, 30, 5)
    angles = rng.uniform(0, 90, size=(4, len(steps), 2))
    ratios = rng.uniform(0.5, 20, size=(4, len(steps), 2))
    names = ["product, no sleep", "product, sleep", "random, no sleep", "random, sleep"]
    fig = plot_alignment_curves(steps, angles, ratios, condition_names=names, ratio_log=True)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 4  # angle and ratio row, one column per layer
    angle_axes, ratio_axes = [fig.axes[0], fig.axes[1]], [fig.axes[2], fig.axes[3]]
    for layer, (ax_angle, ax_ratio) in enumerate(zip(angle_axes, ratio_axes)):
        assert len(ax_angle.lines) == 4
        assert len(ax_ratio.lines) == 4
        assert ax_ratio.get_yscale() == "log"
        np.testing.assert_array_equal(ax_angle.lines[2].get_ydata(), angles[2, :, layer])
        np.testing.assert_array_equal(ax_ratio.lines[1].get_ydata(), ratios[1, :, layer])
    assert [ax.get_title() for ax in angle_axes] == ["$B_{1}$", "$B_{2}$"]
    assert [text.get_text() for text in fig.axes[0].get_legend().get_texts()] == names


def test_alignment_curves_rejects_bad_input():
    steps = np.arange(3)
    good = np.ones((2, 3, 1))
    with pytest.raises(ValueError, match="one entry per record"):
        plot_alignment_curves(np.arange(4), good, good)
    with pytest.raises(ValueError, match="3 dimensions"):
        plot_alignment_curves(steps, np.ones((3, 1)), np.ones((3, 1)))
    with pytest.raises(ValueError, match="same shape"):
        plot_alignment_curves(steps, good, np.ones((1, 3, 1)))
    with pytest.raises(ValueError, match="must contain 2 entries"):
        plot_alignment_curves(steps, good, good, condition_names=["one"])
    with pytest.raises(TypeError, match="sequence of strings"):
        plot_alignment_curves(steps, good, good, layer_names="B_1")


def test_figures_render_without_display(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    rng = np.random.default_rng(8)
    neuron = NeuronParams()
    figures = [
        plot_time_series({r"$\tilde P_t$": rng.random(6)}, column_names=None),
        plot_neuron_dynamics(rng.random(6), np.zeros(6), np.ones(6), neuron, inputs=np.ones((6, 2))),
        plot_spike_raster([_spikes(rng, (6, 5))], image=rng.random((3, 3))),
        plot_confusion_matrix([0, 1, 1], [0, 1, 0]),
        plot_trace_vs_bptt([rng.random(4)], [rng.random(4)]),
        plot_alignment_curves(np.arange(3), rng.random((1, 3, 2)), rng.random((1, 3, 2)) + 1, ratio_log=True),
    ]
    backend = matplotlib.get_backend().lower()
    assert backend in ("agg", "module://matplotlib_inline.backend_inline")
    for fig in figures:
        fig.canvas.draw()  # parses every mathtext label and lays out the figure
        assert fig.canvas.get_width_height()[0] > 0


# ---------------------------------------------------------------------- learning curves
def test_learning_curves_lines_and_chance():
    fig = plot_learning_curves([1, 2, 3], {"float": [10.0, 40.0, 60.0], "fixed": [12.0, 35.0, 55.0]}, chance=10.0)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert [line.get_label() for line in ax.lines] == ["float", "fixed", "chance"]
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [12.0, 35.0, 55.0])
    np.testing.assert_array_equal(ax.lines[2].get_ydata(), [10.0, 10.0])


def test_learning_curves_rejects_bad_input():
    with pytest.raises(ValueError, match="one value per step"):
        plot_learning_curves([1, 2, 3], {"a": [1.0, 2.0]})
    with pytest.raises(TypeError, match="non-empty mapping"):
        plot_learning_curves([1, 2], {})
    with pytest.raises(TypeError, match="labels must be strings"):
        plot_learning_curves([1, 2], {0: [1.0, 2.0]})
    with pytest.raises(ValueError, match="finite"):
        plot_learning_curves([1, 2], {"a": [1.0, np.inf]})
    with pytest.raises(TypeError, match="chance must be a real number"):
        plot_learning_curves([1, 2], {"a": [1.0, 2.0]}, chance="10%")


# ---------------------------------------------------------------------- integer histograms
def test_integer_histograms_bar_heights():
    weights = np.array([[-4, -4, 0], [2, 2, 2]])
    fig = plot_integer_histograms([weights, np.array([7])], names=["W_1", "W_o"], limits=(-256, 254))
    assert len(fig.axes) == 2
    bars = fig.axes[0].patches
    assert [bar.get_x() + bar.get_width() / 2 for bar in bars] == pytest.approx([-4, 0, 2])
    assert [bar.get_height() for bar in bars] == [2, 1, 3]
    assert fig.axes[0].get_title() == "W_1\n3 distinct values in [-4, 2]"
    limit_lines = [line.get_xdata()[0] for line in fig.axes[0].lines]
    assert limit_lines == [-256, 254]
    assert [bar.get_height() for bar in fig.axes[1].patches] == [1]


def test_integer_histograms_rejects_bad_input():
    with pytest.raises(ValueError, match="integer values"):
        plot_integer_histograms([np.array([0.5, 1.0])])
    with pytest.raises(TypeError, match=r"wrap a single array as \[array\]"):
        plot_integer_histograms(np.array([1, 2]))
    with pytest.raises(ValueError, match="lowest <= highest"):
        plot_integer_histograms([np.array([1, 2])], limits=(254, -256))
    with pytest.raises(TypeError, match="pair"):
        plot_integer_histograms([np.array([1, 2])], limits=(1, 2, 3))
    with pytest.raises(ValueError, match="must contain 2 entries"):
        plot_integer_histograms([np.array([1]), np.array([2])], names=["one"])


# ---------------------------------------------------------------------- energy estimate
def _energy_estimate(sizes=(6, 4, 2)):
    activity = {"spikes": [30.0, 12.0, 5.0], "error_spikes": 4.0}
    counts = operation_counts(sizes, 10, 2, activity, sleep=None)
    return energy_estimate(counts)


def test_energy_breakdown_bar_heights():
    small, large = _energy_estimate(), _energy_estimate((60, 40, 2))
    fig = plot_energy_breakdown({"small": small, "large": large})
    (ax,) = fig.axes
    assert len(ax.containers) == 2
    for container, estimate in zip(ax.containers, (small, large)):
        heights = [bar.get_height() for bar in container]
        assert heights == pytest.approx([estimate[key]["nj"] for key in ENERGY_OPERATIONS])
    assert ax.get_yscale() == "log"
    assert ax.get_title() == "estimate, per-operation energies unverified"
    assert ax.get_legend().get_texts()[0].get_text() == f"small (total {small['total_nj'] / 1e3:.3g} µJ)"


def test_energy_breakdown_rejects_bad_input():
    with pytest.raises(TypeError, match="non-empty mapping"):
        plot_energy_breakdown({})
    with pytest.raises(TypeError, match="energy_estimate returns"):
        plot_energy_breakdown({"counts": {"synaptic_op": 1.0}})
    with pytest.raises(TypeError, match="labels must be strings"):
        plot_energy_breakdown({1: _energy_estimate()})


# ---------------------------------------------------------------------- event data
def _events(rows):
    """Return a structured event array (x, y, t in µs, p) with the dtype read_events returns."""
    return np.array(rows, dtype=EVENT_DTYPE)


def test_events_panels_and_counts():
    events = _events([(1, 2, 1000, 1), (1, 2, 2000, 1), (3, 0, 4000, 0), (0, 4, 12000, 1)])
    fig = plot_events(events, sensor_size=(5, 6, 2), window_ms=10, bin_ms=5)
    assert len(fig.axes) == 7  # two images, two colour bars, three time axes
    on_image = fig.axes[0].images[0].get_array()
    off_image = fig.axes[2].images[0].get_array()
    assert on_image.shape == (6, 5)
    assert on_image[2, 1] == 2
    assert on_image[4, 0] == 1
    assert on_image.sum() == 3
    assert off_image[0, 3] == 1
    assert off_image.sum() == 1
    ax_rate, ax_x, ax_y = fig.axes[4:]
    on_x = ax_x.collections[0].get_offsets()
    np.testing.assert_array_equal(on_x, [[1.0, 1], [2.0, 1], [12.0, 0]])
    np.testing.assert_array_equal(ax_y.collections[1].get_offsets(), [[4.0, 0]])
    assert ax_y.lines[0].get_xdata()[0] == 10  # end of the encoded window


def test_events_rejects_bad_input():
    events = _events([(1, 2, 1000, 1)])
    with pytest.raises(TypeError, match="fields x, y, t, p"):
        plot_events(np.zeros(3))
    with pytest.raises(ValueError, match="at least one event"):
        plot_events(events[:0])
    with pytest.raises(ValueError, match=r"'x' must lie in \[0, 0\]"):
        plot_events(events, sensor_size=(1, 6, 2))
    with pytest.raises(ValueError, match="1 or 2 polarities"):
        plot_events(events, sensor_size=(5, 6, 3))
    with pytest.raises(TypeError, match="width, height, polarities"):
        plot_events(events, sensor_size=(5, 6))


def test_event_frames_values():
    events = _events([(1, 2, 1000, 1), (1, 2, 2000, 0), (3, 0, 4000, 0), (0, 4, 7000, 1)])
    spikes = bin_events(events, duration_ms=10, bin_ms=5, sensor_size=(5, 6, 2))
    fig = plot_event_frames(spikes, sensor_size=(5, 6, 2), bin_ms=5)
    assert len(fig.axes) == 2
    first = fig.axes[0].images[0].get_array()
    second = fig.axes[1].images[0].get_array()
    assert first[2, 1] == 3  # ON and OFF in the same bin
    assert first[0, 3] == 2  # OFF only
    assert first.sum() == 5
    assert second[4, 0] == 1  # ON only
    assert second.sum() == 1
    assert [ax.get_title() for ax in fig.axes] == ["0 ms", "5 ms"]

    fig = plot_event_frames(spikes, sensor_size=(5, 6, 2), steps=[1], n_columns=4)
    assert len(fig.axes) == 1
    assert fig.axes[0].get_title() == "t=1"


def test_event_frames_rejects_bad_input():
    spikes = np.zeros((4, 60))
    with pytest.raises(ValueError, match="P\\*H\\*W = 60 inputs"):
        plot_event_frames(np.zeros((4, 59)), sensor_size=(5, 6, 2))
    with pytest.raises(ValueError, match=r"steps must lie in \[0, 3\]"):
        plot_event_frames(spikes, sensor_size=(5, 6, 2), steps=[4])
    with pytest.raises(TypeError, match="integer step indices"):
        plot_event_frames(spikes, sensor_size=(5, 6, 2), steps=[0.5])
    with pytest.raises(ValueError, match="at least one step"):
        plot_event_frames(spikes, sensor_size=(5, 6, 2), steps=[])
    with pytest.raises(ValueError, match="0 or 1 only"):
        plot_event_frames(np.full((4, 60), 2.0), sensor_size=(5, 6, 2))


def test_curve_energy_event_figures_render(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    events = _events([(1, 2, 1000, 1), (3, 0, 4000, 0)])
    figures = [
        plot_learning_curves(np.arange(3), {"a": np.ones(3)}, chance=0.1),
        plot_integer_histograms([np.array([-2, 0, 2])], limits=(-256, 254)),
        plot_energy_breakdown({"every step": _energy_estimate()}),
        plot_events(events, sensor_size=(5, 6, 2), window_ms=10),
        plot_event_frames(bin_events(events, 10, 5, (5, 6, 2)), sensor_size=(5, 6, 2)),
    ]
    for fig in figures:
        fig.canvas.draw()
        assert fig.canvas.get_width_height()[0] > 0
