"""netx export of fixed-point networks: the file contains the simulator's integers, and Lava computes its spikes.

The MNIST network is 784-64-10 with ``T = 20``, quantised with ``NETX_FORMAT_OPTIONS``
(``weight_exp`` in [-1, 0], ``bias_exp = 6``) and trained for 200 batches of 32 images
with the reference trainer. The same Bernoulli spikes of eight test images then run
through three implementations, which must agree exactly:

* netx: ``lava.lib.dl.netx.hdf5.Network`` built from the exported file (``run_netx``,
  ``'delayed'`` timing), fixed-point Lava models;
* the ``fixed_pt`` Lava graph of :class:`LavaBioGradNetwork`;
* the numpy simulator ``FixedBioGradNetwork``.

A synthetic three-layer network covers the formats that export only because their
values fit (``weight_exp`` of -2 and +1, ``bias_exp`` of 4 and 7), the 24-bit wrap of
the synaptic current and the saturation of the voltage. The Lava tests need lava-dl
and skip without it. The file and error tests need only h5py.
"""

import json

import h5py
import numpy as np
import pytest

from lava_biograd.cli import main
from lava_biograd.data.dataset import mnist_splits
from lava_biograd.export import netx as netx_module
from lava_biograd.export.netx import (
    NETX_FORMAT_OPTIONS,
    export_netx,
    fixed_netx_layers,
    load_network_file,
    read_netx,
    run_netx,
)
from lava_biograd.reference import BioGradNetwork, NetworkConfig, NeuronParams
from lava_biograd.reference.fixed import FixedBioGradNetwork, FixedPointFormat, LayerFormat, choose_format
from lava_biograd.reference.fixed.arithmetic import STATE_MAX
from lava_biograd.training.trainer import Trainer, TrainConfig, evaluate, evaluation_generator, make_generators

T = 20
N_LAVA_SAMPLES = 8
N_EVALUATE = 300


@pytest.fixture(scope="module")
def trained(mnist_root, tmp_path_factory):
    """Fixed-point 784-64-10 network after 200 batches of MNIST, its checkpoint, and the test split."""
    splits = mnist_splits(data_dir=mnist_root, n_steps=T)
    generators = make_generators(0)
    net = BioGradNetwork(NetworkConfig((784, 64, 10), n_steps=T, error_start=5), generators["init"])
    config = TrainConfig(epochs=1, batch_size=32, lr=3e-2, sleep_every=0, seed=0)
    out = tmp_path_factory.mktemp("run")
    trainer = Trainer(net, splits["train"].subset(np.arange(6400)), {}, config, out, generators=generators,
                      extra_header={"dataset": "mnist", "n_validation": 10000}, progress=False)
    trainer.net = FixedBioGradNetwork.from_float(net, np.random.default_rng(1), **NETX_FORMAT_OPTIONS)
    trainer.fit()
    return trainer.net, out / "last.npz", splits["test"]


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory):
    fixed, _, _ = trained
    return export_netx(fixed, tmp_path_factory.mktemp("netx") / "fixed.net")


@pytest.fixture(scope="module")
def mnist_spikes(trained):
    _, _, test_set = trained
    return test_set.batch(np.arange(N_LAVA_SAMPLES), np.random.default_rng(2))


@pytest.fixture(scope="module")
def netx_spikes(exported, mnist_spikes, netx_hdf5):
    return run_netx(exported, mnist_spikes, timing="delayed")


# --------------------------------------------------------------------------- format options
def test_choose_format_netx_options_analytic():
    config = NetworkConfig((784, 100, 10), neuron=NeuronParams(vdecay=0.3, vth=0.3, grad_win=0.3))
    weights = [np.full((100, 784), 1 / 28), np.full((10, 100), 0.1)]
    biases = [np.full(100, 1 / 28), np.full(10, 0.1)]
    fmt = choose_format(config, weights, biases, **NETX_FORMAT_OPTIONS)
    # weight_exp <= 0 bounds S by 254 * 2^6 / (2 * 0.1) = 81280: S = 2^16
    assert fmt.scale_exp == 16
    # 2 * (1/28) * 2^16 = 4681 needs 254 * 2^(6 + e) >= it: e = -1; 2 * 0.1 * 2^16 = 13107 needs e = 0
    assert [layer.weight_exp for layer in fmt.layers] == [-1, 0]
    assert [layer.bias_exp for layer in fmt.layers] == [6, 6]
    assert fmt.layers[0].vth_mant == 307  # 0.3 * 2^16 / 64 = 307.2


