"""Tests for beta estimation from measured weights and the shipped reference data."""

import numpy as np
import pytest

from models.fitting import estimate_beta
from models.reference import learned_qknorm_betas


def test_estimate_beta_recovers_exact_exponential():
    # Oracle: closed form -- weights exactly proportional to exp(beta*cos) give slope beta
    # with zero residual, so the interval width is only float rounding in exp/log/sum (4e-7
    # measured here; the 1e-5 bound leaves room for other libm/BLAS builds).
    cosines = np.linspace(-0.2, 1.0, 13)
    weights = 3.0 * np.exp(14.41 * cosines)
    est = estimate_beta(cosines, weights / weights.sum())
    assert est.beta == pytest.approx(14.41, rel=1e-12)
    assert est.r_squared == pytest.approx(1.0, abs=1e-12)
    assert est.ci_high - est.ci_low < 1e-5


def test_estimate_beta_interval_covers_true_slope_at_nominal_rate():
    # Oracle: sampling theory -- with Gaussian noise on log weights the 95% t-interval covers the
    # true slope in 95% of repetitions; over 400 repetitions the coverage count is
    # Binomial(400, 0.95) (sd 4.4), so 350..400 holds with probability > 1 - 1e-20 for any seed.
    rng = np.random.default_rng()
    cosines = np.linspace(0.5, 1.0, 11)
    covered = 0
    for _ in range(400):
        log_w = 10.0 * cosines - 4.0 + rng.normal(0.0, 0.3, size=cosines.size)
        covered += estimate_beta(cosines, np.exp(log_w)).contains(10.0)
    assert 350 <= covered <= 400


def test_estimate_beta_drops_zero_weights_and_rejects_bad_input():
    # Oracle: closed form; zero weights have no log and are counted, not fitted.
    cosines = np.array([1.0, 0.9, 0.8, 0.7, -0.5])
    weights = np.exp(5.0 * cosines)
    weights[-1] = 0.0
    est = estimate_beta(cosines, weights)
    assert est.n_zero == 1 and est.n_points == 4
    assert est.beta == pytest.approx(5.0, rel=1e-12)
    with pytest.raises(ValueError, match="weights"):
        estimate_beta(cosines, -weights)
    with pytest.raises(ValueError, match="cosines"):
        estimate_beta(cosines * 2, weights)
    with pytest.raises(ValueError, match="confidence"):
        estimate_beta(cosines, weights, confidence=1.5)
    with pytest.raises(ValueError, match=r"cosines and weights must have the same shape"):
        estimate_beta(cosines[:3], weights)


def test_estimate_beta_rejects_transposed_shapes():
    # Oracle: the documented contract — weights has the shape of cosines. A (2, 3) against a
    # (3, 2) array has the same number of elements but would pair entries wrongly after ravel.
    cosines = np.linspace(-0.5, 1.0, 6).reshape(2, 3)
    weights = np.exp(4.0 * cosines)
    with pytest.raises(ValueError, match=r"same shape; got \(2, 3\) and \(3, 2\)"):
        estimate_beta(cosines, weights.T)
    # Oracle: closed form — the matching shape fits the exact exponential, beta = 4.
    assert estimate_beta(cosines, weights).beta == pytest.approx(4.0, rel=1e-12)


def test_learned_betas_match_published_summary():
    # Oracle: the published summary in shared/data/README.md (Henry et al. 2020 as shared with
    # Bricken & Pehlevan 2021): 90 values, min 10.3109, max 24.8478, mean 15.6475.
    betas = learned_qknorm_betas()
    assert betas.beta.shape == (90,)
    assert betas.beta.min() == pytest.approx(10.3109, abs=1e-4)
    assert betas.beta.max() == pytest.approx(24.8478, abs=1e-4)
    assert betas.beta.mean() == pytest.approx(15.6475, abs=1e-4)
    assert set(betas.attention) == {"encoder_self", "decoder_self", "decoder_cross"}
