"""netx export: file layout, Lava runs against the integer model and the float reference, import, errors.

Delays in the netx graph ``RingBuffer -> [Dense_0 -> LIF_0] -> [Dense_1 -> LIF_1] -> sink``
(Lava steps count from 1; the source sends input column ``c`` at step ``c + 1``):

* source -> Dense_0: none, Dense_0 receives column ``c`` at step ``c + 1``;
* Dense_0 -> LIF_0: one step, because Dense sends what it received in the previous step;
* LIF_0 -> Dense_1 -> LIF_1: one step, again from the Dense;
* LIF_1 -> sink: none.

So from a zero state LIF_l at Lava step ``t + 1`` receives the spikes of layer
``l - 1`` (or the input) of step ``t - 1``. That is the reference's ``'delayed'``
timing, with reference step ``t`` at Lava step ``t + 1``. The Lava tests need lava-dl and skip without it; the file tests
need only h5py.
"""


import h5py
import numpy as np
import pytest

from lava_biograd.export import netx as netx_module
from lava_biograd.export.cli import command_export, network_file_header
from lava_biograd.export.netx import export_netx, load_network_file, read_netx, run_netx
from lava_biograd.export.quantize import quantize_network, simulate_quantized
from lava_biograd.reference import BioGradNetwork, NetworkConfig, NeuronParams

T = 20
N_LAVA_SAMPLES = 20


@pytest.fixture(scope="module")
def trained(trained_float):
    """The shared trained network, its checkpoint, and the test split."""
    net, checkpoint, splits = trained_float
    return net, checkpoint, splits["test"]


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory):
    net, _, _ = trained
    return export_netx(net, tmp_path_factory.mktemp("netx") / "mnist.net")


@pytest.fixture(scope="module")
def mnist_spikes(trained):
    _, _, test_set = trained
    return test_set.batch(np.arange(N_LAVA_SAMPLES), np.random.default_rng(2))


@pytest.fixture(scope="module")
def netx_spikes(exported, mnist_spikes, netx_hdf5):
    """Output spikes of the Lava run of the exported network, per timing."""
    return {timing: run_netx(exported, mnist_spikes, timing=timing) for timing in ("delayed", "same_step")}


# --------------------------------------------------------------------------- layout
def test_export_layout(trained, exported):
    net, _, _ = trained
    layers = quantize_network(net)
    with h5py.File(exported, "r") as handle:
        assert handle["simulation/Ts"][()] == 1
        assert handle["simulation/tSample"][()] == T
        assert handle["layer/0/type"][0] == b"input"
        np.testing.assert_array_equal(handle["layer/0/shape"][()], [784])
        for index, layer in enumerate(layers, start=1):
            group = handle[f"layer/{index}"]
            assert group["type"][0] == b"dense"
            assert group["weight"].dtype == np.float32
            np.testing.assert_array_equal(group["weight"][()], layer.weight)
            np.testing.assert_array_equal(group["bias"][()], layer.bias)
            assert np.abs(group["weight"][()]).max() == 127
            assert group["neuron/type"][0] == b"CUBA"
            assert group["neuron/iDecay"][()] == 4096
            assert group["neuron/vDecay"][()] == 2867
            assert group["neuron/vThMant"][()] == round(0.3 * layer.scale)
        np.testing.assert_array_equal(handle["lava_biograd/scale"][()], [layer.scale for layer in layers])


def test_netx_weight_optimisation_exact(exported, netx_hdf5):
    """netx doubles 8-bit mixed-sign weights and sets weight_exp=-1, so Dense sums W_int exactly."""
    network = netx_hdf5.Network(net_config=str(exported))
    written = read_netx(exported)
    assert len(network.layers) == 2
    for block, layer in zip(network.layers, written.layers):
        np.testing.assert_array_equal(block.synapse.weights.init, 2 * layer.weight)
        assert block.synapse.proc_params["weight_exp"] == -1