def test_choose_format_default_exponents_unchanged():
    config = NetworkConfig((784, 100, 10), neuron=NeuronParams(vdecay=0.3, vth=0.3, grad_win=0.3))
    weights = [np.full((100, 784), 1 / 28), np.full((10, 100), 0.1)]
    biases = [np.full(100, 1 / 28), np.full(10, 0.1)]
    assert choose_format(config, weights, biases) == choose_format(config, weights, biases,
                                                                   weight_exp_bounds=(-8, 7), bias_exp=None)


@pytest.mark.parametrize("options, error, match", [
    ({"weight_exp_bounds": (0, -1)}, ValueError, "lo <= hi"),
    ({"weight_exp_bounds": (-9, 0)}, ValueError, "weight_exp_bounds\\[0\\] must be >= -8"),
    ({"weight_exp_bounds": 0}, TypeError, "pair"),
    ({"bias_exp": 8}, ValueError, "bias_exp must be <= 7"),
    ({"bias_exp": 6.0}, TypeError, "bias_exp must be an integer"),
])
def test_choose_format_rejects_bad_exponent_options(options, error, match):
    with pytest.raises(error, match=match):
        choose_format(NetworkConfig((4, 3)), [np.full((3, 4), 0.1)], [np.zeros(3)], **options)


# --------------------------------------------------------------------------- file layout
def test_fixed_export_layout(trained, exported):
    fixed, _, _ = trained
    fmt = fixed.fmt
    assert [layer.weight_exp for layer in fmt.layers] == [-1, 0]
    with h5py.File(exported, "r") as handle:
        meta = handle["lava_biograd"]
        assert meta.attrs["precision"] == "fixed"
        assert json.loads(meta.attrs["fixed_format"])["scale_exp"] == fmt.scale_exp
        np.testing.assert_array_equal(meta["scale"][()], [2.0 ** (fmt.scale_exp - 6)] * 2)
        for index, layer in enumerate(fmt.layers):
            group = handle[f"layer/{index + 1}"]
            weight = group["weight"][()]
            np.testing.assert_array_equal(weight, np.ldexp(fixed.weights[index], layer.weight_exp))
            np.testing.assert_array_equal(group["bias"][()], fixed.biases[index])
            assert np.abs(weight).max() >= 64, "the trained weights use too few bits for a meaningful check"
            assert np.any(group["bias"][()] != 0)
            assert group["neuron/type"][0] == b"CUBA"
            assert group["neuron/iDecay"][()] == 4096
            assert group["neuron/vDecay"][()] == layer.decay
            assert group["neuron/vThMant"][()] == layer.vth_mant


def test_fixed_export_reads_back_format(trained, exported):
    fixed, _, _ = trained
    model = read_netx(exported)
    assert model.fixed_format == fixed.fmt
    assert model.config == fixed.config
    for layer, spec in zip(model.layers, fixed.fmt.layers):
        assert layer.v_th_mant == spec.vth_mant
        assert layer.scale == 2.0 ** (fixed.fmt.scale_exp - 6)


def test_load_network_file_rebuilds_fixed(trained, exported, mnist_spikes):
    fixed, _, _ = trained
    loaded = load_network_file(exported)
    assert isinstance(loaded, FixedBioGradNetwork)
    assert loaded.fmt == fixed.fmt
    assert loaded.config == fixed.config
    for got, want in zip(loaded.weights + loaded.biases, fixed.weights + fixed.biases):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(loaded.predict(mnist_spikes)[1], fixed.predict(mnist_spikes)[1])
    assert load_network_file(exported, n_steps=12).config.n_steps == 12


