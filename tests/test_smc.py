"""Sequential Monte Carlo ABC: the kernel, its truncation to the unit cube, the importance weights that keep
a population a sample of the prior-times-tolerance, resampling and weighted quantiles."""

from __future__ import annotations

import numpy as np
import pytest

from reesim.calibration.smc import (
    effective_size,
    importance_weights,
    kernel_covariance,
    propose,
    resample,
    weighted_quantile,
)


def test_kernel_is_twice_the_weighted_covariance():
    rng = np.random.default_rng(0)
    particles = rng.random((40, 3))
    equal = np.full(40, 1 / 40)
    assert np.allclose(kernel_covariance(particles, equal), 2 * np.cov(particles.T), atol=1e-8)
    # A particle of weight one half counts twice as much as the others combined over the rest.
    weights = np.r_[0.5, np.full(39, 0.5 / 39)]
    shifted = kernel_covariance(particles, weights)
    assert not np.allclose(shifted, kernel_covariance(particles, equal))


def test_proposals_stay_in_the_cube():
    rng = np.random.default_rng(1)
    particles = np.array([[0.5, 0.5], [0.0, 0.0], [0.0, 0.5]])
    out = propose(particles, np.full(3, 1 / 3), 0.01 * np.eye(2), 500, rng)
    assert out.shape == (500, 2) and ((out >= 0) & (out <= 1)).all()


def test_weights_turn_proposals_back_into_prior_draws():
    """With every proposal kept (no tolerance), weighted proposals are uniform on the cube: their weighted
    mean is the centre and the share in an edge slice is the slice's width, however the parents cluster
    (the proposals themselves, unweighted, are far from it)."""
    rng = np.random.default_rng(2)
    particles = np.clip(rng.normal(0.3, 0.15, size=(60, 2)), 0, 1)  # clustered towards a corner
    weights = np.r_[np.full(30, 1 / 40), np.full(30, 1 / 120)]  # and unequally weighted
    cov = kernel_covariance(particles, weights)
    new = propose(particles, weights, cov, 40_000, rng)
    w = importance_weights(new, particles, weights, cov)
    assert w.sum() == pytest.approx(1.0) and (w > 0).all()
    far = new[:, 0] > 0.8
    assert far.mean() < 0.05  # the proposals cluster ...
    assert np.allclose(w @ new, 0.5, atol=0.02) and w[far].sum() == pytest.approx(0.2, abs=0.02)  # ... the weights undo it
    assert 1 < effective_size(w) < len(w)


def test_resampling_and_weighted_quantiles():
    rng = np.random.default_rng(3)
    weights = np.array([0.5, 0.25, 0.125, 0.125])
    counts = np.bincount(resample(weights, 80, rng), minlength=4)
    assert np.all(np.abs(counts - 80 * weights) <= 1)
    values = np.array([3.0, 1.0, 2.0])
    assert weighted_quantile(values, np.ones(3), 0.5) == pytest.approx(2.0)
    assert weighted_quantile(values, np.array([0.1, 0.1, 0.8]), 0.5) == pytest.approx(2.0)
    assert weighted_quantile(values, np.array([0.8, 0.1, 0.1]), 0.7) == pytest.approx(3.0)  # past the last mid-point
    assert effective_size(np.full(10, 0.1)) == pytest.approx(10.0)
