"""What is specific to spiking circuits: decoding, literature rates, beta from spikes.

Decoding (a read-out choice, measured in the same run, not a formula inside the network):
with ``x_c`` the spike count of channel ``c``'s DCN cells (or Purkinje cells) in
``[onset + decode_delay, onset + T)`` of a read,

``read_c = (x_c - x_zero) / (x_one - x_zero)``,

the position of channel ``c`` between the two kinds of reference channel of the same read,
``x_zero`` and ``x_one`` being the mean counts of the ``k`` channels of each kind
(``LIFPurkinjeParams.n_reference_per_kind``): ``zero`` has had only LTP (baseline) and
``one`` LTD on every write (saturation). For a linear PC/DCN transfer this is
``sum_mu v_mu,c I_mu / sum_mu I_mu`` with ``I_mu`` the LTD-weighted overlap of the read's and
pattern ``mu``'s parallel-fibre activity -- the SDM read (Kanerva 1988) without a write-count
normaliser in the circuit; probe channel ``nu`` decodes to pattern ``nu``'s weight. The
references replace the algorithmic model's write-count MLI (which would be a hypothesis, not
a measured mechanism).

:func:`summarise` sets a biophysical :class:`~cerebellum.engines.base.CircuitRun` against the
mirror (:func:`compare_with_mirror`: NeuronSDM on the same wiring, attention at the beta
measured from spikes, theory's beta for the measured transfer curve) and against published
firing rates (:func:`rates_against_literature`): the ``biophysical`` section of
``results.json``.

References
----------
Kanerva, P. (1988). Sparse Distributed Memory. MIT Press.
"""

from __future__ import annotations

import numpy as np

from cerebellum.circuit.biophysical import REFERENCE_ONE, REFERENCE_ZERO, reference_channels
from cerebellum.engines.base import CircuitRun
from cerebellum.engines.readout import as_numpy, binary_matrix
from cerebellum.wiring import Wiring

__all__ = [
    "BIOPHYSICAL_TARGETS",
    "LITERATURE_RATES_HZ",
    "PER_LEVEL_MEASURES",
    "channel_counts",
    "beta_from_spikes",
    "compare_with_mirror",
    "decode",
    "rates_against_literature",
    "summarise",
]

#: Published firing-rate ranges (Hz) per population and the phases they apply to: ``(low,
#: high, phases, source)``. Granule cells: sparse, mostly silent at rest (~0.5 Hz spontaneous
#: in vivo, Chadderton, Margrie & Hausser 2004); the bound 5 Hz on the mean is our reading of
#: "sparse". Mossy fibres: a few Hz at rest up to hundreds of Hz when driven (Rancz et al.
#: 2007; Arenz et al. 2008); in a read half of the fibres are driven. Golgi cells 5-30 Hz
#: (Vos et al. 1999; Holtzman et al. 2006); molecular-layer interneurons 5-30 Hz (Jorntell &
#: Ekerot 2002; Hausser & Clark 1997); Purkinje simple spikes 40-100 Hz (Zhou et al. 2014);
#: deep-nuclear cells 20-60 Hz (Person & Raman 2012). Climbing fibres fire only the write
#: bursts here (their ~1 Hz spontaneous complex spikes, e.g. Zhou et al. 2014, are not
#: modelled), checked by the complex-spike counts, not by a rate.
LITERATURE_RATES_HZ = {
    "granule": (0.0, 5.0, ("background", "read"), "Chadderton et al. 2004 (sparse)"),
    "mossy": (1.0, 300.0, ("background", "read"), "Rancz et al. 2007; Arenz et al. 2008"),
    "golgi": (5.0, 30.0, ("background", "read"), "Vos et al. 1999; Holtzman et al. 2006"),
    "mli": (5.0, 30.0, ("background", "read"), "Jorntell & Ekerot 2002; Hausser & Clark 1997"),
    "purkinje": (40.0, 100.0, ("background", "read"), "Zhou et al. 2014"),
    "dcn": (20.0, 60.0, ("background", "read"), "Person & Raman 2012"),
}