# --------------------------------------------------------------------------- Lava runs
@pytest.mark.parametrize("timing", ["delayed", "same_step"])
def test_netx_matches_integer_model(exported, mnist_spikes, netx_spikes, timing):
    spikes = netx_spikes[timing]
    expected = simulate_quantized(read_netx(exported).layers, mnist_spikes, timing=timing)[-1]
    assert spikes.shape == (T, N_LAVA_SAMPLES, 10)
    assert spikes.sum() > N_LAVA_SAMPLES * 10
    np.testing.assert_array_equal(spikes, expected)


@pytest.mark.parametrize("timing", ["delayed", "same_step"])
def test_netx_agrees_with_float_reference(trained, mnist_spikes, netx_spikes, timing, with_timing):
    """Output counts of netx (fixed point) vs the float64 reference with the same timing and spikes.

    They differ only by quantisation (8-bit weights, rounded bias, threshold and decay,
    truncated decay products), because Lava's run equals the integer model bit for bit
    (test above). On 2,000 test images the integer model predicts the reference's
    class for 98.7-99.5 % of the images, and output counts differ by 0.04-0.09 spikes
    per neuron on average (three training seeds). The bounds below allow two of the 20
    images to disagree.
    """
    net, _, _ = trained
    counts = netx_spikes[timing].sum(axis=0)
    predictions, reference_counts = with_timing(net, timing).predict(mnist_spikes)
    assert np.mean(counts.argmax(axis=1) == predictions) >= 0.9
    assert np.mean(np.abs(counts - reference_counts)) <= 0.25


def _relay_network():
    """2-1-1 network in which every spike is passed on: W = 1, theta = 0.5, no bias."""
    config = NetworkConfig((2, 1, 1), n_steps=5, error_start=0, timing="delayed",
                           neuron=NeuronParams(vdecay=0.5, vth=0.5))
    state = {"config": config.to_dict(), "dtype": "float64",
             "W0": np.array([[1.0, 0.0]]), "b0": np.zeros(1), "W1": np.array([[1.0]]), "b1": np.zeros(1),
             "B0": np.ones((1, 1))}
    return BioGradNetwork.from_state_dict(state)


def test_netx_delays_and_sample_boundaries(tmp_path, netx_hdf5):
    """One input spike passes two Dense delays; spikes in flight at a sample end are dropped."""
    path = export_netx(_relay_network(), tmp_path / "relay.net")
    x = np.zeros((5, 3, 2))
    x[0, 0, 0] = 1  # sample 0: spike at step 0
    x[3, 1, 0] = 1  # sample 1: spike at step 3; under 'delayed' it reaches the output at step 5 > T - 1
    delayed = run_netx(path, x, timing="delayed")[:, :, 0]
    # Dense_0 delays to step 1 (LIF_0 spikes), Dense_1 to step 2 (LIF_1 spikes).
    np.testing.assert_array_equal(delayed[:, 0], [0, 0, 1, 0, 0])
    # LIF_0 spikes at step 4; that spike is in Dense_1 when the sample ends and is dropped,
    # so neither sample 1 nor sample 2 (no input) shows it.
    np.testing.assert_array_equal(delayed[:, 1], [0, 0, 0, 0, 0])
    np.testing.assert_array_equal(delayed[:, 2], [0, 0, 0, 0, 0])
    same_step = run_netx(path, x, timing="same_step")[:, :, 0]
    np.testing.assert_array_equal(same_step[:, 0], [1, 0, 0, 0, 0])
    np.testing.assert_array_equal(same_step[:, 1], [0, 0, 0, 1, 0])
    np.testing.assert_array_equal(same_step[:, 2], [0, 0, 0, 0, 0])


def test_run_netx_rejects_wrong_input(exported):
    with pytest.raises(ValueError, match="n_0=784"):
        run_netx(exported, np.zeros((T, 1, 5)))
    with pytest.raises(ValueError, match="0 or 1"):
        run_netx(exported, np.full((T, 1, 784), 0.5))


