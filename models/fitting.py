r"""Estimate beta from measured pattern weights.

Bricken & Pehlevan (2021) show that the SDM read weights pattern :math:`\mu` by the circle
intersection, which decays roughly exponentially in the Hamming distance :math:`t` between the
query and the pattern; with :math:`\cos = 1 - 2t/n` this is
:math:`w_\mu \propto \exp(\beta \cos_\mu)`. Given measured weights (from the spiking circuit or
any memory), ``estimate_beta`` regresses :math:`\log w` on the cosine by ordinary least squares and
returns the slope :math:`\hat\beta` with its Student-t confidence interval,

.. math::  \hat\beta \pm t_{1-\alpha/2,\,N-2}\; \hat\sigma / \sqrt{\textstyle\sum_i (x_i-\bar x)^2},

where :math:`\hat\sigma^2` is the residual variance with :math:`N-2` degrees of freedom.
Zero weights have no logarithm and are left out (their count is reported); the interval is the
usual one for independent residuals, so when points are pooled from several queries that share
patterns it is a guide rather than a guarantee.

``estimate_beta_counts`` is the estimator for intersection *counts*: a Poisson log-linear
regression, :math:`\ln E[c] = b + \beta \cos`, fitted by maximum likelihood (Newton's method;
McCullagh & Nelder 1989, ch. 6), so zero counts stay in the fit instead of being dropped, and
a cluster bootstrap over queries (Davison & Hinkley 1997, sec. 3.8) for the interval, because
the pairs of one query with every pattern share one active set and are not independent.

References
----------
McCullagh, P. & Nelder, J. A. (1989). *Generalized Linear Models*, 2nd ed. Chapman & Hall.
Davison, A. C. & Hinkley, D. V. (1997). *Bootstrap Methods and their Application*. CUP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from models.validation import check_int, check_probability, check_real, check_rng

__all__ = [
    "BetaEstimate",
    "CountBetaEstimate",
    "cluster_multiplicity",
    "estimate_beta",
    "estimate_beta_counts",
]


@dataclass(frozen=True)
class BetaEstimate:
    """Result of :func:`estimate_beta`.

    Attributes
    ----------
    beta : float
        OLS slope of log weight on cosine (dimensionless inverse temperature).
    bias : float
        Intercept.
    ci_low, ci_high : float
        Bounds of the ``confidence`` interval of ``beta``.
    confidence : float
    n_points : int
        Number of (cosine, weight) pairs with a positive weight that were fitted.
    n_zero : int
        Number of pairs left out because their weight was 0.
    r_squared : float
    """

    beta: float
    bias: float
    ci_low: float
    ci_high: float
    confidence: float
    n_points: int
    n_zero: int
    r_squared: float

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies inside the confidence interval.

        Parameters
        ----------
        value : float
            A beta to test (dimensionless).

        Returns
        -------
        bool
        """
        return bool(self.ci_low <= value <= self.ci_high)


