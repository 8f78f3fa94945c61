r"""Exact theory of Sparse Distributed Memory: circle intersections, beta fits, optimal radii.

Notation (Kanerva 1988; Bricken & Pehlevan 2021): ``n_dims`` = n (address length in bits),
``activation_radius`` = d (Hamming radius of the read and write circles), ``n_neurons`` = r
(hard locations), ``n_patterns`` = m (stored patterns), distances t are Hamming distances.

Circle intersection
-------------------
Two points x, y at Hamming distance t split the n coordinates into the t where they differ and
the n - t where they agree. An address z that differs from x in a of the first group (and so
agrees with y there) and differs from both in b of the second group has

.. math:: d(z, x) = a + b, \qquad d(z, y) = t - a + b,

so the number of addresses within d of both points is

.. math:: N(n, d, t) = \sum_{a + b \le d,\; t - a + b \le d} \binom{t}{a}\binom{n - t}{b}.

That double sum is the definition (tests check it and a brute-force enumeration). The library
evaluates it from the one-step difference (the "lune", Kanerva 1988, Appendix B): moving y one
bit further from x (t -> t + 1, flipping a coordinate c where x and y agree) loses the addresses
with d(z, y) = d, z_c = y_c and a <= t - a, and gains those with d(z, y) = d + 1, z_c != y_c and
a + 1 <= t - a. The two sets cancel term by term except a = t / 2, so

.. math:: N(2k) - N(2k + 1) = \binom{2k}{k}\binom{n - 2k - 1}{d - k}, \qquad N(2k - 1) = N(2k),

and summing the positive differences from the far end,

.. math:: N(t) = N(n) + \sum_{k \ge \lceil t/2 \rceil,\; 2k \le n - 1}
          \binom{2k}{k}\binom{n - 2k - 1}{d - k}, \qquad
          N(n) = \sum_{i = n - d}^{d} \binom{n}{i}.

Every term is positive, so the sum is evaluated in log space (``gammaln`` and a shifted
reverse ``logaddexp`` accumulation) with no cancellation, for all t at once in O(n) time. With r
neurons at uniformly random addresses the expected number in the intersection is
:math:`N \cdot r / 2^n`.

Hamming-cosine map
------------------
For L2-normalised +-1 vectors, :math:`\cos = 1 - 2t/n`.

Attention
---------
N decays roughly exponentially in t, so :math:`N(t) \approx \exp(\text{bias} + \beta\cos)` and
the SDM read weights approximate :math:`\mathrm{softmax}(\beta \cos)` (Bricken & Pehlevan 2021).

Spherical caps
--------------
The continuous analogue intersects two caps of angular radius
:math:`\theta = \arccos(1 - 2d/n)` on :math:`S^{n-1}` whose centres are at angle
:math:`\phi = \arccos(\cos)`. For :math:`\theta \le \pi/2` the fraction of the sphere in both is

.. math:: F(\theta, \phi) = \frac{1}{\pi}\int_{\phi/2}^{\theta}
          \left(1 - \frac{\cos^2\theta}{\cos^2\alpha}\right)^{(n-2)/2} d\alpha,

derived from the joint density :math:`\propto (1 - x_1^2 - x_2^2)^{(n-4)/2}` of two coordinates
of a uniform point, written in polar coordinates in the plane of the two centres and integrated
over the radius in closed form (the intersection is two mirror halves split by the bisecting
hyperplane). For :math:`\theta > \pi/2`, :math:`F(\theta,\phi) = 1 - 2C(\pi-\theta) +
F(\pi-\theta,\phi)` by complements, with C the single-cap fraction.

References
----------
Kanerva, P. (1988). Sparse Distributed Memory. MIT Press.
Bricken, T. & Pehlevan, C. (2021). Attention Approximates Sparse Distributed Memory. NeurIPS.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.special import logsumexp, ndtr, ndtri, roots_legendre

from models.soft_activation import (
    ActivationCurve,
    _log_comb,
    check_curve,
    curve_activation_probability,
    log_curve_intersection,
)
from models.validation import (
    check_bool,
    check_choice,
    check_int,
    check_probability,
    check_real,
)

__all__ = [
    "BetaFit",
    "activation_probability",
    "circle_intersection",
    "cosine_to_hamming",
    "critical_distance",
    "fit_beta",
    "hamming_to_cosine",
    "log_cap_intersection",
    "log_circle_intersection",
    "nearest_radius",
    "optimal_radius",
    "radius_for_probability",
]

_COSINE_TOLERANCE = 1e-12
_LOG_FLOAT_MAX = math.log(np.finfo(np.float64).max)
_FIT_METHODS = ("ols", "reference", "softmax")
_CRITERIA = ("snr", "memory", "critical_distance")


# --------------------------------------------------------------------------- validation


def _check_n_dims(n_dims) -> int:
    return check_int(n_dims, "n_dims", low=1)


def _check_radius(activation_radius, n_dims: int) -> int:
    radius = check_int(activation_radius, "activation_radius")
    # The bound is named, as in docs/design.md: "must be in [0, n_dims]; got 70 for n_dims=64".
    if not 0 <= radius <= n_dims:
        raise ValueError(
            f"activation_radius must be in [0, n_dims]; got {radius} for n_dims={n_dims}"
        )
    return radius


def _check_rule(activation, n_dims: int):
    """A radius (int in [0, n_dims]) or an :class:`ActivationCurve` with ``K <= n_dims``."""
    if isinstance(activation, ActivationCurve):
        return check_curve(activation, n_dims)
    return _check_radius(activation, n_dims)


def _log_table(n_dims: int, rule, distances=None) -> np.ndarray:
    """ln of the intersection over all 2^n addresses, ``N(t)`` or ``2^n E[f f](t)``.

    ``distances`` defaults to every t = 0..n; a curve is evaluated only where asked.
    """
    if distances is None:
        distances = np.arange(n_dims + 1)
    if isinstance(rule, ActivationCurve):
        log_shared = np.asarray(log_curve_intersection(n_dims, rule, distances))
        return log_shared + n_dims * math.log(2.0)
    return _log_intersection_all(n_dims, rule)[distances]


def _check_distances(distances, n_dims: int, name: str = "distances") -> np.ndarray:
    """Integer Hamming distances in [0, n_dims] as an int64 array (any shape)."""
    array = np.asarray(distances)
    if array.dtype == bool or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise TypeError(f"{name} must be integers; got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            bad = array[~np.isfinite(array) | (array != np.round(array))].ravel()[0]
            raise ValueError(f"{name} must be integers (Hamming distances in bits); got {bad}")
    if array.size and (array.min() < 0 or array.max() > n_dims):
        bad = array[(array < 0) | (array > n_dims)].ravel()[0]
        raise ValueError(f"{name} must be in [0, n_dims]; got {bad} for n_dims={n_dims}")
    return array.astype(np.int64)


def _check_cosines(cosines, name: str = "cosines") -> np.ndarray:
    try:
        array = np.asarray(cosines, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be real numbers; got {cosines!r}") from None
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite; got {array[~np.isfinite(array)].ravel()[0]}")
    if array.size and np.abs(array).max() > 1 + _COSINE_TOLERANCE:
        bad = array[np.abs(array) > 1 + _COSINE_TOLERANCE].ravel()[0]
        raise ValueError(f"{name} must be in [-1, 1] (tolerance {_COSINE_TOLERANCE:g}); got {bad}")
    return np.clip(array, -1.0, 1.0)


def _log_n_neurons(n_neurons) -> float:
    """Natural log of a neuron count >= 1 (an int or a float; ints of any size are exact)."""
    if isinstance(n_neurons, numbers.Integral) and not isinstance(n_neurons, bool | np.bool_):
        # Not through float: 10**400 neurons is a valid (if academic) count.
        return math.log(check_int(n_neurons, "n_neurons", low=1))
    return math.log(check_real(n_neurons, "n_neurons", low=1.0))


def _output(array: np.ndarray, scalar_input: bool):
    return array.item() if scalar_input else array


# --------------------------------------------------------------------------- conversions


def hamming_to_cosine(distance, n_dims):
    """Cosine similarity of two L2-normalised +-1 vectors at a Hamming distance.

    ``cos = 1 - 2 t / n`` (Bricken & Pehlevan 2021, eq. for the Hamming-cosine map).

    Parameters
    ----------
    distance : int or array_like of int, any shape
        Hamming distances t in bits, integers in [0, n_dims].
    n_dims : int
        Address length n in bits, >= 1.

    Returns
    -------
    float or ndarray of float64, same shape as ``distance``
        Cosines in [-1, 1].
    """
    n_dims = _check_n_dims(n_dims)
    distances = _check_distances(distance, n_dims, "distance")
    cosines = 1.0 - 2.0 * distances / n_dims
    return _output(cosines, np.ndim(distance) == 0)


def cosine_to_hamming(cosine, n_dims):
    """Nearest Hamming distance for a cosine similarity, ``t = rint(n (1 - cos) / 2)``.

    Rounding: to the nearest integer, exact halves to the even integer (``numpy.rint``), so
    ``cosine_to_hamming(hamming_to_cosine(t, n), n) == t`` for every integer t in [0, n].
    Cosines within 1e-12 outside [-1, 1] (float round-off) are clipped to the interval.

    Parameters
    ----------
    cosine : float or array_like of float, any shape
        Cosine similarities, ``|cos| <= 1 + 1e-12``.
    n_dims : int
        Address length n in bits, >= 1.

    Returns
    -------
    int or ndarray of int64, same shape as ``cosine``
        Hamming distances in [0, n_dims].
    """
    n_dims = _check_n_dims(n_dims)
    cosines = _check_cosines(cosine, "cosine")
    distances = np.rint(n_dims * (1.0 - cosines) / 2.0).astype(np.int64)
    return _output(distances, np.ndim(cosine) == 0)


# --------------------------------------------------------------------------- intersections


def _log_intersection_all(n_dims: int, radius: int) -> np.ndarray:
    """ln N(n, d, t) for t = 0..n (shape (n + 1,)) from the positive lune sum."""
    k = np.arange((n_dims - 1) // 2 + 1)  # 2k <= n - 1
    log_terms = _log_comb(2 * k, k) + _log_comb(n_dims - 2 * k - 1, radius - k)
    if n_dims - radius <= radius:
        i = np.arange(n_dims - radius, radius + 1)
        log_far = float(logsumexp(_log_comb(n_dims, i)))
    else:
        log_far = -np.inf
    finite = np.concatenate([log_terms[np.isfinite(log_terms)], [log_far]])
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:  # cannot happen (N(0) >= 1), kept for safety
        return np.full(n_dims + 1, -np.inf)
    shift = float(finite.max())
    with np.errstate(invalid="ignore"):
        suffix = np.logaddexp.accumulate((log_terms - shift)[::-1])[::-1]
    suffix = np.concatenate([suffix, [-np.inf]])  # index K + 1: empty sum
    t = np.arange(n_dims + 1)
    first_k = np.minimum((t + 1) // 2, suffix.size - 1)
    return shift + np.logaddexp(log_far - shift, suffix[first_k])


def log_circle_intersection(n_dims, activation_radius, distances):
    r"""Natural log of the exact circle intersection N(n, d, t).

    N is the number of binary addresses within Hamming distance d of both of two points at
    Hamming distance t (Kanerva 1988; see the module docstring for the formula and the
    cancellation-free lune sum used). Accuracy, measured against the exact integer counts at
    n = 10,000 (every t, d = 2000 and 4500): relative error below 1e-14 in ln N (at most
    7e-15), i.e. absolute error in ln N up to about 5e-11 — which is the relative error of N
    itself (:math:`|\Delta N| / N \approx |\Delta \ln N|`).

    Parameters
    ----------
    n_dims : int
        Address length n in bits, >= 1.
    activation_radius : int
        Hamming radius d of both circles, in [0, n_dims].
    distances : int or array_like of int, any shape
        Distances t between the two centres, integers in [0, n_dims].

    Returns
    -------
    float or ndarray of float64, same shape as ``distances``
        :math:`\ln N`; ``-inf`` where the count is 0 (t > 2d).
    """
    n_dims = _check_n_dims(n_dims)
    radius = _check_radius(activation_radius, n_dims)
    t = _check_distances(distances, n_dims)
    table = _log_intersection_all(n_dims, radius)
    return _output(table[t], np.ndim(distances) == 0)


def _exact_intersection_all(n_dims: int, radius: int) -> list[int]:
    """Exact N(n, d, t) for t = 0..n as Python ints (same lune sum, in integers)."""
    far = sum(math.comb(n_dims, i) for i in range(n_dims - radius, radius + 1))
    counts = [0] * (n_dims + 1)
    counts[n_dims] = far
    running = far
    for t in range(n_dims - 1, -1, -1):
        if t % 2 == 0:
            k = t // 2
            if 0 <= radius - k <= n_dims - 2 * k - 1:
                running += math.comb(2 * k, k) * math.comb(n_dims - 2 * k - 1, radius - k)
        counts[t] = running
    return counts


def circle_intersection(n_dims, activation_radius, distances, n_neurons=None, exact=False):
    r"""Expected number of neurons in the intersection of two activation circles.

    With ``n_neurons`` = r neurons at uniformly random addresses the expectation is
    :math:`N(n, d, t) \cdot r / 2^n`; with ``n_neurons=None`` every one of the :math:`2^n`
    addresses is a neuron and the value is the count N itself.

    Parameters
    ----------
    n_dims : int
        Address length n in bits, >= 1.
    activation_radius : int
        Hamming radius d, in [0, n_dims].
    distances : int or array_like of int, any shape
        Distances t between the circle centres, integers in [0, n_dims].
    n_neurons : int or float, optional
        Number of neurons r >= 1 (Python ints of any size are accepted exactly). ``None``: every
        address is a neuron.
    exact : bool, default False
        Return exact counts as Python ints (only with ``n_neurons=None``).

    Returns
    -------
    float, ndarray of float64, int or list of int
        Same shape as ``distances``: floats, or Python ints (a nested list for array input)
        when ``exact=True``.

    Raises
    ------
    ValueError
        For invalid arguments, ``exact=True`` with ``n_neurons``, or when a float result would
        overflow float64 (use :func:`log_circle_intersection` or ``exact=True`` then).
    """
    n_dims = _check_n_dims(n_dims)
    radius = _check_radius(activation_radius, n_dims)
    t = _check_distances(distances, n_dims)
    scalar = np.ndim(distances) == 0
    if check_bool(exact, "exact"):
        if n_neurons is not None:
            raise ValueError(
                f"exact=True gives exact address counts and needs n_neurons=None; "
                f"got n_neurons={n_neurons!r}"
            )
        table = _exact_intersection_all(n_dims, radius)
        if scalar:
            return table[int(t)]
        values = np.empty(t.shape, dtype=object)
        for index, value in np.ndenumerate(t):
            values[index] = table[int(value)]
        return values.tolist()
    log_values = _log_intersection_all(n_dims, radius)[t]
    if n_neurons is not None:
        log_values = log_values + _log_n_neurons(n_neurons) - n_dims * math.log(2.0)
    if log_values.size and np.max(log_values) > _LOG_FLOAT_MAX:
        raise ValueError(
            f"circle_intersection for n_dims={n_dims}, activation_radius={radius} exceeds the "
            "float64 range; use log_circle_intersection or exact=True"
        )
    return _output(np.exp(log_values), scalar)


# --------------------------------------------------------------------------- spherical caps


_GAUSS_NODES, _GAUSS_WEIGHTS = roots_legendre(64)
_GAUSS_NODES = 0.5 * (_GAUSS_NODES + 1.0)  # on [0, 1]
_GAUSS_WEIGHTS = 0.5 * _GAUSS_WEIGHTS


def _log_cap_integrand(n_dims: int, theta: float, alpha: np.ndarray) -> np.ndarray:
    """ln (1 - cos^2 theta / cos^2 alpha)^((n-2)/2), written without cancellation."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (
            (n_dims - 2)
            / 2.0
            * (
                np.log(np.sin(theta - alpha))
                + np.log(np.sin(theta + alpha))
                - 2.0 * np.log(np.cos(alpha))
            )
        )