def test_changed_fixed_file_rejected(exported, tmp_path):
    path = tmp_path / "changed.net"
    path.write_bytes(exported.read_bytes())
    with h5py.File(path, "r+") as handle:
        handle["layer/2/neuron/vThMant"][()] = handle["layer/2/neuron/vThMant"][()] + 1
    with pytest.raises(ValueError, match="changed after export"):
        read_netx(path)


def test_odd_weight_in_fixed_file_rejected(exported, tmp_path):
    path = tmp_path / "odd.net"
    path.write_bytes(exported.read_bytes())
    with h5py.File(path, "r+") as handle:
        weight = handle["layer/2/weight"][()]
        weight[0, 0] = 13
        handle["layer/2/weight"][()] = weight
    assert read_netx(path).layers[1].weight[0, 0] == 13
    with pytest.raises(ValueError, match="layer 1 weights give mantissas that are not even"):
        load_network_file(path)


# --------------------------------------------------------------------------- netx's weight steps
def _weight_cases(exported):
    cases = [layer.weight for layer in read_netx(exported).layers]
    cases += [np.array(case) for case in (
        [[1, -1]], [[3, 5], [7, 9]], [[254, -256]], [[-128, -3]], [[0, -3], [-5, -7]], [[-3, -5]],
        [[12, -40], [100, 0]], [[255, 0]],
    )]
    return cases


def test_netx_weight_steps_match_lava(exported, netx_hdf5):
    """Our recomputation of netx's optimize_weight_bits and of Lava Dense's clipping and truncation."""
    from lava.lib.dl.netx.utils import optimize_weight_bits
    from lava.utils.weightutils import clip_weights, determine_sign_mode, truncate_weights

    for weight in _weight_cases(exported):
        with np.errstate(divide="ignore"):  # netx divides 127 by a maximum weight of 0
            netx_weights, netx_bits, netx_exp, _ = optimize_weight_bits(weight.astype(int))
        ours, bits, exp = netx_module._netx_weight_bits(weight)
        np.testing.assert_array_equal(ours, netx_weights)
        assert bits == netx_bits, f"num_weight_bits of weights {weight.tolist()}"
        assert exp == netx_exp, f"weight_exp of weights {weight.tolist()}"
        mode = determine_sign_mode(netx_weights)
        lava = truncate_weights(clip_weights(netx_weights, mode, num_bits=8), mode, netx_bits)
        np.testing.assert_array_equal(netx_module._lava_dense_weights(ours, bits), lava)


def test_netx_network_uses_exported_weights(exported, netx_hdf5):
    network = netx_hdf5.Network(net_config=str(exported))
    for block, layer in zip(network.layers, read_netx(exported).layers):
        shift = -block.synapse.proc_params["weight_exp"]
        assert shift >= 0
        np.testing.assert_array_equal(block.synapse.weights.init, layer.weight.astype(np.int64) << shift)
        np.testing.assert_array_equal(block.neuron.bias_mant.init, layer.bias)
        assert np.all(block.neuron.bias_exp.init == 6)


def test_accumulator_overflow_rejected():
    # 132,200 inputs at weight 254 sum to 33,578,800, and 64 times that exceeds 2^31.
    with pytest.raises(ValueError, match="overflows the 32-bit input of Lava's LIF"):
        netx_module._check_netx_synapse(np.full((2, 132_200), 254), 0)
    netx_module._check_netx_synapse(np.full((2, 132_000), 254), 0)


def test_one_sign_weights_rejected():
    with pytest.raises(ValueError, match="change 1 of the integer weights"):
        netx_module._check_netx_synapse(np.array([[-128, -3]]), 0)
    netx_module._check_netx_synapse(np.array([[-127, -3]]), 0)


# --------------------------------------------------------------------------- Lava runs on MNIST
def test_netx_equals_simulator_per_step(trained, mnist_spikes, netx_spikes):
    fixed, _, _ = trained
    expected = fixed.forward(mnist_spikes)[-1][2]
    assert netx_spikes.shape == (T, N_LAVA_SAMPLES, 10)
    assert netx_spikes.sum() > 5 * N_LAVA_SAMPLES, "too few output spikes for a meaningful comparison"
    np.testing.assert_array_equal(netx_spikes, expected)


