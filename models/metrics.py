r"""Agreement metrics between pattern-weight vectors and memory outputs.

Every metric takes two NumPy arrays ``a`` and ``b`` of the same shape (after broadcasting) and
reduces over the **last axis** (the pattern-weight or output-value axis); all leading axes (queries,
noise levels, trials) are kept, so one call compares a whole batch of queries.

Definitions (``x`` and ``y`` are rows along the last axis, length ``K``):

- cosine similarity: :math:`\cos(x, y) = x \cdot y / (\lVert x\rVert_2 \lVert y\rVert_2)`,
  completed where a vector is zero (the angle itself is undefined there) by the rule
  :math:`\cos(0, 0) = 1` and :math:`\cos(x, 0) = \cos(0, y) = 0` for non-zero
  :math:`x, y`: never NaN. Two zero rows are identical, and this keeps
  :math:`\cos(x, x) = 1` for every :math:`x`; a zero row against a non-zero one shares no
  direction with it, and 0 is what an unrelated (orthogonal) pair scores.
- Kullback-Leibler divergence, in **nats** (natural logarithm; Kullback & Leibler 1951):
  :math:`\mathrm{KL}(p \,\|\, q) = \sum_k p_k \ln(p_k / q_k)` with the conventions
  :math:`0 \ln(0/q) = 0` and :math:`p \ln(p/0) = +\infty` for :math:`p > 0`. No epsilon is added:
  the result is exact, and infinite when :math:`q` misses mass that :math:`p` has. Both inputs are
  first normalised to sum 1 along the last axis (so raw counts are accepted).
- total variation distance: :math:`\mathrm{TV}(p, q) = \tfrac12 \sum_k |p_k - q_k| \in [0, 1]`,
  after the same normalisation.
- Spearman rank correlation (Spearman 1904): the Pearson correlation of the ranks, ties given
  their average rank; NaN for a constant row (the correlation is undefined), as in
  ``scipy.stats.spearmanr``.
- maximum absolute error: :math:`\max_k |x_k - y_k|`.

``summarize`` aggregates a sample of a metric (for example over queries at one noise level) to
its mean and a two-sided Student-t confidence interval for the mean (Student 1908):
:math:`\bar x \pm t_{1-\alpha/2,\,n-1}\, s / \sqrt n` with the unbiased sample standard deviation
:math:`s`. The t-interval is exact for normal samples and asymptotically right (central limit
theorem) for any finite-variance sample.

Bad input (NaN or infinity, negative probabilities, all-zero distributions, mismatched shapes)
raises ``ValueError`` naming the argument.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from models.validation import check_probability

__all__ = [
    "Summary",
    "cosine_similarity",
    "kl_divergence",
    "max_abs_error",
    "spearman_correlation",
    "summarize",
    "total_variation",
]


def _as_float_array(name: str, value: object) -> np.ndarray:
    """Convert ``value`` to a float64 array, rejecting NaN, infinity and non-numeric input."""
    if hasattr(value, "detach"):  # a torch tensor: move to host memory first
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{name} must be a numeric array; got {type(value).__name__}: {error}"
        ) from None
    if array.ndim == 0:
        raise ValueError(f"{name} must have at least one axis; got a scalar")
    if array.shape[-1] == 0:
        raise ValueError(f"{name} must have a non-empty last axis; got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite; got {int(np.sum(~np.isfinite(array)))} NaN/inf")
    return array


def _pair(a: object, b: object, names: tuple[str, str] = ("a", "b")) -> tuple[np.ndarray, ...]:
    """Validate two arrays and broadcast them to one shape."""
    x = _as_float_array(names[0], a)
    y = _as_float_array(names[1], b)
    try:
        return np.broadcast_arrays(x, y)
    except ValueError:
        raise ValueError(
            f"{names[0]} and {names[1]} must have broadcastable shapes; got {x.shape} and {y.shape}"
        ) from None


def _distribution(name: str, array: np.ndarray) -> np.ndarray:
    """Check non-negativity and a positive total per row, then normalise rows to sum 1."""
    if np.any(array < 0):
        raise ValueError(f"{name} must be non-negative; got minimum {array.min()!r}")
    totals = array.sum(axis=-1, keepdims=True)
    if np.any(totals <= 0):
        raise ValueError(
            f"{name} must have a positive sum along the last axis; "
            f"got {int(np.sum(totals <= 0))} all-zero row(s)"
        )
    return array / totals


def cosine_similarity(a: object, b: object) -> np.ndarray:
    """Cosine of the angle between ``a`` and ``b`` along the last axis.

    Parameters
    ----------
    a, b : array_like of shape (..., K)
        Vectors (pattern weights or memory outputs); broadcast against each other.

    Returns
    -------
    ndarray of shape (...)
        ``a . b / (|a| |b|)`` in [-1, 1]. Where a vector is zero: 1 if both are zero, 0 if
        exactly one is. Never NaN.

    Notes
    -----
    The angle to a zero vector is undefined, so a value has to be chosen; it is chosen for
    what the metric is used for, the agreement of two engines' outputs or weights. Two
    zero rows agree exactly (both engines read nothing), so they score 1, keeping
    ``cos(x, x) = 1`` for every ``x``. A zero row against a non-zero one agrees in no direction
    and scores 0, as an orthogonal pair does; 0 is also the middle of [-1, 1], so it pulls a mean
    neither towards agreement nor towards anti-agreement. NaN was refused because it silently
    drops the row from NaN-skipping summaries.
    """
    x, y = _pair(a, b)
    # Scale each row by its largest |entry| first: cosine is scale-invariant, and the scaled
    # rows have norms in [1, sqrt(K)], so neither the norms nor their product can underflow or
    # overflow (entries of 1e-170 or 1e200 would otherwise give 0 * inf or inf / inf = NaN).
    scale_x = np.max(np.abs(x), axis=-1, keepdims=True)
    scale_y = np.max(np.abs(y), axis=-1, keepdims=True)
    nonzero = (scale_x[..., 0] > 0) & (scale_y[..., 0] > 0)
    x = x / np.where(scale_x > 0, scale_x, 1.0)
    y = y / np.where(scale_y > 0, scale_y, 1.0)
    norms = np.linalg.norm(x, axis=-1) * np.linalg.norm(y, axis=-1)
    dots = np.einsum("...k,...k->...", x, y)
    both_zero = (scale_x[..., 0] == 0) & (scale_y[..., 0] == 0)
    cosines = np.where(nonzero, dots / np.where(nonzero, norms, 1.0), np.where(both_zero, 1.0, 0.0))
    return np.clip(cosines, -1.0, 1.0)


def kl_divergence(p: object, q: object) -> np.ndarray:
    """Kullback-Leibler divergence KL(p || q) in nats along the last axis.

    Parameters
    ----------
    p, q : array_like of shape (..., K)
        Non-negative weights; each row is normalised to sum 1 first.

    Returns
    -------
    ndarray of shape (...)
        ``sum_k p_k ln(p_k / q_k)`` >= 0 (nats). Terms with ``p_k = 0`` contribute 0; a row with
        ``q_k = 0`` where ``p_k > 0`` gives ``inf``. No epsilon smoothing.

    Raises
    ------
    ValueError
        If either input has a negative, NaN or infinite entry or an all-zero row.
    """
    x, y = _pair(p, q, ("p", "q"))
    x = _distribution("p", x)
    y = _distribution("q", y)
    # scipy.special.rel_entr implements exactly the 0 ln 0 = 0 and p ln(p/0) = inf conventions.
    return special.rel_entr(x, y).sum(axis=-1)


def total_variation(p: object, q: object) -> np.ndarray:
    """Total variation distance between two distributions along the last axis.

    Parameters
    ----------
    p, q : array_like of shape (..., K)
        Non-negative weights; each row is normalised to sum 1 first.

    Returns
    -------
    ndarray of shape (...)
        ``0.5 * sum_k |p_k - q_k|`` in [0, 1].
    """
    x, y = _pair(p, q, ("p", "q"))
    return 0.5 * np.abs(_distribution("p", x) - _distribution("q", y)).sum(axis=-1)


def spearman_correlation(a: object, b: object) -> np.ndarray:
    """Spearman rank correlation along the last axis, ties given their average rank.

    Parameters
    ----------
    a, b : array_like of shape (..., K)
        Rows to compare, ``K >= 2``.

    Returns
    -------
    ndarray of shape (...)
        Pearson correlation of the average ranks, in [-1, 1]; NaN for a row in which ``a`` or
        ``b`` is constant (the correlation is undefined).
    """
    x, y = _pair(a, b)
    if x.shape[-1] < 2:
        raise ValueError(f"a and b need at least 2 entries along the last axis; got {x.shape[-1]}")
    ranks_x = stats.rankdata(x, method="average", axis=-1)
    ranks_y = stats.rankdata(y, method="average", axis=-1)
    ranks_x -= ranks_x.mean(axis=-1, keepdims=True)
    ranks_y -= ranks_y.mean(axis=-1, keepdims=True)
    norms = np.sqrt(np.sum(ranks_x**2, axis=-1) * np.sum(ranks_y**2, axis=-1))
    dots = np.sum(ranks_x * ranks_y, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0), np.nan)
    return np.clip(correlation, -1.0, 1.0)


def max_abs_error(a: object, b: object) -> np.ndarray:
    """Largest absolute element-wise difference along the last axis.

    Parameters
    ----------
    a, b : array_like of shape (..., K)
        Arrays to compare; broadcast against each other.

    Returns
    -------
    ndarray of shape (...)
        ``max_k |a_k - b_k|`` (units of the inputs).
    """
    x, y = _pair(a, b)
    return np.max(np.abs(x - y), axis=-1)


@dataclass(frozen=True)
class Summary:
    """Mean and Student-t confidence interval of a sample (see :func:`summarize`).

    Attributes
    ----------
    mean : ndarray of shape (...)
        Sample mean.
    low, high : ndarray of shape (...)
        Bounds of the two-sided confidence interval for the mean; NaN when ``n_samples == 1``.
    n_samples : int
        Sample size ``n`` along the reduced axis.
    confidence : float
        Confidence level of the interval, e.g. 0.95.
    """

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n_samples: int
    confidence: float


def summarize(values: object, *, confidence: float = 0.95, axis: int = -1) -> Summary:
    """Mean and Student-t confidence interval for the mean of a sample.

    Parameters
    ----------
    values : array_like of shape (..., n) along ``axis``
        Finite sample values (e.g. one metric over queries at one noise level).
    confidence : float, optional
        Two-sided confidence level in (0, 1); default 0.95. Any real number is accepted
        (``numbers.Real``, e.g. ``np.float32``), not a bool.
    axis : int, optional
        Axis holding the sample; default the last.

    Returns
    -------
    Summary
        ``mean``, ``low``, ``high`` with the sample axis removed: ``mean +- t * s / sqrt(n)`` with
        ``t`` the ``(1 + confidence) / 2`` quantile of Student's t with ``n - 1`` degrees of
        freedom and ``s`` the unbiased standard deviation. With ``n == 1`` the bounds are NaN (the
        interval is undefined); a sample with zero spread gives ``low == high == mean``.
    """
    confidence = check_probability(confidence, "confidence", allow_zero=False, allow_one=False)
    array = np.moveaxis(_as_float_array("values", values), axis, -1)
    n_samples = array.shape[-1]
    if n_samples == 0:
        raise ValueError(f"values must hold at least one sample along axis {axis}; got none")
    mean = array.mean(axis=-1)
    if n_samples == 1:
        nan = np.full_like(mean, np.nan)
        return Summary(mean, nan, nan.copy(), 1, float(confidence))
    standard_error = array.std(axis=-1, ddof=1) / np.sqrt(n_samples)
    half_width = stats.t.ppf(0.5 + confidence / 2.0, df=n_samples - 1) * standard_error
    return Summary(mean, mean - half_width, mean + half_width, n_samples, float(confidence))