def _log_cap_fraction_small(n_dims: int, theta: float, phi: np.ndarray) -> np.ndarray:
    """ln F(theta, phi) for caps of radius theta <= pi/2, vectorised over phi (any shape).

    The integrand decreases from alpha = phi/2 to theta. Its decay length L (where it has
    fallen by e, found by bisection) sets a split at min(40 L, width / 2): the left piece is
    smooth and integrated with 64-point Gauss-Legendre in the scaled variable; the right piece
    ends at theta, where the integrand vanishes like (theta - alpha)^((n-2)/2), and is
    integrated after the substitution x = 1 - (1 - v)^q (integer q making the integrand
    vanish to 4th order) with the same rule. Agrees with adaptive quadrature and 40-digit
    mpmath to ~1e-13 relative except where the caps barely overlap, where the answer itself is
    ill-conditioned in the float inputs.
    """
    lower = np.asarray(phi, dtype=np.float64) / 2.0
    out = np.full(lower.shape, -np.inf)
    overlap = lower < theta
    if not np.any(overlap):
        return out
    start = lower[overlap]
    if n_dims == 2:  # arcs on a circle: (2 theta - phi) / (2 pi)
        out[overlap] = np.log((theta - start) / math.pi)
        return out
    width = theta - start
    log_peak = _log_cap_integrand(n_dims, theta, start)
    low, high = np.zeros_like(width), width.copy()
    for _ in range(60):  # bisection for the decay length
        middle = 0.5 * (low + high)
        fallen = _log_cap_integrand(n_dims, theta, start + middle) < log_peak - 1.0
        high = np.where(fallen, middle, high)
        low = np.where(fallen, low, middle)
    split = np.minimum(40.0 * high, 0.5 * width)
    alpha = start[:, None] + split[:, None] * _GAUSS_NODES
    scaled = np.exp(_log_cap_integrand(n_dims, theta, alpha) - log_peak[:, None])
    left = split * (scaled @ _GAUSS_WEIGHTS)
    power = float(max(1, math.ceil(5.0 / (n_dims / 2.0))))  # (n-2)/2 + 1 = n/2
    rest = width - split
    complement = 1.0 - _GAUSS_NODES
    alpha = (start + split)[:, None] + rest[:, None] * (1.0 - complement**power)
    jacobian = rest[:, None] * power * complement ** (power - 1.0)
    scaled = np.exp(_log_cap_integrand(n_dims, theta, alpha) - log_peak[:, None]) * jacobian
    right = np.nan_to_num(scaled, nan=0.0) @ _GAUSS_WEIGHTS
    with np.errstate(divide="ignore"):
        out[overlap] = log_peak + np.log(left + right) - math.log(math.pi)
    return out


