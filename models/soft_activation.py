r"""SDM theory for soft activation: neurons that fire with a probability, not on a hard radius.

A real granule cell does not fire on a hard Hamming threshold: with ``h`` of its ``K`` inputs
matching the query it fires with probability :math:`f(h)`, its *activation curve* (transfer
curve). The hard ball of radius ``d`` is the step :math:`f(h) = 1[h \ge K - d]`.

Generalised circle intersection
-------------------------------
For a query :math:`\xi` and a pattern :math:`p` at Hamming distance ``t``, the expected number of
neurons active for both is :math:`r \, E[f(h_\xi) f(h_p)]` over random neuron addresses, with
the same split as the exact count of :func:`models.theory.circle_intersection`. A neuron
samples ``K`` coordinates; ``j`` of them fall among the ``t`` coordinates where :math:`\xi` and
``p`` differ (hypergeometric, :math:`C(t, j) C(n - t, K - j) / C(n, K)`; ``j = t`` for the
canonical wiring, ``K = n``). On the ``K - j`` shared coordinates its required bit matches both
or neither (``b`` matches, :math:`\mathrm{Bin}(K - j, 1/2)`); on the ``j`` differing ones it
matches exactly one (``c`` match :math:`\xi`, :math:`\mathrm{Bin}(j, 1/2)`). So
:math:`h_\xi = b + c`, :math:`h_p = b + j - c` and

.. math::

    E[f(h_\xi) f(h_p)] = \sum_j \frac{C(t,j) C(n-t,K-j)}{C(n,K)}
        \sum_{b=0}^{K-j} \sum_{c=0}^{j} \frac{C(K-j,b)\, C(j,c)}{2^K}\, f(b+c)\, f(b+j-c).

With the hard step this is the circle intersection :math:`N(n, d, t) / 2^n` (canonical wiring)
and :math:`2^{-K} C(n-t, K) / C(n, K)` for Jaeckel's selected-coordinate rule with all ``K``
inputs required (Jaeckel 1989). Everything is computed in log space (``gammaln``,
``logsumexp``), so it stays finite for ``n`` up to 10,000; the canonical sum costs
``(t + 1)(n - t + 1)`` terms per distance.

Activation curves
-----------------
- :meth:`ActivationCurve.hard_threshold` -- the step of a radius (or all-inputs) rule.
- :func:`bernoulli_count_curve` -- the closed form of the Poisson (Bernoulli) mode of
  :mod:`cerebellum.circuit`: each matching input fibre fires a Bernoulli(``p_on``) spike per
  step for ``n_steps`` steps, each mismatching one Bernoulli(``p_off``); the cell fires iff the
  summed count exceeds ``threshold``. So :math:`f(h) = P[X_h + Y_h > \theta]` with
  :math:`X_h \sim \mathrm{Bin}(h T, p_\mathrm{on})`,
  :math:`Y_h \sim \mathrm{Bin}((K - h) T, p_\mathrm{off})`.
- :func:`estimate_activation_curve` -- the measured curve of any circuit: for each ``h`` the
  fraction of (query, cell) pairs with ``h`` matching inputs in which the cell fired, with a
  Clopper-Pearson (exact binomial) confidence interval.

References
----------
Kanerva, P. (1988). *Sparse Distributed Memory*. MIT Press.
Jaeckel, L. A. (1989). An alternative design for a sparse distributed memory. RIACS TR 89.28.
Clopper, C. J. & Pearson, E. S. (1934). The use of confidence or fiducial limits illustrated
in the case of the binomial. Biometrika 26, 404-413.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats
from scipy.special import gammaln, logsumexp

from models.fitting import cluster_multiplicity
from models.validation import check_int, check_probability, check_real, check_rng

__all__ = [
    "ActivationCurve",
    "check_curve",
    "bernoulli_count_curve",
    "curve_activation_probability",
    "curve_intersection",
    "estimate_activation_curve",
    "log_curve_intersection",
]


def _log_comb(n, k):
    """ln C(n, k) for arrays, -inf where k < 0 or k > n (including n < 0).

    The one copy: :mod:`models.theory` imports it (it imports this module).
    """
    n = np.asarray(n, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    valid = (k >= 0) & (k <= n) & (n >= 0)
    safe_n = np.where(valid, n, 0.0)
    safe_k = np.where(valid, k, 0.0)
    value = gammaln(safe_n + 1) - gammaln(safe_k + 1) - gammaln(safe_n - safe_k + 1)
    return np.where(valid, value, -np.inf)


@dataclass(frozen=True)
class ActivationCurve:
    """``f(h)``: probability that a neuron fires when ``h`` of its ``n_inputs`` inputs match.

    Parameters
    ----------
    probabilities : ndarray of float64, shape (n_inputs + 1,)
        ``f(0), ..., f(K)``, each in [0, 1].
    ci_low, ci_high : ndarray of shape (n_inputs + 1,), optional
        Confidence bounds of an estimated curve (NaN where no cell had that ``h``).
    n_observations : ndarray of int64, shape (n_inputs + 1,), optional
        (query, cell) pairs observed at each ``h`` (estimated curves).
    confidence : float, optional
        Level of ``ci_low``/``ci_high``.
    label : str
        What the curve is (``"hard threshold d=24"``, ``"Bernoulli closed form"``, ...).

    Notes
    -----
    Where an estimated curve has no observation at some ``h`` its probability is NaN; the
    intersection functions refuse such a curve (fill it, e.g. from a closed form, first).
    """

    probabilities: np.ndarray
    ci_low: np.ndarray | None = None
    ci_high: np.ndarray | None = None
    n_observations: np.ndarray | None = None
    confidence: float | None = None
    label: str = ""
    _log: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        values = np.array(self.probabilities, dtype=np.float64)
        if values.ndim != 1 or values.size < 2:
            raise ValueError(
                "probabilities must be a 1-D array f(0..n_inputs) with n_inputs >= 1; "
                f"got shape {values.shape}"
            )
        finite = values[~np.isnan(values)]
        if np.any((finite < 0) | (finite > 1)):
            bad = finite[(finite < 0) | (finite > 1)][0]
            raise ValueError(f"probabilities must lie in [0, 1]; got {bad}")
        values.setflags(write=False)
        object.__setattr__(self, "probabilities", values)
        for name in ("ci_low", "ci_high", "n_observations"):
            array = getattr(self, name)
            if array is not None:
                array = np.array(array)
                if array.shape != values.shape:
                    raise ValueError(
                        f"{name} must have the shape of probabilities {values.shape}; "
                        f"got {array.shape}"
                    )
                array.setflags(write=False)
                object.__setattr__(self, name, array)
        with np.errstate(divide="ignore"):
            log = np.log(values)
        log.setflags(write=False)
        object.__setattr__(self, "_log", log)

    @property
    def n_inputs(self) -> int:
        """``K``, the inputs per neuron (``n_dims`` for the canonical wiring)."""
        return int(self.probabilities.size - 1)

    @property
    def log_probabilities(self) -> np.ndarray:
        """``ln f(h)`` (``-inf`` where ``f = 0``)."""
        return self._log

    @property
    def n_unobserved(self) -> int:
        """How many ``h`` have no probability (NaN: no cell was observed there)."""
        return int(np.isnan(self.probabilities).sum())

    def filled(self) -> ActivationCurve:
        """This curve with each unobserved ``h`` (NaN) set to the nearest observed value.

        An estimated curve has no data where no cell had ``h`` matching inputs -- the far tails
        of ``Bin(K, 1/2)``, which carry little weight in the intersection. Carrying the nearest
        observed value outwards (0 below the lowest observed ``h`` of a curve that starts at
        0, 1 above the highest of one that ends at 1) is a modelling choice, not a measurement;
        :attr:`n_unobserved` says how many values it supplies.

        Returns
        -------
        ActivationCurve
            The intervals and counts are kept; the label says the curve was filled.
        """
        values = self.probabilities
        observed = np.flatnonzero(~np.isnan(values))
        if observed.size == 0:
            raise ValueError("the curve has no observed h to fill from")
        if observed.size == values.size:
            return self
        h = np.arange(values.size)
        nearest = observed[np.argmin(np.abs(h[:, None] - observed[None, :]), axis=1)]
        return ActivationCurve(
            values[nearest],
            ci_low=self.ci_low,
            ci_high=self.ci_high,
            n_observations=self.n_observations,
            confidence=self.confidence,
            label=f"{self.label} (filled at {self.n_unobserved} unobserved h)",
        )

    @classmethod
    def hard_threshold(cls, n_inputs: int, activation_radius: int) -> ActivationCurve:
        """The step ``f(h) = 1[h >= n_inputs - d]``: fire iff at most ``d`` inputs mismatch.

        Parameters
        ----------
        n_inputs : int
            ``K`` (``n_dims`` for the canonical Hamming ball).
        activation_radius : int
            ``d`` in ``[0, n_inputs]`` (0 for Jaeckel's rule: all inputs must match).

        Returns
        -------
        ActivationCurve
        """
        n_inputs = check_int(n_inputs, "n_inputs", low=1)
        radius = check_int(
            activation_radius,
            "activation_radius",
            low=0,
            high=n_inputs,
            context=f"for n_inputs={n_inputs}",
        )
        h = np.arange(n_inputs + 1)
        return cls((h >= n_inputs - radius).astype(np.float64), label=f"hard threshold d={radius}")


def check_curve(curve, n_dims: int) -> ActivationCurve:
    """Check that ``curve`` is a complete :class:`ActivationCurve` with ``K <= n_dims``.

    Raises
    ------
    TypeError
        If it is not an ActivationCurve.
    ValueError
        If ``K > n_dims`` or some ``f(h)`` is NaN (an estimated curve with unobserved ``h``).
    """
    if not isinstance(curve, ActivationCurve):
        raise TypeError(f"curve must be an ActivationCurve; got {type(curve).__name__}")
    if curve.n_inputs > n_dims:
        raise ValueError(
            f"curve.n_inputs must be <= n_dims; got {curve.n_inputs} for n_dims={n_dims}"
        )
    if np.isnan(curve.probabilities).any():
        missing = np.flatnonzero(np.isnan(curve.probabilities)).tolist()
        raise ValueError(f"curve has no probability (NaN) at h = {missing}; fill it first")
    return curve


def _check_distances(distances, n_dims: int) -> tuple[np.ndarray, bool]:
    array = np.asarray(distances)
    scalar = array.ndim == 0
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"distances must be integers; got dtype {array.dtype}")
    if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
        raise ValueError("distances must be integers (Hamming distances in bits)")
    if array.size and (array.min() < 0 or array.max() > n_dims):
        raise ValueError(
            f"distances must be in [0, n_dims={n_dims}]; got {array.min()}..{array.max()}"
        )
    return array.astype(np.int64), scalar


def _log_pair_sum(n_shared: int, n_differ: int, log_f: np.ndarray) -> float:
    """``ln sum_{b,c} C(S,b) C(D,c) f(b+c) f(b+D-c)`` with ``S`` shared, ``D`` differing inputs."""
    b = np.arange(n_shared + 1)[:, None]
    c = np.arange(n_differ + 1)[None, :]
    terms = _log_comb(n_shared, b) + _log_comb(n_differ, c) + log_f[b + c] + log_f[b + n_differ - c]
    return float(logsumexp(terms))


def _log_pair_sum_canonical(n_dims: int, t: int, log_f: np.ndarray) -> float:
    """:func:`_log_pair_sum` for ``K = n`` in mismatch form, skipping where ``f = 0``.

    With ``m = K - h`` mismatches and ``F(m) = f(K - m)``: a mismatches of the query among the
    ``t`` differing bits and ``b`` among the shared ones give ``m_q = a + b``,
    ``m_p = t - a + b``. Rows of ``b`` beyond the support of ``F`` contribute nothing.
    """
    log_miss = log_f[::-1]
    support = np.flatnonzero(np.isfinite(log_miss))
    if support.size == 0:
        return -math.inf
    top = int(support[-1])  # largest mismatch count that can still fire
    b = np.arange(min(n_dims - t, top) + 1)[:, None]
    a = np.arange(max(0, t - top), min(t, top) + 1)[None, :]
    if a.size == 0:
        return -math.inf
    terms = _log_comb(n_dims - t, b) + _log_comb(t, a) + log_miss[a + b] + log_miss[t - a + b]
    return float(logsumexp(terms))


def log_curve_intersection(n_dims, curve: ActivationCurve, distances):
    """``ln E[f(h_q) f(h_p)]``: log probability that a random neuron is active for both.

    Multiply by ``n_neurons`` (or by ``2**n_dims`` for every address as a neuron) for the
    expected number of shared neurons (:func:`curve_intersection`).

    Parameters
    ----------
    n_dims : int
        Address length ``n``.
    curve : ActivationCurve
        ``f(h)`` over ``h = 0..K``; ``K = n_dims`` is the canonical wiring (a neuron samples
        every bit), ``K < n_dims`` the selected-coordinate wiring.
    distances : int or array_like of int
        Hamming distances ``t`` between query and pattern, in ``[0, n_dims]``.

    Returns
    -------
    float or ndarray of float64
        Same shape as ``distances``; ``-inf`` where no neuron can be shared.
    """
    n_dims = check_int(n_dims, "n_dims", low=1)
    curve = check_curve(curve, n_dims)
    t_values, scalar = _check_distances(distances, n_dims)
    k = curve.n_inputs
    log_f = curve.log_probabilities
    out = np.empty(t_values.shape, dtype=np.float64)
    cache: dict[int, float] = {}
    for index, t in np.ndenumerate(t_values):
        t = int(t)
        if t not in cache:
            if k == n_dims:
                value = _log_pair_sum_canonical(n_dims, t, log_f) - k * math.log(2.0)
            else:
                j = np.arange(max(0, k - (n_dims - t)), min(k, t) + 1)
                log_hyper = _log_comb(t, j) + _log_comb(n_dims - t, k - j) - _log_comb(n_dims, k)
                inner = np.array([_log_pair_sum(k - int(jj), int(jj), log_f) for jj in j])
                value = float(logsumexp(log_hyper + inner)) - k * math.log(2.0)
            cache[t] = value
        out[index] = cache[t]
    return out.item() if scalar else out


def curve_intersection(n_dims, curve: ActivationCurve, distances, n_neurons):
    """Expected neurons active for both a query and a pattern: ``r E[f(h_q) f(h_p)]``.

    Parameters
    ----------
    n_dims : int
    curve : ActivationCurve
    distances : int or array_like of int
    n_neurons : int or float
        ``r``; pass ``2**n_dims`` to compare with :func:`models.theory.circle_intersection`.

    Returns
    -------
    float or ndarray of float64
    """
    if isinstance(n_neurons, bool) or not isinstance(n_neurons, int | float | np.integer):
        raise TypeError(f"n_neurons must be a positive number; got {n_neurons!r}")
    if not n_neurons > 0:
        raise ValueError(f"n_neurons must be > 0; got {n_neurons}")
    log_r = math.log(n_neurons) if isinstance(n_neurons, int) else math.log(float(n_neurons))
    return np.exp(np.asarray(log_curve_intersection(n_dims, curve, distances)) + log_r)


def curve_activation_probability(curve: ActivationCurve) -> float:
    """Probability that a uniformly random query activates a neuron: ``sum_h Bin(h; K, 1/2) f(h)``.

    Parameters
    ----------
    curve : ActivationCurve

    Returns
    -------
    float
    """
    if not isinstance(curve, ActivationCurve):
        raise TypeError(f"curve must be an ActivationCurve; got {type(curve).__name__}")
    k = curve.n_inputs
    h = np.arange(k + 1)
    return float(np.exp(logsumexp(_log_comb(k, h) - k * math.log(2.0) + curve.log_probabilities)))


def bernoulli_count_curve(
    n_inputs: int, n_steps: int, p_on: float, p_off: float, threshold: float
) -> ActivationCurve:
    """Closed-form activation curve of a perfect integrator of Bernoulli input spikes.

    Each of the ``h`` matching inputs spikes with probability ``p_on`` in each of ``n_steps``
    steps and each of the ``K - h`` others with ``p_off``; the neuron fires iff the total count
    exceeds ``threshold``:
    ``f(h) = P[Bin(h T, p_on) + Bin((K - h) T, p_off) > threshold]``, computed exactly as
    ``sum_y P[Y = y] P[X > threshold - y]`` in log space.

    Parameters
    ----------
    n_inputs : int
        ``K``, input fibres per neuron.
    n_steps : int
        ``T``, Bernoulli steps per presentation (``presentation / dt``).
    p_on, p_off : float
        Per-step spike probabilities of matching and mismatching inputs.
    threshold : float
        The neuron fires iff its count is strictly greater.

    Returns
    -------
    ActivationCurve
    """
    k = check_int(n_inputs, "n_inputs", low=1)
    steps = check_int(n_steps, "n_steps", low=1)
    p_on = check_probability(p_on, "p_on")
    p_off = check_probability(p_off, "p_off")
    threshold = check_real(threshold, "threshold")
    floor = math.floor(threshold)  # count > threshold  <=>  count >= floor + 1
    log_f = np.empty(k + 1)
    for h in range(k + 1):
        n_on, n_off = h * steps, (k - h) * steps
        y = np.arange(n_off + 1)
        log_pmf_off = stats.binom.logpmf(y, n_off, p_off) if n_off else np.zeros(1)
        # P[X >= floor + 1 - y] = sf(floor - y)
        log_sf_on = (
            stats.binom.logsf(floor - y, n_on, p_on)
            if n_on
            else np.where(floor - y < 0, 0.0, -np.inf)
        )
        log_f[h] = logsumexp(log_pmf_off + log_sf_on)
    probabilities = np.clip(np.exp(log_f), 0.0, 1.0)
    return ActivationCurve(probabilities, label="Bernoulli-count closed form")


def estimate_activation_curve(
    matches,
    fired,
    n_inputs: int,
    *,
    confidence: float = 0.95,
    clusters=None,
    n_resamples: int = 1000,
    rng: np.random.Generator | None = None,
) -> ActivationCurve:
    """Measured activation curve: per ``h``, the fraction of cells with ``h`` matches that fired.

    The interval is the exact binomial (Clopper-Pearson) interval of independent pairs. Pairs
    that share a presentation are not independent -- in a spiking circuit every cell that
    receives a given mossy fibre sees the same spike train of that fibre in that window -- so
    with ``clusters`` (the query of each pair) the interval is the union of the
    Clopper-Pearson interval and the percentile interval of a bootstrap that resamples whole
    clusters (the union keeps a width where every observed outcome was the same, which a
    bootstrap alone cannot show).

    Parameters
    ----------
    matches : array_like of int, any shape
        Matching inputs of each (query, cell) pair, in ``[0, n_inputs]``.
    fired : array_like of bool, same shape
        Whether the cell fired for that query.
    n_inputs : int
        ``K``.
    confidence : float
        Level of the interval, in (0, 1).
    clusters : array_like of int, broadcastable to ``matches``, optional
        Cluster (query) label of each pair, e.g. ``np.arange(n_queries)[:, None]``.
    n_resamples : int
        Bootstrap resamples (with ``clusters``).
    rng : numpy.random.Generator, optional
        The resamples' source; required with ``clusters``.

    Returns
    -------
    ActivationCurve
        ``probabilities`` (NaN where no pair had that ``h``), ``ci_low``, ``ci_high`` and
        ``n_observations``.
    """
    k = check_int(n_inputs, "n_inputs", low=1)
    confidence = check_real(
        confidence, "confidence", low=0.0, high=1.0, low_open=True, high_open=True
    )
    h = np.asarray(matches)
    spikes = np.asarray(fired)
    if h.shape != spikes.shape:
        raise ValueError(
            f"matches and fired must have the same shape; got {h.shape} and {spikes.shape}"
        )
    if h.size and (not np.issubdtype(h.dtype, np.integer) or h.min() < 0 or h.max() > k):
        raise ValueError(f"matches must be integers in [0, n_inputs={k}]")
    if spikes.dtype != bool:
        raise TypeError(f"fired must be a bool array; got dtype {spikes.dtype}")
    total = np.bincount(h.ravel(), minlength=k + 1).astype(np.int64)
    hits = np.bincount(h.ravel(), weights=spikes.ravel(), minlength=k + 1).round().astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(total > 0, hits / np.maximum(total, 1), np.nan)
    alpha = 1.0 - confidence
    low = np.where(hits > 0, stats.beta.ppf(alpha / 2, hits, total - hits + 1), 0.0)
    high = np.where(hits < total, stats.beta.ppf(1 - alpha / 2, hits + 1, total - hits), 1.0)
    label = "estimated from spikes"
    if clusters is not None:
        try:
            labels = np.broadcast_to(np.asarray(clusters), h.shape)
        except ValueError:
            raise ValueError(
                f"clusters must broadcast to the shape of matches {h.shape}; "
                f"got {np.shape(clusters)}"
            ) from None
        n_resamples = check_int(n_resamples, "n_resamples", low=1)
        rng = check_rng(rng)
        boot_low, boot_high = _cluster_bootstrap_curve(
            h.ravel(), spikes.ravel(), labels.ravel(), k, alpha, n_resamples, rng
        )
        low = np.fmin(low, boot_low)
        high = np.fmax(high, boot_high)
        label = "estimated from spikes, queries resampled"
    low = np.where(total > 0, low, np.nan)
    high = np.where(total > 0, high, np.nan)
    return ActivationCurve(
        fraction,
        ci_low=low,
        ci_high=high,
        n_observations=total,
        confidence=confidence,
        label=label,
    )


def _cluster_bootstrap_curve(h, spikes, labels, k, alpha, n_resamples, rng):
    """Percentile interval of f(h) over resamples of whole clusters (NaN where never seen)."""
    _, cluster = np.unique(labels, return_inverse=True)
    n_clusters = int(cluster.max()) + 1 if cluster.size else 0
    flat = cluster * (k + 1) + h
    totals = np.bincount(flat, minlength=n_clusters * (k + 1)).reshape(n_clusters, k + 1)
    hits = np.bincount(flat, weights=spikes, minlength=n_clusters * (k + 1))
    hits = hits.reshape(n_clusters, k + 1)
    multiplicity = cluster_multiplicity(rng, n_clusters, n_resamples)
    boot_totals, boot_hits = multiplicity @ totals, multiplicity @ hits
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = np.where(boot_totals > 0, boot_hits / boot_totals, np.nan)
    low = np.full(k + 1, np.nan)
    high = np.full(k + 1, np.nan)
    seen = np.isfinite(boot).any(axis=0)
    if seen.any():
        low[seen] = np.nanquantile(boot[:, seen], alpha / 2, axis=0)
        high[seen] = np.nanquantile(boot[:, seen], 1 - alpha / 2, axis=0)
    return low, high