def test_fixed_graph_counts_equal_netx(trained, mnist_spikes, netx_spikes):
    from lava_biograd.lava.network import LavaBioGradNetwork

    fixed, _, _ = trained
    with LavaBioGradNetwork(fixed, run_tag="fixed_pt", timeout_s=120) as lava_net:
        _, lava_counts = lava_net.predict(mnist_spikes.transpose(1, 0, 2))
    netx_counts = netx_spikes.sum(axis=0)
    _, simulator_counts = fixed.predict(mnist_spikes)
    assert len(np.unique(netx_counts.argmax(axis=1))) > 1, "all images predicted as one class"
    np.testing.assert_array_equal(lava_counts, netx_counts)
    np.testing.assert_array_equal(simulator_counts, netx_counts)


def test_fixed_graph_steps_equal_netx(trained, mnist_spikes, netx_spikes):
    """Per-step output of the fixed_pt graph for the first image.

    ``run_wake(record=True)`` fails without learning in the fixed_pt graph, because
    its Dense model then writes no file. With learning the update comes after the
    sample, so the recorded first sample ran with the exported weights.
    """
    from lava_biograd.lava.network import LavaBioGradNetwork

    fixed, _, test_set = trained
    with LavaBioGradNetwork(fixed, run_tag="fixed_pt", timeout_s=120) as lava_net:
        run = lava_net.run_wake(mnist_spikes[:, :1].transpose(1, 0, 2), test_set.labels[:1], learning=True,
                                lr=1e-3, record=True)
    np.testing.assert_array_equal(run.records["neuron1"]["s"], netx_spikes[:, 0])


# --------------------------------------------------------------------------- CLI
def test_cli_export_then_evaluate(trained, mnist_root, tmp_path, capsys):
    fixed, checkpoint, test_set = trained
    out = tmp_path / "cli.net"
    assert main(["export", str(checkpoint), str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["precision"] == "fixed"
    assert summary["timing"] == "delayed"
    assert main(["evaluate", str(out), "--data-dir", str(mnist_root), "--limit", str(N_EVALUATE)]) == 0
    result = json.loads(capsys.readouterr().out)
    expected = evaluate(fixed, test_set.subset(np.arange(N_EVALUATE)), rng=evaluation_generator(0, "test"))
    assert result["samples"] == N_EVALUATE
    assert result["accuracy"] == expected
    assert expected > 0.5


def test_cli_fixed_to_nir_rejected(trained, tmp_path, capsys):
    _, checkpoint, _ = trained
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(checkpoint), str(tmp_path / "fixed.nir")])
    assert exit_info.value.code == 2
    assert "NIR export takes float networks only" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- formats that fit by value
def _layer(weight_exp, bias_exp, vth_mant=60):
    return LayerFormat(decay=2867, vth_mant=vth_mant, window=2000, weight_exp=weight_exp, bias_exp=bias_exp,
                       trace_impulse=88)


def _synthetic_network():
    """600-8-6-4 with weight_exp 0 (row 0 all 254, so the current wraps), -2 and +1, bias_exp 6, 7 and 4."""
    rng = np.random.default_rng(4)
    sizes = (600, 8, 6, 4)
    config = NetworkConfig(sizes, n_steps=12, error_start=3)
    fmt = FixedPointFormat(scale_exp=15, layers=(_layer(0, 6), _layer(-2, 7, vth_mant=100),
                                                 _layer(1, 4, vth_mant=150)))
    w0 = 2 * rng.integers(-6, 7, (8, 600))
    w0[0] = 254
    w1 = 4 * rng.integers(-64, 64, (6, 8))
    w2 = 2 * rng.integers(-63, 64, (4, 6))
    biases = [rng.integers(-50, 50, 8), rng.integers(-40, 40, 6), 4 * rng.integers(-20, 20, 4)]
    feedback = [np.zeros((8, 4)), np.zeros((6, 4))]
    return FixedBioGradNetwork(config, fmt, [w0, w1, w2], biases, feedback, np.random.default_rng(0))


