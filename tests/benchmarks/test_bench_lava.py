"""Tests of the Lava benchmark script: the Markdown section, bulk transfer of a 784 -> 500 matrix, bars and options."""

import argparse
import importlib.util
from pathlib import Path

import numpy as np
import pytest

TESTS = Path(__file__).resolve().parents[1]
SCRIPT = TESTS.parent / "benchmarks" / "bench_lava.py"


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    """Import the benchmark script as a module (the benchmarks folder is not a package)."""
    return _load("bench_lava", SCRIPT)


TINY_ARGS = ["--synthetic", "--sizes", "20-16-8-4", "--samples", "2", "--repeats", "2", "--var-get-shape", "4x5"]


def _section(text, bench):
    start = text.index(bench.MARKER_START)
    end = text.index(bench.MARKER_END)
    return text[start:end]


def _spec_network(bench):
    return bench.make_network(bench.SPEC_SIZES, seed=0)


def _random_spikes(n_inputs, rate=0.2, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((1, 20, n_inputs)) < rate).astype(np.float64)


@pytest.mark.timeout(120)
def test_main_writes_both_graphs(bench, tmp_path):
    output = tmp_path / "benchmarks.md"
    output.write_text(
        "# Benchmarks\n\n<!-- bench_reference:start -->\nreference table\n<!-- bench_reference:end -->\n\n"
        "## Later benchmark\nkeep after\n"
    )
    results = bench.main([*TINY_ARGS, "--output", str(output)])

    text = output.read_text()
    assert text.count(bench.MARKER_START) == 1
    assert text.count(bench.MARKER_END) == 1
    assert text.startswith(
        "# Benchmarks\n\n<!-- bench_reference:start -->\nreference table\n<!-- bench_reference:end -->\n\n"
        "## Later benchmark\nkeep after\n\n" + bench.MARKER_START
    )
    section = _section(text, bench)
    assert "| BioGrad wake with learning" in section
    assert "| Lava stock processes, no learning" in section
    assert "Ratio BioGrad/stock (steps/s):" in section
    assert "--sizes 20-16-8-4" in section
    assert "not checked" in section
    assert "NOTE: quick run with 2 timed samples" in section
    assert "Load average (1 min) at start and end:" in section
    assert " UTC\n" in section
    assert results["section"] in text


@pytest.mark.timeout(120)
def test_main_results_consistent(bench, tmp_path):
    results = bench.main([*TINY_ARGS, "--dtype", "float32", "--output", str(tmp_path / "b.md")])

    assert "BioGrad model arithmetic float32 in the speed graph" in results["section"]
    for graph in ("biograd", "stock"):
        run = results[graph]
        assert run["warmup_steps"] == 20
        assert run["timed_steps"] == 40
        assert run["steps_per_s"] == pytest.approx(40 / run["run_s"])
        assert run["os_processes"] > 2
    # 10 Processes in the BioGrad graph (source, 3 dense, 3 neurons, the error source with its
    # error neuron pair, 2 feedback) and 8 in the stock graph, each plus 2 Lava services.
    assert results["biograd"]["os_processes"] == 12
    assert results["stock"]["os_processes"] == 10
    assert results["biograd"]["output_spikes_per_sample"] > 0
    assert results["stock"]["output_spikes_per_sample"] > 0
    assert results["host"]["equal"]
    assert results["export"]["max_abs_diff"] < 1e-12
    assert results["export"]["max_abs_update"] > 0
    assert results["import"]["counts_equal"]
    assert results["import"]["big_spikes"] > 0
    assert results["var_get"]["equal"]
    assert results["var_get"]["elements"] == 20


@pytest.mark.timeout(120)
def test_main_mnist_path(bench, tmp_path, mnist_root):
    output = tmp_path / "benchmarks.md"
    results = bench.main(["--sizes", "784-8-10", "--samples", "1", "--repeats", "1", "--var-get-shape", "2x3",
                          "--data-dir", str(mnist_root), "--output", str(output)])

    section = _section(output.read_text(), bench)
    assert "MNIST training split" in section
    assert "not checked (needs MNIST and 784-500-100-10)" in section
    assert results["import"]["counts_equal"]


def test_host_roundtrip_spec_matrix(bench, tmp_path):
    matrix = np.random.default_rng(0).normal(size=(500, 784))
    result = bench.time_host_roundtrip(matrix, repeats=2, folder=tmp_path)

    assert result["equal"]
    assert result["file_bytes"] >= matrix.nbytes
    assert result["write_s"] > 0
    assert result["load_s"] > 0
    assert result["write_range_s"][0] <= result["write_s"] <= result["write_range_s"][1]


@pytest.mark.timeout(120)
def test_export_in_lava_spec_matrix(bench):
    net = _spec_network(bench)
    x = _random_spikes(784)
    result = bench.time_export_in_lava(net, x, np.array([3]), timeout_s=60)

    assert result["shape"] == (500, 784)
    # Exact bulk export: the learned W_1 equals the reference model's one-sample update.
    assert result["max_abs_diff"] < 1e-12
    assert result["max_abs_update"] > 0
    assert result["load_s"] > 0


