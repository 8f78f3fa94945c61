"""The report's sections on the spiking (biophysical) circuit.

:func:`biophysical_table` is the biophysical read against the mirror per noise level and the
rates check, printed under the headline table (:func:`cerebellum.io.report.headline_table`);
:func:`biophysical_section` is ``report.md``'s section on that circuit: the Golgi calibration,
the firing rates against published ranges, complex spikes, PF -> Purkinje weights and the
simulation's speed. Both read ``results["biophysical"]`` (``docs/results_schema.md``).
"""

from __future__ import annotations

from cerebellum.io.report_format import fmt
from cerebellum.plotting import figures

__all__ = ["biophysical_section", "biophysical_table"]


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
            row.append(fmt(per[key][i], 3))
        lines.append("| " + " | ".join(row) + " |")
    targets = bio["targets"]
    at_zero = bio["at_noise_0"]
    lines += [
        "",
        "targets at noise 0: cosine >= "
        f"{targets['cosine_dcn']:g} (measured {fmt(at_zero['cosine_dcn'], 3)}), bit agreement "
        f">= {targets['bit_agreement_dcn']:.0%} (measured {fmt(at_zero['bit_agreement_dcn'], 3)}"
        ") -> " + ("MET" if bio["meets_targets_at_noise_0"] else "NOT MET"),
        "the same read decoded one stage earlier, from the Purkinje cells' spike counts: cosine "
        f"{fmt(per['cosine_purkinje'][0], 3)}, bit agreement "
        f"{fmt(per['bit_agreement_purkinje'][0], 3)} at noise {per['noise_levels'][0]}",
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


def biophysical_section(bio: dict) -> list[str]:
    """The report's section on the biophysical circuit.

    Parameters
    ----------
    bio : dict
        ``results["biophysical"]``.

    Returns
    -------
    list of str
        Markdown lines (the section ends with an empty line).
    """
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
            f"{fmt(row.get('background_mean_hz'), 3)} | {fmt(row.get('write_mean_hz'), 3)} | "
            f"{fmt(row.get('read_mean_hz'), 3)} | {fmt(row.get('read_p10_hz'), 3)}–"
            f"{fmt(row.get('read_p90_hz'), 3)} | {'yes' if row['in_range'] else 'no'} |"
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
        f"wall ({fmt(perf['simulated_s_per_wall_s'], 3)} simulated s per wall s), "
        f"{perf['n_synaptic_events']:.3g} synaptic events "
        f"({fmt(perf['synaptic_events_per_wall_s'], 3)} per wall s).",
        "",
    ]
    return parts
