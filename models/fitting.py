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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from models.validation import check_probability

__all__ = ["BetaEstimate", "estimate_beta"]


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