def _log_cap_fraction(n_dims: int, theta: float, phi: np.ndarray) -> np.ndarray:
    """ln F(theta, phi) for any theta in [0, pi], vectorised over phi."""
    if theta <= math.pi / 2:
        return _log_cap_fraction_small(n_dims, theta, phi)
    complement = math.pi - theta  # caps of the antipodes, radius < pi / 2
    log_single = float(_log_cap_fraction_small(n_dims, complement, np.zeros(1))[0])  # C <= 1/2
    log_rest = _log_cap_fraction_small(n_dims, complement, phi)  # F(pi - theta, phi) <= C
    if log_single < math.log(0.25):  # 1 - 2C + F = 1 + delta with |delta| <= 1/2
        return np.log1p(np.exp(log_rest) - 2.0 * math.exp(log_single))
    base = -math.expm1(math.log(2.0) + log_single)  # 1 - 2C, no cancellation near C = 1/2
    return np.logaddexp(math.log(base), log_rest) if base > 0 else log_rest


def log_cap_intersection(n_dims, activation_radius, cosines, n_neurons=None):
    r"""Natural log of the intersection of two spherical caps (continuous SDM).

    The caps have angular radius :math:`\theta = \arccos(1 - 2d/n)` on the unit sphere
    :math:`S^{n-1} \subset \mathbb{R}^n` and centres at angle :math:`\arccos(\cos)`. The value
    is the fraction of the sphere's area inside both caps (``n_neurons=None``), i.e. the
    probability that a uniformly random unit vector is in both; with ``n_neurons`` = r it is
    that fraction times r, the expected number of uniformly placed neurons in the intersection.
    Computed as a 1-D integral in log space (module docstring) with fixed Gauss-Legendre
    rules, vectorised over ``cosines``; stable for n up to 10,000.

    Parameters
    ----------
    n_dims : int
        Dimension n of the ambient space, >= 2.
    activation_radius : int
        Binary radius d in [0, n_dims] giving the cap's angular radius.
    cosines : float or array_like of float, any shape
        Cosine between the two cap centres, ``|cos| <= 1 + 1e-12``.
    n_neurons : int or float, optional
        Number of neurons r >= 1; ``None`` returns the area fraction.

    Returns
    -------
    float or ndarray of float64, same shape as ``cosines``
        ln of the fraction (or expected count); ``-inf`` where the caps do not overlap.
    """
    n_dims = _check_n_dims(n_dims)
    if n_dims < 2:
        raise ValueError(f"n_dims must be >= 2 for spherical caps; got {n_dims}")
    radius = _check_radius(activation_radius, n_dims)
    values = _check_cosines(cosines)
    theta = math.acos(min(1.0, max(-1.0, 1.0 - 2.0 * radius / n_dims)))
    offset = 0.0 if n_neurons is None else _log_n_neurons(n_neurons)
    angles = np.arccos(values.ravel())
    out = np.empty(angles.shape, dtype=np.float64)
    for begin in range(0, angles.size, 8192):  # bounded (8192, 64) work arrays
        block = slice(begin, begin + 8192)
        out[block] = _log_cap_fraction(n_dims, theta, angles[block]) + offset
    return _output(out.reshape(values.shape), np.ndim(cosines) == 0)


