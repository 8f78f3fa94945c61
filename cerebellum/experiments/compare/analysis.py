"""Stage 4 of the compare job: agreement, recall, betas, the neuron-count sweep, the exact check."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import asdict, dataclass

import numpy as np
import torch

from cerebellum.circuit.transfer import measured_curve
from cerebellum.experiments.compare.config import (
    BETA_METHODS,
    EXACT_TOLERANCE,
    OPTIMAL_CRITERIA,
    Progress,
    ResolvedConfig,
    _silent,
)
from cerebellum.experiments.compare.run import EngineOutputs, Wired
from cerebellum.params import GranuleLayerParams
from cerebellum.wiring import sample_wiring
from models import metrics, theory
from models.activation import ActivationRule
from models.attention import AttentionMemory
from models.fitting import estimate_beta_counts
from models.recall import RecallResult, bits_wrong, recall
from models.reference import LearnedBetas, learned_qknorm_betas
from models.sdm import PatternSDM, hamming_distances
from models.soft_activation import ActivationCurve, log_curve_intersection

__all__ = [
    "Analysis",
    "analyse",
    "exact_check",
    "neuron_count_sweep",
]


# --------------------------------------------------------------------------- analysis


@dataclass(frozen=True, kw_only=True)
class Analysis:
    """Stage 4: every measurement, JSON-ready except ``distances`` and ``learned``.

    Attributes
    ----------
    agreement : dict
        ``{"<a>__vs__<b>": {metric: [summary per noise level]}}`` for every engine pair.
    recall : dict
        Per engine: ``exact_fraction``, ``bits_wrong``, ``converged_fraction`` per level.
    distances : ndarray of int, shape (n_queries_total, n_patterns)
        Hamming distance of every query to every pattern.
    circuit_beta : dict
        The circuit's Poisson log-linear beta with its query-bootstrap interval and the
        predictions it is set against (:func:`_circuit_beta`), or
        ``{"beta": None, "reason": ...}``.
    activation_curve : dict
        The granule transfer curve measured from spikes, the closed form of the circuit's rule
        and whether the closed form lies in the measured intervals (:func:`_curve_summary`).
    theory_betas : dict of str to float
        :func:`models.theory.fit_beta` at the equivalent radius, per method.
    optimal_radii : dict
        Per criterion: ``radius`` and its OLS ``beta_ols`` (None below d = 2).
    learned : LearnedBetas
        Learned betas of QK-normalised Transformers.
    neuron_sweep : list of dict
        :func:`neuron_count_sweep`.
    exact_check : dict
        :func:`exact_check` of the circuit against NeuronSDM.
    biophysical : dict or None
        The engine's own measurements (:meth:`Engine.summarise
        <cerebellum.engines.base.Engine.summarise>`: the biophysical engine's read against the
        mirror and rates against the literature); None for an engine without any.
    """

    agreement: dict
    recall: dict
    distances: np.ndarray
    circuit_beta: dict
    activation_curve: dict
    theory_betas: dict[str, float]
    optimal_radii: dict
    learned: LearnedBetas
    neuron_sweep: list[dict]
    exact_check: dict
    biophysical: dict | None = None


def analyse(
    resolved: ResolvedConfig,
    wired: Wired,
    engines: EngineOutputs,
    *,
    progress: Progress | None = None,
) -> Analysis:
    """Stage 4: agreement, recall, betas, the neuron-count sweep and the exact check.

    Parameters
    ----------
    resolved : ResolvedConfig
    wired : Wired
    engines : EngineOutputs
    progress : callable, optional
        Called with a label as each step starts.

    Returns
    -------
    Analysis
    """
    step = progress or _silent
    config, g = resolved.config, resolved.granule
    levels, d_eff = resolved.noise_levels, resolved.equivalent_radius
    device = config.torch_device
    queries_on_device = wired.queries.to(device)

    step("agreement metrics")
    agreement = _agreement(engines.weights, engines.outputs, wired.noise, levels)

    step("recall for every engine")
    recall_summary = _recall_all(config, wired, engines, levels, queries_on_device)

    step("beta from the circuit")
    distances = hamming_distances(wired.queries, wired.patterns).numpy()
    theory_betas = {
        method: theory.fit_beta(g.n_dims, d_eff, method=method).beta for method in BETA_METHODS
    }
    circuit_beta, activation_curve = _circuit_betas(resolved, wired, engines, distances)
    optimal = _optimal_radii(g, config.n_patterns)
    learned = learned_qknorm_betas()

    step("neuron-count sweep (mirror)")
    sweep = neuron_count_sweep(
        g,
        wired.patterns,
        wired.queries,
        factors=config.neuron_sweep,
        d_eff=d_eff,
        generator=resolved.generators.sweep,
        torch_device=device,
    )

    exact = _exact(engines, queries_on_device)
    step(f"the {engines.engine.name} engine's own measurements")
    own = engines.engine.summarise(
        engines.run,
        params=resolved.params,
        wiring=wired.wiring,
        patterns=wired.patterns.numpy(),
        values=wired.values.numpy(),
        noise=wired.noise,
        rng=resolved.generators.bootstrap,
    )
    return Analysis(
        biophysical=own,
        agreement=agreement,
        recall=recall_summary,
        distances=distances,
        circuit_beta=circuit_beta,
        activation_curve=activation_curve,
        theory_betas=theory_betas,
        optimal_radii=optimal,
        learned=learned,
        neuron_sweep=sweep,
        exact_check=exact,
    )


def _exact(engines: EngineOutputs, queries) -> dict:
    """:func:`exact_check` of the circuit against NeuronSDM (applies if its engine claims it)."""
    return exact_check(
        engines.weights["circuit"],
        engines.weights["neuron_sdm"],
        engines.outputs["circuit"],
        engines.outputs["neuron_sdm"],
        engines.readout.active_granule,
        engines.memories["neuron_sdm"].active(queries).cpu().numpy(),
        applies=engines.run.exact_sdm,
    )


def _recall_all(config, wired: Wired, engines: EngineOutputs, levels, queries) -> dict:
    """Iterated reads of every mirror engine (and the circuit's, when its engine made them)."""
    outcomes = {
        name: recall(memory, queries, max_steps=config.recall_steps, binarize=True)
        for name, memory in engines.memories.items()
    }
    if engines.run.recall is not None:
        outcomes = {"circuit": engines.run.recall, **outcomes}
    target_bits = wired.patterns[wired.targets]
    return {
        name: _recall_summary(outcome, target_bits, wired.noise, levels)
        for name, outcome in outcomes.items()
    }


def _circuit_betas(
    resolved: ResolvedConfig, wired: Wired, engines: EngineOutputs, distances: np.ndarray
) -> tuple[dict, dict]:
    """The circuit's beta against its own rule's and its measured curve's; the curve check."""
    g = resolved.granule
    rule = engines.run.activation
    measured = measured_curve(
        wired.wiring,
        wired.queries.numpy(),
        engines.readout.active_granule,
        rng=resolved.generators.bootstrap,
    )
    circuit_beta = _circuit_beta(
        engines.readout.pattern_intersections,
        distances,
        g.n_dims,
        resolved.equivalent_radius,
        n_neurons=g.n_neurons,
        curves={
            "own_rule": (rule["label"], rule["curve"]),
            "measured_curve": ("transfer curve measured from granule spikes", measured),
        },
        rng=resolved.generators.bootstrap,
    )
    return circuit_beta, _curve_summary(measured, rule["closed_form"])


def _optimal_radii(g, n_patterns: int) -> dict:
    """Per criterion: the optimal radius for this size and its OLS beta (None below d = 2)."""
    optimal = {}
    for criterion in OPTIMAL_CRITERIA:
        radius = int(
            theory.optimal_radius(g.n_dims, n_patterns, n_neurons=g.n_neurons, criterion=criterion)
        )
        beta = float(theory.fit_beta(g.n_dims, radius).beta) if radius >= 2 else None
        optimal[criterion] = {"radius": radius, "beta_ols": beta}
    return optimal


def _agreement(weights: dict, outputs: dict, noise: np.ndarray, levels) -> dict:
    """Every metric for every engine pair, summarised per noise level."""
    agreement = {}
    for a, b in itertools.combinations(weights, 2):
        by_metric = _pair_metrics(weights[a], weights[b], outputs[a], outputs[b])
        agreement[f"{a}__vs__{b}"] = {
            metric: [_summary(per_query[noise == level]) for level in levels]
            for metric, per_query in by_metric.items()
        }
    return agreement


def _recall_summary(outcome: RecallResult, target_bits, noise: np.ndarray, levels) -> dict:
    wrong = bits_wrong(outcome.final.cpu(), target_bits).numpy()
    converged = outcome.converged.cpu().numpy()
    return {
        "exact_fraction": [float(np.mean(wrong[noise == level] == 0)) for level in levels],
        "bits_wrong": [_summary(wrong[noise == level]) for level in levels],
        "converged_fraction": [float(np.mean(converged[noise == level])) for level in levels],
    }


def _rowwise(metric, a: np.ndarray, b: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``metric`` on the rows where ``valid``; NaN elsewhere (e.g. a query that activated no
    neuron has no weight distribution)."""
    out = np.full(a.shape[0], np.nan)
    if valid.any():
        out[valid] = metric(a[valid], b[valid])
    return out


def _pair_metrics(weights_a, weights_b, out_a, out_b) -> dict[str, np.ndarray]:
    valid = (weights_a.sum(axis=1) > 0) & (weights_b.sum(axis=1) > 0)
    # A read that could not be decoded (the biophysical references tied: NaN) has no output
    # metric; it counts as non-finite in the summaries.
    decoded = np.isfinite(out_a).all(axis=1) & np.isfinite(out_b).all(axis=1)
    centred_a, centred_b = 2.0 * out_a - 1.0, 2.0 * out_b - 1.0
    return {
        "weight_kl": _rowwise(metrics.kl_divergence, weights_a, weights_b, valid),
        "weight_tv": _rowwise(metrics.total_variation, weights_a, weights_b, valid),
        "weight_cosine": _rowwise(metrics.cosine_similarity, weights_a, weights_b, valid),
        "weight_spearman": _rowwise(metrics.spearman_correlation, weights_a, weights_b, valid),
        "output_cosine": _rowwise(metrics.cosine_similarity, centred_a, centred_b, decoded),
        "output_max_abs_error": _rowwise(metrics.max_abs_error, out_a, out_b, decoded),
    }


def _summary(values: np.ndarray) -> dict:
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    out = {"n": int(values.size), "n_finite": int(finite.size)}
    if finite.size == 0:
        return {**out, "mean": None, "ci_low": None, "ci_high": None}
    s = metrics.summarize(finite)
    return {**out, "mean": float(s.mean), "ci_low": float(s.low), "ci_high": float(s.high)}


def neuron_count_sweep(
    granule: GranuleLayerParams,
    patterns: torch.Tensor,
    queries: torch.Tensor,
    *,
    factors,
    d_eff: int,
    generator: torch.Generator,
    torch_device: str = "cpu",
) -> list[dict]:
    """Mirror only: NeuronSDM's gap to PatternSDM and its agreement with attention against r.

    For each factor f in ``factors`` a fresh population of ``round(f r)`` neurons is sampled
    from ``generator`` (top-k scales k by f too, so the activation fraction stays), the same
    patterns are written and the same queries read.

    Parameters
    ----------
    granule : GranuleLayerParams
        The circuit's granule layer (r and the activation rule).
    patterns : Tensor of shape (n_patterns, n_dims), uint8
    queries : Tensor of shape (n_queries, n_dims), uint8
    factors : sequence of float
        Multiples of r.
    d_eff : int
        Equivalent radius for PatternSDM and the attention beta.
    generator : torch.Generator
    torch_device : str

    Returns
    -------
    list of dict
        One row per distinct population size, ascending: ``n_neurons`` and summaries of
        ``weight_tv_to_pattern_sdm``, ``output_cosine_to_pattern_sdm`` and
        ``output_cosine_to_attention_ols``.
    """
    g, device = granule, torch_device
    values = patterns.double().to(device)
    reference = PatternSDM(g.n_dims, d_eff).to(device)
    reference.write(patterns.to(device), values)
    attention = AttentionMemory(n_dims=g.n_dims, activation_radius=d_eff, method="ols").to(device)
    attention.write(patterns.to(device), values)
    q = queries.to(device)
    w_ref = reference.weights(q).double().cpu().numpy()
    out_ref = reference.read(q).double().cpu().numpy()
    out_att = attention.read(q).double().cpu().numpy()
    rows = []
    sizes = sorted({max(1, round(g.n_neurons * factor)) for factor in factors})
    for n_neurons in sizes:
        changes = {"n_neurons": n_neurons}
        if g.activation is ActivationRule.TOP_K:  # keep the activation fraction k / r
            changes["top_k"] = max(1, min(n_neurons, round(g.top_k * n_neurons / g.n_neurons)))
        memory = sample_wiring(dataclasses.replace(g, **changes), generator=generator).mirror(
            g.n_dims
        )
        memory = memory.to(device)
        memory.write(patterns.to(device), values)
        w = memory.weights(q).double().cpu().numpy()
        out = memory.read(q).double().cpu().numpy()
        to_reference = _pair_metrics(w, w_ref, out, out_ref)
        to_attention = _pair_metrics(w, w_ref, out, out_att)
        rows.append(
            {
                "n_neurons": n_neurons,
                "weight_tv_to_pattern_sdm": _summary(to_reference["weight_tv"]),
                "output_cosine_to_pattern_sdm": _summary(to_reference["output_cosine"]),
                "output_cosine_to_attention_ols": _summary(to_attention["output_cosine"]),
            }
        )
    return rows


def _circuit_beta(
    counts: np.ndarray,
    distances: np.ndarray,
    n_dims: int,
    d_eff: int,
    *,
    n_neurons: int,
    curves: dict[str, tuple[str | None, ActivationCurve]],
    rng: np.random.Generator,
) -> dict:
    """The circuit's beta from its intersection counts, set against predictions for curves.

    Poisson log-linear fit of the counts at pairs with distance ``t < d`` on the cosine, zero
    counts kept (:func:`models.fitting.estimate_beta_counts`), with a 95% interval from 1000
    bootstrap resamples of whole queries (a query's pairs share one active set). Each curve's
    prediction is the same fit applied to its expected counts ``r E[f(h_q) f(h_p)]`` at exactly
    the same pairs, so prediction and measurement differ only by the counts' randomness; its
    ``theory_all_t_beta`` is the OLS fit over every t = 0..d-1 once (Bricken & Pehlevan's
    design), for reference.

    Parameters
    ----------
    counts : ndarray of shape (n_queries, n_patterns)
        The circuit's intersection counts (``Readout.pattern_intersections``).
    distances : ndarray of int, same shape
    n_dims, d_eff : int
    n_neurons : int
        ``r``, the granule cells.
    curves : dict of str to (label, ActivationCurve)
        Predictions to make, by name; a label of None uses the curve's own label. A measured
        curve is filled at unobserved ``h`` first (:meth:`ActivationCurve.filled`).
    rng : numpy.random.Generator
        The bootstrap's resamples.

    Returns
    -------
    dict
        The :class:`~models.fitting.CountBetaEstimate` fields, ``estimator``,
        ``distance_range`` and ``predictions`` (per name: ``label``, ``beta``, ``inside_ci``,
        ``theory_all_t_beta``, ``n_unobserved``), or ``{"beta": None, "reason": ...}``.
    """
    in_range = distances < max(d_eff, 1)
    cosines = 1.0 - 2.0 * distances[in_range] / n_dims
    clusters = np.broadcast_to(np.arange(distances.shape[0])[:, None], distances.shape)
    try:
        estimate = estimate_beta_counts(
            cosines, counts[in_range], clusters=clusters[in_range], n_resamples=1000, rng=rng
        )
    except ValueError as error:
        return {"beta": None, "reason": str(error)}
    out = {
        "estimator": "poisson_loglinear_query_bootstrap",
        **asdict(estimate),
        "distance_range": [0, int(max(d_eff, 1) - 1)],
    }
    predictions = {}
    for name, (label, curve) in curves.items():
        n_unobserved = curve.n_unobserved
        if n_unobserved == curve.probabilities.size:
            predictions[name] = {"label": label or curve.label, "beta": None}
            continue
        curve = curve.filled()
        log_shared = log_curve_intersection(n_dims, curve, distances[in_range])
        expected = n_neurons * np.exp(np.asarray(log_shared))
        try:
            beta = estimate_beta_counts(cosines, expected).beta
        except ValueError:  # the curve predicts no shared cell at any fitted pair
            beta = None
        try:
            all_t = theory.fit_beta(n_dims, curve, fit_radius=max(d_eff, 2)).beta
        except ValueError:
            all_t = None
        predictions[name] = {
            "label": label or curve.label,
            "beta": beta,
            "inside_ci": None if beta is None else estimate.contains(beta),
            "theory_all_t_beta": all_t,
            "n_unobserved": n_unobserved,
        }
    out["predictions"] = predictions
    return out


def _nan_to_none(values) -> list:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values, dtype=float)]


def _curve_summary(measured: ActivationCurve, closed_form: ActivationCurve | None) -> dict:
    """The measured transfer curve and, where the rule has one, its closed form.

    ``closed_form_check`` counts the observed ``h`` whose closed-form value lies inside the
    measured Clopper-Pearson interval.
    """
    observed = measured.n_observations > 0
    out = {
        "n_inputs": measured.n_inputs,
        "confidence": measured.confidence,
        "measured": _nan_to_none(measured.probabilities),
        "ci_low": _nan_to_none(measured.ci_low),
        "ci_high": _nan_to_none(measured.ci_high),
        "n_observations": [int(v) for v in measured.n_observations],
        "closed_form": None,
        "closed_form_label": None,
        "closed_form_check": None,
    }
    if closed_form is not None:
        f = closed_form.probabilities
        inside = (f >= measured.ci_low - 1e-12) & (f <= measured.ci_high + 1e-12)
        outside = np.flatnonzero(observed & ~inside)
        out["closed_form"] = [float(v) for v in f]
        out["closed_form_label"] = closed_form.label
        out["closed_form_check"] = {
            "n_observed": int(observed.sum()),
            "n_inside": int((observed & inside).sum()),
            "outside_h": [int(h) for h in outside],
        }
    return out


def exact_check(
    circuit_weights: np.ndarray,
    mirror_weights: np.ndarray,
    circuit_outputs: np.ndarray,
    mirror_outputs: np.ndarray,
    circuit_active: np.ndarray,
    mirror_active: np.ndarray,
    *,
    applies: bool,
    tolerance: float = EXACT_TOLERANCE,
) -> dict:
    """Whether the algorithmic circuit equals its exact mirror (docs/design.md: any gap is a bug).

    Parameters
    ----------
    circuit_weights, mirror_weights : ndarray of shape (n_queries, n_patterns)
    circuit_outputs, mirror_outputs : ndarray of shape (n_queries, n_values)
    circuit_active, mirror_active : ndarray of bool, shape (n_queries, n_neurons)
        Active granule cells / active mirror neurons.
    applies : bool
        True in the algorithmic mode; the Poisson mode agrees only statistically.
    tolerance : float
        Largest allowed absolute weight gap and relative output gap.

    Returns
    -------
    dict
        ``applies``, ``tolerance``, ``max_weight_abs_gap``, ``max_output_relative_gap``
        (relative to ``max(|mirror output|, 1)``: absolute for reads of {0, 1} values, relative
        for large values; over the finite outputs), ``non_finite_outputs`` (outputs that are NaN
        or infinite: a biophysical read that could not be decoded; a failure where the check
        applies), ``active_set_mismatches`` and ``passed``.
    """
    weight_gap = float(np.abs(circuit_weights - mirror_weights).max(initial=0.0))
    scale = np.maximum(np.abs(mirror_outputs), 1.0)
    relative = np.abs(circuit_outputs - mirror_outputs) / scale
    finite = np.isfinite(relative)
    output_gap = float(relative[finite].max(initial=0.0))
    mismatches = int((np.asarray(circuit_active) != np.asarray(mirror_active)).sum())
    undecoded = int((~finite).sum())
    return {
        "applies": bool(applies),
        "tolerance": float(tolerance),
        "max_weight_abs_gap": weight_gap,
        "max_output_relative_gap": output_gap,
        "non_finite_outputs": undecoded,
        "active_set_mismatches": mismatches,
        "passed": bool(
            weight_gap <= tolerance
            and output_gap <= tolerance
            and mismatches == 0
            and undecoded == 0
        ),
    }
