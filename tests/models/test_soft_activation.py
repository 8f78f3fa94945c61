"""Soft-activation SDM theory: generalised circle intersection, activation curves, beta."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from models import theory
from models.soft_activation import (
    ActivationCurve,
    bernoulli_count_curve,
    curve_activation_probability,
    curve_intersection,
    estimate_activation_curve,
    log_curve_intersection,
)


def _random_curve(rng, n_inputs):
    # A monotone curve with an exact 0 and 1 at the ends, like a real transfer curve.
    values = np.sort(rng.random(n_inputs + 1))
    values[0], values[-1] = 0.0, 1.0
    return ActivationCurve(values)


@pytest.mark.parametrize("n_dims", [1, 2, 5, 16, 64])
def test_hard_threshold_reproduces_circle_intersection(n_dims):
    # Oracle: the exact count N(n, d, t) of models.theory (itself checked against brute force).
    t = np.arange(n_dims + 1)
    for radius in range(n_dims + 1):
        curve = ActivationCurve.hard_threshold(n_dims, radius)
        got = curve_intersection(n_dims, curve, t, 2**n_dims)
        want = theory.circle_intersection(n_dims, radius, t)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("n_dims, n_inputs", [(8, 1), (16, 4), (64, 4), (64, 7), (1000, 4)])
def test_selected_coordinate_rule_reproduces_jaeckel_closed_form(n_dims, n_inputs):
    # Oracle: r 2^-K C(n - t, K) / C(n, K) in exact integer arithmetic (Jaeckel 1989: a cell
    # fires iff all K selected bits match; both query and pattern must match all K).
    curve = ActivationCurve.hard_threshold(n_inputs, 0)
    r = 10**5
    for t in range(0, n_dims + 1, max(1, n_dims // 50)):
        want = r * 2.0**-n_inputs * math.comb(n_dims - t, n_inputs) / math.comb(n_dims, n_inputs)
        got = float(curve_intersection(n_dims, curve, t, r))
        # Log space: ln C(n, k) from gammaln of numbers up to ln(n!) ~ 5900 at n = 1000 carries
        # an absolute error ~1e-15 * 5900, so a relative error of ~1e-12 in the count.
        assert got == pytest.approx(want, rel=1e-11, abs=1e-300)


def _brute_force_canonical(n_dims, probabilities, t):
    # Every one of the 2^n addresses as a neuron, query 0...0, pattern 1^t 0^(n-t).
    addresses = np.array(list(itertools.product((0, 1), repeat=n_dims)))
    pattern = np.zeros(n_dims, dtype=int)
    pattern[:t] = 1
    h_query = (addresses == 0).sum(axis=1)
    h_pattern = (addresses == pattern).sum(axis=1)
    return float(np.mean(probabilities[h_query] * probabilities[h_pattern]))


@pytest.mark.parametrize("n_dims", [1, 3, 6, 9, 12])
def test_canonical_curve_matches_brute_force_enumeration(n_dims):
    # Oracle: enumeration of all 2^n neuron addresses weighted by f (docs/design.md, n <= 16).
    rng = np.random.default_rng(np.random.SeedSequence(1234).spawn(n_dims + 1)[n_dims])
    for _ in range(3):
        curve = _random_curve(rng, n_dims)
        for t in range(n_dims + 1):
            want = _brute_force_canonical(n_dims, curve.probabilities, t)
            got = math.exp(log_curve_intersection(n_dims, curve, t))
            assert got == pytest.approx(want, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("n_dims, n_inputs", [(6, 2), (8, 3), (10, 4)])
def test_selected_curve_matches_brute_force_enumeration(n_dims, n_inputs):
    # Oracle: every selected-coordinate neuron (all C(n, K) coordinate sets times all 2^K
    # required bits), each once, weighted by f(h_query) f(h_pattern).
    rng = np.random.default_rng(7 + n_dims)
    curve = _random_curve(rng, n_inputs)
    f = curve.probabilities
    query = np.zeros(n_dims, dtype=int)
    for t in range(n_dims + 1):
        pattern = np.zeros(n_dims, dtype=int)
        pattern[:t] = 1
        total, count = 0.0, 0
        for coords in itertools.combinations(range(n_dims), n_inputs):
            idx = list(coords)
            for bits in itertools.product((0, 1), repeat=n_inputs):
                bits = np.array(bits)
                total += f[(query[idx] == bits).sum()] * f[(pattern[idx] == bits).sum()]
                count += 1
        got = math.exp(log_curve_intersection(n_dims, curve, t))
        assert got == pytest.approx(total / count, rel=1e-12, abs=1e-300)


def test_stable_at_ten_thousand_dimensions():
    # Oracle: the hard threshold must equal ln N(n, d, t) - n ln 2 (theory's exact log count,
    # accurate to 1e-14 relative at n = 10,000); a soft curve must stay finite and decrease.
    n_dims, radius = 10_000, 4800
    t = np.array([0, 3, 40, 400])
    hard = log_curve_intersection(n_dims, ActivationCurve.hard_threshold(n_dims, radius), t)
    want = theory.log_circle_intersection(n_dims, radius, t)
    # ln N ~ 6900 here: theory's documented accuracy, 1e-14 relative in ln N.
    np.testing.assert_allclose(hard + n_dims * math.log(2.0), want, rtol=1e-14)
    h = np.arange(n_dims + 1)
    soft = ActivationCurve(stats.norm.cdf((h - 5150) / 20.0))
    values = log_curve_intersection(n_dims, soft, t)
    assert np.all(np.isfinite(values)) and np.all(np.diff(values) < 0)


def test_activation_probability_of_a_curve():
    # Oracle: the hard curve's probability is P(Bin(n, 1/2) <= d) (theory.activation_probability).
    for n_dims, radius in [(16, 4), (64, 24), (1000, 451)]:
        curve = ActivationCurve.hard_threshold(n_dims, radius)
        assert curve_activation_probability(curve) == pytest.approx(
            theory.activation_probability(n_dims, radius), rel=1e-11
        )


def test_bernoulli_count_curve_matches_direct_convolution():
    # Oracle: the pmf of Bin(hT, p_on) + Bin((K-h)T, p_off) by direct numpy convolution, summed
    # above the threshold.
    k, steps, p_on, p_off, threshold = 6, 5, 0.4, 0.05, 9.5
    curve = bernoulli_count_curve(k, steps, p_on, p_off, threshold)
    for h in range(k + 1):
        on = stats.binom.pmf(np.arange(h * steps + 1), h * steps, p_on)
        off = stats.binom.pmf(np.arange((k - h) * steps + 1), (k - h) * steps, p_off)
        pmf = np.convolve(on, off)
        want = pmf[np.arange(pmf.size) > threshold].sum()
        assert curve.probabilities[h] == pytest.approx(want, rel=1e-10, abs=1e-15)


def test_bernoulli_count_curve_at_the_default_poisson_parameters():
    # Oracle: the numbers quoted for the default Poisson mode (n = 64, d = 24, T = 20 steps of
    # 1 ms, 500 Hz / 5 Hz): f = 0.96 / 0.64 / 0.36 / 0.14 at 22 / 24 / 25 / 26 mismatching
    # inputs, and about 3.8 % of the cells active for a random query (3.0 % for the hard ball).
    lam_on, lam_off = 20 * 0.5, 20 * 0.005
    theta = (64 - 24 - 0.5) * lam_on + (24 + 0.5) * lam_off
    curve = bernoulli_count_curve(64, 20, 0.5, 0.005, theta)
    f = curve.probabilities
    np.testing.assert_allclose(
        [f[64 - 22], f[64 - 24], f[64 - 25], f[64 - 26]], [0.96, 0.64, 0.36, 0.14], atol=0.01
    )
    assert curve_activation_probability(curve) == pytest.approx(0.038, abs=0.001)


def test_estimated_curve_counts_and_exact_intervals():
    # Oracle: hand counts and scipy's exact (Clopper-Pearson) binomial interval.
    matches = np.array([[0, 1, 1, 2], [2, 2, 1, 0]])
    fired = np.array([[False, True, False, True], [True, False, False, False]])
    curve = estimate_activation_curve(matches, fired, 3)
    np.testing.assert_array_equal(curve.n_observations, [2, 3, 3, 0])
    np.testing.assert_allclose(curve.probabilities[:3], [0.0, 1 / 3, 2 / 3])
    assert np.isnan(curve.probabilities[3])
    for h, (hits, total) in enumerate([(0, 2), (1, 3), (2, 3)]):
        ci = stats.binomtest(hits, total).proportion_ci(method="exact")
        assert curve.ci_low[h] == pytest.approx(ci.low)
        assert curve.ci_high[h] == pytest.approx(ci.high)
    with pytest.raises(ValueError, match="NaN"):
        log_curve_intersection(16, curve, 0)


def test_fit_beta_and_critical_distance_accept_a_curve():
    # Oracle: a hard-threshold curve is the radius rule, so every method gives the radius' beta
    # (to rounding) and the same critical distance.
    for radius in (5, 11, 15):
        curve = ActivationCurve.hard_threshold(64, radius)
        for method in ("ols", "reference", "softmax"):
            assert theory.fit_beta(64, curve, method=method, fit_radius=radius).beta == (
                pytest.approx(theory.fit_beta(64, radius, method=method).beta, rel=1e-10)
            )
        assert theory.critical_distance(64, curve, 1024) == theory.critical_distance(
            64, radius, 1024
        )
    # Without fit_radius a curve is fitted over its equivalent radius (same probability).
    curve = ActivationCurve.hard_threshold(64, 24)
    assert theory.fit_beta(64, curve).beta == pytest.approx(theory.fit_beta(64, 24).beta)


def test_soft_threshold_flattens_beta():
    # Oracle: the Poisson curve spreads activation, so its generalised intersection decays more
    # slowly than the hard ball's over the same fitted distances t = 0..23.
    theta = 39.5 * 10 + 24.5 * 0.1
    soft = bernoulli_count_curve(64, 20, 0.5, 0.005, theta)
    assert theory.fit_beta(64, soft, fit_radius=24).beta < theory.fit_beta(64, 24).beta


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ActivationCurve([0.5]), "n_inputs >= 1"),
        (lambda: ActivationCurve([0.0, 1.5]), r"\[0, 1\]"),
        (lambda: log_curve_intersection(3, ActivationCurve([0, 0.5, 1, 1, 1]), 0), "n_inputs"),
        (lambda: log_curve_intersection(4, ActivationCurve([0, 1]), 5), "distances"),
        (lambda: bernoulli_count_curve(4, 0, 0.5, 0.1, 1.0), "n_steps"),
        (lambda: theory.fit_beta(64, ActivationCurve([0, 1]), continuous=True), "continuous"),
    ],
)
def test_bad_input_is_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()
