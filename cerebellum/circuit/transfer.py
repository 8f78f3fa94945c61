"""The granule layer's activation (transfer) curve f(h), predicted and measured.

A granule cell with ``h`` of its ``K`` mossy-fibre inputs matching the query fires with
probability ``f(h)`` (:class:`models.soft_activation.ActivationCurve`). Theory turns any such
curve into predicted pattern weights and a predicted beta
(:func:`models.soft_activation.log_curve_intersection`, :func:`models.theory.fit_beta`). This
module supplies the two curves the comparison sets against the circuit:

- :func:`closed_form_curve` -- the circuit's own rule in closed form: the step ``1[h > theta]``
  of the algorithmic counter cell (the Hamming ball of radius d, or all ``K`` selected inputs),
  and in the Poisson mode the Bernoulli-count curve
  ``P[Bin(h T, p_on) + Bin((K - h) T, p_off) > theta]`` of the same counter fed by Bernoulli
  spike trains (``T = presentation / dt`` steps). Top-k activation is a competition between
  cells, not a per-cell curve: it has none.
- :func:`measured_curve` -- the curve estimated from the circuit's own spikes: for each ``h``
  the fraction of (query, cell) pairs with ``h`` matching inputs in which the cell fired, with
  an interval that resamples whole queries (widened to the Clopper-Pearson interval).

The threshold ``theta = (K - d - 1/2) lam_on + (d + 1/2) lam_off`` (``lam = T p``, the mean
count of one fibre over the window; ``d = 0`` for the selected rules) is the counter cell's, see
:mod:`cerebellum.circuit.algorithmic.granule`.
"""

from __future__ import annotations

import numpy as np

from cerebellum.params import CircuitParams, DynamicsParams, GranuleLayerParams
from cerebellum.wiring import Wiring
from models import theory
from models.activation import ActivationRule
from models.soft_activation import (
    ActivationCurve,
    bernoulli_count_curve,
    estimate_activation_curve,
)

__all__ = [
    "activation_of",
    "closed_form_curve",
    "count_threshold",
    "equivalent_radius",
    "measured_curve",
]


def count_threshold(granule: GranuleLayerParams, dynamics: DynamicsParams) -> float:
    """``theta``: the counter granule cell fires iff its window count exceeds it.

    Parameters
    ----------
    granule : GranuleLayerParams
    dynamics : DynamicsParams

    Returns
    -------
    float
        0 for top-k (whose cells compare with the Golgi level instead).
    """
    if granule.activation is ActivationRule.TOP_K:
        return 0.0
    lam_on = dynamics.n_input_steps * dynamics.spike_probability_on
    lam_off = dynamics.n_input_steps * dynamics.spike_probability_off
    radius = 0 if granule.activation.selected else granule.activation_radius
    return (granule.n_synapses_per_cell - radius - 0.5) * lam_on + (radius + 0.5) * lam_off


def closed_form_curve(params: CircuitParams) -> ActivationCurve | None:
    """The activation curve of the circuit's own rule, or None for top-k.

    Parameters
    ----------
    params : CircuitParams
        The algorithmic (counter) granule model in the algorithmic or Poisson mode.

    Returns
    -------
    ActivationCurve or None
        Over ``h = 0..K``, ``K`` = synapses per granule cell (``n_dims`` for the canonical
        wiring, ``n_inputs`` for the selected rules).
    """
    if not isinstance(params, CircuitParams):
        raise TypeError(f"params must be a CircuitParams; got {type(params).__name__}")
    g, dyn = params.granule, params.dynamics
    if g.activation is ActivationRule.TOP_K:
        return None
    k = g.n_synapses_per_cell
    theta = count_threshold(g, dyn)
    if dyn.mode == "poisson":
        return bernoulli_count_curve(
            k, dyn.n_input_steps, dyn.spike_probability_on, dyn.spike_probability_off, theta
        )
    radius = 0 if g.activation.selected else g.activation_radius
    curve = ActivationCurve.hard_threshold(k, radius)
    return ActivationCurve(curve.probabilities, label=f"hard threshold (h > {theta:g})")


