"""Turn a :class:`~cerebellum.compare.Comparison` into files: JSON, ``.npz``, figures, report.

``write_run(comparison, directory)`` writes ``params.json``, ``results.json``, ``readout.npz``,
the figures (PNG, 150 dpi) and ``report.md``; the caller adds ``meta.json`` and makes the
directory appear atomically (:func:`cerebellum.rundir.atomic_run_directory`).
``headline_table(results)`` is the table printed on stdout and placed first in the report.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cerebellum import figures
from cerebellum.results_schema import load_results
from cerebellum.rundir import write_json
from models.activation import ActivationRule

__all__ = ["FIGURES", "agreement_curves", "headline_table", "write_report", "write_run"]

FIGURES = {
    "weights_vs_distance.png": "pattern weight vs Hamming distance (circuit, theory, attention)",
    "beta_comparison.png": "beta: circuit, theory fits, optimal radii, learned Transformers",
    "agreement_vs_noise.png": "output cosine vs query noise for each engine pair",
    "recall_vs_noise.png": "autoassociative recall vs query noise",
    "raster.png": "granule raster and Purkinje/DCN rates for one write and one read",
}

_FIGURE_PAIRS = (
    "circuit__vs__neuron_sdm",
    "circuit__vs__pattern_sdm",
    "circuit__vs__attention_ols",
    "neuron_sdm__vs__attention_ols",
    "pattern_sdm__vs__attention_ols",
)
_HEADLINE_PAIRS = (
    ("circuit__vs__neuron_sdm", "circuit~mirror"),
    ("neuron_sdm__vs__pattern_sdm", "mirror~theory"),
    ("neuron_sdm__vs__attention_ols", "mirror~attn(ols)"),
    ("circuit__vs__attention_ols", "circuit~attn(ols)"),
)


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
    header += ["TV circuit–theory", "recall circuit", "recall attn(ols)"]
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
        beta_line = (
            f"beta: circuit {circuit['beta']:.3f} [{circuit['ci_low']:.3f}, "
            f"{circuit['ci_high']:.3f}] (95% CI) | theory ols {theory['ols']:.3f}, "
            f"reference {theory['reference']:.3f}, softmax {theory['softmax']:.3f} | "
            f"learned QK-norm Transformers mean {beta['learned_transformer']['mean']:.2f}"
        )
    else:
        beta_line = f"beta: circuit n/a ({circuit.get('reason')})"
    check = results["exact_check"]
    if check["applies"]:
        exact_line = (
            "circuit vs NeuronSDM (deterministic): max weight gap "
            f"{check['max_weight_abs_gap']:.1e}, max relative output gap "
            f"{check['max_output_relative_gap']:.1e}, "
            f"active-set mismatches {check['active_set_mismatches']} -> "
            + ("EXACT" if check["passed"] else "MISMATCH (a bug)")
        )
    else:
        exact_line = "circuit vs NeuronSDM: Poisson mode, agreement is statistical (see cosines)"
    return "\n".join(lines + ["", beta_line, exact_line])


def _beta_conclusion(circuit: dict, cb: dict) -> str:
    """What the circuit's beta interval says, without claiming more than this run supports."""
    rule = ActivationRule(circuit["activation"])
    if rule is not ActivationRule.RADIUS:
        return (
            f"Activation `{rule.value}` ({rule.description}) is not a Hamming ball: theory here "
            f"uses the equivalent radius d = {circuit['equivalent_radius']}, an approximation "
            "whose intersection law differs from this rule's, so a gap between the circuit and "
            "theory is expected and is not evidence of a bug."
        )
    if circuit["mode"] == "poisson":
        noise = "spike-count noise of the Poisson mode and the finite-r sampling of the counts"
    else:
        noise = "finite-r sampling of the counts (more granule cells, --n-neurons, shrink it)"
    if cb["theory_same_pairs_inside_ci"]:
        return (
            "Theory at the same pairs lies inside the circuit's interval: the circuit's beta is "
            "consistent with SDM theory, and the gap to the every-t fit comes from the choice of "
            f"fitted distances (interval width {cb['ci_high'] - cb['ci_low']:.3f}, "
            f"R² = {cb['r_squared']:.3f})."
        )
    return (
        "Theory at the same pairs lies outside the circuit's interval: the remaining gap is the "
        f"{noise}."
    )


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
        "Output cosines compare reads centred to [-1, 1] (`2 read - 1`); *recall* is the "
        "fraction of queries whose iterated read (threshold 1/2) ends exactly on the stored "
        "pattern.",
        "",
        headline_table(results),
        "",
    ]
    if check["applies"] and not check["passed"]:
        parts += [
            "**The circuit and its exact mirror disagree by more than "
            f"{check['tolerance']:.0e}: this is a bug.**",
            "",
        ]
    parts += ["## Beta measured from the circuit", ""]
    if cb.get("beta") is not None:
        inside = "inside" if cb["theory_ols_inside_ci"] else "outside"
        inside_same = "inside" if cb["theory_same_pairs_inside_ci"] else "outside"
        parts += [
            f"OLS slope of log circuit intersection count on cos = 1 - 2t/n over "
            f"{cb['n_points']} query-pattern pairs at t = {cb['distance_range'][0]}.."
            f"{cb['distance_range'][1]} ({cb['n_zero']} pairs with a zero count left out): "
            f"beta = {cb['beta']:.3f}, 95% CI [{cb['ci_low']:.3f}, {cb['ci_high']:.3f}], "
            f"R² = {cb['r_squared']:.3f}.",
            "",
            f"- Theory (Bricken & Pehlevan 2021 fit over every t = 0..d-1, ols): "
            f"{cb['theory_ols_beta']:.3f}, {inside} the interval "
            f"(difference {cb['difference_to_theory_ols']:+.3f}).",
            f"- Theory's expected counts fitted over the same pairs as the circuit: "
            f"{cb['theory_same_pairs_beta']:.3f}, {inside_same} the interval.",
            "",
            "Why they can differ: log N is not exactly linear in the cosine, so an OLS slope "
            "depends on which distances are fitted (the circuit's pairs weigh the queried noise "
            "levels; theory weighs each t once); and the circuit has finitely many granule "
            "cells, so each count is a random draw around its expectation r N / 2^n -- the "
            "logarithm of a small random count is biased downwards (Jensen), which steepens the "
            "slope as counts shrink at large t. The same-pairs value removes the first effect.",
            "",
            _beta_conclusion(circuit, cb),
            "",
        ]
    else:
        parts += [f"Not measurable here: {cb.get('reason')}", ""]
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
        "| r | weight TV to PatternSDM | output cosine to PatternSDM "
        "| output cosine to attn(ols) |",
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

    The input of :func:`cerebellum.figures.plot_agreement_vs_noise`; ``null`` summaries (a
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
        Keyed by the pair with ``" vs "`` for ``"__vs__"``; each array of shape (n_levels,).
    """
    out = {}
    for pair in pairs:
        rows = results["agreement"][pair][metric]
        out[pair.replace("__vs__", " vs ")] = tuple(
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
    ax = figures.plot_beta_comparison(
        betas, circuit_interval=data["circuit_interval"], learned_betas=data["learned_betas"]
    )
    figures.save_figure(ax, directory / "beta_comparison.png")
    levels = np.asarray(results["noise_levels"])
    curves = agreement_curves(results, "output_cosine", _FIGURE_PAIRS)
    ax = figures.plot_agreement_vs_noise(levels, curves)
    figures.save_figure(ax, directory / "agreement_vs_noise.png")
    fractions = {k: np.asarray(v["exact_fraction"]) for k, v in results["recall"].items()}
    ax = figures.plot_recall_vs_noise(levels, fractions)
    figures.save_figure(ax, directory / "recall_vs_noise.png")
    if data.get("raster") is not None:
        top, _ = figures.plot_write_read_window(data["raster"])
        figures.save_figure(top, directory / "raster.png")


def write_run(comparison, directory: str | Path) -> None:
    """Write everything of a comparison except ``meta.json`` into ``directory``.

    ``results.json`` is read back and validated against the schema
    (:func:`cerebellum.results_schema.load_results`) before anything else is written, so a
    payload that breaks the schema raises ``ValueError`` and, inside
    :func:`cerebellum.rundir.atomic_run_directory`, no run directory appears.

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
    _write_figures(comparison, directory)
    write_report(comparison.results, directory / "report.md")
