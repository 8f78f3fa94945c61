"""Tests of models.metrics: agreement metrics on arrays, vectorised over queries.

Oracles are named per test: SciPy reference functions evaluated one row at a time
(``scipy.stats.entropy``, ``scipy.stats.spearmanr``, ``scipy.stats.t.interval``), brute-force
enumeration over all events for total variation, closed forms for special vectors, and a
binomial sampling bound for the coverage of the confidence interval.
"""

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from models import metrics

SEED = 20261126


def _rng(index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(SEED).spawn(index + 1)[index])


def test_cosine_similarity_matches_row_by_row_dot_products():
    # Oracle: the definition x.y / (|x| |y|) evaluated row by row with Python floats.
    rng = _rng(0)
    a = rng.normal(size=(3, 5, 7))
    b = rng.normal(size=(3, 5, 7))
    got = metrics.cosine_similarity(a, b)
    assert got.shape == (3, 5)
    for index in np.ndindex(3, 5):
        x, y = a[index], b[index]
        expected = float(x @ y) / math.sqrt(float(x @ x) * float(y @ y))
        # float64 round-off of a 7-term dot product: a few ulp; 1e-12 is far above it.
        assert got[index] == pytest.approx(expected, abs=1e-12)


def test_cosine_similarity_closed_forms_and_zero_vector():
    # Oracle: closed forms: cos(x, 3x) = 1, cos(x, -x) = -1, orthogonal unit vectors give 0,
    # and the documented completion at a zero vector: 0 against a non-zero vector.
    # (Updated: the zero-vector row used to be NaN; the rule is now defined, never NaN.)
    x = np.array([[1.0, 2.0, -3.0], [1.0, 0.0, 0.0]])
    assert np.allclose(metrics.cosine_similarity(x, 3 * x), 1.0, atol=1e-15)
    assert np.allclose(metrics.cosine_similarity(x, -x), -1.0, atol=1e-15)
    assert metrics.cosine_similarity([1.0, 0.0], [0.0, 1.0]) == 0.0
    got = metrics.cosine_similarity([[0.0, 0.0], [1.0, 1.0]], [[1.0, 1.0], [2.0, 2.0]])
    assert got[0] == 0.0 and got[1] == pytest.approx(1.0, abs=1e-15)


def test_cosine_similarity_zero_vector_rule():
    # Oracle: the documented rule of models.metrics.cosine_similarity: cos(0, 0) = 1 (two zero
    # rows are identical, so cos(x, x) = 1 holds for every x), cos(x, 0) = cos(0, y) = 0 for
    # non-zero x, y; exact values, no NaN, in any leading shape and under broadcasting.
    zero, x = np.zeros(3), np.array([1.0, -2.0, 0.5])
    assert metrics.cosine_similarity(zero, zero) == 1.0
    assert metrics.cosine_similarity(x, zero) == 0.0
    assert metrics.cosine_similarity(zero, -x) == 0.0
    batch = np.stack([zero, x, zero, x])
    got = metrics.cosine_similarity(batch, np.stack([zero, zero, x, x]))
    np.testing.assert_array_equal(got, [1.0, 0.0, 0.0, 1.0])
    broadcast = metrics.cosine_similarity(batch, zero)  # one zero target against every row
    np.testing.assert_array_equal(broadcast, [1.0, 0.0, 1.0, 0.0])
    assert not np.isnan(got).any() and not np.isnan(broadcast).any()


def test_cosine_similarity_broadcasts_one_target_against_many_queries():
    # Oracle: broadcasting must equal the explicit tiled comparison.
    rng = _rng(1)
    outputs = rng.normal(size=(6, 4))
    target = rng.normal(size=4)
    tiled = np.tile(target, (6, 1))
    assert np.array_equal(
        metrics.cosine_similarity(outputs, target), metrics.cosine_similarity(outputs, tiled)
    )


def test_kl_divergence_matches_scipy_entropy_row_by_row():
    # Oracle: scipy.stats.entropy(p, q) (natural log, normalises its inputs) per row.
    rng = _rng(2)
    p = rng.random((8, 6))
    q = rng.random((8, 6))
    p[0, 2] = 0.0  # a zero in p: the term contributes 0
    got = metrics.kl_divergence(p, q)
    expected = np.array([stats.entropy(p[i], q[i]) for i in range(8)])
    # float64 round-off over 6 terms of size O(1): 1e-12 absolute is far above it.
    assert np.allclose(got, expected, rtol=0, atol=1e-12)
    assert np.all(got >= 0)  # Gibbs' inequality


def test_kl_divergence_zero_conventions():
    # Oracle: definition. KL(p||p) = 0; q = 0 where p > 0 gives +inf; p = 0 where q > 0 is
    # finite: KL([1, 0] || [1/2, 1/2]) = ln 2 exactly.
    p = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    q = np.array([[0.2, 0.3, 0.5], [0.5, 0.5, 0.0], [0.0, 1.0, 0.0]])
    got = metrics.kl_divergence(p, q)
    assert got[0] == 0.0
    assert got[1] == pytest.approx(math.log(2.0), abs=1e-15)
    assert got[2] == np.inf


