"""Turn a :class:`~cerebellum.experiments.compare.Comparison` into files: JSON, ``.npz``,
figures, report.

``write_run(comparison, directory)`` writes ``params.json``, ``results.json``, ``readout.npz``,
the figures (PNG, 150 dpi) and ``report.md``; the caller adds ``meta.json`` and makes the
directory appear atomically (:func:`cerebellum.io.rundir.atomic_run_directory`).
``headline_table(results)`` is the table printed on stdout and placed first in the report.
The sections on the spiking (biophysical) circuit are rendered by
:mod:`cerebellum.io.report_spiking` (:func:`biophysical_table` is importable from here too).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cerebellum.io.report_format import fmt as _fmt
from cerebellum.io.report_spiking import biophysical_section, biophysical_table
from cerebellum.io.results_schema import load_results
from cerebellum.io.rundir import write_json
from cerebellum.plotting import figures
from models.activation import ActivationRule

__all__ = [
    "COLUMN_NOTES",
    "ENGINE_LABELS",
    "FIGURES",
    "agreement_curves",
    "biophysical_table",
    "headline_table",
    "pair_label",
    "write_report",
    "write_run",
]

FIGURES = {
    "weights_vs_distance.png": "pattern weight vs Hamming distance (circuit, theory, attention)",
    "beta_comparison.png": "beta: circuit, theory fits, optimal radii, learned Transformers",
    "agreement_vs_noise.png": "output cosine vs query noise for each engine pair",
    "recall_vs_noise.png": "autoassociative recall vs query noise",
    "raster.png": "granule raster and Purkinje/DCN rates for one write and one read",
    "activation_curve.png": "granule activation curve f(h): measured from spikes, closed form",
    "biophysical_raster.png": "biophysical circuit: rasters of every population and their rates",
    "membrane_traces.png": "biophysical circuit: membrane potentials of recorded cells",
    "pf_weights.png": "biophysical circuit: PF -> Purkinje weights before and after learning",
    "rates_vs_literature.png": "biophysical circuit: firing rates against published ranges",
}

#: Engine names in words (legends, column headers); the keys are results.json's.
ENGINE_LABELS = {
    "circuit": "circuit",
    "neuron_sdm": "NeuronSDM (mirror)",
    "pattern_sdm": "PatternSDM (theory)",
    "attention_ols": "attention (OLS beta)",
    "attention_reference": "attention (published-estimator beta)",
    "attention_softmax": "attention (KL-fit beta)",
}

_FIGURE_PAIRS = (
    "circuit__vs__neuron_sdm",
    "circuit__vs__pattern_sdm",
    "circuit__vs__attention_ols",
    "neuron_sdm__vs__attention_ols",
    "pattern_sdm__vs__attention_ols",
)
_HEADLINE_PAIRS = (
    ("circuit__vs__neuron_sdm", "circuit vs mirror"),
    ("neuron_sdm__vs__pattern_sdm", "mirror vs theory"),
    ("neuron_sdm__vs__attention_ols", "mirror vs attention"),
    ("circuit__vs__attention_ols", "circuit vs attention"),
)

#: What the headline table's columns are, printed under it in the report.
COLUMN_NOTES = (
    "*circuit* is the Brian2 circuit's decoded read; *mirror* is NeuronSDM on the same granule "
    "cells; *theory* is PatternSDM (every one of the 2^n addresses a neuron, exact circle "
    "intersections); *attention* is softmax attention with beta from the OLS fit of theory "
    "(`models.theory.fit_beta`). The four *vs* columns are the mean output cosine between the "
    "two engines' reads, centred to [-1, 1] (`2 read - 1`), over the queries of that noise "
    "level; *TV circuit–theory* is the mean total variation distance between the circuit's "
    "and theory's pattern weights (0 = identical, 1 = disjoint); *recall* is the fraction of "
    "queries whose iterated read (threshold 1/2) ends exactly on the stored pattern."
)


def pair_label(pair: str) -> str:
    """``"circuit__vs__attention_ols"`` in words: ``"circuit vs attention (OLS beta)"``.

    Parameters
    ----------
    pair : str
        A key of ``results["agreement"]``.

    Returns
    -------
    str
    """
    a, b = pair.split("__vs__")
    return f"{ENGINE_LABELS.get(a, a)} vs {ENGINE_LABELS.get(b, b)}"


def headline_table(results: dict) -> str:
    """The table a person reads first, as Markdown (also readable as plain text).

    Rows are noise levels; columns give the mean output cosine (outputs centred to [-1, 1])
    for four engine pairs, the mean weight total variation between the circuit and theory, and
    the fraction of queries recalled exactly by the circuit and by attention (ols).

    Parameters
    ----------
    results : dict
        The ``results.json`` payload.

    Returns
    -------
    str
    """
    agreement, recall = results["agreement"], results["recall"]
    header = ["noise (bits)"] + [label for _, label in _HEADLINE_PAIRS]
    header += ["TV circuit–theory", "recall circuit", "recall attention"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    circuit_recall = recall.get("circuit")  # absent with cpp_standalone (no iterated reads)
    for i, level in enumerate(results["noise_levels"]):
        row = [str(level)]
        for pair, _ in _HEADLINE_PAIRS:
            row.append(_fmt(agreement[pair]["output_cosine"][i]["mean"]))
        row.append(_fmt(agreement["circuit__vs__pattern_sdm"]["weight_tv"][i]["mean"]))
        row.append(
            "n/a" if circuit_recall is None else _fmt(circuit_recall["exact_fraction"][i], 2)
        )
        row.append(_fmt(recall["attention_ols"]["exact_fraction"][i], 2))
        lines.append("| " + " | ".join(row) + " |")
    beta = results["beta"]
    circuit = beta["circuit"]
    theory = beta["theory"]
    if circuit.get("beta") is not None:
        own = circuit["predictions"]["own_rule"]
        beta_line = (
            f"beta: circuit {circuit['beta']:.3f} [{circuit['ci_low']:.3f}, "
            f"{circuit['ci_high']:.3f}] (95% CI, queries resampled) | predicted for its rule "
            f"{_fmt(own['beta'], 3)} ({_inside(own)}) | theory ols {theory['ols']:.3f}, "
            f"reference {theory['reference']:.3f}, softmax {theory['softmax']:.3f} | "
            f"learned QK-norm Transformers mean {beta['learned_transformer']['mean']:.2f}"
        )
    else:
        beta_line = f"beta: circuit n/a ({circuit.get('reason')})"
    check = results["exact_check"]
    if check["applies"]:
        exact_line = (
            "circuit vs NeuronSDM (algorithmic mode): max weight gap "
            f"{check['max_weight_abs_gap']:.1e}, max relative output gap "
            f"{check['max_output_relative_gap']:.1e}, "
            f"active-set mismatches {check['active_set_mismatches']} -> "
            + ("EXACT" if check["passed"] else "MISMATCH (a bug)")
        )
    else:  # an engine that is not an exact SDM: its own section measures it, or the cosines
        exact_line = f"circuit vs NeuronSDM: {results['circuit']['mode']} mode, agreement is " + (
            "measured (table below)"
            if results.get("biophysical") is not None
            else "statistical (see cosines)"
        )
    out = lines + ["", beta_line, exact_line]
    if results.get("biophysical") is not None:
        out += ["", biophysical_table(results["biophysical"])]
    return "\n".join(out)


def _commentary(results: dict) -> list[str]:
    """What the headline table shows, in words, from this run's numbers.

    Points the reader at the largest recall gap between the circuit (or its mirror) and
    attention, where the output cosine still looks high, and says why the two measures can
    differ; says why recall and the raster are missing with ``cpp_standalone``.
    """
    levels = results["noise_levels"]
    recall = results["recall"]
    agreement = results["agreement"]
    lines = []
    engine = "circuit" if "circuit" in recall else "neuron_sdm"
    pair = f"{engine}__vs__attention_ols"
    if "attention_ols" in recall and pair in agreement:
        gaps = [
            abs(recall[engine]["exact_fraction"][i] - recall["attention_ols"]["exact_fraction"][i])
            for i in range(len(levels))
        ]
        worst = int(np.argmax(gaps))
        if gaps[worst] >= 0.25:
            cosine = agreement[pair]["output_cosine"][worst]["mean"]
            betas = results["beta"]
            circuit_beta = betas["circuit"].get("beta")
            lines.append(
                f"At {levels[worst]} bits of noise the {ENGINE_LABELS[engine]} and attention "
                f"(OLS beta) agree closely on one read (output cosine {_fmt(cosine, 3)}), yet "
                f"{_fmt(recall[engine]['exact_fraction'][worst], 2)} against "
                f"{_fmt(recall['attention_ols']['exact_fraction'][worst], 2)} of the queries are "
                "recalled. The cosine compares a single read averaged over all bits; recall "
                "iterates the read and counts a query only if every bit ends on the stored "
                "pattern, so a small, consistent difference in each read -- here attention's "
                f"beta {betas['theory']['ols']:.2f} against the circuit's "
                f"{_fmt(circuit_beta, 2)}, i.e. more weight on the other patterns -- can carry a "
                "query out of the pattern's basin of attraction over the iterations."
            )
            lines.append("")
    if results["circuit"]["device"] == "cpp_standalone":
        lines.append(
            "With `--device cpp_standalone` the whole protocol (writes, then every read) is "
            "compiled and run as one C++ program, so the circuit cannot be read again with its "
            "own output: recall through the circuit is `n/a` (the mirror engines' recall is "
            "shown), and no raster is drawn because the run keeps only the window-end read-out, "
            "not the spike monitors the raster needs."
        )
        lines.append("")
    return lines


def _inside(prediction: dict) -> str:
    if prediction.get("beta") is None:
        return "no prediction"
    return "inside the interval" if prediction["inside_ci"] else "outside the interval"


def _beta_section(circuit: dict, cb: dict) -> list[str]:
    """The circuit's beta against the predictions for its own rule and its measured curve.

    States what was measured and whether each prediction lies in the interval; it explains no
    gap by a cause this run did not measure.
    """
    parts = [
        "Poisson log-linear regression of the circuit's intersection counts on "
        f"cos = 1 - 2t/n over {cb['n_points']} query-pattern pairs at t = "
        f"{cb['distance_range'][0]}..{cb['distance_range'][1]} ({cb['n_zero']} zero counts, "
        f"kept in the fit): beta = {cb['beta']:.3f}, {100 * cb['confidence']:.0f}% interval "
        f"[{cb['ci_low']:.3f}, {cb['ci_high']:.3f}] from {cb['n_resamples']} bootstrap "
        f"resamples of the {cb['n_clusters']} queries (a query's pairs share one active set, "
        "so queries, not pairs, are the independent units).",
        "",
        "Predictions at the same pairs, from the generalised intersection r E[f(h_q) f(h_p)] "
        "of an activation curve f (the same fit applied to the predicted expected counts):",
        "",
        "| activation curve | predicted beta | in the interval | fit over every t < d |",
        "|---|---|---|---|",
    ]
    names = {"own_rule": "own rule", "measured_curve": "measured from spikes"}
    for name, prediction in cb["predictions"].items():
        label = f"{names.get(name, name)}: {prediction['label']}"
        if name == "measured_curve" and prediction.get("n_unobserved"):
            label += f" ({prediction['n_unobserved']} unobserved h filled by their neighbours)"
        verdict = {True: "yes", False: "no", None: "n/a"}[prediction.get("inside_ci")]
        parts.append(
            f"| {label} | {_fmt(prediction['beta'], 3)} | {verdict} | "
            f"{_fmt(prediction.get('theory_all_t_beta'), 3)} |"
        )
    own = cb["predictions"]["own_rule"]
    parts.append("")
    if own.get("beta") is not None:
        parts.append(
            f"The prediction for the circuit's own rule lies {_inside(own)} "
            f"(difference {cb['beta'] - own['beta']:+.3f})."
        )
    rule = ActivationRule(circuit["activation"])
    if rule is ActivationRule.TOP_K:
        parts.append(
            "Top-k activation is a competition between cells, not a per-cell curve: its "
            "own-rule row uses the equivalent-radius Hamming ball, an approximation."
        )
    if rule is not ActivationRule.RADIUS:
        parts.append(
            f"Activation `{rule.value}` ({rule.description}) is not a Hamming ball: PatternSDM "
            f"and the attention betas use the equivalent radius d = "
            f"{circuit['equivalent_radius']} (the same activation probability), an "
            "approximation whose intersection law differs from this rule's."
        )
    parts.append("")
    return parts


def _curve_section(curve: dict) -> list[str]:
    """The transfer curve measured from granule spikes against the closed form."""
    observed = [h for h, n in enumerate(curve["n_observations"]) if n > 0]
    total = sum(curve["n_observations"])
    parts = [
        f"f(h): the fraction of (query, granule cell) pairs with h of the cell's "
        f"{curve['n_inputs']} inputs matching in which the cell fired, over {total} pairs "
        f"({len(observed)} of the {curve['n_inputs'] + 1} values of h observed; "
        f"{100 * curve['confidence']:.0f}% intervals from a bootstrap over queries, widened "
        "to the Clopper-Pearson interval).",
    ]
    check = curve.get("closed_form_check")
    if check is not None:
        outside = check["outside_h"]
        parts.append(
            f"The closed form ({curve['closed_form_label']}) lies inside the measured interval "
            f"at {check['n_inside']} of {check['n_observed']} observed h"
            + (f"; outside at h = {', '.join(map(str, outside))}." if outside else ".")
        )
    else:
        parts.append("This rule (top-k) has no closed-form curve to compare with.")
    parts.append("")
    return parts


def _radii_paragraph(beta: dict) -> list[str]:
    """The optimal radii and the betas they imply, beside the learned Transformers' betas."""
    optimal = beta["optimal_radii"]
    learned = beta["learned_transformer"]
    return [
        "Optimal radii for this n, m and r and the betas they imply (ols): "
        + ", ".join(
            f"{k} d={v['radius']} beta={_fmt(v['beta_ols'], 2)}" for k, v in optimal.items()
        )
        + f". Learned betas of query-key-normalised Transformers ({learned['citation']}): mean "
        f"{learned['mean']:.2f}, range {learned['min']:.2f}–{learned['max']:.2f}.",
        "",
    ]


