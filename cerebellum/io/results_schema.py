"""The schema of ``results.json`` (version 2), and a validator with no dependencies.

Version 2 (soft-activation theory): the circuit beta is a Poisson log-linear fit with a query
bootstrap and carries ``predictions`` per activation curve; ``activation_curve`` holds the
transfer curve measured from granule spikes beside the closed form of the circuit's rule.
An optional ``biophysical`` section (absent or null outside the biophysical mode, so version 2
files written before it still validate) holds that mode's measurements.

Documented field by field in ``docs/results_schema.md``. ``validate_results(payload)`` raises
``ValueError`` naming the first offending field (as a JSON path such as
``agreement.circuit__vs__neuron_sdm.output_cosine[2].mean``).

A *summary* is ``{"n", "n_finite", "mean", "ci_low", "ci_high"}``: the mean of a per-query
metric over the queries of one noise level and its 95% Student-t interval (``null`` when fewer
than two finite values); ``n_finite < n`` where a metric is undefined for some queries (e.g. a
query that activated no granule cell has no weight distribution).
"""

from __future__ import annotations

import json
import os
from numbers import Real

from models.activation import ActivationRule

__all__ = ["SCHEMA_VERSION", "load_results", "validate_results"]

SCHEMA_VERSION = 2

_NUMBER = "number"
_NUMBER_OR_NULL = "number|null"
_INT = "int"
_BOOL = "bool"
_BOOL_OR_NULL = "bool|null"
_STR = "str"
_STR_OR_NULL = "str|null"


def _fail(path: str, expected: str, got) -> None:
    raise ValueError(f"results.json field {path}: expected {expected}; got {got!r}")


def _check(value, kind: str, path: str) -> None:
    if kind == _INT:
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(path, "an integer", value)
    elif kind == _NUMBER:
        if isinstance(value, bool) or not isinstance(value, Real):
            _fail(path, "a number", value)
    elif kind == _NUMBER_OR_NULL:
        if value is not None and (isinstance(value, bool) or not isinstance(value, Real)):
            _fail(path, "a number or null", value)
    elif kind == _BOOL:
        if not isinstance(value, bool):
            _fail(path, "true or false", value)
    elif kind == _BOOL_OR_NULL:
        if value is not None and not isinstance(value, bool):
            _fail(path, "true, false or null", value)
    elif kind == _STR:
        if not isinstance(value, str):
            _fail(path, "a string", value)
    elif kind == _STR_OR_NULL:
        if value is not None and not isinstance(value, str):
            _fail(path, "a string or null", value)


def _object(value, keys: dict, path: str) -> None:
    if not isinstance(value, dict):
        _fail(path, "an object", type(value).__name__)
    for key, kind in keys.items():
        if key not in value:
            _fail(f"{path}.{key}", "to be present", "missing")
        _check(value[key], kind, f"{path}.{key}")


def _list(value, length: int | None, path: str) -> list:
    if not isinstance(value, list):
        _fail(path, "a list", type(value).__name__)
    if length is not None and len(value) != length:
        _fail(path, f"a list of {length} items", f"{len(value)} items")
    return value


_SUMMARY = {
    "n": _INT,
    "n_finite": _INT,
    "mean": _NUMBER_OR_NULL,
    "ci_low": _NUMBER_OR_NULL,
    "ci_high": _NUMBER_OR_NULL,
}
_CIRCUIT = {
    "preset": _STR,
    "n_dims": _INT,
    "n_neurons": _INT,
    "n_patterns": _INT,
    "activation": _STR,
    "equivalent_radius": _INT,
    "mode": _STR,
    "device": _STR,
}
_EXACT = {
    "applies": _BOOL,
    "tolerance": _NUMBER,
    "max_weight_abs_gap": _NUMBER,
    "max_output_relative_gap": _NUMBER,
    "active_set_mismatches": _INT,
    "passed": _BOOL,
}
_CIRCUIT_BETA = {
    "estimator": _STR,
    "beta": _NUMBER,
    "bias": _NUMBER,
    "ci_low": _NUMBER,
    "ci_high": _NUMBER,
    "confidence": _NUMBER,
    "n_points": _INT,
    "n_zero": _INT,
    "n_clusters": _INT,
    "n_resamples": _INT,
}
_PREDICTION = {
    "label": _STR,
    "beta": _NUMBER_OR_NULL,
    "inside_ci": _BOOL_OR_NULL,
    "theory_all_t_beta": _NUMBER_OR_NULL,
    "n_unobserved": _INT,
}
_CURVE = {"n_inputs": _INT, "confidence": _NUMBER, "closed_form_label": _STR_OR_NULL}
_CURVE_CHECK = {"n_observed": _INT, "n_inside": _INT}
_SWEEP_ROW = ("weight_tv_to_pattern_sdm", "output_cosine_to_pattern_sdm")
_SWEEP_ROW += ("output_cosine_to_attention_ols",)


