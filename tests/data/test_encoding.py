"""Tests of the Bernoulli rate encoder."""

import numpy as np
import pytest

from lava_biograd.data.encoding import bernoulli_encode


def test_shape_and_dtype():
    q = np.full((3, 5), 0.5)
    spikes = bernoulli_encode(q, 7, np.random.default_rng(0))
    assert spikes.shape == (7, 3, 5)
    assert spikes.dtype == np.float32
    assert set(np.unique(spikes).tolist()) <= {0.0, 1.0}
    assert bernoulli_encode(q, 7, np.random.default_rng(0), dtype=np.float64).dtype == np.float64


def test_same_seed_identical():
    q = np.random.default_rng(1).random((4, 50))
    first = bernoulli_encode(q, 20, np.random.default_rng(42))
    second = bernoulli_encode(q, 20, np.random.default_rng(42))
    np.testing.assert_array_equal(first, second)


def test_different_seeds_differ():
    q = np.full((4, 50), 0.5)
    first = bernoulli_encode(q, 20, np.random.default_rng(1))
    second = bernoulli_encode(q, 20, np.random.default_rng(2))
    assert not np.array_equal(first, second)


def test_fresh_draws_per_call():
    q = np.full((4, 50), 0.5)
    rng = np.random.default_rng(3)
    assert not np.array_equal(bernoulli_encode(q, 20, rng), bernoulli_encode(q, 20, rng))


def test_documented_draw_order():
    q = np.random.default_rng(4).random((6, 9))
    spikes = bernoulli_encode(q, 5, np.random.default_rng(5))
    uniforms = np.random.default_rng(5).random((5, 6, 9), dtype=np.float32)
    np.testing.assert_array_equal(spikes, (uniforms < q.astype(np.float32)).astype(np.float32))


def test_float64_matches_float32():
    q = np.random.default_rng(6).random((3, 8))
    single = bernoulli_encode(q, 4, np.random.default_rng(7), dtype=np.float32)
    double = bernoulli_encode(q, 4, np.random.default_rng(7), dtype=np.float64)
    np.testing.assert_array_equal(single, double)


def test_rate_approaches_intensity():
    levels = np.array([0.02, 0.130660, 0.5, 0.9])
    n_inputs, n_steps = 5000, 50
    q = np.repeat(levels[:, None], n_inputs, axis=1)
    spikes = bernoulli_encode(q, n_steps, np.random.default_rng(8))
    rates = spikes.mean(axis=(0, 2))
    # Each level has 250,000 draws, so 5 standard errors are at most 0.005.
    n_draws = n_inputs * n_steps
    tolerance = 5 * np.sqrt(levels * (1 - levels) / n_draws)
    assert np.all(np.abs(rates - levels) < tolerance), (rates, levels, tolerance)


def test_steps_independent():
    q = np.full((1, 20_000), 0.3)
    spikes = bernoulli_encode(q, 40, np.random.default_rng(9))
    joint = (spikes[1:] * spikes[:-1]).mean()
    # Independent steps spike together with probability q^2 = 0.09. The 780,000 pairs give
    # a standard error below 0.0004, so the bound 0.002 is 5 standard errors.
    assert abs(joint - 0.09) < 0.002


def test_zero_never_one_always():
    q = np.zeros((8, 100))
    q[:, ::2] = 1.0
    spikes = bernoulli_encode(q, 500, np.random.default_rng(10))
    assert spikes[:, :, ::2].min() == 1.0
    assert spikes[:, :, 1::2].max() == 0.0


def test_input_not_modified():
    q = np.random.default_rng(11).random((2, 10)).astype(np.float32)
    before = q.copy()
    bernoulli_encode(q, 3, np.random.default_rng(12))
    np.testing.assert_array_equal(q, before)


def test_empty_batch():
    spikes = bernoulli_encode(np.zeros((0, 4)), 3, np.random.default_rng(13))
    assert spikes.shape == (3, 0, 4)


@pytest.mark.parametrize("bad", [1.5, -0.1, np.nan])
def test_out_of_range_rejected(bad):
    q = np.full((2, 3), 0.5)
    q[1, 2] = bad
    with pytest.raises(ValueError, match=r"intensities must lie in \[0, 1\]"):
        bernoulli_encode(q, 5, np.random.default_rng(0))


def test_uint8_pixels_rejected():
    with pytest.raises(ValueError, match="Scale pixel values by 1/255"):
        bernoulli_encode(np.full((1, 4), 200, dtype=np.uint8), 5, np.random.default_rng(0))


def test_invalid_arguments_rejected():
    q = np.full((2, 3), 0.5)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="intensities must have 2 dimensions"):
        bernoulli_encode(np.full(3, 0.5), 5, rng)
    with pytest.raises(TypeError, match="real-valued"):
        bernoulli_encode(np.full((2, 3), "a"), 5, rng)
    with pytest.raises(ValueError, match="n_steps must be >= 1"):
        bernoulli_encode(q, 0, rng)
    with pytest.raises(TypeError, match="n_steps must be an integer"):
        bernoulli_encode(q, 2.0, rng)
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64'"):
        bernoulli_encode(q, 5, rng, dtype=np.int32)


@pytest.mark.parametrize("rng", [None, 0, np.random.RandomState(0)])
def test_non_generator_rejected(rng):
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        bernoulli_encode(np.full((2, 3), 0.5), 5, rng)