def _neuron_sweep_section(sweep: list) -> list[str]:
    """The section on NeuronSDM against the number of granule cells (``neuron_sweep``)."""
    parts = [
        "## NeuronSDM against the number of granule cells",
        "",
        "Mirror only (NeuronSDM on freshly sampled neurons, same patterns and queries); "
        "the gap to PatternSDM should shrink as r grows. A weight metric averages only the "
        "queries that activated at least one neuron (shown as k/n where some did not):",
        "",
        "| r (granule cells) | weight TV to PatternSDM | output cosine to PatternSDM "
        "| output cosine to attention (OLS beta) |",
        "|---|---|---|---|",
    ]
    for row in sweep:
        tv = row["weight_tv_to_pattern_sdm"]
        coverage = "" if tv["n_finite"] == tv["n"] else f" ({tv['n_finite']}/{tv['n']})"
        parts.append(
            f"| {row['n_neurons']} | {_fmt(tv['mean'])}{coverage} | "
            f"{_fmt(row['output_cosine_to_pattern_sdm']['mean'])} | "
            f"{_fmt(row['output_cosine_to_attention_ols']['mean'])} |"
        )
    return parts


def _figure_links(directory: Path) -> list[str]:
    """The figures section: a link to each of :data:`FIGURES` present in ``directory``."""
    parts = ["", "## Figures", ""]
    for name, caption in FIGURES.items():
        if (directory / name).exists():
            parts.append(f"![{caption}]({name})")
            parts.append("")
    return parts