# --------------------------------------------------------------------------- probabilities


def _log_activation_cdf(n_dims: int) -> np.ndarray:
    """ln P(Binomial(n, 1/2) <= d) for d = 0..n, shape (n + 1,)."""
    log_pmf = _log_comb(n_dims, np.arange(n_dims + 1)) - n_dims * math.log(2.0)
    return np.minimum(np.logaddexp.accumulate(log_pmf), 0.0)


def activation_probability(n_dims, activation_radius):
    """Probability that a random address is within ``activation_radius`` of a point.

    ``p = P(Binomial(n, 1/2) <= d)``, the fraction of neurons a read or write activates
    (Kanerva 1988). Computed in log space; values below ~1e-308 underflow to 0.0.

    Parameters
    ----------
    n_dims : int
        Address length n in bits, >= 1.
    activation_radius : int or array_like of int
        Radii d in [0, n_dims].

    Returns
    -------
    float or ndarray of float64, same shape as ``activation_radius``
    """
    n_dims = _check_n_dims(n_dims)
    radii = _check_distances(activation_radius, n_dims, "activation_radius")
    return _output(np.exp(_log_activation_cdf(n_dims)[radii]), np.ndim(activation_radius) == 0)


def _radius_for_log_probability(n_dims: int, log_probability: float) -> int:
    """Smallest d with ln P(Bin(n, 1/2) <= d) >= log_probability (slack of 8 ulp-ish)."""
    log_cdf = _log_activation_cdf(n_dims)
    slack = 8.0 * np.finfo(np.float64).eps * max(1.0, abs(log_probability))
    return int(min(np.searchsorted(log_cdf, log_probability - slack, side="left"), n_dims))


