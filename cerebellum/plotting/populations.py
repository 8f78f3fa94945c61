"""Figures of the biophysical circuit's spiking populations: rasters with rates, membrane
traces, parallel-fibre weights and firing rates against the literature.

Every function takes plain numpy arrays (never Brian2 objects), draws on ``ax`` (or ``axes``; a
new figure when ``None``) and returns the Axes; nothing here calls ``plt.show()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from cerebellum.plotting.common import _axes

__all__ = [
    "POPULATION_LABELS",
    "plot_membrane_traces",
    "plot_pf_weights",
    "plot_population_rasters",
    "plot_rates_vs_literature",
]

#: Populations of the biophysical circuit in words.
POPULATION_LABELS = {
    "mossy": "mossy fibres",
    "granule": "granule cells",
    "golgi": "Golgi cells",
    "mli": "molecular-layer interneurons",
    "climbing": "climbing fibres",
    "purkinje": "Purkinje cells",
    "dcn": "deep-nuclear (DCN) cells",
}
_KIND_LABELS = {
    "background": "background (no address)",
    "calibration": "Golgi calibration query",
    "rest": "rest before a write (no address)",
    "write": "write (plasticity on)",
    "read": "read (plasticity off)",
}
_MAX_RASTER_CELLS = 300


def _presentation_spans(ax, onsets_s: Mapping, presentation_s: float, window_s) -> list:
    """Shade each presentation in the window by its kind; returns legend handles."""
    start, stop = window_s
    handles = []
    # rest last: write and read keep their colours (C2, C3) in every figure
    for index, kind in enumerate(("background", "calibration", "write", "read", "rest")):
        onsets = np.asarray(onsets_s.get(kind, ()), dtype=float)
        onsets = onsets[(onsets < stop) & (onsets + presentation_s > start)]
        for k, onset in enumerate(onsets):
            span = ax.axvspan(
                max(onset, start) * 1e3,
                min(onset + presentation_s, stop) * 1e3,
                color=f"C{index}",
                alpha=0.12,
                lw=0,
                label=_KIND_LABELS[kind] if k == 0 else None,
            )
            if k == 0:
                handles.append(span)
    return handles


def plot_population_rasters(
    raster: Mapping,
    window_s: tuple[float, float],
    onsets_s: Mapping,
    presentation_s: float,
    *,
    bin_s: float = 0.01,
    n_cells: Mapping[str, int] | None = None,
    axes=None,
):
    """Spike rasters of every population of the biophysical circuit, with its rate in time.

    Parameters
    ----------
    raster : mapping
        ``raster[population] = {"times_s", "cells"}``
        (``CircuitRun.figures["populations"]["raster"]``).
    window_s : (float, float)
        The time window drawn (s).
    onsets_s : mapping of str to ndarray
        Presentation onsets by kind (``background``, ``calibration``, ``write``, ``read``),
        shaded by kind.
    presentation_s : float
        Length of the mossy-fibre input of a presentation (s).
    bin_s : float
        Bin of the rate time courses (s).
    n_cells : mapping of str to int, optional
        Cells per population (the rate is per cell); without it the rate is per cell that
        spiked in the window.
    axes : sequence of matplotlib Axes, optional
        One per population.

    Returns
    -------
    tuple of matplotlib Axes

    Notes
    -----
    At most 300 cells per population are drawn (the lowest indices: cell indices carry no
    order, so these are a sample of the population); the rate (red line, right axis: spikes
    per cell per second in ``bin_s`` bins) uses all cells.
    """
    populations = [name for name in POPULATION_LABELS if name in raster]
    if axes is None:
        _, axes = plt.subplots(
            len(populations),
            1,
            figsize=(8.5, 1.5 * len(populations) + 0.6),
            sharex=True,
            layout="constrained",
        )
    axes = tuple(np.atleast_1d(axes))
    start, stop = window_s
    edges = np.arange(start, stop + bin_s / 2, bin_s)
    for index, (ax, name) in enumerate(zip(axes, populations, strict=False)):
        times = np.asarray(raster[name]["times_s"], dtype=float)
        cells = np.asarray(raster[name]["cells"], dtype=np.int64)
        shown = cells < _MAX_RASTER_CELLS
        handles = _presentation_spans(ax, onsets_s, presentation_s, window_s)
        ax.plot(times[shown] * 1e3, cells[shown], "|", ms=2.5, color="k", mew=0.6)
        total = None if n_cells is None else n_cells.get(name)
        subset = ""
        if total is not None and total > _MAX_RASTER_CELLS:
            subset = f" ({_MAX_RASTER_CELLS} of {total} cells shown)"
        ax.set_title(f"{POPULATION_LABELS[name]}{subset}", fontsize=8, loc="left")
        ax.set_ylabel("cell", fontsize=8)
        ax.tick_params(labelsize=7)
        if index == 0 and handles:
            ax.legend(
                handles=handles,
                fontsize=7,
                loc="lower left",
                bbox_to_anchor=(0.0, 1.12),
                ncol=len(handles),
                frameon=False,
            )
        per = total if total else max(np.unique(cells).size, 1)
        _draw_rate(ax, times, edges, per, bin_s)
    axes[-1].set_xlabel(f"time (ms); red: rate per cell in {bin_s * 1e3:g} ms bins (right axis)")
    axes[-1].set_xlim(start * 1e3, stop * 1e3)
    return axes


def _draw_rate(ax, times: np.ndarray, edges: np.ndarray, n_per: int, bin_s: float) -> None:
    """The rate per cell in ``bin_s`` bins (edges in s), in red on a right-hand axis of ``ax``."""
    counts, _ = np.histogram(times, bins=edges)
    rate_ax = ax.twinx()
    rate_ax.step(edges[:-1] * 1e3, counts / (n_per * bin_s), where="post", color="C3", lw=1.0)
    rate_ax.set_ylim(bottom=0)
    rate_ax.set_ylabel("rate (Hz)", fontsize=7, color="C3")
    rate_ax.tick_params(labelsize=6, colors="C3")


def plot_membrane_traces(traces: Mapping, *, n_traces: int = 2, axes=None):
    """Membrane potential of a few recorded cells of each population.

    Parameters
    ----------
    traces : mapping
        ``traces[population] = {"times_s": (n_samples,), "v_volt": (n_cells, n_samples)}``.
    n_traces : int
        Cells drawn per population (offset-free: the traces overlap only where the cells do).
    axes : sequence of matplotlib Axes, optional

    Returns
    -------
    tuple of matplotlib Axes

    Notes
    -----
    Spikes are not drawn as such: an integrate-and-fire cell resets at threshold, so a spike
    shows as a rise to threshold and a jump down to the reset potential.
    """
    populations = [name for name in POPULATION_LABELS if name in traces]
    if axes is None:
        _, axes = plt.subplots(
            len(populations),
            1,
            figsize=(8.0, 1.5 * len(populations) + 0.5),
            sharex=True,
            layout="constrained",
        )
    axes = tuple(np.atleast_1d(axes))
    for ax, name in zip(axes, populations, strict=False):
        t = np.asarray(traces[name]["times_s"], dtype=float) * 1e3
        v = np.asarray(traces[name]["v_volt"], dtype=float) * 1e3
        for k in range(min(n_traces, v.shape[0])):
            ax.plot(t, v[k], lw=0.7, color=f"C{k}", alpha=0.9 if k == 0 else 0.6, label=f"cell {k}")
        ax.set_title(POPULATION_LABELS[name], fontsize=8, loc="left")
        ax.set_ylabel("V (mV)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6, loc="upper right", ncol=2)
    axes[-1].set_xlabel("time (ms)")
    return axes


def plot_pf_weights(before, after, channel_names: Sequence[str], *, w_max: float, axes=None):
    """Parallel-fibre -> Purkinje weights before and after learning.

    Parameters
    ----------
    before, after : ndarray of shape (n_granule, n_channels)
        Weights of the first Purkinje cell of each channel.
    channel_names : sequence of str
        ``value_i``, ``probe_mu``, ``reference_zero_k``, ``reference_one_k``.
    w_max : float
        Upper bound of the rule.
    axes : pair of matplotlib Axes, optional

    Returns
    -------
    tuple of matplotlib Axes
        Histograms by channel kind; mean weight per channel.
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10.0, 3.8), layout="constrained")
    hist_ax, mean_ax = axes
    before = np.asarray(before, dtype=float)
    after = np.asarray(after, dtype=float)
    names = list(channel_names)
    kinds = {
        "value channels": [i for i, n in enumerate(names) if n.startswith("value_")],
        "probe channels": [i for i, n in enumerate(names) if n.startswith("probe_")],
        "reference 'zero' (LTP only)": [
            k for k, name in enumerate(names) if name.startswith("reference_zero")
        ],
        "reference 'one' (LTD every write)": [
            k for k, name in enumerate(names) if name.startswith("reference_one")
        ],
    }
    bins = np.linspace(0.0, w_max, 51)
    hist_ax.hist(
        before.ravel(), bins=bins, color="0.6", label="all channels, before writes", density=True
    )
    for index, (label, columns) in enumerate(kinds.items()):
        if columns:
            hist_ax.hist(
                after[:, columns].ravel(),
                bins=bins,
                histtype="step",
                lw=1.4,
                color=f"C{index}",
                density=True,
                label=f"{label}, after",
            )
    hist_ax.set_yscale("log")
    hist_ax.set_xlabel(f"PF -> Purkinje weight (dimensionless; bounds 0 and w_max = {w_max:g})")
    hist_ax.set_ylabel("density")
    hist_ax.set_title("weight distributions", fontsize=9)
    hist_ax.legend(fontsize=7)
    x = np.arange(after.shape[1])
    mean_ax.plot(x, before.mean(axis=0), "s", mfc="none", color="0.4", ms=4, label="before")
    mean_ax.plot(x, after.mean(axis=0), ".", color="C3", label="after")
    mean_ax.set_xlabel("channel: values, probes, then references 'zero', 'one'")
    mean_ax.set_ylabel("mean weight over granule cells")
    mean_ax.set_title("mean weight per channel", fontsize=9)
    mean_ax.legend(fontsize=7)
    return axes