def write_report(results: dict, path: str | Path) -> None:
    """Write ``report.md``: the headline table, the beta discussion, the r sweep, the figures.

    Parameters
    ----------
    results : dict
        The ``results.json`` payload.
    path : str or Path
    """
    circuit = results["circuit"]
    beta = results["beta"]
    cb = beta["circuit"]
    check = results["exact_check"]
    parts = [
        "# Does the spiking cerebellum compute attention?",
        "",
        f"Preset `{circuit['preset']}`: n = {circuit['n_dims']} bits, r = {circuit['n_neurons']} "
        f"granule cells, m = {circuit['n_patterns']} patterns, activation "
        f"`{circuit['activation']}` (equivalent radius d = {circuit['equivalent_radius']}), "
        f"{circuit['mode']} dynamics on the Brian2 `{circuit['device']}` device; "
        f"{results['n_queries_per_level']} queries per noise level. Active granule cells per "
        f"query: {100 * circuit['active_granule_fraction']['mean']:.2f}% on average.",
        "",
        headline_table(results),
        "",
        COLUMN_NOTES,
        "",
        *_commentary(results),
    ]
    if check["applies"] and not check["passed"]:
        parts += [
            "**The circuit and its exact mirror disagree by more than "
            f"{check['tolerance']:.0e}: this is a bug.**",
            "",
        ]
    if results.get("biophysical") is not None:
        parts += biophysical_section(results["biophysical"])
    parts += ["## Beta measured from the circuit", ""]
    if cb.get("beta") is not None:
        parts += _beta_section(circuit, cb)
    else:
        parts += [f"Not measurable here: {cb.get('reason')}", ""]
    parts += ["## The granule cells' activation curve", ""]
    parts += _curve_section(results["activation_curve"])
    parts += _radii_paragraph(beta)
    parts += _neuron_sweep_section(results["neuron_sweep"])
    parts += _figure_links(Path(path).parent)
    Path(path).write_text("\n".join(parts) + "\n")