# --------------------------------------------------------------------------- import
def test_load_round_trip(trained, exported):
    net, _, _ = trained
    loaded = load_network_file(exported)
    assert loaded.config == net.config
    assert loaded.dtype == net.dtype
    for layer, w, b, w_loaded, b_loaded in zip(read_netx(exported).layers, net.weights, net.biases,
                                               loaded.weights, loaded.biases):
        np.testing.assert_array_equal(w_loaded, (layer.weight / layer.scale).astype(np.float32))
        np.testing.assert_array_equal(b_loaded, (layer.bias / layer.scale).astype(np.float32))
        assert np.max(np.abs(w_loaded - w)) <= 0.5 / layer.scale + 1e-6
    assert [f.shape for f in loaded.feedback] == [(100, 10)]


def test_load_predicts_like_float_network(trained, exported, mnist_spikes):
    net, _, _ = trained
    predictions, _ = net.predict(mnist_spikes)
    loaded_predictions, _ = load_network_file(exported).predict(mnist_spikes)
    assert np.mean(loaded_predictions == predictions) >= 0.9


def _write_string(group, name, value):
    group.create_dataset(name, (1,), f"S{len(value)}", [value.encode("ascii")])


def _write_foreign(path, mutate=None):
    """A 3-2 CUBA network as another tool would write it (no lava_biograd group)."""
    with h5py.File(path, "w") as handle:
        handle["simulation/Ts"] = 1
        handle["simulation/tSample"] = 7
        first = handle.create_group("layer/0")
        _write_string(first, "type", "input")
        first["shape"] = np.array([3])
        dense = handle.create_group("layer/1")
        _write_string(dense, "type", "dense")
        dense["shape"] = np.array([2])
        dense["weight"] = np.array([[10, -20, 30], [0, 5, -5]], np.float32)
        dense["bias"] = np.array([1, -2], np.float32)
        neuron = dense.create_group("neuron")
        _write_string(neuron, "type", "CUBA")
        neuron["iDecay"] = 4096
        neuron["vDecay"] = 1024
        neuron["vThMant"] = 80
        neuron["refDelay"] = 1
        neuron["gradedSpike"] = False
        if mutate is not None:
            mutate(handle)
    return path


def test_load_foreign_file(tmp_path):
    net = load_network_file(_write_foreign(tmp_path / "foreign.net"))
    assert net.config.sizes == (3, 2)
    assert net.config.n_steps == 7
    assert net.config.timing == "delayed"
    assert net.neurons[0].vth == 1.0
    assert net.neurons[0].vdecay == 0.75  # (4096 - 1024) / 4096
    np.testing.assert_allclose(net.weights[0], np.array([[10, -20, 30], [0, 5, -5]]) / 80)
    np.testing.assert_allclose(net.biases[0], np.array([1, -2]) / 80)
    assert network_file_header(tmp_path / "foreign.net") == {"dataset": "mnist", "n_validation": 10000,
                                                              "train": {"seed": 0}}


def _set(name, value):
    def mutate(handle):
        del handle[name]
        if isinstance(value, str):
            _write_string(handle[name.rsplit("/", 1)[0]], name.rsplit("/", 1)[1], value)
        else:
            handle[name] = value
    return mutate


def _delete(name):
    def mutate(handle):
        del handle[name]
    return mutate


def _add(name, value):
    def mutate(handle):
        if value is None:
            handle.create_group(name)
        else:
            handle[name] = value
    return mutate


def _move(source, target):
    def mutate(handle):
        handle.move(source, target)
    return mutate


INVALID_FILES = [
    (_set("layer/1/type", "conv"), "type 'conv', which is not supported"),
    (_set("layer/1/type", "dense_rec"), "type 'dense_rec'"),
    (_set("layer/1/neuron/type", "SDNN"), "neuron type 'SDNN'"),
    (_set("layer/1/neuron/type", "RF"), "neuron type 'RF'"),
    (_set("layer/1/neuron/iDecay", 1024), "iDecay=1024"),
    (_set("layer/1/neuron/vThMant", np.array([80, 90])), "one value for the whole layer"),
    (_set("layer/1/neuron/vThMant", 0), "vThMant must be an integer in"),
    (_set("layer/1/neuron/gradedSpike", True), "graded spikes"),
    (_set("layer/1/weight", np.zeros((2, 4), np.float32)), "expects 4 inputs, but the previous layer has 3 outputs"),
    (_set("layer/1/weight", np.zeros((3, 3), np.float32)), r"does not match the layer shape \(2,\)"),
    (_set("layer/1/weight", np.full((2, 3), 300, np.float32)), "exceed the range"),
    (_set("layer/1/bias", np.array([5000, 0], np.float32)), "13-bit"),
    (_delete("layer/1/neuron"), "no 'neuron' group"),
    (_delete("layer/1/weight"), "no real 'weight'"),
    (_add("layer/1/delay", np.ones(2)), "'delay'"),
    (_add("layer/0/neuron", None), "input layer with neurons"),
    (_delete("layer/1"), "no dense layer"),
    (_delete("layer"), "no 'layer' group"),
    (_move("layer/1", "layer/2"), "without gaps"),
]


