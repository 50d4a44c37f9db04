"""NIR export: graph structure, round trip through a file and the numpy interpreter, errors."""

import math

import nir
import numpy as np
import pytest

from lava_biograd.export.cli import command_export
from lava_biograd.export.netx import export_netx
from lava_biograd.export.nir_export import export_nir, lif_parameters, read_nir, to_nir
from lava_biograd.export.nir_sim import simulate_nir
from lava_biograd.reference import BioGradNetwork, NetworkConfig, NeuronParams

T = 20
N_SAMPLES = 50


@pytest.fixture(scope="module")
def trained(trained_float):
    """The shared trained network, its checkpoint, and the spikes of the first test images."""
    net, checkpoint, splits = trained_float
    x = splits["test"].batch(np.arange(N_SAMPLES), np.random.default_rng(2))
    return net, checkpoint, x


def test_lif_parameters_analytic():
    tau, r = lif_parameters(0.3, "forward_euler")
    assert tau == pytest.approx(1 / 0.7)
    assert r == pytest.approx(1 / 0.7)
    tau, r = lif_parameters(0.3, "zero_order_hold")
    assert tau == pytest.approx(-1 / math.log(0.3))
    assert math.exp(-1 / tau) == pytest.approx(0.3)
    assert r == pytest.approx(1 / 0.7)
    tau, _ = lif_parameters(0.3, "forward_euler", dt=1e-3)
    assert tau == pytest.approx(1e-3 / 0.7)
    assert lif_parameters(0.0, "forward_euler") == (1.0, 1.0)


def test_lif_parameters_reject_limits():
    with pytest.raises(ValueError, match="nir.IF"):
        lif_parameters(1.0)
    with pytest.raises(ValueError, match="export with forward_euler"):
        lif_parameters(0.0, "zero_order_hold")


def test_graph_structure(trained):
    net, _, _ = trained
    graph = to_nir(net)
    assert graph.edges == [("input", "delay_0"), ("delay_0", "affine_0"), ("affine_0", "lif_0"),
                           ("lif_0", "delay_1"), ("delay_1", "affine_1"), ("affine_1", "lif_1"), ("lif_1", "output")]
    assert isinstance(graph.nodes["lif_0"], nir.LIF)
    np.testing.assert_array_equal(graph.nodes["affine_0"].weight, net.weights[0])
    np.testing.assert_array_equal(graph.nodes["affine_1"].bias, net.biases[1])
    np.testing.assert_allclose(graph.nodes["lif_1"].tau, np.full(10, 1 / 0.7))
    np.testing.assert_array_equal(graph.nodes["lif_1"].v_threshold, np.full(10, 0.3))
    np.testing.assert_array_equal(graph.nodes["lif_1"].v_reset, np.zeros(10))
    np.testing.assert_array_equal(graph.nodes["delay_1"].delay, np.ones(100))
    assert graph.metadata == {"dt": 1.0, "discretization": "forward_euler", "timing": "delayed",
                              "n_steps": T, "producer": "lava_biograd"}
    assert "delay_0" not in to_nir(net, timing="same_step").nodes