def _check_reachable(n_dims: int, probability: float, log_cdf: np.ndarray) -> bool:
    """Raise unless ``probability`` >= the activation probability of d = 0, ``2**-n_dims``.

    Compared in logs with a relative slack of a few ulp (as :func:`_radius_for_log_probability`
    does), because the float ``activation_probability(n_dims, 0)`` may round to either side of
    ``2.0**-n_dims``: both pass. Returns whether ``probability`` is ``2**-n_dims`` to within
    that slack, where the answer is d = 0.
    """
    log_p = math.log(probability)
    slack = 8.0 * np.finfo(np.float64).eps * max(1.0, abs(log_p))
    if log_p < float(log_cdf[0]) - slack:
        smallest = float(np.exp(log_cdf[0]))
        raise ValueError(
            f"probability must be >= 2**-n_dims = {smallest:.6g}, the activation probability of "
            f"the smallest radius d = 0, for n_dims={n_dims}; got {probability:.6g} (no Hamming "
            "radius activates so few neurons; models.theory.nearest_radius gives d = 0 for it)"
        )
    return log_p <= float(log_cdf[0]) + slack


def radius_for_probability(n_dims, probability):
    """Smallest activation radius whose activation probability reaches ``probability``.

    Inverse of :func:`activation_probability`: the smallest integer d with
    ``P(Binomial(n, 1/2) <= d) >= probability``, comparing the same float values that
    :func:`activation_probability` returns, so ``radius_for_probability(n,
    activation_probability(n, d)) == d`` whenever that probability is in (0, 1) (and d is the
    smallest radius with that float value).

    The smallest radius, d = 0, activates a fraction ``2**-n_dims``: a probability below it is
    refused rather than answered with d = 0, which would activate more neurons than asked for
    (by a factor ``2**-n_dims / probability``). :func:`nearest_radius` answers d = 0 there.

    Parameters
    ----------
    n_dims : int
        Address length n in bits, >= 1.
    probability : float
        Target activation probability p, in ``[2**-n_dims, 1)``; ``2**-n_dims`` itself (to a
        few ulp, so both ``2.0**-n_dims`` and the float ``activation_probability(n_dims, 0)``)
        gives 0. Any positive float is reachable once ``2**-n_dims`` underflows (n > 1074).

    Returns
    -------
    int
        The radius d in [0, n_dims].

    Raises
    ------
    ValueError
        If ``probability`` is not in (0, 1), or is below ``2**-n_dims``; the message names the
        probability, ``2**-n_dims`` and ``n_dims``.
    """
    n_dims = _check_n_dims(n_dims)
    probability = check_probability(probability, "probability", allow_zero=False, allow_one=False)
    log_cdf = _log_activation_cdf(n_dims)
    if _check_reachable(n_dims, probability, log_cdf):
        return 0  # 2**-n_dims itself, to a few ulp
    return _smallest_radius(n_dims, probability, log_cdf)


def _smallest_radius(n_dims: int, probability: float, log_cdf: np.ndarray) -> int:
    """Smallest d with activation probability >= ``probability`` (0 below ``2**-n_dims``)."""
    if probability < 1e-300:  # compare in logs below the normal float range
        return _radius_for_log_probability(n_dims, math.log(probability))
    # the same floats activation_probability returns, so that the round trip is exact
    cdf = np.exp(log_cdf)
    return int(min(np.searchsorted(cdf, probability, side="left"), n_dims))


def nearest_radius(n_dims, probability) -> int:
    """The Hamming radius whose activation probability is nearest to ``probability`` (log scale).

    The *equivalent radius* of an activation rule that is not a Hamming ball (top-k with
    ``k / r``, selected coordinates with ``2**-K``, a soft curve with
    :func:`models.soft_activation.curve_activation_probability`).

    A probability at or below ``2**-n_dims``, the activation probability of d = 0, has d = 0 as
    its nearest radius (every other radius is farther on a log scale): it is answered 0, where
    :func:`radius_for_probability` refuses it.

    Parameters
    ----------
    n_dims : int
    probability : float
        In (0, 1].

    Returns
    -------
    int
    """
    n_dims = _check_n_dims(n_dims)
    probability = check_probability(probability, "probability", allow_zero=False)
    target = math.log(probability)
    log_cdf = _log_activation_cdf(n_dims)
    if target <= float(log_cdf[0]):  # at or below the smallest radius's probability
        return 0
    upper = _smallest_radius(n_dims, min(probability, 1.0 - 1e-12), log_cdf)
    candidates = [d for d in (upper - 1, upper) if 0 <= d <= n_dims]
    gaps = [abs(float(log_cdf[d]) - target) for d in candidates]
    return candidates[int(np.argmin(gaps))]


# --------------------------------------------------------------------------- beta fits


@dataclass(frozen=True)
class BetaFit:
    """Result of :func:`fit_beta`: ``ln N(t) ~ bias + beta * cos(t)``.

    Attributes
    ----------
    beta : float
        Fitted inverse temperature (the softmax beta of Bricken & Pehlevan 2021).
    bias : float
        Intercept of the log-linear model (ln neurons).
    method : str
        ``"ols"``, ``"reference"`` or ``"softmax"``.
    cosines : ndarray of float64, shape (n_points,)
        Cosines of the points used by the fit.
    log_intersections : ndarray of float64, shape (n_points,)
        ln intersections at those cosines (``-inf`` where empty, softmax only).
    r_squared : float
        Coefficient of determination of ``bias + beta * cos`` against the finite
        ``log_intersections``.
    continuous : bool
        Whether the spherical-cap intersections were used.
    """

    beta: float
    bias: float
    method: str
    cosines: np.ndarray
    log_intersections: np.ndarray
    r_squared: float
    continuous: bool = False