def estimate_beta(cosines, weights, *, confidence: float = 0.95) -> BetaEstimate:
    """Fit ``log(weights) = beta * cosines + bias`` by ordinary least squares.

    Parameters
    ----------
    cosines : array_like of float, any shape
        Cosine similarity between query and pattern, in [-1, 1].
    weights : array_like of float, same shape as ``cosines`` (checked before flattening)
        Non-negative pattern weights (normalised or not: normalisation only moves the bias).
    confidence : float
        Confidence level of the interval, in (0, 1).

    Returns
    -------
    BetaEstimate
    """
    x = np.asarray(cosines, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if x.shape != w.shape:
        # Compared before flattening: a (2, 3) against a (3, 2) array would otherwise pair the
        # wrong entries silently.
        raise ValueError(
            f"cosines and weights must have the same shape; got {x.shape} and {w.shape}"
        )
    x, w = x.ravel(), w.ravel()
    confidence = check_probability(confidence, "confidence", allow_zero=False, allow_one=False)
    if not np.all(np.isfinite(x)) or np.any(np.abs(x) > 1.0 + 1e-12):
        raise ValueError("cosines must be finite and in [-1, 1]")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative")
    positive = w > 0
    x, y = x[positive], np.log(w[positive])
    n_points = int(x.size)
    if n_points < 3 or np.ptp(x) == 0:
        raise ValueError(
            "estimate_beta needs at least 3 positive weights at 2 or more distinct cosines; "
            f"got {n_points} positive weights"
        )
    fit = stats.linregress(x, y)
    dof = n_points - 2
    half_width = stats.t.ppf(0.5 + confidence / 2.0, dof) * fit.stderr
    return BetaEstimate(
        beta=float(fit.slope),
        bias=float(fit.intercept),
        ci_low=float(fit.slope - half_width),
        ci_high=float(fit.slope + half_width),
        confidence=float(confidence),
        n_points=n_points,
        n_zero=int((~positive).sum()),
        r_squared=float(fit.rvalue**2),
    )


@dataclass(frozen=True)
class CountBetaEstimate:
    """Result of :func:`estimate_beta_counts`: Poisson log-linear fit of counts on cosine.

    Attributes
    ----------
    beta : float
        Maximum-likelihood slope of ``ln E[count] = bias + beta * cos``.
    bias : float
        Intercept (ln of the expected count at cos = 0).
    ci_low, ci_high : float
        Percentile interval of ``beta`` from the cluster bootstrap (NaN without clusters).
    confidence : float
    n_points : int
        (cosine, count) pairs fitted, zeros included.
    n_zero : int
        How many of them had a zero count (kept in the fit, not dropped).
    n_clusters : int
        Independent units resampled by the bootstrap (queries); 0 when no interval was made.
    n_resamples : int
    """

    beta: float
    bias: float
    ci_low: float
    ci_high: float
    confidence: float
    n_points: int
    n_zero: int
    n_clusters: int
    n_resamples: int

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies inside the confidence interval."""
        return bool(self.ci_low <= value <= self.ci_high)


def _poisson_fit(x: np.ndarray, y: np.ndarray, weights: np.ndarray, n_iter: int = 100):
    """Newton's method for ``ln mu = a + b x`` with case weights; ``weights`` is (B, N).

    Returns arrays ``a`` and ``b`` of shape (B,). The log-likelihood is concave, so Newton from
    a weighted least-squares start on ``ln(y + 1/2)`` converges in a few steps; step halving
    keeps it monotone when the start is poor.
    """
    z = np.log(y + 0.5)
    sw = weights.sum(axis=1)
    mx = weights @ x / sw
    mz = weights @ z / sw
    sxx = weights @ (x * x) / sw - mx * mx
    b = np.where(sxx > 0, (weights @ (x * z) / sw - mx * mz) / np.where(sxx > 0, sxx, 1.0), 0.0)
    a = mz - b * mx

    def loglik(a_, b_):
        eta = a_[:, None] + b_[:, None] * x[None, :]
        return (weights * (y[None, :] * eta - np.exp(eta))).sum(axis=1)

    current = loglik(a, b)
    for _ in range(n_iter):
        mu = np.exp(a[:, None] + b[:, None] * x[None, :])
        resid = weights * (y[None, :] - mu)
        g0, g1 = resid.sum(axis=1), resid @ x
        wm = weights * mu
        h00, h01, h11 = wm.sum(axis=1), wm @ x, wm @ (x * x)
        det = h00 * h11 - h01 * h01
        safe = np.where(det > 0, det, 1.0)
        da = np.where(det > 0, (h11 * g0 - h01 * g1) / safe, 0.0)
        db = np.where(det > 0, (h00 * g1 - h01 * g0) / safe, 0.0)
        step = np.ones_like(a)
        for _ in range(30):
            trial = loglik(a + step * da, b + step * db)
            worse = trial < current - 1e-12 * np.abs(current)
            if not worse.any():
                break
            step = np.where(worse, step / 2, step)
        a, b = a + step * da, b + step * db
        current = loglik(a, b)
        if np.all(np.abs(step * db) <= 1e-12 * np.maximum(1.0, np.abs(b))):
            break
    return a, b


def cluster_multiplicity(rng: np.random.Generator, n_clusters: int, n_resamples: int) -> np.ndarray:
    """How often each cluster is drawn in each resample of a cluster bootstrap.

    Each resample draws ``n_clusters`` clusters with replacement (Efron & Tibshirani 1993,
    resampling whole clusters); a statistic that is a sum over observations is then the
    multiplicity-weighted sum over clusters.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_clusters, n_resamples : int

    Returns
    -------
    ndarray of shape (n_resamples, n_clusters), float64
        Each row sums to ``n_clusters``.
    """
    picks = rng.integers(0, n_clusters, size=(n_resamples, n_clusters))
    multiplicity = np.zeros((n_resamples, n_clusters))
    np.add.at(multiplicity, (np.arange(n_resamples)[:, None], picks), 1.0)
    return multiplicity


def estimate_beta_counts(
    cosines,
    counts,
    *,
    clusters=None,
    confidence: float = 0.95,
    n_resamples: int = 1000,
    rng: np.random.Generator | None = None,
) -> CountBetaEstimate:
    """Fit ``ln E[count] = bias + beta * cos`` by Poisson maximum likelihood, zeros included.

    The interval is a cluster bootstrap (Davison & Hinkley 1997, sec. 3.8): whole clusters --
    in the comparison job, queries, whose pairs with all patterns share one active set and are
    therefore not independent -- are resampled with replacement and the fit repeated; the
    interval is the percentile interval of the resampled slopes. Its coverage for SDM
    intersection counts is checked by simulation in ``tests/models/test_fitting_counts.py``.

    Parameters
    ----------
    cosines : array_like of float, shape (n_points,)
        Query-pattern cosines in [-1, 1].
    counts : array_like of float, shape (n_points,)
        Non-negative counts (intersections); non-integers are allowed (expected counts of a
        theory, fitted as a quasi-likelihood).
    clusters : array_like of int, shape (n_points,), optional
        Cluster label of each point (the query index). Without it no interval is computed.
    confidence : float
        Level of the interval, in (0, 1).
    n_resamples : int
        Bootstrap resamples.
    rng : numpy.random.Generator, optional
        Source of the resamples; required when ``clusters`` is given.

    Returns
    -------
    CountBetaEstimate
    """
    x = np.asarray(cosines, dtype=np.float64)
    y = np.asarray(counts, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(
            f"cosines and counts must be 1-D of the same shape; got {x.shape} and {y.shape}"
        )
    confidence = check_real(
        confidence, "confidence", low=0.0, high=1.0, low_open=True, high_open=True
    )
    n_resamples = check_int(n_resamples, "n_resamples", low=1)
    if not np.all(np.isfinite(x)) or np.any(np.abs(x) > 1.0 + 1e-12):
        raise ValueError("cosines must be finite and in [-1, 1]")
    if not np.all(np.isfinite(y)) or np.any(y < 0):
        raise ValueError("counts must be finite and non-negative")
    if x.size < 3 or np.ptp(x) == 0 or not np.any(y > 0):
        raise ValueError(
            "estimate_beta_counts needs at least 3 points at 2 or more distinct cosines and a "
            f"positive count; got {x.size} points"
        )
    a, b = _poisson_fit(x, y, np.ones((1, x.size)))
    low = high = math.nan
    n_clusters = 0
    if clusters is not None:
        labels = np.asarray(clusters)
        if labels.shape != x.shape:
            raise ValueError(
                f"clusters must have the shape of cosines {x.shape}; got {labels.shape}"
            )
        rng = check_rng(rng)
        _, index = np.unique(labels, return_inverse=True)
        n_clusters = int(index.max()) + 1
        multiplicity = cluster_multiplicity(rng, n_clusters, n_resamples)
        slopes = np.empty(n_resamples)
        for start in range(0, n_resamples, 100):
            w = multiplicity[start : start + 100][:, index]
            slopes[start : start + 100] = _poisson_fit(x, y, w)[1]
        alpha = 1.0 - confidence
        low, high = (float(v) for v in np.quantile(slopes, [alpha / 2, 1 - alpha / 2]))
    return CountBetaEstimate(
        beta=float(b[0]),
        bias=float(a[0]),
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        n_points=int(x.size),
        n_zero=int((y == 0).sum()),
        n_clusters=n_clusters,
        n_resamples=n_resamples if clusters is not None else 0,
    )