def measured_curve(
    wiring: Wiring,
    bits,
    active_granule,
    *,
    rng: np.random.Generator,
    confidence: float = 0.95,
    n_resamples: int = 1000,
) -> ActivationCurve:
    """The transfer curve estimated from the circuit's granule spikes.

    Parameters
    ----------
    wiring : Wiring
        The circuit's wiring (gives each cell's matching inputs ``h`` for each query).
    bits : ndarray of shape (n_queries, n_dims), uint8
        The queries that were read.
    active_granule : ndarray of bool, shape (n_queries, n_neurons)
        Which granule cells fired for each query (``Readout.active_granule``).
    rng : numpy.random.Generator
        Source of the bootstrap over queries: the cells of one read share its mossy-fibre
        spike trains, so queries, not (query, cell) pairs, are the independent units
        (:func:`models.soft_activation.estimate_activation_curve` with ``clusters``).
    confidence : float
        Level of the intervals.
    n_resamples : int
        Bootstrap resamples.

    Returns
    -------
    ActivationCurve
        With ``ci_low``, ``ci_high``, ``n_observations``; NaN where no cell had that ``h``.
    """
    if not isinstance(wiring, Wiring):
        raise TypeError(f"wiring must be a Wiring; got {type(wiring).__name__}")
    matches = np.rint(wiring.match_counts(np.asarray(bits, dtype=np.uint8))).astype(np.int64)
    fired = np.asarray(active_granule, dtype=bool)
    if fired.shape != matches.shape:
        raise ValueError(
            f"active_granule must have shape {matches.shape} (n_queries, n_neurons); "
            f"got {fired.shape}"
        )
    k = wiring.granule.n_synapses_per_cell
    queries = np.arange(matches.shape[0])[:, None]
    return estimate_activation_curve(
        matches,
        fired,
        k,
        confidence=confidence,
        clusters=queries,
        n_resamples=n_resamples,
        rng=rng,
    )


def equivalent_radius(granule: GranuleLayerParams) -> int:
    """The Hamming radius d whose activation probability best matches the granule layer's.

    Parameters
    ----------
    granule : GranuleLayerParams

    Returns
    -------
    int
        ``activation_radius`` for the radius rule; otherwise the radius whose activation
        probability is closest, on a log scale, to ``k / r`` (top-k) or ``2**-n_inputs``
        (selected coordinates and hyperplanes, for a query with independent fair bits). It is
        an approximation for those rules: their weights follow other laws.
    """
    rule = granule.activation
    if rule is ActivationRule.RADIUS:
        return int(granule.activation_radius)
    if rule is ActivationRule.TOP_K:
        probability = granule.top_k / granule.n_neurons
    else:
        probability = 2.0**-granule.n_inputs
    return theory.nearest_radius(granule.n_dims, probability)


def activation_of(params: CircuitParams) -> dict:
    """The algorithmic circuit's own activation rule, for the beta prediction.

    Parameters
    ----------
    params : CircuitParams

    Returns
    -------
    dict
        ``label``, ``curve`` (the rule's curve, or for top-k the equivalent-radius ball, an
        approximation) and ``closed_form`` (:func:`closed_form_curve`; None for top-k).
    """
    g = params.granule
    closed_form = closed_form_curve(params)
    curve = closed_form
    if curve is None:  # top-k: a competition, not a per-cell curve
        d_eff = equivalent_radius(g)
        curve = ActivationCurve.hard_threshold(g.n_dims, d_eff)
        label = (
            f"equivalent-radius Hamming ball d = {d_eff} (an approximation: top-k has no "
            "per-cell activation curve)"
        )
    elif params.dynamics.mode == "poisson":
        label = "Bernoulli-count closed form of the Poisson mode"
    elif g.activation is ActivationRule.RADIUS:
        label = f"Hamming ball of radius d = {g.activation_radius}"
    else:
        label = f"{g.activation.description} (K = {g.n_inputs})"
    return {"label": label, "curve": curve, "closed_form": closed_form}