def test_kl_divergence_normalises_counts():
    # Oracle: scale invariance of the normalised definition: counts equal their frequencies.
    counts_p = np.array([3.0, 1.0, 4.0])
    counts_q = np.array([1.0, 5.0, 9.0])
    assert metrics.kl_divergence(counts_p, counts_q) == pytest.approx(
        metrics.kl_divergence(counts_p / 8, counts_q / 15), abs=1e-15
    )


def test_total_variation_equals_largest_event_difference():
    # Oracle: brute-force enumeration: TV(p, q) = max over all 2^K events A of |P(A) - Q(A)|.
    rng = _rng(3)
    p = rng.random((5, 6))
    q = rng.random((5, 6))
    got = metrics.total_variation(p, q)
    p /= p.sum(axis=1, keepdims=True)
    q /= q.sum(axis=1, keepdims=True)
    for row in range(5):
        best = 0.0
        for mask in itertools.product([False, True], repeat=6):
            chosen = np.array(mask)
            best = max(best, abs(p[row, chosen].sum() - q[row, chosen].sum()))
        assert got[row] == pytest.approx(best, abs=1e-12)
    # Closed forms: disjoint supports give 1, identical distributions give 0.
    assert metrics.total_variation([1.0, 0.0], [0.0, 1.0]) == 1.0
    assert metrics.total_variation([0.3, 0.7], [0.3, 0.7]) == 0.0


def test_spearman_matches_scipy_spearmanr_with_ties():
    # Oracle: scipy.stats.spearmanr row by row; small integer ranges force many ties.
    rng = _rng(4)
    a = rng.integers(0, 4, size=(20, 9)).astype(float)
    b = rng.integers(0, 4, size=(20, 9)).astype(float)
    b[0] = 2 * a[0] + 1  # a monotone relation: correlation exactly 1
    got = metrics.spearman_correlation(a, b)
    for row in range(20):
        if np.ptp(a[row]) == 0 or np.ptp(b[row]) == 0:
            assert np.isnan(got[row])
            continue
        expected = stats.spearmanr(a[row], b[row]).statistic
        assert got[row] == pytest.approx(expected, abs=1e-12)
    assert got[0] == pytest.approx(1.0, abs=1e-15)


def test_spearman_constant_row_is_nan():
    # Oracle: the correlation of a constant sequence is undefined (0/0), as in scipy.
    got = metrics.spearman_correlation([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]], [[1, 2, 3], [3, 2, 1]])
    assert np.isnan(got[0]) and got[1] == -1.0


def test_max_abs_error_matches_row_by_row_maximum():
    # Oracle: Python's max over the absolute differences of each row.
    rng = _rng(5)
    a = rng.normal(size=(4, 10))
    b = rng.normal(size=(4, 10))
    got = metrics.max_abs_error(a, b)
    for row in range(4):
        assert got[row] == max(abs(x - y) for x, y in zip(a[row], b[row], strict=True))


def test_summarize_matches_scipy_t_interval():
    # Oracle: scipy.stats.t.interval with the standard error of the mean (scipy.stats.sem).
    rng = _rng(6)
    values = rng.normal(3.0, 2.0, size=(3, 12))
    summary = metrics.summarize(values, confidence=0.9)
    assert summary.n_samples == 12 and summary.confidence == 0.9
    for row in range(3):
        low, high = stats.t.interval(
            0.9, df=11, loc=values[row].mean(), scale=stats.sem(values[row])
        )
        assert summary.mean[row] == pytest.approx(values[row].mean(), abs=1e-12)
        assert summary.low[row] == pytest.approx(low, abs=1e-12)
        assert summary.high[row] == pytest.approx(high, abs=1e-12)
    # The axis argument selects the sample axis.
    transposed = metrics.summarize(values.T, confidence=0.9, axis=0)
    assert np.allclose(transposed.low, summary.low, atol=1e-15)


def test_summarize_interval_covers_true_mean_at_nominal_rate():
    # Oracle: sampling theory. For normal samples the 95% t-interval covers the true mean with
    # probability exactly 0.95; over 4000 independent intervals the coverage count is
    # Binomial(4000, 0.95) with sd sqrt(4000 * 0.95 * 0.05) = 13.8, so a 6-sd band
    # (|coverage - 0.95| <= 0.0207) fails with probability < 2e-9 for any seed.
    rng = _rng(7)
    samples = rng.normal(1.5, 0.7, size=(4000, 8))
    summary = metrics.summarize(samples)
    coverage = np.mean((summary.low <= 1.5) & (1.5 <= summary.high))
    assert abs(coverage - 0.95) <= 6 * math.sqrt(0.95 * 0.05 / 4000)