def _r_squared(x: np.ndarray, y: np.ndarray, beta: float, bias: float) -> float:
    finite = np.isfinite(y)
    x, y = x[finite], y[finite]
    total = float(np.sum((y - y.mean()) ** 2))
    if total == 0.0:
        return 1.0
    return 1.0 - float(np.sum((y - bias - beta * x) ** 2)) / total


def _softmax_beta(cosines: np.ndarray, log_weights: np.ndarray) -> float:
    """beta minimising KL(w || softmax(beta cos)); the root of E_softmax[cos] = E_w[cos]."""
    weights = np.exp(log_weights - logsumexp(log_weights))
    target = float(np.sum(weights * cosines))
    if target >= cosines.max() - 1e-15 or target <= cosines.min() + 1e-15:
        raise ValueError(
            "softmax fit needs intersection weights on more than one distance; "
            "increase activation_radius"
        )

    def mean_gap(beta):
        logits = beta * cosines
        return float(np.sum(np.exp(logits - logsumexp(logits)) * cosines)) - target

    low, high = -1.0, 1.0
    while mean_gap(low) > 0:
        low *= 2.0
    while mean_gap(high) < 0:
        high *= 2.0
    return float(optimize.brentq(mean_gap, low, high, xtol=1e-12, rtol=1e-13))


def fit_beta(n_dims, activation_radius, *, method="ols", continuous=False, fit_radius=None):
    r"""Fit the softmax inverse temperature beta to the circle intersection.

    The fitted points are t = 0..d-1 with :math:`x = \cos = 1 - 2t/n` and
    :math:`y = \ln N(n, d, t)` (or the log cap intersection when ``continuous=True``).

    - ``"ols"``: least-squares slope of y on x (n=64, d=11 gives 14.41).
    - ``"reference"``: reproduces the values published with Bricken & Pehlevan (2021)
      (n=64: d=5 -> 35.5, d=11 -> 15.9, d=15 -> 10.1). Their estimator divides a covariance
      computed with ddof=1 by a variance computed with ddof=0, which equals the OLS slope
      times N/(N-1) for N = d fitted points: a ~10% overestimate at d=11, reproduced here
      on purpose. Bias is ``mean(y) - beta * mean(x)``.
    - ``"softmax"``: the beta whose :math:`\mathrm{softmax}(\beta\cos)` over the distances
      t = 0..n (one pattern at each distance) best matches the normalised intersection
      weights :math:`w_t = N(t) / \sum_s N(s)` in the loss
      :math:`\mathrm{KL}(w \,\|\, \mathrm{softmax}(\beta \cos))`. That is the information lost
      when attention replaces the SDM read; it is convex in beta and its minimiser matches
      the mean cosine of the two weightings, found with ``scipy.optimize.brentq``. The bias
      makes :math:`\sum_t \exp(\text{bias} + \beta\cos_t) = \sum_t N(t)`. Fitted points are
      t = 0..n.

    Parameters
    ----------
    n_dims : int
        Address length n in bits (>= 2 when ``continuous``).
    activation_radius : int or ActivationCurve
        Radius d in [2, n_dims] for "ols"/"reference" (two points at least), [1, n_dims] for
        "softmax"; or a soft activation curve ``f(h)`` (:mod:`models.soft_activation`), whose
        generalised intersection :math:`2^n E[f(h_q) f(h_p)]` replaces ``N(n, d, t)``.
    method : {"ols", "reference", "softmax"}
    continuous : bool, default False
        Use :func:`log_cap_intersection` instead of the binary count (radius only).
    fit_radius : int, optional
        "ols"/"reference": fit t = 0..fit_radius-1 instead of t = 0..d-1. For a curve it
        defaults to its *equivalent radius*, the Hamming radius whose activation probability is
        nearest (on a log scale) to the curve's (:func:`nearest_radius`).

    Returns
    -------
    BetaFit
    """
    n_dims = _check_n_dims(n_dims)
    rule = _check_rule(activation_radius, n_dims)
    method = check_choice(method, "method", _FIT_METHODS)
    continuous = check_bool(continuous, "continuous")
    curve = isinstance(rule, ActivationCurve)
    if curve and continuous:
        raise ValueError("continuous=True applies to a radius, not to an activation curve")
    if fit_radius is not None:
        radius = check_int(
            fit_radius, "fit_radius", low=0, high=n_dims, context=f"for n_dims={n_dims}"
        )
    elif curve:
        radius = nearest_radius(n_dims, curve_activation_probability(rule))
    else:
        radius = rule
    minimum = 1 if method == "softmax" else 2
    if radius < minimum:
        name = "fit_radius" if fit_radius is not None or curve else "activation_radius"
        raise ValueError(
            f"{name} must be >= {minimum} for method={method!r} (it fits t = 0..d-1); got {radius}"
        )
    distances = np.arange(n_dims + 1) if method == "softmax" else np.arange(radius)
    cosines = 1.0 - 2.0 * distances / n_dims
    if continuous:
        log_values = np.asarray(log_cap_intersection(n_dims, radius, cosines), dtype=np.float64)
    else:
        log_values = np.asarray(_log_table(n_dims, rule, distances), dtype=np.float64)
    if method != "softmax" and not np.all(np.isfinite(log_values)):
        raise ValueError(
            "the intersection is 0 at some fitted distance t < d, so ln N has no line to fit; "
            "choose a smaller fit_radius"
        )

    if method == "softmax":
        beta = _softmax_beta(cosines, log_values)
        bias = float(logsumexp(log_values) - logsumexp(beta * cosines))
    else:
        x_mean, y_mean = cosines.mean(), log_values.mean()
        slope = float(np.sum((cosines - x_mean) * (log_values - y_mean)))
        slope /= float(np.sum((cosines - x_mean) ** 2))
        count = distances.size
        beta = slope if method == "ols" else slope * count / (count - 1)
        bias = float(y_mean - beta * x_mean)
    cosines.setflags(write=False)
    log_values = np.array(log_values, dtype=np.float64)
    log_values.setflags(write=False)
    return BetaFit(
        beta=float(beta),
        bias=bias,
        method=method,
        cosines=cosines,
        log_intersections=log_values,
        r_squared=_r_squared(cosines, log_values, beta, bias),
        continuous=continuous,
    )