def agreement_curves(results: dict, metric: str, pairs) -> dict:
    """One agreement metric per engine pair as (mean, low, high) arrays over the noise levels.

    The input of :func:`cerebellum.plotting.figures.plot_agreement_vs_noise`; ``null`` summaries (a
    metric undefined at a level) become NaN.

    Parameters
    ----------
    results : dict
        The ``results.json`` payload.
    metric : str
        One of ``results["metrics"]``, e.g. ``"output_cosine"``.
    pairs : iterable of str
        Keys of ``results["agreement"]``, e.g. ``"circuit__vs__neuron_sdm"``.

    Returns
    -------
    dict of str to (ndarray, ndarray, ndarray)
        Keyed by the pair in words (:func:`pair_label`); each array of shape (n_levels,).
    """
    out = {}
    for pair in pairs:
        rows = results["agreement"][pair][metric]
        out[pair_label(pair)] = tuple(
            np.array([np.nan if r[key] is None else r[key] for r in rows], dtype=float)
            for key in ("mean", "ci_low", "ci_high")
        )
    return out


def _write_figures(comparison, directory: Path) -> None:
    results, data = comparison.results, comparison.figure_data
    n_dims = results["circuit"]["n_dims"]
    ax = figures.plot_weight_vs_distance(data["distances"], data["weights"], n_dims=n_dims)
    figures.save_figure(ax, directory / "weights_vs_distance.png")
    betas = {k: v for k, v in data["betas"].items() if v is not None}
    full, _ = figures.plot_beta_comparison(
        betas, circuit_interval=data["circuit_interval"], learned_betas=data["learned_betas"]
    )
    figures.save_figure(full, directory / "beta_comparison.png")
    levels = np.asarray(results["noise_levels"])
    per_level = results["n_queries_per_level"]
    curves = agreement_curves(results, "output_cosine", _FIGURE_PAIRS)
    ax = figures.plot_agreement_vs_noise(
        levels, curves, ylabel="output cosine (reads centred to [-1, 1])", n_per_level=per_level
    )
    figures.save_figure(ax, directory / "agreement_vs_noise.png")
    fractions = {
        ENGINE_LABELS.get(k, k): np.asarray(v["exact_fraction"])
        for k, v in results["recall"].items()
    }
    ax = figures.plot_recall_vs_noise(levels, fractions, n_per_level=per_level)
    figures.save_figure(ax, directory / "recall_vs_noise.png")
    if data.get("window") is not None:
        panels = figures.plot_write_read_window(data["window"])
        figures.save_figure(panels[0], directory / "raster.png")
    curve = results["activation_curve"]
    ax = figures.plot_activation_curve(
        curve["measured"],
        curve["ci_low"],
        curve["ci_high"],
        curve["n_observations"],
        closed_form=curve["closed_form"],
        closed_form_label=curve["closed_form_label"],
    )
    figures.save_figure(ax, directory / "activation_curve.png")
    populations = data.get("populations")
    if populations is not None:
        _write_population_figures(results, populations, directory)