def _synthetic_input():
    rng = np.random.default_rng(5)
    x = (rng.random((12, 3, 600)) < 0.3).astype(np.float32)
    x[3:6] = 1.0  # every input spikes: neuron 0 of layer 0 receives 600 * 254 << 6 > 2^23
    return x


def test_synthetic_export_integers():
    net = _synthetic_network()
    layers = fixed_netx_layers(net)
    np.testing.assert_array_equal(layers[0].weight, net.weights[0])
    np.testing.assert_array_equal(layers[1].weight, net.weights[1] // 4)
    np.testing.assert_array_equal(layers[2].weight, 2 * net.weights[2])
    np.testing.assert_array_equal(layers[1].bias, 2 * net.biases[1])
    np.testing.assert_array_equal(layers[2].bias, net.biases[2] // 4)


def test_synthetic_round_trip(tmp_path):
    net = _synthetic_network()
    loaded = load_network_file(export_netx(net, tmp_path / "synthetic.net"))
    for got, want in zip(loaded.weights + loaded.biases, net.weights + net.biases):
        np.testing.assert_array_equal(got, want)


def test_synthetic_netx_equals_simulator(tmp_path, netx_hdf5):
    net = _synthetic_network()
    x = _synthetic_input()
    layers = net.forward(x)
    pre, v, _ = layers[0]
    accumulated = pre.astype(np.int64) @ net.weights[0].T
    assert np.any((accumulated[:, :, 0] << 6) > 1 << 23), "the current of neuron 0 never wraps"
    assert np.any(v[:, :, 0] == -STATE_MAX), "the voltage of neuron 0 never saturates"
    for index, (_, _, spikes) in enumerate(layers):
        assert 0 < spikes.mean() < 0.9, f"layer {index} is silent or saturated"
    spikes = run_netx(export_netx(net, tmp_path / "synthetic.net"), x, timing="delayed")
    np.testing.assert_array_equal(spikes, layers[-1][2])


# --------------------------------------------------------------------------- errors
def test_default_format_rejected(trained, tmp_path):
    fixed, _, _ = trained
    net = FixedBioGradNetwork.from_float(fixed.to_float(), np.random.default_rng(0))
    assert net.fmt.layers[1].weight_exp > 0
    with pytest.raises(ValueError, match="layer [01]: W_mant 2\\^.*NETX_FORMAT_OPTIONS"):
        export_netx(net, tmp_path / "default.net")
    assert list(tmp_path.iterdir()) == []


def _small_network(layer):
    config = NetworkConfig((4, 3), n_steps=8, error_start=2)
    fmt = FixedPointFormat(scale_exp=15, layers=(layer,))
    weights = [np.array([[2, -6, 10, 4]] * 3)]
    return FixedBioGradNetwork(config, fmt, weights, [np.array([3, -5, 8])], [], np.random.default_rng(0))


@pytest.mark.parametrize("layer, match", [
    (_layer(-2, 6), "weight_exp=-2 floors the sum"),
    (_layer(0, 3), "bias_exp=3 is below netx's fixed bias exponent 6"),
])
def test_inexact_format_rejected(layer, match, tmp_path):
    net = _small_network(layer)
    with pytest.raises(ValueError, match=match):
        export_netx(net, tmp_path / "small.net")
    assert list(tmp_path.iterdir()) == []


def test_bias_exp_7_doubles_bias():
    assert fixed_netx_layers(_small_network(_layer(0, 7)))[0].bias.tolist() == [6, -10, 16]


def test_bias_out_of_range_rejected():
    net = _small_network(_layer(0, 7))
    net.biases[0][:] = 4000
    with pytest.raises(ValueError, match="outside the 13-bit range"):
        fixed_netx_layers(net)


def test_zero_layer_rejected():
    net = _small_network(_layer(0, 6))
    net.weights[0][:] = 0
    with pytest.raises(ValueError, match="every weight of the layer is zero"):
        fixed_netx_layers(net)


def test_float_network_rejected_by_fixed_mapping():
    with pytest.raises(TypeError, match="FixedBioGradNetwork"):
        fixed_netx_layers(BioGradNetwork(NetworkConfig((4, 3)), np.random.default_rng(0)))