# --------------------------------------------------------------------------- critical distance


def _read_error_map(n_dims: int, rule, n_patterns: int, log_r: float | None):
    """Return f with f(s) = n * P(bit error | query at distance s), s an array in [0, n].

    ``rule`` is a radius or an activation curve; with a curve, each neuron is shared with
    probability ``q = E[f f]`` independently of the others, so a count is still
    Binomial(r, q).
    """
    log_n = _log_table(n_dims, rule)
    log_two_n = n_dims * math.log(2.0)
    distances = np.arange(n_dims + 1)
    log_pmf = _log_comb(n_dims, distances) - log_two_n  # random pattern's distance
    if log_r is None:
        log_mean = log_n  # every address is one neuron: counts are exact
        log_second = 2.0 * log_n
        log_var = np.full(n_dims + 1, -np.inf)
    else:
        log_q = log_n - log_two_n  # probability a random neuron lies in the intersection
        log_mean = log_r + log_q
        with np.errstate(divide="ignore"):
            log_var = log_mean + np.log1p(-np.exp(np.minimum(log_q, 0.0)))
        log_second = np.logaddexp(2.0 * log_mean, log_var)
    if n_patterns > 1:
        log_noise = math.log(n_patterns - 1) + float(logsumexp(log_pmf + log_second))
    else:
        log_noise = -np.inf
    # -inf is replaced by -1e300 so that linear interpolation of ln N stays defined
    mean_table = np.where(np.isfinite(log_mean), log_mean, -1e300)
    var_table = np.where(np.isfinite(log_var), log_var, -1e300)

    def error_map(points: np.ndarray) -> np.ndarray:
        log_signal = np.interp(points, distances, mean_table)
        log_sigma = 0.5 * np.logaddexp(log_noise, np.interp(points, distances, var_table))
        with np.errstate(over="ignore", invalid="ignore"):
            snr = np.exp(log_signal - log_sigma)
        snr = np.where(log_signal < -1e299, 0.0, snr)
        snr = np.where(np.isneginf(log_sigma) & (log_signal > -1e299), np.inf, snr)
        return n_dims * ndtr(-snr)

    return error_map


def _unstable_point(n_dims: int, rule, n_patterns: int, log_r: float | None) -> float:
    """Smallest s >= 1/2 (1/8-bit resolution) with f(s) >= s; -1 if f(0) >= 1/2; n + 1 if none.

    f is evaluated at s = 1/2 and every integer, then on a 1/8-bit grid between the last
    integer below the first crossing and that crossing.
    """
    error_map = _read_error_map(n_dims, rule, n_patterns, log_r)
    coarse = np.concatenate([[0.0, 0.5], np.arange(1.0, n_dims + 1.0)])
    values = error_map(coarse)
    if values[0] >= 0.5:
        return -1.0
    above = (coarse >= 0.5) & (values >= coarse)
    if not np.any(above):
        return float(n_dims + 1)
    first = int(np.argmax(above))
    if first <= 1:
        return 0.5
    fine = np.arange(coarse[first - 1], coarse[first] + 1e-9, 0.125)
    return float(fine[np.argmax(error_map(fine) >= fine)])


def _critical_distance(n_dims: int, rule, n_patterns: int, log_r: float | None) -> int:
    unstable = _unstable_point(n_dims, rule, n_patterns, log_r)
    if unstable < 0:
        return 0
    return int(min(math.ceil(unstable) - 1, n_dims))


def critical_distance(n_dims, activation_radius, n_patterns, n_neurons=None):
    r"""Critical distance of an SDM from the expected-distance recursion (Kanerva 1988, ch. 7).

    Model: autoassociative memory of m random patterns, query at distance s from a stored
    target. A bit of the read is the sign of :math:`\sum_\mu c_\mu v_\mu` (bipolar values),
    :math:`c_\mu` the neurons in the intersection of the query's and pattern mu's circles.

    - signal: :math:`E[c_\text{target}] = r\,q(s)`, :math:`q = N(n,d,s)/2^n`;
    - noise: the other m-1 random patterns at Binomial(n, 1/2) distances t' with random
      values: variance :math:`(m-1)\,E_{t'}[E c_{t'}^2]`, plus the target count's variance.
      With r neurons at uniformly random addresses a count is Binomial(r, q), so
      :math:`E c^2 = (rq)^2 + rq(1-q)`; with ``n_neurons=None`` every address is exactly one
      neuron and counts are deterministic, :math:`c = N`;
    - bit-error probability :math:`P_e(s) = \Phi(-\text{signal}/\text{noise sd})`, and the
      next query distance is :math:`f(s) = n P_e(s)`; ln N is interpolated linearly between
      integer distances so s can be fractional.

    f is non-decreasing, so iterating it from s converges monotonically: to the pattern (an
    expected distance below 1/2 bit) exactly when :math:`f(0) < 1/2` and :math:`f(u) < u`
    for every u in [1/2, s] (checked at 1/2 and every integer, refined to 1/8 bit before the
    first crossing). The critical distance is the
    largest integer s with that property: 0 when even an exact query fails (overloaded
    memory), n_dims when every query converges.

    The model is meaningful only for starting distances below n/2. Because
    :math:`P_e \le 1/2`, :math:`f(s) \le n/2 < s` for every s > n/2 (a read with no signal
    lands, in expectation, at n/2 — the mean field ignores its spread), so once the
    recursion converges from every u up to n/2 it converges from every start, even from the
    complement of the pattern (s = n), and the result saturates at n_dims. This happens when
    the circles still intersect at n/2 (2d >= n/2) and the load is light; e.g. n = 64,
    d = 16, m = 1 gives 64. The result is therefore either below n/2 or exactly n_dims, and
    n_dims means "the basin reaches n/2", not a basin of n bits.

    Parameters
    ----------
    n_dims : int
        Address length n in bits, >= 1.
    activation_radius : int or ActivationCurve
        Radius d in [0, n_dims], or a soft activation curve ``f(h)``
        (:mod:`models.soft_activation`): then ``q(s) = E[f(h_q) f(h_p)]`` replaces
        ``N / 2^n`` (neurons still fire independently, so counts stay binomial).
    n_patterns : int
        Stored random patterns m, >= 1.
    n_neurons : int or float, optional
        Neurons r at random addresses; ``None``: every one of the 2^n addresses is a neuron.

    Returns
    -------
    int
        Largest starting distance in bits from which the recursion converges: below
        n_dims / 2, or n_dims when the recursion saturates (see above).
    """
    n_dims = _check_n_dims(n_dims)
    rule = _check_rule(activation_radius, n_dims)
    n_patterns = check_int(n_patterns, "n_patterns", low=1)
    log_r = None if n_neurons is None else _log_n_neurons(n_neurons)
    return _critical_distance(n_dims, rule, n_patterns, log_r)