@pytest.mark.parametrize("mutate, message", INVALID_FILES, ids=[m for _, m in INVALID_FILES])
def test_invalid_file_rejected(tmp_path, mutate, message):
    path = _write_foreign(tmp_path / "bad.net", mutate)
    with pytest.raises(ValueError, match=message):
        load_network_file(path)


def test_not_hdf5_rejected(tmp_path):
    path = tmp_path / "text.net"
    path.write_text("layer 0: input\n")
    with pytest.raises(ValueError, match="not an HDF5 file"):
        load_network_file(path)


def test_missing_file_rejected(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_network_file(tmp_path / "absent.net")


def test_foreign_without_steps_needs_n_steps(tmp_path):
    path = _write_foreign(tmp_path / "foreign.net", _delete("simulation"))
    with pytest.raises(ValueError, match="pass n_steps"):
        load_network_file(path)
    assert load_network_file(path, n_steps=9).config.n_steps == 9


def test_edited_export_rejected(exported, tmp_path):
    path = tmp_path / "edited.net"
    path.write_bytes(exported.read_bytes())
    with h5py.File(path, "r+") as handle:
        handle["layer/1/neuron/vThMant"][()] = handle["layer/1/neuron/vThMant"][()] + 1
    with pytest.raises(ValueError, match="changed after export"):
        load_network_file(path)


# --------------------------------------------------------------------------- atomic output
def test_failed_export_leaves_no_file(trained, tmp_path, monkeypatch):
    net, _, _ = trained

    def fail(group, layer):
        raise OSError("disk full")

    monkeypatch.setattr(netx_module, "_write_dense", fail)
    out = tmp_path / "net.net"
    with pytest.raises(OSError, match="disk full"):
        export_netx(net, out)
    assert list(tmp_path.iterdir()) == []

    out.write_bytes(b"previous content")
    with pytest.raises(OSError, match="disk full"):
        export_netx(net, out)
    assert out.read_bytes() == b"previous content"
    assert [p.name for p in tmp_path.iterdir()] == ["net.net"]


def test_unquantisable_export_leaves_no_file(tmp_path):
    net = _relay_network()
    net.weights[1][:] = 0
    with pytest.raises(ValueError, match="every weight of the layer is zero"):
        export_netx(net, tmp_path / "zero.net")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- CLI
def test_cli_export_netx(trained, tmp_path, capsys, parse_export):
    _, checkpoint, _ = trained
    out = tmp_path / "cli.net"
    assert command_export(parse_export(["export", str(checkpoint), str(out)])) == 0
    assert '"format": "netx"' in capsys.readouterr().out
    assert read_netx(out).sizes == (784, 100, 10)
    assert network_file_header(out) == {"dataset": "mnist", "n_validation": 10000, "train": {"seed": 0}}


def test_cli_rejects_nir_options_for_netx(trained, tmp_path, parse_export):
    _, checkpoint, _ = trained
    with pytest.raises(ValueError, match="--dt applies only to --format nir"):
        command_export(parse_export(["export", str(checkpoint), str(tmp_path / "a.net"), "--dt", "0.5"]))
    assert list(tmp_path.iterdir()) == []


def test_cli_rejects_unknown_suffix(trained, tmp_path, parse_export):
    _, checkpoint, _ = trained
    with pytest.raises(ValueError, match="pass --format netx or --format nir"):
        command_export(parse_export(["export", str(checkpoint), str(tmp_path / "a.h5")]))