def _write_population_figures(results: dict, bio: dict, directory: Path) -> None:
    n_cells = {
        name: int(rows)
        for name, rows in results["biophysical"]["performance"].get("n_cells", {}).items()
    }
    axes = figures.plot_population_rasters(
        bio["raster"],
        bio["raster_window_s"],
        bio["onsets_s"],
        bio["presentation_s"],
        n_cells=n_cells or None,
    )
    figures.save_figure(axes[0], directory / "biophysical_raster.png")
    axes = figures.plot_membrane_traces(bio["traces"])
    figures.save_figure(axes[0], directory / "membrane_traces.png")
    axes = figures.plot_pf_weights(
        bio["pf_weights_before"],
        bio["pf_weights_after"],
        bio["channel_names"],
        w_max=results["biophysical"]["pf_weights"]["w_max"],
    )
    figures.save_figure(axes[0], directory / "pf_weights.png")
    ax = figures.plot_rates_vs_literature(results["biophysical"]["rates"])
    figures.save_figure(ax, directory / "rates_vs_literature.png")


def write_run(comparison, directory: str | Path) -> None:
    """Write everything of a comparison except ``meta.json`` into ``directory``.

    ``results.json`` is read back and validated against the schema
    (:func:`cerebellum.io.results_schema.load_results`) before anything else is written, so a
    payload that breaks the schema raises ``ValueError`` and, inside
    :func:`cerebellum.io.rundir.atomic_run_directory`, no run directory appears.

    Parameters
    ----------
    comparison : Comparison
    directory : str or Path
        An existing (staging) directory.

    Raises
    ------
    ValueError
        If ``results.json`` does not follow the schema (naming the field).
    """
    directory = Path(directory)
    (directory / "params.json").write_text(comparison.params.to_json() + "\n")
    write_json(directory / "results.json", comparison.results)
    load_results(directory / "results.json")
    comparison.readout.save(directory / "readout.npz")
    if getattr(comparison, "nwb_content", None) is not None:
        from cerebellum.io.nwb import write_nwb

        config = comparison.config
        write_nwb(
            directory / "spikes.nwb",
            **comparison.nwb_content,
            session_description=(
                f"cerebellar-sdm compare: preset {config.preset}, {config.mode} dynamics, "
                f"seed {config.seed}"
            ),
            metadata={"notes": comparison.params.to_json(), "keywords": ["SDM", "cerebellum"]},
        )
    _write_figures(comparison, directory)
    write_report(comparison.results, directory / "report.md")