@pytest.mark.parametrize("timing", ["delayed", "same_step"])
@pytest.mark.parametrize("discretization", ["forward_euler", "zero_order_hold"])
def test_round_trip_identical_spikes(trained, tmp_path, timing, discretization, with_timing):
    """File -> nir.read -> interpreter gives the reference's spikes at every step, on MNIST inputs."""
    net, _, x = trained
    path = export_nir(net, tmp_path / "net.nir", timing=timing, discretization=discretization)
    run = simulate_nir(read_nir(path), x)
    layers = with_timing(net, timing).forward(x)
    assert layers[-1][2].sum() > N_SAMPLES * 10
    for index, (_, v, s) in enumerate(layers):
        np.testing.assert_array_equal(run.spikes[f"lif_{index}"], s)
        # The interpreter keeps the voltage before the reset, as the reference records it.
        np.testing.assert_allclose(run.voltages[f"lif_{index}"], v, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(run.outputs["output"].sum(axis=0), layers[-1][2].sum(axis=0))


def test_round_trip_detects_timing_mismatch(trained, with_timing):
    net, _, x = trained
    delayed = simulate_nir(to_nir(net, timing="delayed"), x).outputs["output"]
    same_step = with_timing(net, "same_step").forward(x)[-1][2]
    assert not np.array_equal(delayed, same_step)


def test_round_trip_other_dt(trained, with_timing):
    net, _, x = trained
    run = simulate_nir(to_nir(net, dt=1e-4), x)
    np.testing.assert_array_equal(run.outputs["output"], with_timing(net, "delayed").forward(x)[-1][2])


def test_if_node_without_leak(tmp_path):
    rng = np.random.default_rng(0)
    config = NetworkConfig((6, 4, 3), n_steps=12, error_start=0, timing="same_step",
                           neuron=NeuronParams(vdecay=1.0, vth=0.5))
    net = BioGradNetwork(config, rng, dtype="float64")
    for w in net.weights:
        w *= 3
    graph = read_nir(export_nir(net, tmp_path / "if.nir"))
    assert isinstance(graph.nodes["lif_0"], nir.IF)
    x = (rng.random((12, 8, 6)) < 0.4).astype(float)
    spikes = net.forward(x)[-1][2]
    assert spikes.sum() > 0
    np.testing.assert_array_equal(simulate_nir(graph, x).outputs["output"], spikes)


def _two_node_graph(node, metadata=None):
    nodes = {"input": nir.Input(input_type={"input": np.array([2])}), "node": node,
             "output": nir.Output(output_type={"output": np.array([2])})}
    return nir.NIRGraph(nodes=nodes, edges=[("input", "node"), ("node", "output")],
                        metadata=metadata if metadata is not None else {"dt": 1.0, "discretization": "forward_euler"})


def test_simulate_rejects_unsupported_node():
    node = nir.CubaLIF(tau_syn=np.ones(2), tau_mem=np.ones(2), r=np.ones(2), v_leak=np.zeros(2),
                       v_threshold=np.ones(2))
    with pytest.raises(ValueError, match="type CubaLIF, which simulate_nir does not support"):
        simulate_nir(_two_node_graph(node), np.zeros((3, 1, 2)))


def test_simulate_rejects_fractional_delay():
    with pytest.raises(ValueError, match="multiples of dt"):
        simulate_nir(_two_node_graph(nir.Delay(delay=np.array([1.0, 0.5]))), np.zeros((3, 1, 2)))


def test_simulate_delay_per_channel():
    x = np.zeros((4, 1, 2))
    x[0] = 1
    out = simulate_nir(_two_node_graph(nir.Delay(delay=np.array([1.0, 2.0]))), x).outputs["output"]
    np.testing.assert_array_equal(out[:, 0, 0], [0, 1, 0, 0])
    np.testing.assert_array_equal(out[:, 0, 1], [0, 0, 1, 0])


def test_simulate_needs_dt():
    graph = _two_node_graph(nir.Delay(delay=np.ones(2)), metadata={})
    with pytest.raises(ValueError, match="pass dt="):
        simulate_nir(graph, np.zeros((3, 1, 2)))
    out = simulate_nir(graph, np.ones((3, 1, 2)), dt=1.0, discretization="forward_euler").outputs["output"]
    np.testing.assert_array_equal(out[:, 0, 0], [0, 1, 1])


def test_simulate_rejects_wrong_input_size():
    with pytest.raises(ValueError, match=r"shape \(T, batch, 2\)"):
        simulate_nir(_two_node_graph(nir.Delay(delay=np.ones(2))), np.zeros((3, 1, 5)))


def test_simulate_rejects_cycle():
    nodes = {"input": nir.Input(input_type={"input": np.array([2])}),
             "a": nir.Linear(weight=np.eye(2)), "b": nir.Linear(weight=np.eye(2)),
             "output": nir.Output(output_type={"output": np.array([2])})}
    edges = [("input", "a"), ("a", "b"), ("b", "a"), ("b", "output")]
    graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata={"dt": 1.0, "discretization": "forward_euler"})
    with pytest.raises(ValueError, match="cycle"):
        simulate_nir(graph, np.zeros((2, 1, 2)))


def test_read_rejects_other_files(trained, tmp_path):
    net, _, _ = trained
    text = tmp_path / "text.nir"
    text.write_text("not a graph")
    with pytest.raises(ValueError, match="not an HDF5 file"):
        read_nir(text)
    netx_file = export_netx(net, tmp_path / "net.net")
    with pytest.raises(ValueError, match="is not a valid NIR file"):
        read_nir(netx_file)
    with pytest.raises(FileNotFoundError):
        read_nir(tmp_path / "absent.nir")


def test_failed_export_leaves_no_file(trained, tmp_path, monkeypatch):
    net, _, _ = trained

    def fail(path, graph):
        with open(path, "wb") as handle:
            handle.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(nir, "write", fail)
    with pytest.raises(OSError, match="disk full"):
        export_nir(net, tmp_path / "net.nir")
    assert list(tmp_path.iterdir()) == []


def test_cli_export_nir(trained, tmp_path, capsys, parse_export, with_timing):
    net, checkpoint, x = trained
    out = tmp_path / "cli.nir"
    args = parse_export(["export", str(checkpoint), str(out), "--timing", "same_step", "--discretization",
                   "zero_order_hold"])
    assert command_export(args) == 0
    assert '"format": "nir"' in capsys.readouterr().out
    graph = read_nir(out)
    assert graph.metadata["timing"] == "same_step"
    np.testing.assert_array_equal(simulate_nir(graph, x).outputs["output"],
                                  with_timing(net, "same_step").forward(x)[-1][2])