def rates_against_literature(rates_hz: dict) -> list[dict]:
    """Each population's mean rate per phase beside its published range.

    Parameters
    ----------
    rates_hz : dict
        ``rates_hz[phase][population]``, per cell
        (:class:`~cerebellum.engines.biophysical_run.BiophysicalDetails`).

    Returns
    -------
    list of dict
        One row per population of :data:`LITERATURE_RATES_HZ`: ``population``, ``low_hz``,
        ``high_hz``, ``source``, ``phases`` (the phases the range applies to), per phase
        ``<phase>_mean_hz``, ``<phase>_median_hz`` and ``<phase>_p10_hz`` / ``_p90_hz``
        (across cells), and ``in_range`` (every applicable phase's mean inside the range).
    """
    rows = []
    for population, (low, high, phases, source) in LITERATURE_RATES_HZ.items():
        row = {"population": population, "low_hz": low, "high_hz": high, "source": source}
        row["phases"] = list(phases)
        inside = []
        for phase, by_population in rates_hz.items():
            rate = np.asarray(by_population[population], dtype=np.float64)
            mean = float(rate.mean())
            row[f"{phase}_mean_hz"] = mean
            row[f"{phase}_median_hz"] = float(np.median(rate))
            row[f"{phase}_p10_hz"] = float(np.percentile(rate, 10))
            row[f"{phase}_p90_hz"] = float(np.percentile(rate, 90))
            if phase in phases:
                inside.append(low <= mean <= high)
        row["in_range"] = bool(inside) and all(inside)
        rows.append(row)
    return rows


#: The per-noise-level measures of :func:`compare_with_mirror` (one array over the levels each;
#: ``probe_weight_error`` only with probe channels).
PER_LEVEL_MEASURES = (
    "cosine_dcn",
    "bit_agreement_dcn",
    "cosine_purkinje",
    "bit_agreement_purkinje",
    "cosine_attention_dcn",
    "bit_agreement_attention_dcn",
    "jaccard",
    "probe_weight_error",
)


def channel_counts(counts: np.ndarray, n_channels: int) -> np.ndarray:
    """Sum cell counts over the cells of each channel (channel-major groups)."""
    per = counts.shape[1] // n_channels
    return counts.reshape(counts.shape[0], n_channels, per).sum(axis=2)