def test_summarize_single_sample_has_undefined_interval():
    # Oracle: the t-interval needs n - 1 >= 1 degrees of freedom; with n = 1 it is undefined.
    summary = metrics.summarize([2.5])
    assert summary.mean == 2.5 and np.isnan(summary.low) and np.isnan(summary.high)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: metrics.cosine_similarity([1.0, np.nan], [1.0, 2.0]), "a must be finite"),
        (lambda: metrics.cosine_similarity([1.0, 2.0], [1.0, 2.0, 3.0]), "broadcastable"),
        (lambda: metrics.kl_divergence([0.5, -0.5], [0.5, 0.5]), "p must be non-negative"),
        (lambda: metrics.kl_divergence([0.5, 0.5], [0.0, 0.0]), "q must have a positive sum"),
        (lambda: metrics.total_variation([[0.0, 0.0]], [[1.0, 0.0]]), "p must have a positive"),
        (lambda: metrics.spearman_correlation([1.0], [2.0]), "at least 2 entries"),
        (lambda: metrics.max_abs_error(3.0, 4.0), "at least one axis"),
        (lambda: metrics.summarize([1.0, np.inf]), "values must be finite"),
        (lambda: metrics.summarize([1.0, 2.0], confidence=1.5), r"confidence must be in \(0, 1\)"),
        (lambda: metrics.summarize(np.zeros((3, 0))), "values must have a non-empty"),
        (lambda: metrics.summarize(np.zeros((0, 3)), axis=0), "at least one sample"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, match):
    # Oracle: the error contract of common.md (ValueError naming the argument and the value).
    with pytest.raises(ValueError, match=match):
        call()


def test_non_numeric_input_raises_type_error():
    # Oracle: the error contract (TypeError for a wrong type).
    with pytest.raises(TypeError, match="a must be a numeric array"):
        metrics.cosine_similarity(["x", "y"], [1.0, 2.0])


@pytest.mark.parametrize("scale", [1e-170, 1e-300, 1e200, 1e300])
def test_cosine_similarity_is_scale_invariant_without_underflow_or_overflow(scale):
    # Oracle: closed form — cos(s x, s y) = cos(x, y) for any s > 0; here x = (1, 2, -3),
    # y = (2, 1, 1) give x.y / (|x| |y|) = 1 / sqrt(14 * 6). The product of the two norms
    # under/overflows at these scales, so only a computation that normalises first survives.
    # Tolerance: a few ulp of round-off from the scaling; 1e-14 is far above it.
    x = np.array([1.0, 2.0, -3.0])
    y = np.array([2.0, 1.0, 1.0])
    expected = 1.0 / math.sqrt(14.0 * 6.0)
    got = metrics.cosine_similarity(scale * x, scale * y)
    assert got == pytest.approx(expected, abs=1e-14)
    # Oracle: closed form cos(x, x) = 1, and mixed scales (1e-170 against 1e200).
    assert metrics.cosine_similarity(scale * x, x) == pytest.approx(1.0, abs=1e-14)
    assert metrics.cosine_similarity(1e-170 * x, 1e200 * x) == pytest.approx(1.0, abs=1e-14)


def test_cosine_similarity_zero_rule_only_for_zero_vectors_at_tiny_scale():
    # Oracle: the documented contract — the zero-vector rule applies exactly where a vector is
    # zero, even when the other vector is subnormal-scale (5e-324 is the smallest positive
    # float64): a subnormal vector still has a direction. (Updated: the zero row used to be
    # NaN; it is 0 against a non-zero vector, and 1 against another zero vector.)
    got = metrics.cosine_similarity(
        [[0.0, 0.0], [5e-324, 0.0], [0.0, 0.0]], [[1.0, 1.0], [5e-324, 0.0], [0.0, 0.0]]
    )
    np.testing.assert_array_equal(got, [0.0, 1.0, 1.0])
    assert metrics.cosine_similarity([0.0, 5e-324], [0.0, -5e-324]) == -1.0


@pytest.mark.parametrize("confidence", [np.float32(0.9), np.float64(0.9), 0.9])
def test_summarize_accepts_any_real_confidence(confidence):
    # Oracle: scipy.stats.t.interval at the same confidence (after conversion to float).
    values = np.array([1.0, 2.5, 3.0, 4.5])
    summary = metrics.summarize(values, confidence=confidence)
    low, high = stats.t.interval(
        float(confidence), df=3, loc=values.mean(), scale=stats.sem(values)
    )
    assert summary.low == pytest.approx(low, abs=1e-12)
    assert summary.high == pytest.approx(high, abs=1e-12)
    assert summary.confidence == float(confidence)


@pytest.mark.parametrize("confidence", [True, np.bool_(True), "0.9", None])
def test_summarize_rejects_non_real_confidence(confidence):
    # Oracle: the error contract (TypeError naming the argument for a wrong type; bools are not
    # confidence levels).
    with pytest.raises(TypeError, match="confidence must be a real number"):
        metrics.summarize([1.0, 2.0], confidence=confidence)