@pytest.mark.timeout(120)
def test_start_spec_matrix_matches_reference(bench, tmp_path):
    net = _spec_network(bench)
    weights, bias = net.weights[0], net.biases[0]
    x = _random_spikes(784)
    result = bench.time_start_with_matrix(weights, bias, x, net.config.neuron[0], tmp_path, timeout_s=60)

    expected = bench.reference_counts(weights, bias, x, net.config.neuron[0])
    assert expected.sum() > 0, "no spikes, so the comparison would be vacuous"
    np.testing.assert_array_equal(result["counts"], expected)
    assert result["counts_equal"]
    assert result["start_s"] > 0


@pytest.mark.timeout(120)
def test_var_get_reads_matrix(bench, tmp_path):
    result = bench.time_var_get((3, 4), seed=1, folder=tmp_path, timeout_s=60)

    assert result["equal"]
    assert result["elements"] == 12
    assert result["per_element_s"] == pytest.approx(result["get_s"] / 12)


@pytest.mark.parametrize("ratio, out_s, in_s, expected", [
    (0.3, 0.49, 0.0, {"ratio": "PASS", "out": "PASS", "in": "PASS"}),
    (0.29, 0.1, -0.01, {"ratio": "FAIL", "out": "PASS", "in": "PASS"}),
    (1.0, 0.5, 0.1, {"ratio": "PASS", "out": "FAIL", "in": "PASS"}),
    (1.0, 0.1, 0.5, {"ratio": "PASS", "out": "PASS", "in": "FAIL"}),
])
def test_check_bars_cases(bench, ratio, out_s, in_s, expected):
    assert bench.check_bars(ratio, out_s, in_s) == expected


def test_render_notes_cases(bench):
    args = argparse.Namespace(samples=bench.DEFAULT_SAMPLES)
    assert bench.render_notes(args, (0.2, 0.4), cores=2) == []
    # The benchmark's own processes raise the load at the end, which is no reason for a note.
    assert bench.render_notes(args, (0.2, 3.5), cores=2) == []

    notes = bench.render_notes(argparse.Namespace(samples=3), (1.5, 0.2), cores=2)
    assert len([line for line in notes if line]) == 2
    assert notes[0].startswith("NOTE: quick run with 3 timed samples")
    assert "load average" in notes[2]


def test_spec_setting_detection(bench):
    parser = bench.build_parser()
    assert bench.is_spec_setting(bench.check_args(parser.parse_args([])))
    assert not bench.is_spec_setting(bench.check_args(parser.parse_args(["--synthetic"])))
    assert not bench.is_spec_setting(bench.check_args(parser.parse_args(["--sizes", "784-50-10"])))
    assert bench.matrix_shape(bench.SPEC_SIZES) == bench.SPEC_MATRIX_SHAPE


def test_stock_graph_shapes(bench):
    net = bench.make_network((12, 6, 3), seed=0)
    x = _random_spikes(12)
    source, sink, n_steps = bench.build_stock_graph(net, x)

    assert n_steps == 20
    np.testing.assert_array_equal(source.data.init, x[0].T)
    assert sink.a_in.shape == (3,)


@pytest.mark.parametrize("argv, message", [
    (["--sizes", "784-10"], "hidden layer"),
    (["--sizes", "100-50-10"], "784 inputs"),
    (["--sizes", "784-50-5"], "10 outputs"),
    (["--synthetic", "--sizes", "20-16-12"], "at most 10 outputs"),
    (["--samples", "0"], "--samples"),
    (["--warmup-samples", "-1"], "--warmup-samples"),
    (["--repeats", "0"], "--repeats"),
    (["--timeout", "0"], "--timeout"),
    (["--var-get-shape", "0x5"], "--var-get-shape"),
])
def test_check_args_rejects(bench, argv, message):
    with pytest.raises(ValueError, match=message):
        bench.check_args(bench.build_parser().parse_args(argv))


def test_parse_shape_formats(bench):
    assert bench.parse_shape("50x100") == (50, 100)
    assert bench.parse_shape("2X3") == (2, 3)
    for text in ("50", "5x5x5", "ax5"):
        with pytest.raises(argparse.ArgumentTypeError, match="50x100"):
            bench.parse_shape(text)


def test_main_invalid_option_exits(bench, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--samples", "0", "--output", str(tmp_path / "b.md")])

    assert exit_info.value.code == 2
    assert "--samples must be >= 1" in capsys.readouterr().err
    assert not (tmp_path / "b.md").exists()


def test_section_markers_rejects_unmarked(bench, tmp_path):
    report = _load("bench_report", SCRIPT.parent / "_report.py")
    assert report.section_markers("<!-- x:start -->\nbody\n<!-- x:end -->\n") == ("<!-- x:start -->", "<!-- x:end -->")
    with pytest.raises(ValueError, match="marker"):
        report.write_section(tmp_path / "b.md", "no markers\n")
    with pytest.raises(ValueError, match="<!-- x:end -->"):
        report.section_markers("<!-- x:start -->\nbody\n<!-- y:end -->\n")