def decode(
    channel_counts: np.ndarray, n_channels: int, per_kind: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(x_c - x_zero) / (x_one - x_zero)`` for every channel; NaN where the references tie.

    ``x_zero`` and ``x_one`` are the mean counts of the ``per_kind`` reference channels of
    each kind.
    """
    zero = channel_counts[:, reference_channels(n_channels, per_kind, REFERENCE_ZERO)]
    one = channel_counts[:, reference_channels(n_channels, per_kind, REFERENCE_ONE)]
    zero, one = zero.mean(axis=1), one.mean(axis=1)
    span = one - zero
    decoded = np.full((channel_counts.shape[0], n_channels), np.nan)
    ok = span != 0
    decoded[ok] = (channel_counts[ok, :n_channels] - zero[ok, None]) / span[ok, None]
    return decoded, np.stack([zero, one], axis=1)


def _cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.nan_to_num(np.asarray(a, dtype=np.float64))
    b = np.asarray(b, dtype=np.float64)
    norm = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return np.divide((a * b).sum(axis=1), norm, out=np.zeros(a.shape[0]), where=norm > 0)


def compare_with_mirror(
    run: CircuitRun,
    wiring: Wiring,
    patterns,
    values,
    *,
    noise,
    rng: np.random.Generator,
    query_set: int = 0,
) -> dict:
    """The measurements of the biophysical read against ``NeuronSDM`` on the same wiring.

    Oracle for every number: the mirror (:class:`models.sdm.NeuronSDM` from
    :meth:`cerebellum.wiring.Wiring.mirror`, hard rule) written with the same patterns and read
    with the same queries; attention is ``softmax(beta cos) @ values`` with the beta measured
    from spikes.

    Parameters
    ----------
    run : CircuitRun
        Made by the biophysical engine (its ``details`` hold the decoding's probes and the
        granule match counts).
    wiring : Wiring
    patterns : ndarray of shape (n_patterns, n_dims), {0, 1}
    values : ndarray of shape (n_patterns, n_values)
    noise : ndarray of int, shape (n_queries,)
        Flipped bits of each query of ``run.readouts[query_set]``.
    rng : numpy.random.Generator
        For the beta bootstrap.
    query_set : int
        Which readout.

    Returns
    -------
    dict
        ``noise_levels``; per level (arrays over levels) ``cosine_dcn``, ``bit_agreement_dcn``,
        ``cosine_purkinje``, ``bit_agreement_purkinje``, ``cosine_attention_dcn``,
        ``bit_agreement_attention_dcn``, ``jaccard``; the measured ``curve`` (ActivationCurve);
        ``beta_measured``, ``beta_ci`` (query-cluster bootstrap, from spike-set
        intersections), ``beta_predicted`` (theory for the measured curve), ``fit_radius``;
        ``probe_weight_error`` (mean absolute gap between the probe and theory weights per
        level).
    """
    import torch

    readout = run.readouts[query_set]
    queries = readout.queries
    patterns = binary_matrix("patterns", patterns, wiring.granule.n_dims)
    values = np.asarray(as_numpy("values", values), dtype=np.float64)
    noise = np.asarray(noise, dtype=np.int64)
    if noise.shape != (queries.shape[0],):
        raise ValueError(f"noise must have shape ({queries.shape[0]},); got {noise.shape}")
    mirror = wiring.mirror(values.shape[1])
    mirror.write(torch.as_tensor(patterns), torch.as_tensor(values))
    mirror_read = mirror.read(torch.as_tensor(queries)).numpy()
    matches = run.details.granule_match_counts[query_set]
    beta = beta_from_spikes(readout, matches, patterns, wiring, rng=rng)
    attention = beta["weights"] @ values
    out = _per_level(run, query_set, mirror_read, attention, beta, matches, wiring, noise)
    out.update(
        curve=beta["curve"],
        beta_measured=beta["estimate"].beta,
        beta_ci=(beta["estimate"].ci_low, beta["estimate"].ci_high),
        beta_predicted=beta["predicted"],
        fit_radius=beta["fit_radius"],
        mirror_read=mirror_read,
        attention_read=attention,
    )
    return out


def _per_level(run, query_set, mirror_read, attention, beta, matches, wiring, noise) -> dict:
    """Cosines, bit agreement, Jaccard and the probe-weight error, averaged per noise level."""
    readout = run.readouts[query_set]
    levels = np.unique(noise)

    def per_level(per_query: np.ndarray) -> np.ndarray:
        return np.array([per_query[noise == level].mean() for level in levels])

    out: dict = {"noise_levels": levels}
    pairs = {
        "dcn": (readout.read, mirror_read),
        "purkinje": (run.details.read_purkinje[query_set], mirror_read),
        "attention_dcn": (readout.read, attention),
    }
    for name, (a, b) in pairs.items():
        out[f"cosine_{name}"] = per_level(_cosine_rows(a, b))
        out[f"bit_agreement_{name}"] = per_level((np.nan_to_num(a) > 0.5) == (b > 0.5))
    out["jaccard"] = per_level(_jaccard_with_mirror(readout.active_granule, matches, wiring))
    probe = run.details.probe_weights_dcn[query_set]
    if probe.shape[1] == beta["theory_weights"].shape[1]:
        out["probe_weight_error"] = per_level(
            np.abs(np.nan_to_num(probe) - beta["theory_weights"]).mean(axis=1)
        )
    return out


def beta_from_spikes(readout, matches, patterns, wiring: Wiring, *, rng) -> dict:
    """Beta measured from spike-set intersections, and theory's beta for the measured curve.

    The transfer curve ``f(h)`` is estimated from the read's granule spikes and match counts;
    theory predicts beta for it (:func:`models.theory.fit_beta` at the radius with the same
    activation probability); the measured beta is a Poisson log-linear fit of the spiking
    intersections on ``cos = 1 - 2t/n`` over pairs at ``t < fit_radius``, with a query-cluster
    bootstrap interval (:func:`models.fitting.estimate_beta_counts`).

    Returns
    -------
    dict
        ``curve`` (measured), ``fit_radius``, ``predicted``, ``estimate`` (BetaEstimate),
        ``weights`` (softmax(beta cos) per query, shape (n_queries, n_patterns)) and
        ``theory_weights`` (the measured curve's expected intersections, normalised).
    """
    from models.fitting import estimate_beta_counts
    from models.soft_activation import (
        ActivationCurve,
        curve_activation_probability,
        curve_intersection,
        estimate_activation_curve,
    )
    from models.theory import fit_beta, nearest_radius

    queries = readout.queries
    n = wiring.granule.n_dims
    curve = estimate_activation_curve(
        matches, readout.active_granule, wiring.granule.n_synapses_per_cell
    )
    filled = curve
    if np.isnan(curve.probabilities).any():
        filled = ActivationCurve(np.nan_to_num(curve.probabilities), label="measured, NaN -> 0")
    fit_radius = max(2, nearest_radius(n, curve_activation_probability(filled)))
    predicted = fit_beta(n, filled, fit_radius=fit_radius).beta
    distances = (queries[:, None, :] != patterns[None, :, :]).sum(axis=2)
    cosines = 1.0 - 2.0 * distances / n
    near = distances < fit_radius
    clusters = np.broadcast_to(np.arange(queries.shape[0])[:, None], distances.shape)
    estimate = estimate_beta_counts(
        cosines[near], readout.pattern_intersections[near], clusters=clusters[near], rng=rng
    )
    logits = estimate.beta * cosines
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    theory = curve_intersection(n, filled, distances, wiring.granule.n_neurons)
    return {
        "curve": curve,
        "fit_radius": fit_radius,
        "predicted": predicted,
        "estimate": estimate,
        "weights": weights,
        "theory_weights": theory / theory.sum(axis=1, keepdims=True),
    }


def _jaccard_with_mirror(active: np.ndarray, matches: np.ndarray, wiring: Wiring) -> np.ndarray:
    """Per query: Jaccard index of the spiking active set and the mirror's hard-rule set."""
    granule = wiring.granule
    if granule.activation.selected:
        hard = matches == granule.n_synapses_per_cell
    else:
        hard = (granule.n_dims - matches) <= granule.activation_radius
    return (active & hard).sum(axis=1) / np.maximum((active | hard).sum(axis=1), 1)


#: The issue's acceptance targets for the biophysical read at noise 0 (against NeuronSDM).
BIOPHYSICAL_TARGETS = {"cosine_dcn": 0.9, "bit_agreement_dcn": 0.95}


def summarise(run: CircuitRun, *, params, wiring, patterns, values, noise, rng) -> dict:
    """The biophysical run measured against the mirror and against the literature.

    Oracles: NeuronSDM on the same wiring and patterns, attention at the beta measured from
    spikes and theory's beta for the measured transfer curve (:func:`compare_with_mirror`);
    published rate ranges (:data:`LITERATURE_RATES_HZ`); the protocol's own climbing-fibre
    schedule (bursts in writes only) and the rule's bounds.

    Parameters
    ----------
    run : CircuitRun
        From the biophysical engine.
    params : CircuitParams
    wiring : Wiring
    patterns : ndarray of shape (n_patterns, n_dims), {0, 1}
    values : ndarray of shape (n_patterns, n_values)
    noise : ndarray of int, shape (n_queries,)
    rng : numpy.random.Generator
        For the beta bootstrap.

    Returns
    -------
    dict
        The ``biophysical`` section of ``results.json`` (``docs/results_schema.md``).
    """
    measured = compare_with_mirror(
        run, wiring, np.asarray(patterns), np.asarray(values), noise=noise, rng=rng
    )
    per_level = {"noise_levels": [int(v) for v in measured["noise_levels"]]}
    for key in PER_LEVEL_MEASURES:
        if key in measured:
            per_level[key] = _nan_to_none(measured[key])
    at_zero = {
        key: per_level[key][0] if per_level["noise_levels"][0] == 0 else None
        for key in BIOPHYSICAL_TARGETS
    }
    details = run.details
    return {
        "decoding": _decoding_text(params, details),
        "per_level": per_level,
        # reads whose two kinds of reference tied (no scale to decode against): NaN, counted
        # here and scored as a read of 0 by the per-level measures
        "n_undecoded_reads": int(np.isnan(run.readouts[0].read).any(axis=1).sum()),
        "targets": dict(BIOPHYSICAL_TARGETS),
        "at_noise_0": at_zero,
        "meets_targets_at_noise_0": all(
            value is not None and value >= BIOPHYSICAL_TARGETS[key]
            for key, value in at_zero.items()
        ),
        "beta_from_spikes": _beta_from_spikes(measured),
        "rates": rates_against_literature(details.rates_hz),
        **_plasticity_checks(params, run),
        "calibration": _calibration(details.calibration),
        "performance": _performance(run),
    }


def _nan_to_none(values) -> list:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values, dtype=float)]


