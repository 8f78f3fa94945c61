r"""The comparison job: does the spiking cerebellum compute attention?

One wiring, two engines (docs/design.md section 2). The granule-cell addresses are sampled once; the
same arrays build the Brian2 circuit and the :class:`models.sdm.NeuronSDM` mirror. The job
writes ``m`` random patterns autoassociatively (address = value = the pattern's bits, carried by
the climbing fibres), adds one one-hot Purkinje channel per pattern so the circuit exposes each
pattern's weight directly (heteroassociation with one-hot values), and reads queries made by
flipping exactly ``t`` bits of a stored pattern for every noise level ``t``. For every query it
collects the pattern weights and read outputs of

1. ``circuit`` -- the spiking circuit's decoded :class:`~cerebellum.engines.readout.Readout`;
2. ``neuron_sdm`` -- :class:`models.sdm.NeuronSDM` on the same neurons (the exact mirror);
3. ``pattern_sdm`` -- :class:`models.sdm.PatternSDM`, the expected (every-address) weights
   from the exact circle intersection;
4. ``attention_<method>`` -- :class:`models.attention.AttentionMemory` with beta from
   :func:`models.theory.fit_beta` for ``method`` in ``ols``, ``reference``, ``softmax``,

and, for every pair of engines and every noise level, the weight KL divergence, total variation,
cosine and Spearman correlation, the output cosine and the largest output difference. Outputs are
compared centred, ``2 read - 1`` (the read of {0, 1} bits mapped to [-1, 1]), so that a cosine
measures agreement on bits rather than the shared positive offset. It also iterates reads
(autoassociative recall, threshold 1/2) for every engine, the circuit included, and measures beta
from the circuit itself: a Poisson log-linear regression of the circuit's intersection counts on
:math:`\cos = 1 - 2t/n` over query-pattern pairs at distance ``t < d`` -- the same range
Bricken & Pehlevan (2021) fit theory over -- zeros kept, with a 95% interval from a bootstrap
that resamples whole queries (:func:`models.fitting.estimate_beta_counts`).

That beta is set against predictions made at the same pairs by the generalised intersection
:math:`r\,E[f(h_q) f(h_p)]` (:mod:`models.soft_activation`) for

- the circuit's *own* activation rule in closed form
  (:func:`cerebellum.circuit.transfer.closed_form_curve`: the hard ball or all-``K``-inputs
  step in the algorithmic mode, the Bernoulli-count curve in the Poisson mode; top-k has no
  per-cell curve and uses the equivalent-radius ball, labelled
  an approximation), and
- the transfer curve *measured* from the circuit's own granule spikes
  (:func:`cerebellum.circuit.transfer.measured_curve`), which is also compared with the closed form.

``pattern_sdm`` and the attention betas use the *equivalent radius*, the Hamming radius with the
same activation probability (:func:`models.theory.nearest_radius` at ``k / r`` or
``2**-n_inputs``) when the rule is not a canonical Hamming ball, and the report says so.

:func:`run_comparison` is five stages, each a function whose result is a small frozen dataclass:

=====================  ==========================  ===============================================
stage                  result                      what it holds
=====================  ==========================  ===============================================
:func:`configure`      :class:`ResolvedConfig`     circuit parameters, noise levels, equivalent
                                                   radius, generators (split from the one seed)
:func:`wire`           :class:`Wired`              wiring, patterns, values, queries, targets,
                                                   noise
:func:`run_engines`    :class:`EngineOutputs`      the circuit's CircuitRun; the mirror's
                                                   memories, weights and outputs
:func:`analyse`        :class:`Analysis`           agreement, recall, betas, r sweep, exact check
:func:`assemble`       :class:`Comparison`         the ``results.json`` payload, figure arrays
=====================  ==========================  ===============================================

Only :func:`run_engines` touches Brian2, through the engine registered for the circuit's
dynamics (:mod:`cerebellum.engines`); what comes back is a
:class:`~cerebellum.engines.base.CircuitRun` of plain arrays, and nothing after it asks which
engine made it.
"""

from __future__ import annotations

import time

from cerebellum.circuit.transfer import equivalent_radius
from cerebellum.experiments.compare.analysis import (
    Analysis,
    analyse,
    exact_check,
    neuron_count_sweep,
)
from cerebellum.experiments.compare.config import (
    BETA_METHODS,
    CompareConfig,
    Generators,
    Progress,
    ResolvedConfig,
    _silent,
    build_circuit_params,
    configure,
)
from cerebellum.experiments.compare.results import Comparison, assemble
from cerebellum.experiments.compare.run import (
    EngineOutputs,
    Wired,
    mirror_memories,
    run_engines,
    wire,
)
from cerebellum.io.results_schema import SCHEMA_VERSION as RESULTS_SCHEMA_VERSION

__all__ = [
    "BETA_METHODS",
    "RESULTS_SCHEMA_VERSION",
    "Analysis",
    "CompareConfig",
    "Comparison",
    "EngineOutputs",
    "Generators",
    "ResolvedConfig",
    "Wired",
    "analyse",
    "assemble",
    "build_circuit_params",
    "configure",
    "equivalent_radius",
    "exact_check",
    "mirror_memories",
    "neuron_count_sweep",
    "run_comparison",
    "run_engines",
    "wire",
]


# --------------------------------------------------------------------------- the job


def run_comparison(
    config: CompareConfig | ResolvedConfig,
    *,
    progress: Progress | None = None,
    nwb: bool = False,
    report=None,
) -> Comparison:
    """Run the circuit and the mirror on one wiring and measure how they agree.

    configure -> wire -> run engines -> analyse -> assemble (module docstring).

    Parameters
    ----------
    config : CompareConfig or ResolvedConfig
        A ResolvedConfig (from :func:`configure`) is used as it is, so a caller that validated
        the config first does not resolve it again.
    progress : callable, optional
        Called with a short label as each step starts (the CLI drives a tqdm bar with it).
    nwb : bool
        Keep the run's spikes, rates, PF -> Purkinje weights and epochs for ``spikes.nwb``
        (:attr:`Comparison.nwb_content`; :func:`cerebellum.io.report.write_run` writes it).
    report : callable, optional
        Brian2's ``report(elapsed, completed, start, duration)`` callback, called about once a
        second inside every simulation run at runtime (the CLI shows it on its bar).

    Returns
    -------
    Comparison
    """
    step = progress or _silent
    started = time.perf_counter()
    resolved = config if isinstance(config, ResolvedConfig) else configure(config)
    step("sampling wiring and patterns")
    wired = wire(resolved)
    engines = run_engines(resolved, wired, progress=step, nwb=nwb, report=report)
    analysis = analyse(resolved, wired, engines, progress=step)
    wall_time_s = time.perf_counter() - started
    return assemble(resolved, engines, analysis, wall_time_s=wall_time_s, nwb=nwb)
