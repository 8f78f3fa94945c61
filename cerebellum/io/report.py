"""Turn a :class:`~cerebellum.experiments.compare.Comparison` into files: JSON, ``.npz``, figures, report.

``write_run(comparison, directory)`` writes ``params.json``, ``results.json``, ``readout.npz``,
the figures (PNG, 150 dpi) and ``report.md``; the caller adds ``meta.json`` and makes the
directory appear atomically (:func:`cerebellum.io.rundir.atomic_run_directory`).
``headline_table(results)`` is the table printed on stdout and placed first in the report.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

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


def _fmt(value, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and (abs(value) >= 1e4 or (0 < abs(value) < 1e-3)):
        return f"{value:.2e}"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


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
    elif results["circuit"]["mode"] == "biophysical":
        exact_line = "circuit vs NeuronSDM: biophysical mode, agreement is measured (table below)"
    else:
        exact_line = "circuit vs NeuronSDM: Poisson mode, agreement is statistical (see cosines)"
    out = lines + ["", beta_line, exact_line]
    if results.get("biophysical") is not None:
        out += ["", biophysical_table(results["biophysical"])]
    return "\n".join(out)


def biophysical_table(bio: dict) -> str:
    """The biophysical read against the mirror per noise level, and the rates check.

    Parameters
    ----------
    bio : dict
        ``results["biophysical"]``.

    Returns
    -------
    str
        Markdown.
    """
    per = bio["per_level"]
    header = [
        "noise (bits)",
        "cosine DCN read vs NeuronSDM",
        "bits agree DCN vs NeuronSDM",
        "cosine Purkinje read vs NeuronSDM",
        "bits agree Purkinje vs NeuronSDM",
        "cosine DCN read vs attention",
        "Jaccard spiking vs mirror active set",
    ]
    lines = [
        "Biophysical read (decoded from DCN / Purkinje spike counts) against the mirror:",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for i, level in enumerate(per["noise_levels"]):
        row = [str(level)]
        for key in (
            "cosine_dcn",
            "bit_agreement_dcn",
            "cosine_purkinje",
            "bit_agreement_purkinje",
            "cosine_attention_dcn",
            "jaccard",
        ):
            row.append(_fmt(per[key][i], 3))
        lines.append("| " + " | ".join(row) + " |")
    targets = bio["targets"]
    at_zero = bio["at_noise_0"]
    lines += [
        "",
        "targets at noise 0: cosine >= "
        f"{targets['cosine_dcn']:g} (measured {_fmt(at_zero['cosine_dcn'], 3)}), bit agreement "
        f">= {targets['bit_agreement_dcn']:.0%} (measured {_fmt(at_zero['bit_agreement_dcn'], 3)}"
        ") -> " + ("MET" if bio["meets_targets_at_noise_0"] else "NOT MET"),
        "the same read decoded one stage earlier, from the Purkinje cells' spike counts: cosine "
        f"{_fmt(per['cosine_purkinje'][0], 3)}, bit agreement "
        f"{_fmt(per['bit_agreement_purkinje'][0], 3)} at noise {per['noise_levels'][0]}",
    ]
    if bio.get("n_undecoded_reads"):
        lines.append(
            f"{bio['n_undecoded_reads']} reads could not be decoded (their two kinds of "
            "reference channel fired equally often); they count as a read of 0 here and are "
            "left out of the headline table's output metrics"
        )
    beta = bio["beta_from_spikes"]
    lines.append(
        f"beta from spikes (t < {beta['fit_radius']}): {beta['beta']:.3f} "
        f"[{beta['ci_low']:.3f}, {beta['ci_high']:.3f}] | predicted for the measured transfer "
        f"curve {beta['predicted']:.3f} ({'inside' if beta['inside_ci'] else 'outside'} the "
        "interval)"
    )
    off = [row["population"] for row in bio["rates"] if not row["in_range"]]
    lines.append(
        "rates vs literature: "
        + ("every population inside its range" if not off else "outside: " + ", ".join(off))
        + " (table in report.md)"
    )
    return "\n".join(lines)


def _biophysical_section(bio: dict) -> list[str]:
    """The report's section on the biophysical circuit."""
    parts = [
        "## The biophysical circuit",
        "",
        "Conductance-based integrate-and-fire cells (granule, Golgi, molecular-layer "
        "interneurons, Purkinje, deep nuclei), Poisson mossy fibres and climbing-fibre bursts "
        "(`cerebellum.circuit.biophysical`). Sparseness comes from Golgi inhibition, "
        "calibrated once for the mirror's active fraction; the read is decoded from spike "
        f"counts: {bio['decoding']}.",
        "",
    ]
    calibration = bio["calibration"]
    if calibration is not None:
        parts += [
            f"Golgi calibration: inhibition scale {calibration['inhibition_scale']:.3f}, active "
            f"granule fraction {calibration['measured_fraction']:.4f} ± "
            f"{calibration['fraction_sd']:.4f} (SD over {calibration['n_queries']} queries) "
            f"for a target of {calibration['target_fraction']:.4f}.",
            "",
        ]
    parts += [
        "Columns: *cosine* is the mean cosine between the decoded read and the other read "
        "(not centred: both lie in [0, 1]); *bits agree* is the fraction of value bits on the "
        "same side of 1/2; *attention* uses the beta measured from spikes; *Jaccard* compares "
        "the granule cells that spiked with the cells the mirror's hard rule activates.",
        "",
        "| population | published range (Hz) | source | background mean (Hz) | write mean "
        "(Hz) | read mean (Hz) | read 10–90 % of cells (Hz) | inside? |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in bio["rates"]:
        parts.append(
            f"| {figures.POPULATION_LABELS.get(row['population'], row['population'])} | "
            f"{row['low_hz']:g}–{row['high_hz']:g} | {row['source']} | "
            f"{_fmt(row.get('background_mean_hz'), 3)} | {_fmt(row.get('write_mean_hz'), 3)} | "
            f"{_fmt(row.get('read_mean_hz'), 3)} | {_fmt(row.get('read_p10_hz'), 3)}–"
            f"{_fmt(row.get('read_p90_hz'), 3)} | {'yes' if row['in_range'] else 'no'} |"
        )
    cs = bio["complex_spikes"]
    weights = bio["pf_weights"]
    perf = bio["performance"]
    parts += [
        "",
        "The ranges apply to the background and read phases (in a read half of the mossy "
        "fibres are driven); a population is *inside* when both means are.",
        "",
        f"Climbing fibres: {cs['bursts_in_writes']} complex spikes during writes (bursts of "
        f"{cs['burst_spikes']}), {cs['climbing_spikes_outside_writes']} outside them. PF -> "
        f"Purkinje weights: {weights['before_mean']:.3f} before the writes, mean "
        f"{weights['after_mean']:.3f} (range {weights['after_min']:.3f}–"
        f"{weights['after_max']:.3f}, bounds [0, {weights['w_max']:g}]) after.",
        "",
        f"Simulated {perf['simulated_s']:.2f} s of biological time in {perf['wall_s']:.1f} s "
        f"wall ({_fmt(perf['simulated_s_per_wall_s'], 3)} simulated s per wall s), "
        f"{perf['n_synaptic_events']:.3g} synaptic events "
        f"({_fmt(perf['synaptic_events_per_wall_s'], 3)} per wall s).",
        "",
    ]
    return parts


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
        parts += _biophysical_section(results["biophysical"])
    parts += ["## Beta measured from the circuit", ""]
    if cb.get("beta") is not None:
        parts += _beta_section(circuit, cb)
    else:
        parts += [f"Not measurable here: {cb.get('reason')}", ""]
    parts += ["## The granule cells' activation curve", ""]
    parts += _curve_section(results["activation_curve"])
    optimal = beta["optimal_radii"]
    parts += [
        "Optimal radii for this n, m and r and the betas they imply (ols): "
        + ", ".join(
            f"{k} d={v['radius']} beta={_fmt(v['beta_ols'], 2)}" for k, v in optimal.items()
        )
        + f". Learned betas of query-key-normalised Transformers "
        f"({beta['learned_transformer']['citation']}): mean "
        f"{beta['learned_transformer']['mean']:.2f}, range "
        f"{beta['learned_transformer']['min']:.2f}–{beta['learned_transformer']['max']:.2f}.",
        "",
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
    for row in results["neuron_sweep"]:
        tv = row["weight_tv_to_pattern_sdm"]
        coverage = "" if tv["n_finite"] == tv["n"] else f" ({tv['n_finite']}/{tv['n']})"
        parts.append(
            f"| {row['n_neurons']} | {_fmt(tv['mean'])}{coverage} | "
            f"{_fmt(row['output_cosine_to_pattern_sdm']['mean'])} | "
            f"{_fmt(row['output_cosine_to_attention_ols']['mean'])} |"
        )
    parts += ["", "## Figures", ""]
    for name, caption in FIGURES.items():
        if (Path(path).parent / name).exists():
            parts.append(f"![{caption}]({name})")
            parts.append("")
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
    if data.get("raster") is not None:
        panels = figures.plot_write_read_window(data["raster"])
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
    bio = data.get("biophysical")
    if bio is not None:
        _write_biophysical_figures(results, bio, directory)


def _write_biophysical_figures(results: dict, bio: dict, directory: Path) -> None:
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
