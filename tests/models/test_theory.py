"""Tests of models.theory against brute force, exact integers, closed forms and the paper."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from models import theory

# --------------------------------------------------------------------------- oracles


def brute_force_counts(n_dims: int) -> np.ndarray:
    """counts[d, t] = #addresses within d of both 0 and the point with t leading ones.

    Oracle: enumeration of all 2^n addresses.
    """
    addresses = np.arange(2**n_dims, dtype=np.int64)
    bits = (addresses[:, None] >> np.arange(n_dims)) & 1
    to_origin = bits.sum(axis=1)
    counts = np.zeros((n_dims + 1, n_dims + 1), dtype=np.int64)
    for t in range(n_dims + 1):
        other = np.zeros(n_dims, dtype=np.int64)
        other[:t] = 1
        to_other = (bits != other).sum(axis=1)
        farthest = np.maximum(to_origin, to_other)
        histogram = np.bincount(farthest, minlength=n_dims + 1)
        counts[:, t] = np.cumsum(histogram)
    return counts


def definition_count(n_dims: int, radius: int, t: int) -> int:
    """Exact N(n, d, t) from the defining double sum over (a, b), in Python integers.

    Oracle: sum_{b} C(n-t, b) * sum_{a=max(0, t-d+b)}^{min(t, d-b)} C(t, a), with exact
    prefix sums of C(t, a); independent of the lune sum used by the library.
    """
    row = [1]
    for a in range(t):
        row.append(row[-1] * (t - a) // (a + 1))
    prefix = [0]
    for value in row:
        prefix.append(prefix[-1] + value)
    total = 0
    column = 1  # C(n - t, b), updated incrementally
    for b in range(0, min(radius, n_dims - t) + 1):
        low, high = max(0, t - radius + b), min(t, radius - b)
        if low <= high:
            total += column * (prefix[high + 1] - prefix[low])
        column = column * (n_dims - t - b) // (b + 1)
    return total


def exact_log(value: int) -> float:
    """ln of a positive Python int to float precision (shifted so the float is exact)."""
    shift = max(value.bit_length() - 60, 0)
    return math.log(value >> shift) + shift * math.log(2.0)


def single_cap_fraction(n_dims: int, theta: float) -> float:
    """Closed form: area fraction of a cap of angular radius theta on S^{n-1}.

    0.5 * I_{sin^2 theta}((n-1)/2, 1/2) for theta <= pi/2, its complement beyond.
    """
    half = 0.5 * special.betainc((n_dims - 1) / 2, 0.5, math.sin(theta) ** 2)
    return half if theta <= math.pi / 2 else 1.0 - half


# --------------------------------------------------------------------------- exactness


@pytest.mark.parametrize("n_dims", range(1, 17))
def test_counts_equal_brute_force_enumeration(n_dims):
    # Oracle: enumeration of all 2^n addresses, every radius and every distance.
    counts = brute_force_counts(n_dims)
    distances = np.arange(n_dims + 1)
    for radius in range(n_dims + 1):
        exact = theory.circle_intersection(n_dims, radius, distances, exact=True)
        assert exact == counts[radius].tolist()
        logs = theory.log_circle_intersection(n_dims, radius, distances)
        expected = np.log(
            counts[radius].astype(np.float64),
            where=counts[radius] > 0,
            out=np.full(n_dims + 1, -np.inf),
        )
        zero = counts[radius] == 0
        assert np.all(np.isneginf(logs[zero]))
        # float64 log of integers below 2^16: agreement to 1e-12 absolute in ln
        np.testing.assert_allclose(logs[~zero], expected[~zero], rtol=0, atol=1e-12)


CASES = [
    (1000, 451, [0, 1, 2, 100, 451, 500, 700, 899, 900, 901, 902, 903, 1000]),
    (1000, 600, [0, 1, 333, 500, 999, 1000]),
    (2000, 900, [0, 1, 999, 1000, 1500, 1799, 1800, 1801]),
    (5000, 2250, [0, 1, 2500, 4000, 4499, 4500, 4501]),
    (5000, 2700, [0, 4999, 5000]),
]


@pytest.mark.parametrize(("n_dims", "radius", "distances"), CASES)
def test_log_intersection_matches_big_integer_sums(n_dims, radius, distances):
    # Oracle: the defining double sum in exact Python integers. Tolerance 1e-9 relative
    # (the requirement; float64 ln of numbers ~1e3000 carries ~1e-13).
    logs = theory.log_circle_intersection(n_dims, radius, distances)
    for t, log_value in zip(distances, logs, strict=True):
        exact = definition_count(n_dims, radius, t)
        if exact == 0:
            assert t > 2 * radius and np.isneginf(log_value)
        else:
            assert abs(math.expm1(log_value - exact_log(exact))) < 1e-9, (n_dims, radius, t)


def test_exact_counts_match_definition_at_large_n():
    # Oracle: the defining double sum (exact integers), independent of the library's lune sum.
    distances = [0, 3, 500, 901, 902, 903]
    exact = theory.circle_intersection(1000, 451, distances, exact=True)
    assert exact == [definition_count(1000, 451, t) for t in distances]
    assert all(type(value) is int for value in exact)
    assert theory.circle_intersection(1000, 451, 3, exact=True) == definition_count(1000, 451, 3)


@pytest.mark.parametrize("radius", [0, 1, 2000, 4500, 6000, 10000])
def test_finite_and_accurate_at_ten_thousand_dimensions(radius):
    # Oracle: the defining double sum in exact integers at a few distances; structure
    # (finite for t <= 2d, -inf beyond, non-increasing in t) everywhere.
    n_dims = 10_000
    logs = theory.log_circle_intersection(n_dims, radius, np.arange(n_dims + 1))
    reachable = np.arange(n_dims + 1) <= 2 * radius
    assert np.all(np.isfinite(logs[reachable]))
    assert np.all(np.isneginf(logs[~reachable]))
    assert np.all(np.diff(logs[reachable]) <= 1e-9)
    for t in {0, min(2 * radius, n_dims), min(radius, n_dims)}:
        exact = definition_count(n_dims, radius, t)
        assert abs(math.expm1(logs[t] - exact_log(exact))) < 1e-9


def test_expected_neurons_scale_by_r_over_two_to_the_n():
    # Oracle: closed form N * r / 2^n with exact integers for N.
    distances = np.arange(0, 24)
    counts = theory.circle_intersection(64, 11, distances, exact=True)
    every = theory.circle_intersection(64, 11, distances)
    np.testing.assert_allclose(every, np.array(counts, dtype=float), rtol=1e-12)
    full = theory.circle_intersection(64, 11, distances, n_neurons=2**64)
    np.testing.assert_allclose(full, np.array(counts, dtype=float), rtol=1e-12)
    million = theory.circle_intersection(64, 11, distances, n_neurons=1_000_000)
    np.testing.assert_allclose(million, np.array(counts, dtype=float) * 1e6 / 2.0**64, rtol=1e-12)
    assert isinstance(theory.circle_intersection(64, 11, 5), float)


def test_float_overflow_is_refused_with_a_pointer_to_the_log_version():
    # Oracle: N(2000, 900, 0) ~ 2^1990 exceeds the float64 maximum ~2^1024.
    with pytest.raises(ValueError, match="log_circle_intersection"):
        theory.circle_intersection(2000, 900, [0])
    with pytest.raises(ValueError, match="n_neurons"):
        theory.circle_intersection(64, 11, [0], n_neurons=10, exact=True)
    # with a finite population the expectation is representable
    assert np.isfinite(theory.circle_intersection(2000, 900, [0], n_neurons=10**6)).all()


# --------------------------------------------------------------------------- conversions


def test_hamming_cosine_round_trip_and_rounding():
    # Oracle: closed form cos = 1 - 2t/n; round half to even documented.
    distances = np.arange(65)
    cosines = theory.hamming_to_cosine(distances, 64)
    np.testing.assert_allclose(cosines, 1 - 2 * distances / 64, rtol=0, atol=0)
    np.testing.assert_array_equal(theory.cosine_to_hamming(cosines, 64), distances)
    # t = n(1 - cos)/2 = 0.5, 1.5, 2.5 -> 0, 2, 2 (half to even), n = 4
    halves = 1 - 2 * np.array([0.5, 1.5, 2.5]) / 4
    np.testing.assert_array_equal(theory.cosine_to_hamming(halves, 4), [0, 2, 2])
    assert theory.cosine_to_hamming(1 + 1e-13, 64) == 0
    assert theory.cosine_to_hamming(-1 - 1e-13, 64) == 64
    assert isinstance(theory.cosine_to_hamming(0.5, 64), int)
    with pytest.raises(ValueError, match="cosine"):
        theory.cosine_to_hamming(1 + 1e-9, 64)
    with pytest.raises(ValueError, match="distance"):
        theory.hamming_to_cosine(65, 64)


# --------------------------------------------------------------------------- probabilities


@pytest.mark.parametrize("n_dims", [1, 64, 1000, 10_000])
def test_activation_probability_is_binomial_cdf(n_dims):
    # Oracle: scipy.stats.binom.cdf (an independent incomplete-beta implementation).
    radii = np.unique(np.linspace(0, n_dims, 23).astype(int))
    expected = stats.binom.cdf(radii, n_dims, 0.5)
    got = theory.activation_probability(n_dims, radii)
    big = expected > 1e-300
    np.testing.assert_allclose(got[big], expected[big], rtol=1e-9)
    for radius in radii:
        probability = theory.activation_probability(n_dims, int(radius))
        if 0 < probability < 1:
            # round trip: the smallest radius reaching the probability
            assert theory.radius_for_probability(n_dims, probability) == radius


def test_radius_for_probability_is_smallest_reaching_radius():
    # Oracle: scipy.stats.binom.cdf brackets the answer: cdf(d - 1) < p <= cdf(d).
    for probability in [1e-12, 3e-8, 0.01, 0.3, 0.5, 0.9, 0.999999]:
        radius = theory.radius_for_probability(64, probability)
        assert stats.binom.cdf(radius, 64, 0.5) >= probability * (1 - 1e-12)
        assert radius == 0 or stats.binom.cdf(radius - 1, 64, 0.5) < probability


@pytest.mark.parametrize("probability", [0.0, 1.0, -0.1, 1.5])
def test_radius_for_probability_rejects_outside_open_interval(probability):
    with pytest.raises(ValueError, match="probability"):
        theory.radius_for_probability(64, probability)


@pytest.mark.parametrize("n_dims", [1, 10, 64, 1000])
def test_radius_for_probability_refuses_probabilities_below_the_smallest_radius(n_dims):
    # Oracle: closed form P(Binomial(n, 1/2) <= 0) = 2**-n, the activation probability of the
    # smallest radius d = 0 (2.0**-n is exact in float64 for n <= 1074). Half of it is
    # unreachable: a ValueError naming the probability, 2**-n_dims and n_dims. n = 1000 takes
    # the log-space branch (2**-1000 / 2 < 1e-300). 2**-n itself, exact or as the float
    # activation_probability(n, 0), is d = 0; a hair above it needs d = 1, as
    # scipy.stats.binom.cdf(1, n, 1/2) = (n + 1) 2**-n brackets.
    smallest = 2.0**-n_dims
    expected = rf"probability must be >= 2\*\*-n_dims = .*n_dims={n_dims}"
    with pytest.raises(ValueError, match=expected):
        theory.radius_for_probability(n_dims, smallest / 2)
    with pytest.raises(ValueError, match=f"got {smallest / 2:.6g}"):
        theory.radius_for_probability(n_dims, smallest / 2)
    assert theory.radius_for_probability(n_dims, smallest) == 0
    assert theory.radius_for_probability(n_dims, theory.activation_probability(n_dims, 0)) == 0
    if n_dims > 1:  # for n = 1, 2**-1 * (1 + 1e-6) is still below 1 but d = 1 gives p = 1
        assert theory.radius_for_probability(n_dims, smallest * (1 + 1e-6)) == 1
        assert stats.binom.cdf(1, n_dims, 0.5) >= smallest * (1 + 1e-6)


def test_radius_for_probability_accepts_any_float_once_the_smallest_underflows():
    # Oracle: 2**-1100 underflows to 0 in float64, so every positive float is at or above it;
    # the answer is the smallest radius reaching it, bracketed by exact integer binomial sums
    # (ln of sum_{k<=d} C(n, k), minus n ln 2; scipy's logcdf underflows here).
    n_dims = 1100
    radius = theory.radius_for_probability(n_dims, 5e-324)

    def log_cdf(d):
        return math.log(sum(math.comb(n_dims, k) for k in range(d + 1))) - n_dims * math.log(2)

    log_p = math.log(5e-324)
    assert radius > 0
    assert log_cdf(radius) >= log_p - 1e-9
    assert log_cdf(radius - 1) < log_p


@pytest.mark.parametrize("n_dims", [16, 64, 1000])
@pytest.mark.parametrize("probability", [1e-310, 1e-30, 2.0**-64, 2.0**-63, 1e-12, 0.3])
def test_nearest_radius_is_the_brute_force_log_nearest_and_zero_below_the_smallest(
    n_dims, probability
):
    # Oracle: brute force over every radius d = 0..n of |ln P(Bin(n, 1/2) <= d) - ln p| with
    # scipy.stats.binom.logcdf (first minimum on ties). Below 2**-n (radius_for_probability
    # refuses those) the nearest radius is d = 0, answered explicitly.
    log_cdf = stats.binom.logcdf(np.arange(n_dims + 1), n_dims, 0.5)
    expected = int(np.argmin(np.abs(log_cdf - math.log(probability))))
    assert theory.nearest_radius(n_dims, probability) == expected
    if probability < 2.0**-n_dims:
        assert expected == 0
        with pytest.raises(ValueError, match="2\\*\\*-n_dims"):
            theory.radius_for_probability(n_dims, probability)


# --------------------------------------------------------------------------- beta fits


def test_ols_beta_for_n64_d11():
    # Oracle: numpy.polyfit (an independent least-squares solver) and the value 14.41.
    fit = theory.fit_beta(64, 11)
    t = np.arange(11)
    y = [exact_log(c) for c in theory.circle_intersection(64, 11, t, exact=True)]
    slope, intercept = np.polyfit(1 - 2 * t / 64, y, 1)
    assert fit.beta == pytest.approx(slope, rel=1e-9)
    assert fit.bias == pytest.approx(intercept, rel=1e-9)
    assert fit.beta == pytest.approx(14.41, abs=0.005)
    assert 0.9 < fit.r_squared <= 1.0
    assert fit.cosines.shape == fit.log_intersections.shape == (11,)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.beta = 1.0


@pytest.mark.parametrize(("radius", "published"), [(5, 35.5), (11, 15.9), (15, 10.1)])
def test_reference_beta_reproduces_published_values(radius, published):
    # Oracle: published betas for n=64 (Bricken & Pehlevan 2021, code accompanying the paper),
    # to within 0.05 (they are printed to one decimal); and the closed form OLS * N / (N - 1).
    fit = theory.fit_beta(64, radius, method="reference")
    assert fit.beta == pytest.approx(published, abs=0.05)
    ols = theory.fit_beta(64, radius, method="ols")
    assert fit.beta == pytest.approx(ols.beta * radius / (radius - 1), rel=1e-12)


def test_softmax_beta_minimises_the_stated_kl_loss():
    # Oracle: direct evaluation of KL(w || softmax(beta cos)) with scipy.stats.entropy; the
    # fitted beta must beat nearby betas (convex loss, unique minimiser).
    fit = theory.fit_beta(64, 11, method="softmax")
    cosines = 1 - 2 * np.arange(65) / 64
    counts = np.array(theory.circle_intersection(64, 11, np.arange(65), exact=True), dtype=float)
    weights = counts / counts.sum()

    def kl(beta):
        return stats.entropy(weights, special.softmax(beta * cosines))

    best = kl(fit.beta)
    for step in (1e-2, 1e-1, 1.0):
        assert best < kl(fit.beta + step) and best < kl(fit.beta - step)
    # bias: sum_t exp(bias + beta cos_t) equals sum_t N(t)
    total = np.exp(fit.bias + fit.beta * cosines).sum()
    assert total == pytest.approx(counts.sum(), rel=1e-9)


def test_continuous_fit_uses_cap_intersections():
    # Oracle: the fitted points are log_cap_intersection at cos = 1 - 2t/n, and the slope is
    # the numpy.polyfit slope through them.
    fit = theory.fit_beta(64, 11, continuous=True)
    cosines = 1 - 2 * np.arange(11) / 64
    np.testing.assert_allclose(fit.log_intersections, theory.log_cap_intersection(64, 11, cosines))
    assert fit.beta == pytest.approx(np.polyfit(cosines, fit.log_intersections, 1)[0], rel=1e-9)
    assert fit.continuous


def test_fit_beta_rejects_bad_arguments():
    with pytest.raises(ValueError, match="method"):
        theory.fit_beta(64, 11, method="median")
    with pytest.raises(ValueError, match="activation_radius"):
        theory.fit_beta(64, 1, method="ols")
    with pytest.raises(ValueError, match="activation_radius"):
        theory.fit_beta(64, 0, method="softmax")


# --------------------------------------------------------------------------- caps


@pytest.mark.parametrize(("n_dims", "radius"), [(3, 1), (8, 3), (8, 5), (12, 4)])
def test_cap_intersection_matches_monte_carlo(n_dims, radius):
    # Oracle: Monte Carlo over uniform points on S^{n-1}. Bound: 6 binomial standard errors
    # (failure probability ~2e-9 per comparison, so it passes for any seed).
    rng = np.random.default_rng()
    samples = 200_000
    points = rng.standard_normal((samples, n_dims))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    cos_theta = 1 - 2 * radius / n_dims
    for cosine in [1.0, 0.8, 0.4, 0.0, -0.5]:
        second = np.zeros(n_dims)
        second[0], second[1] = cosine, math.sqrt(1 - cosine**2)
        inside = (points[:, 0] >= cos_theta) & (points @ second >= cos_theta)
        estimate = inside.mean()
        predicted = math.exp(theory.log_cap_intersection(n_dims, radius, cosine))
        sigma = math.sqrt(max(predicted * (1 - predicted), 1e-12) / samples)
        assert abs(estimate - predicted) <= 6 * sigma + 1e-12, (cosine, estimate, predicted)


@pytest.mark.parametrize(
    ("n_dims", "radius"), [(3, 1), (64, 11), (64, 40), (1000, 300), (10_000, 4500), (10_000, 5200)]
)
def test_cap_intersection_at_cosine_one_is_one_cap(n_dims, radius):
    # Oracle: closed-form single-cap area via the regularised incomplete beta function.
    theta = math.acos(1 - 2 * radius / n_dims)
    log_value = theory.log_cap_intersection(n_dims, radius, 1.0)
    assert log_value == pytest.approx(
        math.log(single_cap_fraction(n_dims, theta)), rel=1e-8, abs=1e-14
    )
    # with n_neurons the fraction is scaled by r
    scaled = theory.log_cap_intersection(n_dims, radius, 1.0, n_neurons=10**6)
    assert scaled == pytest.approx(log_value + math.log(1e6), rel=1e-12)


def test_cap_intersection_on_a_circle():
    # Oracle (n=2): arcs of half-width theta at angle phi overlap in (2 theta - phi) / (2 pi).
    theta = math.acos(1 - 2 * 1 / 2)  # d = 1 of n = 2: a half circle
    for phi in [0.0, 0.5, 1.0, 3.0]:
        value = math.exp(theory.log_cap_intersection(2, 1, math.cos(phi)))
        assert value == pytest.approx((2 * theta - phi) / (2 * math.pi), rel=1e-12)


@pytest.mark.parametrize(("n_dims", "radius"), [(3, 1), (5, 1), (20, 6), (50, 15), (200, 60)])
def test_cap_intersection_against_the_betainc_integral(n_dims, radius):
    # Oracle: a different formula, integrated adaptively: the 1-D integral over the first
    # coordinate u of a cap centre, its density times the incomplete-beta tail of the second
    # coordinate beyond the bisecting hyperplane (as in the code accompanying Bricken &
    # Pehlevan 2021). Tolerance 1e-8 relative: quad's requested accuracy is 1e-12.
    cos_theta = 1 - 2 * radius / n_dims
    theta = math.acos(cos_theta)
    phis = np.linspace(0.05, 2 * theta - 0.05, 7)
    got = np.exp(theory.log_cap_intersection(n_dims, radius, np.cos(phis)))
    log_norm = special.betaln((n_dims - 1) / 2, 0.5)
    for phi, value in zip(phis, got, strict=True):
        slope = math.tan(phi / 2)

        def integrand(u, slope=slope):
            density = math.exp((n_dims - 3) / 2 * math.log1p(-u * u) - log_norm)
            s = u * slope / math.sqrt(1 - u * u)
            tail = 0.5 * special.betainc((n_dims - 2) / 2, 0.5, 1 - s * s) if s < 1 else 0.0
            return density * tail

        edge = min(1.0, 1.0 / math.sqrt(1.0 + slope * slope))  # where s reaches 1
        half, _ = integrate.quad(integrand, cos_theta, edge, epsabs=0, epsrel=1e-12, limit=200)
        assert value == pytest.approx(2 * half, rel=1e-8), phi


def test_caps_far_apart_do_not_intersect():
    # Oracle: closed form: caps of radius theta < pi/2 meet only if the centres are < 2 theta
    # apart.
    theta = math.acos(1 - 2 * 11 / 64)
    apart = math.cos(2 * theta + 1e-6)
    assert np.isneginf(theory.log_cap_intersection(64, 11, apart))
    assert np.isneginf(theory.log_cap_intersection(64, 11, -1.0))
    near = math.cos(2 * theta - 1e-3)
    assert np.isfinite(theory.log_cap_intersection(64, 11, near))
    values = theory.log_cap_intersection(10_000, 4000, [1.0, 0.9, 0.5, 0.2])
    assert np.all(np.isfinite(values)) and np.all(np.diff(values) < 0)


# --------------------------------------------------------------------------- optimal radii


def test_optimal_radii_for_the_transformer_setting():
    # Oracle: published values for n=64, m=1024, r=2^64 (Bricken & Pehlevan 2021, App. B.5):
    # SNR 11, memory 5, critical distance 15 (the issue accepts 13..17 for the last).
    assert theory.optimal_radius(64, 1024, criterion="snr") == 11
    assert theory.optimal_radius(64, 1024, criterion="memory") == 5
    assert 13 <= theory.optimal_radius(64, 1024, criterion="critical_distance") <= 17
    # r given explicitly as a Python int equals the every-address default for snr and memory
    assert theory.optimal_radius(64, 1024, 2**64, criterion="snr") == 11
    assert theory.optimal_radius(64, 1024, 2**64, criterion="memory") == 5


@pytest.mark.parametrize(
    ("n_dims", "n_patterns", "n_neurons"),
    [
        (64, 1024, 10**6),
        (64, 1, 2**64),
        (1000, 10**5, 2**200),
        (2000, 1024, 2**2000),
        (10_000, 1024, 2**3000),
    ],
)
def test_snr_radius_matches_closed_form(n_dims, n_patterns, n_neurons):
    # Oracle: closed form p* = (2 m r)^(-1/3) and the binomial cdf (scipy) bracketing d:
    # cdf(d - 1) < p* <= cdf(d), compared in logs (r may exceed the float range).
    radius = theory.optimal_radius(n_dims, n_patterns, n_neurons, criterion="snr")
    log_p = -(math.log(2 * n_patterns) + math.log(n_neurons)) / 3
    assert stats.binom.logcdf(radius, n_dims, 0.5) >= log_p - 1e-9
    assert radius == 0 or stats.binom.logcdf(radius - 1, n_dims, 0.5) < log_p


@pytest.mark.parametrize(("n_dims", "n_neurons"), [(64, 2**64), (64, 10**6), (100, 10**9)])
def test_memory_radius_matches_brute_force_maximum(n_dims, n_neurons):
    # Oracle: M(p) = ((pr)^2/z^2 - pr) / (p^2 r + (p^2 r)^2) evaluated directly in float on a
    # dense log grid of p (1e5 points), then the smallest radius whose binomial cdf reaches it.
    z = stats.norm.ppf(0.5 ** (1 / n_dims))
    r = float(n_neurons)
    p = np.logspace(-30, 0, 100_001)
    capacity = ((p * r) ** 2 / z**2 - p * r) / (p**2 * r + (p**2 * r) ** 2)
    best = p[np.argmax(capacity)]
    expected = int(np.searchsorted(stats.binom.cdf(np.arange(n_dims + 1), n_dims, 0.5), best))
    assert theory.optimal_radius(n_dims, 7, n_neurons, criterion="memory") == expected


def test_optimal_radius_rejects_bad_arguments():
    with pytest.raises(ValueError, match="criterion"):
        theory.optimal_radius(64, 1024, criterion="capacity")
    with pytest.raises(ValueError, match="n_patterns"):
        theory.optimal_radius(64, 0)
    with pytest.raises(ValueError, match="n_neurons"):
        theory.optimal_radius(64, 10, n_neurons=0)


# --------------------------------------------------------------------------- critical distance


def test_critical_distance_without_interference_is_twice_the_radius():
    # Oracle: closed form. With one stored pattern and exact counts there is no noise: a
    # query within 2d of the pattern shares neurons with it and is read back exactly; beyond
    # 2d the read is a coin flip (expected distance n/2), so the critical distance is 2d.
    for radius in (3, 5, 11):
        assert theory.critical_distance(64, radius, 1) == 2 * radius


def test_critical_distance_of_an_overloaded_memory_is_zero():
    # Oracle: closed form. With d = 0 each pattern is its own neuron; m patterns at random
    # addresses share none, but with n = 16 and m = 10^6 the noise from patterns at distance 0
    # (probability 2^-16 each, 15 expected) swamps a single signal neuron: f(0) >= 1/2.
    assert theory.critical_distance(16, 0, 10**6) == 0


def test_critical_distance_is_monotone_in_load():
    # Oracle: more stored patterns add noise and never enlarge the basin (model property).
    values = [theory.critical_distance(64, 11, m) for m in (1, 10, 100, 1000, 10_000, 100_000)]
    assert values == sorted(values, reverse=True)
    finite = [theory.critical_distance(64, 11, 1024, n_neurons=r) for r in (10**4, 10**6, 10**9)]
    assert finite == sorted(finite)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: theory.log_circle_intersection(64, 65, [0]), "activation_radius"),
        (lambda: theory.log_circle_intersection(64, -1, [0]), "activation_radius"),
        (lambda: theory.log_circle_intersection(0, 0, [0]), "n_dims"),
        (lambda: theory.log_circle_intersection(-3, 0, [0]), "n_dims"),
        (lambda: theory.log_circle_intersection(64, 11, [-1]), "distances"),
        (lambda: theory.log_circle_intersection(64, 11, [1.5]), "distances"),
        (lambda: theory.log_circle_intersection(64, 11, [65]), "distances"),
        (lambda: theory.circle_intersection(64, 11, [0], n_neurons=-5), "n_neurons"),
        (lambda: theory.log_cap_intersection(64, 70, [0.5]), "activation_radius"),
        (lambda: theory.log_cap_intersection(64, 11, [1.1]), "cosines"),
        (lambda: theory.log_cap_intersection(1, 0, [1.0]), "n_dims"),
        (lambda: theory.activation_probability(64, 65), "activation_radius"),
        (lambda: theory.critical_distance(64, 11, 0), "n_patterns"),
        (lambda: theory.critical_distance(64, 80, 10), "activation_radius"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_wrong_types_raise_type_error():
    with pytest.raises(TypeError, match="n_dims"):
        theory.log_circle_intersection("64", 11, [0])
    # models.validation.check_int semantics: a non-integral float is the wrong kind (TypeError),
    # an integral one is accepted; a bool is never a count.
    with pytest.raises(TypeError, match="activation_radius must be an integer; got 11.5"):
        theory.log_circle_intersection(64, 11.5, [0])
    assert theory.log_circle_intersection(64, 11.0, [0]) == theory.log_circle_intersection(
        64, 11, [0]
    )
    with pytest.raises(TypeError, match="n_patterns must be an integer; got the bool True"):
        theory.critical_distance(64, 11, True)
    with pytest.raises(TypeError, match="exact must be a bool"):
        theory.circle_intersection(64, 11, [0], exact=1)
    with pytest.raises(TypeError, match="distances"):
        theory.log_circle_intersection(64, 11, ["a"])
    with pytest.raises(TypeError, match="probability"):
        theory.radius_for_probability(64, "0.5")


# --------------------------------------------------------------------------- simulation


@pytest.mark.slow
def test_critical_distance_matches_iterated_reads():
    # Oracle: simulation of the every-address-is-a-neuron memory (n = 64, m = 1024 random
    # patterns; pattern weights = exact intersection counts), iterating reads from queries at
    # increasing bit-flip distance. The analytic critical distance must be within 3 bits of the
    # largest start distance at which at least half of the queries converge to their pattern
    # (the tolerance). 300 queries per distance: the converged fraction's standard error
    # is <= 0.03, small next to its drop from ~0.8 to ~0.2 over one or two bits.
    rng = np.random.default_rng(np.random.SeedSequence(20211105).spawn(1)[0])
    n_dims, n_patterns, queries = 64, 1024, 300
    patterns = rng.integers(0, 2, size=(n_patterns, n_dims), dtype=np.int8)
    bipolar = (2 * patterns - 1).astype(np.float64)
    for radius in range(9, 18):
        counts = np.exp(theory.log_circle_intersection(n_dims, radius, np.arange(n_dims + 1)))
        converged = {}
        for start in range(8, 30):
            targets = rng.integers(0, n_patterns, queries)
            query = patterns[targets].copy()
            flips = np.argsort(rng.random((queries, n_dims)), axis=1)[:, :start]
            np.put_along_axis(query, flips, 1 - np.take_along_axis(query, flips, 1), 1)
            for _ in range(50):
                distances = (n_dims - (2.0 * query - 1) @ bipolar.T) / 2
                weights = counts[np.rint(distances).astype(np.int64)]
                read = (weights @ bipolar > 0).astype(np.int8)
                if np.array_equal(read, query):
                    break
                query = read
            converged[start] = np.mean(np.all(query == patterns[targets], axis=1))
        simulated = max(start for start, fraction in converged.items() if fraction >= 0.5)
        analytic = theory.critical_distance(n_dims, radius, n_patterns)
        print(f"d={radius}: analytic {analytic}, simulated {simulated}")
        assert abs(analytic - simulated) <= 3, (radius, analytic, simulated, converged)


def test_log_intersection_accuracy_at_ten_thousand_dimensions_every_distance():
    # Oracle: the exact integer counts N(10000, 2000, t) for every t, from the lune sum in
    # Python ints (exact arithmetic; the identity itself is checked against the defining double
    # sum above). The documented accuracy: relative error below 1e-14 in ln N, and hence
    # |Delta ln N| = relative error of N below 1e-14 * max ln N (~7e-11 here).
    n_dims, radius = 10_000, 2000
    exact = theory.circle_intersection(n_dims, radius, np.arange(n_dims + 1), exact=True)
    logs = theory.log_circle_intersection(n_dims, radius, np.arange(n_dims + 1))
    worst = 0.0
    for t, count in enumerate(exact):
        if count == 0:
            assert np.isneginf(logs[t])
            continue
        log_exact = exact_log(count)
        assert abs(logs[t] - log_exact) <= 1e-14 * max(abs(log_exact), 1.0), t
        worst = max(worst, abs(math.expm1(logs[t] - log_exact)))
    assert worst <= 1e-14 * exact_log(exact[0])


def test_critical_distance_saturates_to_n_dims_beyond_half():
    # Oracle: closed form. One stored pattern, exact counts: a query within 2d reads it back
    # exactly (f = 0); beyond 2d the read is a coin flip, f(s) = n/2. With 2d = 32 = n/2 every
    # start s > n/2 maps to n/2 < s and then converges, so the recursion saturates at n_dims
    # (documented); one bit less radius (2d = 30 < n/2) gives the unsaturated 2d.
    assert theory.critical_distance(64, 16, 1) == 64
    assert theory.critical_distance(64, 15, 1) == 30
    # Oracle: model property (P_e <= 1/2, so f(s) <= n/2 < s for s > n/2): the result is
    # below n/2 or exactly n_dims, never in [n/2, n), over a sweep of radii and loads.
    for radius in range(0, 65, 4):
        for n_patterns in (1, 10, 1000):
            value = theory.critical_distance(64, radius, n_patterns)
            assert value < 32 or value == 64, (radius, n_patterns, value)


def test_optimal_radius_reports_progress_through_the_critical_distance_scan():
    # Oracle: the documented contract -- progress(done, total) every 64 radii and at the end
    # of the n + 1 radii, and the same radius as without a callback (it only observes).
    calls = []
    with_progress = theory.optimal_radius(
        200, 32, 10_000, criterion="critical_distance", progress=lambda *a: calls.append(a)
    )
    assert calls == [(64, 201), (128, 201), (192, 201), (201, 201)]
    assert with_progress == theory.optimal_radius(200, 32, 10_000, criterion="critical_distance")
    assert theory.optimal_radius(200, 32, 10_000, criterion="snr", progress=calls.append) >= 0
    assert len(calls) == 4  # no scan, no call
    with pytest.raises(TypeError, match="progress must be callable"):
        theory.optimal_radius(64, 16, criterion="critical_distance", progress=3)