def plot_rates_vs_literature(rows: Sequence[Mapping], *, ax=None):
    """Measured firing rates of each population against their published ranges.

    Parameters
    ----------
    rows : sequence of mapping
        :func:`cerebellum.engines.biophysical.rates_against_literature` rows.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Notes
    -----
    Grey bars are the published ranges (sources in the report); markers are the mean rate
    over cells in each phase, whiskers the 10th-90th percentiles across cells.
    """
    ax = _axes(ax, figsize=(7.5, 4.6))
    phases = [p for p in ("background", "write", "read") if f"{p}_mean_hz" in rows[0]]
    y = np.arange(len(rows))[::-1]
    for k, row in zip(y, rows, strict=True):
        low = max(row["low_hz"], 0.1)
        ax.barh(
            k,
            row["high_hz"] - low,
            left=low,
            height=0.6,
            color="0.85",
            label="published range" if k == y[0] else None,
        )
    for index, phase in enumerate(phases):
        offset = (index - (len(phases) - 1) / 2) * 0.2
        mean = np.array([max(r[f"{phase}_mean_hz"], 0.1) for r in rows])
        lo = np.array([max(r[f"{phase}_p10_hz"], 0.1) for r in rows])
        hi = np.array([max(r[f"{phase}_p90_hz"], 0.1) for r in rows])
        ax.errorbar(
            mean,
            y + offset,
            xerr=[mean - np.minimum(lo, mean), np.maximum(hi, mean) - mean],
            fmt="o",
            ms=4,
            color=f"C{index}",
            capsize=2,
            lw=1,
            label=f"{phase}: mean, 10-90 % of cells",
        )
    ax.set_xscale("log")
    ax.set_yticks(
        y, [POPULATION_LABELS.get(r["population"], r["population"]) for r in rows], fontsize=8
    )
    ax.set_xlabel("firing rate (Hz, log scale; rates below 0.1 Hz drawn at 0.1)")
    ax.set_title("firing rates against the literature", fontsize=9)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, frameon=False)
    return ax