def _decoding_text(params, details) -> str:
    return (
        "read_c = (x_c - x_zero) / (x_one - x_zero) from DCN spike counts x in "
        f"[onset + {details.decode_delay_s * 1e3:g} ms, onset + "
        f"{details.presentation_s * 1e3:g} ms) of each read, against the reference "
        "channels of the same read (x_zero, x_one: the mean count of the "
        f"{params.cells.purkinje.n_reference_per_kind} channels of each kind; zero: LTP "
        "only; one: LTD on every write)"
    )


def _beta_from_spikes(measured: dict) -> dict:
    low, high = measured["beta_ci"]
    predicted = float(measured["beta_predicted"])
    return {
        "fit": "Poisson log-linear on spike-set intersections, query-cluster bootstrap",
        "fit_radius": int(measured["fit_radius"]),
        "beta": float(measured["beta_measured"]),
        "ci_low": float(low),
        "ci_high": float(high),
        "predicted": predicted,
        "predicted_label": "theory's fit_beta for the measured transfer curve",
        "inside_ci": bool(low <= predicted <= high),
    }


def _plasticity_checks(params, run: CircuitRun) -> dict:
    """Complex spikes only in writes; PF -> Purkinje weights inside the rule's bounds."""
    cf = params.cells.climbing
    n_per_channel = params.cells.purkinje.n_per_channel
    write_bursts = int(run.details.complex_spike_counts.sum()) // n_per_channel
    after = run.weights["after"]
    return {
        "complex_spikes": {
            "burst_spikes": int(cf.n_burst_spikes),
            "bursts_in_writes": write_bursts,
            "climbing_spikes_outside_writes": int(run.counts["n_spikes"]["climbing"])
            - write_bursts,
        },
        "pf_weights": {
            "w_initial": float(cf.w_initial),
            "w_max": float(cf.w_max),
            "before_mean": float(np.mean(run.weights["before"])),
            "after_mean": float(np.mean(after)),
            "after_min": float(np.min(after)),
            "after_max": float(np.max(after)),
        },
    }


def _calibration(calibration) -> dict | None:
    if calibration is None:
        return None
    return {
        "inhibition_scale": float(calibration.inhibition_scale),
        "target_fraction": float(calibration.target_fraction),
        "measured_fraction": float(calibration.measured_fraction),
        "fraction_sd": float(calibration.fraction_sd),
        "n_queries": int(calibration.fractions.size),
    }


def _performance(run: CircuitRun) -> dict:
    timings = dict(run.timings_s)
    wall = timings.get("total", float("nan"))
    simulated = run.counts["simulated_s"]
    events = run.counts["n_synaptic_events"]
    return {
        "simulated_s": float(simulated),
        "wall_s": float(wall),
        "simulated_s_per_wall_s": float(simulated / wall) if wall > 0 else None,
        "n_synaptic_events": int(events),
        "synaptic_events_per_wall_s": float(events / wall) if wall > 0 else None,
        "n_spikes": {pop: int(n) for pop, n in run.counts["n_spikes"].items()},
        "n_cells": {pop: int(n) for pop, n in run.counts["n_cells"].items()},
        "timings_s": {key: float(value) for key, value in timings.items()},
    }