# --------------------------------------------------------------------------- optimal radii


def _log_memory_capacity(log_p: np.ndarray, log_r: float, z: float) -> np.ndarray:
    """ln M(p) for M(p) = ((pr)^2/z^2 - pr) / (p^2 r + (p^2 r)^2) = (pr/z^2 - 1)/(p(1 + p^2 r))."""
    u = log_p + log_r - 2.0 * math.log(z)  # ln(pr / z^2)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_excess = np.where(u > 0, u + np.log(-np.expm1(-np.maximum(u, 1e-300))), -np.inf)
    return log_excess - log_p - np.logaddexp(0.0, 2.0 * log_p + log_r)


def optimal_radius(n_dims, n_patterns, n_neurons=None, criterion="snr", *, progress=None):
    r"""Optimal activation radius for a criterion (Bricken & Pehlevan 2021, Appendix B.5).

    For "snr" and "memory" the radius is the smallest d whose activation probability reaches
    the optimal fraction p*:

    - ``"snr"``: :math:`p^* = (2mr)^{-1/3}`, maximising the signal-to-noise ratio of a
      noise-free read (Kanerva 1988).
    - ``"memory"``: p* maximises the memory capacity (Kanerva 1988)
      :math:`M(p) = ((pr)^2/z^2 - pr) / (p^2 r + (p^2 r)^2)` with
      :math:`z = \Phi^{-1}(0.5^{1/n})`, so that a whole pattern is retrieved with probability
      1/2 (each bit with :math:`0.5^{1/n}`); maximised numerically over ln p.
    - ``"critical_distance"``: the d in 0..n maximising the critical distance of
      :func:`critical_distance`, ranked by the unrounded unstable fixed point of its recursion
      (1/8-bit grid) so that radii with equal integer critical distance are told apart; the
      smallest such d on ties.

    For n=64, m=1024, r=2^64 these give 11, 5 and 15 in the paper.

    Parameters
    ----------
    n_dims : int
        Address length n in bits, >= 1.
    n_patterns : int
        Stored patterns m, >= 1.
    n_neurons : int or float, optional
        Neurons r; ``None`` means r = 2^n (every address is a neuron). Python ints of any size
        are used exactly through their logarithm.
    criterion : {"snr", "memory", "critical_distance"}
    progress : callable, optional
        ``progress(done, total)`` during the ``"critical_distance"`` scan over the
        ``total = n_dims + 1`` radii, every 64 radii and at the end (the scan costs O(n^2):
        ~37 s at n = 10^4); not called by the other criteria, which take no scan.

    Returns
    -------
    int
        The radius d in [0, n_dims].
    """
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be callable or None; got {type(progress).__name__}")
    n_dims = _check_n_dims(n_dims)
    n_patterns = check_int(n_patterns, "n_patterns", low=1)
    criterion = check_choice(criterion, "criterion", _CRITERIA)
    log_r = n_dims * math.log(2.0) if n_neurons is None else _log_n_neurons(n_neurons)
    if criterion == "snr":
        log_p = -(math.log(2.0) + math.log(n_patterns) + log_r) / 3.0
        return _radius_for_log_probability(n_dims, min(log_p, 0.0))
    if criterion == "memory":
        z = float(ndtri(0.5 ** (1.0 / n_dims)))
        if z <= 0:  # n_dims == 1: 0.5 ** 1 = 0.5 -> z = 0; the capacity model is degenerate
            raise ValueError(f"memory criterion needs n_dims >= 2; got {n_dims}")
        low = 2.0 * math.log(z) - log_r  # M > 0 needs pr > z^2
        grid = np.linspace(min(low, -1e-9), 0.0, 2001)
        values = _log_memory_capacity(grid, log_r, z)
        best = int(np.argmax(values))
        if not np.isfinite(values[best]):
            return n_dims
        left, right = grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]
        result = optimize.minimize_scalar(
            lambda x: -float(_log_memory_capacity(np.array([x]), log_r, z)[0]),
            bounds=(left, right),
            method="bounded",
            options={"xatol": 1e-10},
        )
        return _radius_for_log_probability(n_dims, float(result.x))
    total = n_dims + 1
    unstable = []
    for radius in range(total):
        unstable.append(
            _unstable_point(n_dims, radius, n_patterns, None if n_neurons is None else log_r)
        )
        if progress is not None and ((radius + 1) % 64 == 0 or radius + 1 == total):
            progress(radius + 1, total)
    return int(np.argmax(unstable))
