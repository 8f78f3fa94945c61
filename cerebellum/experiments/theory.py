"""The exact SDM theory of one setting, as one JSON-ready dict (``cerebellar-sdm theory``).

:func:`theory_results` gathers, from :mod:`models.theory`, the activation probability, the
expected number of active neurons, the softmax beta by every fit method, the optimal radii
(Bricken & Pehlevan 2021, Appendix B.5), the critical distance and the circle intersections at
the distances of :func:`table_distances`. Numbers beyond the float range are given by their
natural logarithm (``None`` where the value itself is not representable). Brian2 is never
imported.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from models import theory

__all__ = ["THEORY_STAGES", "table_distances", "theory_results"]

#: How many times :func:`theory_results` calls its ``step`` callback.
THEORY_STAGES = 5


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _exp_or_none(log_value: float) -> float | None:
    """exp(log_value), or None where it is not representable as a float."""
    if log_value == -math.inf:
        return 0.0
    if not math.isfinite(log_value) or log_value > 709.0:
        return None
    return math.exp(log_value)


def _silent(label: str) -> None:
    """A progress callback that shows nothing."""


def table_distances(n_dims: int, radius: int, rows: int = 10) -> list[int]:
    """About ``rows`` Hamming distances from 0 to past ``2 * radius`` (where two circles of
    radius ``radius`` stop intersecting), always including ``2 * radius`` and ``2 * radius + 1``
    where they are at most ``n_dims``.

    Parameters
    ----------
    n_dims : int
        Address length n.
    radius : int
        Activation radius d.
    rows : int
        The approximate number of distances.

    Returns
    -------
    list of int
        Sorted distances.
    """
    last = min(2 * radius + 1, n_dims)
    step = max(1, math.ceil((last + 1) / rows))
    distances = list(range(0, last + 1, step))
    for extra in (2 * radius, 2 * radius + 1):
        if extra <= n_dims and extra not in distances:
            distances.append(extra)
    return sorted(distances)


def _log_expected_active(n_dims: int, radius: int, n_neurons: int | None) -> float:
    """ln of the expected active neurons p * r: a circle's intersection with itself (t = 0)."""
    try:
        active = float(theory.circle_intersection(n_dims, radius, 0, n_neurons=n_neurons))
        return math.log(active) if active > 0 else -math.inf
    except ValueError:  # beyond the float range: every address is a neuron, so ln N(0)
        if n_neurons is not None:
            raise
        return float(theory.log_circle_intersection(n_dims, radius, 0))


def _beta_fits(n_dims: int, radius: int) -> dict:
    betas = {}
    for method in ("ols", "reference", "softmax"):
        try:
            fit = theory.fit_beta(n_dims, radius, method=method)
        except ValueError as error:  # e.g. radius too small for a regression
            betas[method] = {"error": str(error)}
            continue
        betas[method] = {"beta": fit.beta, "bias": fit.bias, "r_squared": fit.r_squared}
    return betas


def _optimal_radii(n_dims, n_patterns, n_neurons, step, scan) -> dict:
    optimal = {}
    for criterion, label in (
        ("snr", "optimal radius (snr)"),
        ("memory", "optimal radius (memory)"),
        ("critical_distance", f"optimal radius (critical distance: {n_dims + 1} radii)"),
    ):
        step(label)
        optimal[criterion] = theory.optimal_radius(
            n_dims,
            n_patterns,
            n_neurons,
            criterion=criterion,
            progress=scan if criterion == "critical_distance" else None,
        )
    return optimal


def _intersections(n_dims: int, radius: int, n_neurons: int | None) -> list[dict]:
    distances = table_distances(n_dims, radius)
    log_counts = theory.log_circle_intersection(n_dims, radius, distances)
    cosines = theory.hamming_to_cosine(distances, n_dims)
    rows = []
    for distance, cosine, log_count in zip(distances, cosines, log_counts, strict=True):
        try:
            expected = float(
                theory.circle_intersection(n_dims, radius, distance, n_neurons=n_neurons)
            )
        except ValueError:  # beyond the float range
            expected = None
        rows.append(
            {
                "distance": int(distance),
                "cosine": float(cosine),
                "log_intersection": _finite_or_none(float(log_count)),
                "expected_neurons": expected,
            }
        )
    return rows


def theory_results(
    n_dims: int,
    radius: int,
    n_neurons: int | None = None,
    n_patterns: int = 1024,
    *,
    step: Callable[[str], None] | None = None,
    scan: Callable[[int, int], None] | None = None,
) -> dict:
    """The exact SDM theory of one setting.

    Parameters
    ----------
    n_dims : int
        Address length n.
    radius : int
        Activation radius d in bits.
    n_neurons : int, optional
        Neurons r at random addresses; None means every one of the 2^n addresses.
    n_patterns : int
        Stored patterns m for the optimal radii and the critical distance.
    step : callable, optional
        ``step(label)`` as each of the :data:`THEORY_STAGES` stages after the first begins.
    scan : callable, optional
        ``scan(done, total)`` inside the critical-distance radius scan.

    Returns
    -------
    dict
        JSON-ready (no NaN or infinity): ``n_dims``, ``activation_radius``, ``n_neurons``,
        ``n_patterns``, ``activation_probability``, ``log_expected_active_neurons``,
        ``expected_active_neurons``, ``beta`` (per fit method: ``beta``, ``bias``,
        ``r_squared``, or ``error``), ``optimal_radius`` (per criterion), ``critical_distance``
        and ``intersections`` (rows of ``distance``, ``cosine``, ``log_intersection``,
        ``expected_neurons``).

    Raises
    ------
    ValueError
        For sizes :mod:`models.theory` refuses (e.g. a radius outside [0, n_dims]).
    """
    step = step or _silent
    probability = theory.activation_probability(n_dims, radius)
    log_active = _log_expected_active(n_dims, radius, n_neurons)
    step("beta fits")
    betas = _beta_fits(n_dims, radius)
    optimal = _optimal_radii(n_dims, n_patterns, n_neurons, step, scan)
    step("critical distance and intersections")
    rows = _intersections(n_dims, radius, n_neurons)
    return {
        "n_dims": n_dims,
        "activation_radius": radius,
        "n_neurons": n_neurons,
        "n_patterns": n_patterns,
        "activation_probability": probability,
        "log_expected_active_neurons": _finite_or_none(log_active),
        "expected_active_neurons": _exp_or_none(log_active),
        "beta": betas,
        "optimal_radius": optimal,
        "critical_distance": theory.critical_distance(n_dims, radius, n_patterns, n_neurons),
        "intersections": rows,
    }