_BIO_BETA = {
    "fit_radius": _INT,
    "beta": _NUMBER,
    "ci_low": _NUMBER,
    "ci_high": _NUMBER,
    "predicted": _NUMBER,
    "inside_ci": _BOOL,
}
_BIO_RATE = {"population": _STR, "low_hz": _NUMBER, "high_hz": _NUMBER, "in_range": _BOOL}
_BIO_LEVEL_KEYS = (
    "cosine_dcn",
    "bit_agreement_dcn",
    "cosine_purkinje",
    "bit_agreement_purkinje",
    "jaccard",
)


def _validate_biophysical(bio, n_levels: int) -> None:
    """The optional ``biophysical`` section (null outside the biophysical mode)."""
    _object(bio, {"decoding": _STR, "meets_targets_at_noise_0": _BOOL}, "biophysical")
    per = bio.get("per_level")
    _object(per, {}, "biophysical.per_level")
    _list(per.get("noise_levels"), n_levels, "biophysical.per_level.noise_levels")
    for key in _BIO_LEVEL_KEYS:
        path = f"biophysical.per_level.{key}"
        for i, value in enumerate(_list(per.get(key), n_levels, path)):
            _check(value, _NUMBER_OR_NULL, f"{path}[{i}]")
    _object(bio.get("beta_from_spikes"), _BIO_BETA, "biophysical.beta_from_spikes")
    for i, row in enumerate(_list(bio.get("rates"), None, "biophysical.rates")):
        _object(row, _BIO_RATE, f"biophysical.rates[{i}]")
    _object(
        bio.get("performance"),
        {"simulated_s": _NUMBER, "wall_s": _NUMBER, "n_synaptic_events": _INT},
        "biophysical.performance",
    )


def _validate_header(payload) -> list:
    """The version, ``config``, ``circuit`` and ``noise_levels``; returns the noise levels."""
    _object(
        payload,
        {"schema_version": _INT, "n_queries_per_level": _INT},
        "$",
    )
    if payload["schema_version"] != SCHEMA_VERSION:
        _fail("schema_version", str(SCHEMA_VERSION), payload["schema_version"])
    _object(payload.get("config"), {"seed": _INT, "preset": _STR}, "config")
    _object(payload.get("circuit"), _CIRCUIT, "circuit")
    activations = [rule.value for rule in ActivationRule]
    if payload["circuit"]["activation"] not in activations:
        _fail("circuit.activation", f"one of {activations}", payload["circuit"]["activation"])
    _object(
        payload["circuit"].get("active_granule_fraction"),
        _SUMMARY,
        "circuit.active_granule_fraction",
    )
    levels = _list(payload.get("noise_levels"), None, "noise_levels")
    for i, level in enumerate(levels):
        _check(level, _INT, f"noise_levels[{i}]")
    return levels


def _validate_agreement(payload, n_levels: int) -> None:
    """``engines``, ``metrics`` and ``agreement``: one summary per pair, metric and level."""
    engines = _list(payload.get("engines"), None, "engines")
    metric_names = _list(payload.get("metrics"), None, "metrics")
    agreement = payload.get("agreement")
    if not isinstance(agreement, dict):
        _fail("agreement", "an object", type(agreement).__name__)
    expected_pairs = {f"{a}__vs__{b}" for i, a in enumerate(engines) for b in engines[i + 1 :]}
    if set(agreement) != expected_pairs:
        _fail("agreement", f"one entry per engine pair {sorted(expected_pairs)}", sorted(agreement))
    for pair, by_metric in agreement.items():
        for metric in metric_names:
            rows = _list(by_metric.get(metric), n_levels, f"agreement.{pair}.{metric}")
            for i, row in enumerate(rows):
                _object(row, _SUMMARY, f"agreement.{pair}.{metric}[{i}]")


def _validate_recall(recall, n_levels: int) -> None:
    """``recall``: per engine, fractions and a bits-wrong summary per noise level."""
    if not isinstance(recall, dict) or not recall:
        _fail("recall", "an object with one entry per engine", recall)
    for engine, entry in recall.items():
        for key in ("exact_fraction", "converged_fraction"):
            for i, value in enumerate(_list(entry.get(key), n_levels, f"recall.{engine}.{key}")):
                _check(value, _NUMBER, f"recall.{engine}.{key}[{i}]")
        for i, row in enumerate(
            _list(entry.get("bits_wrong"), n_levels, f"recall.{engine}.bits_wrong")
        ):
            _object(row, _SUMMARY, f"recall.{engine}.bits_wrong[{i}]")


