"""Tests of the binary time binning of address events (hand-computed cases)."""

import numpy as np
import pytest

from lava_biograd.data.binning import (
    NMNIST_SENSOR_SIZE,
    bin_events,
    check_binning,
    microseconds_to_milliseconds,
    pack_spikes,
    unpack_spikes,
)

EVENT_DTYPE = np.dtype([("x", np.int64), ("y", np.int64), ("t", np.int64), ("p", np.int64)])


def make_events(*rows):
    """Build events from ``(x, y, t_us, p)`` tuples."""
    return np.array([tuple(row) for row in rows], dtype=EVENT_DTYPE)


def active(spikes):
    """Return the sorted ``(step, input)`` pairs that spike."""
    return sorted(zip(*(axis.tolist() for axis in np.nonzero(spikes))))


@pytest.mark.parametrize(
    "t_us, t_ms",
    [(0, 0), (499, 0), (500, 0), (501, 1), (1500, 2), (2499, 2), (2500, 2), (2501, 3), (3500, 4),
     (4500, 4), (4999, 5), (299_499, 299), (299_500, 300), (300_500, 300), (-500, 0), (-501, -1)],
)
def test_rounding_half_even(t_us, t_ms):
    assert microseconds_to_milliseconds(np.array([t_us]))[0] == t_ms


def test_rounding_matches_numpy():
    rng = np.random.default_rng(0)
    t_us = np.concatenate([rng.integers(0, 400_000, 10_000), np.arange(0, 400_000, 500)])
    expected = np.round(t_us / 1000).astype(np.int64)
    np.testing.assert_array_equal(microseconds_to_milliseconds(t_us), expected)


def test_rounding_rejects_floats():
    with pytest.raises(TypeError, match="integers"):
        microseconds_to_milliseconds(np.array([1.5]))


def test_bin_edges():
    cases = [
        (2499, 0), (2500, 0), (4500, 0),  # 2 ms, 2 ms and 4 ms: first 5 ms step
        (4501, 1), (4999, 1), (5000, 1), (9499, 1),  # 5, 5, 5 and 9 ms
        (9500, 2),  # 9.5 ms rounds to 10 ms
        (299_499, 59),  # 299 ms: last step
    ]
    for t_us, step in cases:
        spikes = bin_events(make_events((3, 4, t_us, 1)))
        assert active(spikes) == [(step, 1156 + 4 * 34 + 3)], t_us


@pytest.mark.parametrize("t_us", [299_500, 299_501, 300_000, 336_040, -501])
def test_bin_drops_outside_window(t_us):
    spikes = bin_events(make_events((3, 4, t_us, 1)))
    assert spikes.sum() == 0


@pytest.mark.parametrize("x, y, p", [(34, 0, 0), (0, 34, 0), (-1, 0, 0), (0, -1, 1), (0, 0, 2), (0, 0, -1)])
def test_bin_drops_outside_sensor(x, y, p):
    spikes = bin_events(make_events((x, y, 1000, p), (1, 1, 1000, 0)))
    assert active(spikes) == [(0, 35)]


def test_flatten_order():
    events = make_events((0, 0, 0, 0), (33, 0, 0, 0), (0, 1, 0, 0), (0, 0, 0, 1), (3, 2, 0, 1), (33, 33, 0, 1))
    spikes = bin_events(events)
    assert active(spikes) == [(0, 0), (0, 33), (0, 34), (0, 1156), (0, 1156 + 2 * 34 + 3), (0, 2311)]
    frames = spikes.reshape(60, 2, 34, 34)
    assert frames[0, 1, 2, 3] == 1
    assert frames[0, 0, 3, 2] == 0


def test_duplicates_give_one():
    events = make_events((5, 6, 100, 0), (5, 6, 2000, 0), (5, 6, 4400, 0), (5, 6, 5000, 0))
    spikes = bin_events(events)
    assert spikes.dtype == np.uint8
    assert spikes[0, 6 * 34 + 5] == 1
    assert spikes[1, 6 * 34 + 5] == 1
    assert spikes.sum() == 2


def test_shape_and_empty():
    spikes = bin_events(make_events())
    assert spikes.shape == (60, 2312)
    assert spikes.sum() == 0


def test_custom_settings():
    events = make_events((1, 2, 9_400, 1), (1, 2, 9_600, 0), (3, 0, 99_499, 0), (3, 0, 99_500, 0))
    spikes = bin_events(events, duration_ms=100, bin_ms=10, sensor_size=(4, 3, 2))
    assert spikes.shape == (10, 24)
    # (x, y, p) = (1, 2, 1) -> 1 * 12 + 2 * 4 + 1 = 21 at 9 ms; (1, 2, 0) -> 9 at 10 ms.
    assert active(spikes) == [(0, 21), (1, 9), (9, 3)]


def test_accepts_int32_fields():
    int32_dtype = [("x", np.int32), ("y", np.int32), ("t", np.int32), ("p", np.int32)]
    events = make_events((3, 4, 6000, 1)).astype(int32_dtype)
    assert active(bin_events(events)) == [(1, 1156 + 4 * 34 + 3)]


@pytest.mark.parametrize(
    "duration_ms, bin_ms, sensor_size, error, match",
    [
        (301, 5, NMNIST_SENSOR_SIZE, ValueError, "multiple of bin_ms"),
        (300, 0, NMNIST_SENSOR_SIZE, ValueError, "bin_ms must be >= 1"),
        (0, 5, NMNIST_SENSOR_SIZE, ValueError, "duration_ms must be >= 1"),
        (300.0, 5, NMNIST_SENSOR_SIZE, TypeError, "duration_ms must be an integer"),
        (300, 5, (34, 34), ValueError, "sensor_size"),
        (300, 5, "34x34", ValueError, "sensor_size"),
        (300, 5, (34, 0, 2), ValueError, r"sensor_size\[1\]"),
    ],
)
def test_settings_validation(duration_ms, bin_ms, sensor_size, error, match):
    with pytest.raises(error, match=match):
        check_binning(duration_ms, bin_ms, sensor_size)
    with pytest.raises(error, match=match):
        bin_events(make_events((0, 0, 0, 0)), duration_ms, bin_ms, sensor_size)


def test_events_validation():
    with pytest.raises(TypeError, match="structured array"):
        bin_events(np.zeros((3, 4), dtype=np.int64))
    with pytest.raises(TypeError, match="structured array"):
        bin_events(np.zeros(3, dtype=[("x", int), ("y", int), ("t", int)]))
    float_time = np.zeros(2, dtype=[("x", int), ("y", int), ("t", float), ("p", int)])
    with pytest.raises(TypeError, match="'t' must be an integer"):
        bin_events(float_time)


def test_pack_roundtrip():
    rng = np.random.default_rng(1)
    spikes = (rng.random((3, 60, 2312)) < 0.1).astype(np.uint8)
    packed = pack_spikes(spikes)
    assert packed.shape == (3, 60, 289)
    np.testing.assert_array_equal(unpack_spikes(packed, 2312), spikes)


def test_pack_validation():
    with pytest.raises(ValueError, match="only 0 and 1"):
        pack_spikes(np.array([0, 2]))
    with pytest.raises(ValueError, match="289 bytes"):
        unpack_spikes(np.zeros((2, 290), dtype=np.uint8), 2312)
    with pytest.raises(TypeError, match="uint8"):
        unpack_spikes(np.zeros((2, 289), dtype=np.int64), 2312)
    with pytest.raises(ValueError, match="n_inputs must be >= 1"):
        unpack_spikes(np.zeros((2, 0), dtype=np.uint8), 0)
