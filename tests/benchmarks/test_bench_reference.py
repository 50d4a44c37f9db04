"""Tests of the training-throughput benchmark script: timing summary, bars and the Markdown section."""

import argparse
import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_reference.py"


@pytest.fixture(scope="module")
def bench():
    """Import the benchmark script as a module (the benchmarks folder is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_reference", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TINY_ARGS = ["--sizes", "20-16-8-4", "--synthetic", "--batches-fast", "3", "--batches-online", "2"]


def _section(text, bench):
    start = text.index(bench.MARKER_START)
    end = text.index(bench.MARKER_END)
    return text[start:end]


def test_main_writes_both_forms(bench, tmp_path):
    output = tmp_path / "benchmarks.md"
    results = bench.main([*TINY_ARGS, "--output", str(output)])

    text = output.read_text()
    assert text.startswith("# Benchmarks\n")
    assert text.count(bench.MARKER_START) == 1
    assert text.count(bench.MARKER_END) == 1
    section = _section(text, bench)
    assert "## Reference model training throughput" in section
    assert "\n| fast | 3 |" in section
    assert "\n| online | 2 |" in section
    assert "Not checked" in section
    assert "--sizes 20-16-8-4 --synthetic" in section
    assert results["section"] in text


def test_main_rates_match_times(bench, tmp_path):
    results = bench.main([*TINY_ARGS, "--batch-size", "16", "--output", str(tmp_path / "b.md")])

    for form, n_batches in (("fast", 3), ("online", 2)):
        times = results[form]["times"]
        for phase in bench.PHASES:
            assert len(times[phase]) == n_batches
            assert min(times[phase]) > 0
        train = np.add(np.add(times["wake"], times["update"]), times["sleep"])
        assert results[form]["summary"]["train_samples_per_s"] == pytest.approx(16 / np.median(train))
        assert results[form]["peak_alloc_bytes"] > 0
        assert results[form]["max_rss_bytes"] > 0


def test_main_replaces_only_own_section(bench, tmp_path):
    output = tmp_path / "benchmarks.md"
    output.write_text(
        "# Benchmarks\n\n## Other benchmark\nkeep before\n\n"
        f"{bench.MARKER_START}\nold table\n{bench.MARKER_END}\n\n## Later benchmark\nkeep after\n"
    )
    bench.main([*TINY_ARGS, "--output", str(output)])
    bench.main([*TINY_ARGS, "--output", str(output)])

    text = output.read_text()
    assert "old table" not in text
    assert text.count(bench.MARKER_START) == 1
    assert text.startswith("# Benchmarks\n\n## Other benchmark\nkeep before\n\n" + bench.MARKER_START)
    assert text.endswith(bench.MARKER_END + "\n\n## Later benchmark\nkeep after\n")


def test_main_mnist_path(bench, tmp_path, mnist_root):
    output = tmp_path / "benchmarks.md"
    results = bench.main(["--sizes", "784-8-10", "--batch-size", "4", "--batches-fast", "1",
                          "--batches-online", "1", "--data-dir", str(mnist_root), "--output", str(output)])

    section = _section(output.read_text(), bench)
    assert "MNIST training split" in section
    assert "Not checked" in section
    assert results["fast"]["summary"]["n_batches"] == 1


def test_write_section_appends_without_markers(bench, tmp_path):
    output = tmp_path / "benchmarks.md"
    output.write_text("# Benchmarks\n\n## Other\ntext")
    section = f"{bench.MARKER_START}\nnew\n{bench.MARKER_END}\n"
    bench.write_section(output, section)

    assert output.read_text() == "# Benchmarks\n\n## Other\ntext\n\n" + section


def test_write_section_creates_file(bench, tmp_path):
    output = tmp_path / "docs" / "benchmarks.md"
    section = f"{bench.MARKER_START}\nnew\n{bench.MARKER_END}\n"
    bench.write_section(output, section)

    import _report  # importable once the benchmark script has put its folder on sys.path

    assert output.read_text() == _report.DOCUMENT_HEADER + section


@pytest.mark.parametrize("broken", [
    "{end}\n{start}\n",
    "{start}\nA\n{end}\n{start}\nB\n{end}\n",
    "{start}\nno end\n",
])
def test_write_section_broken_markers(bench, tmp_path, broken):
    output = tmp_path / "benchmarks.md"
    output.write_text(broken.format(start=bench.MARKER_START, end=bench.MARKER_END))
    with pytest.raises(ValueError, match="markers"):
        bench.write_section(output, f"{bench.MARKER_START}\nnew\n{bench.MARKER_END}\n")


def test_summarize_median_of_totals(bench):
    times = {"encode": [1.0, 1.0, 2.0], "wake": [2.0, 4.0, 3.0], "update": [0.0, 0.0, 0.0],
             "sleep": [1.0, 1.0, 10.0]}
    summary = bench.summarize(times, batch_size=10)

    # Per-batch totals are 3, 5 and 13, so the median total is 5 while the phase medians sum to 4.
    assert summary["train_s"] == 5.0
    assert summary["wake_s"] == 3.0
    assert summary["sleep_s"] == 1.0
    assert summary["encode_s"] == 1.0
    assert summary["total_s"] == 6.0
    assert summary["train_samples_per_s"] == 2.0
    assert summary["total_samples_per_s"] == pytest.approx(10 / 6)
    assert summary["n_batches"] == 3


@pytest.mark.parametrize("fast, online, rate_result, speedup_result", [
    (1200.0, 100.0, "PASS", "PASS"),
    (1000.0, 100.0, "PASS", "PASS"),
    (999.0, 10.0, "FAIL", "PASS"),
    (1500.0, 151.0, "PASS", "FAIL"),
])
def test_check_bars_cases(bench, fast, online, rate_result, speedup_result):
    bars = bench.check_bars(fast, online)

    assert bars["fast_rate"] == rate_result
    assert bars["speedup"] == speedup_result
    assert bars["ratio"] == pytest.approx(fast / online)


def test_spec_setting_detection(bench):
    args = bench.check_args(bench.build_parser().parse_args([]))
    assert bench.is_spec_setting(args)
    args = bench.check_args(bench.build_parser().parse_args(["--batch-size", "64"]))
    assert not bench.is_spec_setting(args)
    args = bench.check_args(bench.build_parser().parse_args(["--synthetic"]))
    assert not bench.is_spec_setting(args)


@pytest.mark.parametrize("argv, message", [
    (["--sizes", "784-10"], "hidden layer"),
    (["--sizes", "100-50-10"], "784 inputs"),
    (["--sizes", "784-50-5"], "10 outputs"),
    (["--synthetic", "--sizes", "20-16-12"], "at most 10 outputs"),
    (["--batches-fast", "0"], "--batches-fast"),
    (["--batches-online", "0"], "--batches-online"),
    (["--batch-size", "0"], "--batch-size"),
    (["--warmup", "-1"], "--warmup"),
])
def test_check_args_rejects(bench, argv, message):
    with pytest.raises(ValueError, match=message):
        bench.check_args(bench.build_parser().parse_args(argv))


def test_main_invalid_option_exits(bench, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--batches-online", "0", "--output", str(tmp_path / "b.md")])

    assert exit_info.value.code == 2
    assert "--batches-online must be >= 1" in capsys.readouterr().err
    assert not (tmp_path / "b.md").exists()


def test_parse_sizes_formats(bench):
    assert bench.parse_sizes("784-500-100-10") == (784, 500, 100, 10)
    assert bench.parse_sizes("20,16,4") == (20, 16, 4)
    with pytest.raises(argparse.ArgumentTypeError, match="784-500-100-10"):
        bench.parse_sizes("784-five-10")


def test_batch_indices_wrap(bench):
    permutation = np.array([4, 3, 2, 1, 0])

    np.testing.assert_array_equal(bench.batch_indices(permutation, 0, 2), [4, 3])
    np.testing.assert_array_equal(bench.batch_indices(permutation, 2, 2), [0, 4])


def test_trace_state_bytes_spec(bench):
    # P and E per layer: 2 x 128 x (784*500 + 500*100 + 100*10) float32 values.
    assert bench.trace_state_bytes((784, 500, 100, 10), 128) == 2 * 128 * 443_000 * 4