def _validate_circuit_beta(circuit_beta) -> None:
    """``beta.circuit``: a reason when not measurable, else the fit and its predictions."""
    if not isinstance(circuit_beta, dict):
        _fail("beta.circuit", "an object", circuit_beta)
    if circuit_beta.get("beta") is None:
        _object(circuit_beta, {"reason": _STR}, "beta.circuit")
        return
    _object(circuit_beta, _CIRCUIT_BETA, "beta.circuit")
    predictions = circuit_beta.get("predictions")
    if not isinstance(predictions, dict) or "own_rule" not in predictions:
        _fail("beta.circuit.predictions", "an object with an 'own_rule' entry", predictions)
    for name, prediction in predictions.items():
        if prediction.get("beta") is None:
            _object(prediction, {"label": _STR}, f"beta.circuit.predictions.{name}")
        else:
            _object(prediction, _PREDICTION, f"beta.circuit.predictions.{name}")


def _validate_beta(beta) -> None:
    """``beta``: the circuit's, theory's, the optimal radii's and the learned Transformers'."""
    _object(beta, {}, "beta")
    _validate_circuit_beta(beta.get("circuit"))
    _object(
        beta.get("theory"),
        {"ols": _NUMBER, "reference": _NUMBER, "softmax": _NUMBER},
        "beta.theory",
    )
    optimal = beta.get("optimal_radii")
    for criterion in ("snr", "memory", "critical_distance"):
        _object(
            (optimal or {}).get(criterion),
            {"radius": _INT, "beta_ols": _NUMBER_OR_NULL},
            f"beta.optimal_radii.{criterion}",
        )
    _object(
        beta.get("learned_transformer"),
        {"citation": _STR, "n": _INT, "mean": _NUMBER, "min": _NUMBER, "max": _NUMBER},
        "beta.learned_transformer",
    )


def _validate_sweep(sweep) -> None:
    """``neuron_sweep``: one row of summaries per number of granule cells."""
    for i, row in enumerate(_list(sweep, None, "neuron_sweep")):
        _object(row, {"n_neurons": _INT}, f"neuron_sweep[{i}]")
        for key in _SWEEP_ROW:
            _object(row.get(key), _SUMMARY, f"neuron_sweep[{i}].{key}")


def _validate_curve(curve) -> None:
    """``activation_curve``: the measured f(h), its interval, and the closed form if any."""
    _object(curve, _CURVE, "activation_curve")
    length = curve["n_inputs"] + 1
    for key, kind in (
        ("measured", _NUMBER_OR_NULL),
        ("ci_low", _NUMBER_OR_NULL),
        ("ci_high", _NUMBER_OR_NULL),
        ("n_observations", _INT),
    ):
        for i, value in enumerate(_list(curve.get(key), length, f"activation_curve.{key}")):
            _check(value, kind, f"activation_curve.{key}[{i}]")
    if curve.get("closed_form") is not None:
        for i, value in enumerate(
            _list(curve["closed_form"], length, "activation_curve.closed_form")
        ):
            _check(value, _NUMBER, f"activation_curve.closed_form[{i}]")
        _object(curve.get("closed_form_check"), _CURVE_CHECK, "activation_curve.closed_form_check")


def validate_results(payload: dict) -> None:
    """Check a ``results.json`` payload against schema version 2.

    The sections are checked in this order, and the first offending field is named:
    the header (``schema_version``, ``config``, ``circuit``, ``noise_levels``),
    ``agreement``, ``recall``, ``beta``, ``neuron_sweep``, ``exact_check``, ``biophysical``
    (when not null), ``activation_curve``.

    Parameters
    ----------
    payload : dict
        The parsed JSON.

    Raises
    ------
    ValueError
        Naming the first field that is missing or of the wrong type.
    """
    levels = _validate_header(payload)
    _validate_agreement(payload, len(levels))
    _validate_recall(payload.get("recall"), len(levels))
    _validate_beta(payload.get("beta"))
    _validate_sweep(payload.get("neuron_sweep"))
    _object(payload.get("exact_check"), _EXACT, "exact_check")
    if payload.get("biophysical") is not None:
        _validate_biophysical(payload["biophysical"], len(levels))
    _validate_curve(payload.get("activation_curve"))


def load_results(path: str | os.PathLike) -> dict:
    """Read and validate a ``results.json``.

    Parameters
    ----------
    path : str or path

    Returns
    -------
    dict
    """
    with open(path) as handle:
        payload = json.load(handle)
    validate_results(payload)
    return payload
