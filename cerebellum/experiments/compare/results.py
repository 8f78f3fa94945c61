"""Stage 5 of the compare job: the ``results.json`` payload and the figures' arrays."""

from __future__ import annotations

from dataclasses import dataclass

from cerebellum.engines.readout import Readout
from cerebellum.experiments.compare.analysis import Analysis, _summary
from cerebellum.experiments.compare.config import (
    OUTPUT_METRICS,
    WEIGHT_METRICS,
    CompareConfig,
    ResolvedConfig,
)
from cerebellum.experiments.compare.run import EngineOutputs
from cerebellum.io.results_schema import SCHEMA_VERSION as RESULTS_SCHEMA_VERSION
from cerebellum.params import CircuitParams

__all__ = [
    "Comparison",
    "assemble",
]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Comparison:
    """Everything the comparison measured.

    Attributes
    ----------
    config : CompareConfig
    params : CircuitParams
    results : dict
        The ``results.json`` payload (schema in ``docs/results_schema.md``).
    readout : Readout
        The circuit's read of every query (noise levels in order).
    figure_data : dict
        Plain arrays for the figures.
    wall_time_s : float
    """

    config: CompareConfig
    params: CircuitParams
    results: dict
    readout: Readout
    figure_data: dict
    wall_time_s: float
    nwb_content: dict | None = None

    @property
    def exact_agreement_failed(self) -> bool:
        """Deterministic mode only: the circuit and NeuronSDM differ by more than 1e-9."""
        check = self.results["exact_check"]
        return check["applies"] and not check["passed"]


def assemble(
    resolved: ResolvedConfig,
    engines: EngineOutputs,
    analysis: Analysis,
    *,
    wall_time_s: float = 0.0,
    nwb: bool = False,
) -> Comparison:
    """Stage 5: the ``results.json`` payload and the figures' arrays.

    Parameters
    ----------
    resolved : ResolvedConfig
    engines : EngineOutputs
    analysis : Analysis
    wall_time_s : float
        Duration of the run so far.
    nwb : bool
        Keep the circuit run's spikes, rates, weights and epochs for ``spikes.nwb``.

    Returns
    -------
    Comparison
    """
    nwb_content = None
    if nwb:
        from cerebellum.io.nwb import run_content

        nwb_content = run_content(engines.run)
    return Comparison(
        config=resolved.config,
        params=resolved.params,
        results=_results_payload(resolved, engines, analysis),
        readout=engines.readout,
        figure_data=_figure_data(engines, analysis),
        wall_time_s=wall_time_s,
        nwb_content=nwb_content,
    )


def _results_payload(resolved: ResolvedConfig, engines: EngineOutputs, analysis: Analysis) -> dict:
    params, g, config = resolved.params, resolved.granule, resolved.config
    active_counts = engines.readout.active_granule.sum(axis=1)
    learned = analysis.learned
    return {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "config": config.to_dict(),
        "circuit": {
            "preset": params.name,
            "n_dims": g.n_dims,
            "n_neurons": g.n_neurons,
            "n_patterns": config.n_patterns,
            "activation": g.activation.value,
            "activation_radius": g.activation_radius,
            "equivalent_radius": resolved.equivalent_radius,
            "top_k": g.top_k,
            "n_inputs": g.n_inputs,
            "mode": params.dynamics.mode,
            "device": params.device.device,
            "active_granule_fraction": _summary(active_counts / g.n_neurons),
        },
        "noise_levels": list(resolved.noise_levels),
        "n_queries_per_level": config.n_queries,
        "engines": engines.engines,
        "metrics": list(WEIGHT_METRICS + OUTPUT_METRICS),
        "agreement": analysis.agreement,
        "recall": analysis.recall,
        "beta": {
            "circuit": analysis.circuit_beta,
            "theory": dict(analysis.theory_betas),
            "optimal_radii": analysis.optimal_radii,
            "learned_transformer": {
                "citation": learned.citation,
                "n": int(learned.beta.size),
                "mean": float(learned.beta.mean()),
                "min": float(learned.beta.min()),
                "max": float(learned.beta.max()),
            },
        },
        "activation_curve": analysis.activation_curve,
        "neuron_sweep": analysis.neuron_sweep,
        "exact_check": analysis.exact_check,
        "biophysical": analysis.biophysical,
    }


def _figure_data(engines: EngineOutputs, analysis: Analysis) -> dict:
    circuit_beta = analysis.circuit_beta
    measured = circuit_beta.get("beta") is not None
    return {
        "distances": analysis.distances.ravel(),
        "weights": {
            "circuit": engines.weights["circuit"].ravel(),
            "pattern_sdm (theory)": engines.weights["pattern_sdm"].ravel(),
            "attention (ols)": engines.weights["attention_ols"].ravel(),
        },
        "betas": {
            "circuit": circuit_beta.get("beta"),
            **{
                f"predicted: {name.replace('_', ' ')}": prediction["beta"]
                for name, prediction in circuit_beta.get("predictions", {}).items()
            },
            **{f"theory {method}": beta for method, beta in analysis.theory_betas.items()},
            **{
                f"optimal {criterion} (d={optimum['radius']})": optimum["beta_ols"]
                for criterion, optimum in analysis.optimal_radii.items()
                if optimum["beta_ols"] is not None
            },
        },
        "circuit_interval": (
            (circuit_beta["ci_low"], circuit_beta["ci_high"]) if measured else None
        ),
        "learned_betas": analysis.learned.beta,
        "window": engines.run.figures.get("window"),
        "populations": engines.run.figures.get("populations"),
    }
