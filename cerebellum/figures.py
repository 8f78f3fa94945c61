"""Figures of the comparison job.

Every function takes plain numpy arrays (never Brian2 objects), draws on ``ax`` (a new figure
when ``None``) and returns the Axes; nothing here calls ``plt.show()``. ``save_figure`` writes a
PNG at 150 dpi.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "plot_weight_vs_distance",
    "plot_beta_comparison",
    "plot_agreement_vs_noise",
    "plot_recall_vs_noise",
    "plot_raster",
    "plot_window_rates",
    "plot_write_read_window",
    "plot_activation_curve",
    "save_figure",
]


def _axes(ax, figsize=(6.0, 4.0)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def save_figure(ax, path) -> None:
    """Save the figure holding ``ax`` as a 150-dpi PNG and close it.

    Parameters
    ----------
    ax : matplotlib Axes
        Any Axes of the figure to save.
    path : str or path
        Output file (PNG).
    """
    fig = ax.figure
    fig.savefig(path, dpi=150)
    plt.close(fig)


def plot_weight_vs_distance(
    distances, weights_by_engine: Mapping[str, np.ndarray], *, n_dims: int, ax=None
):
    """Mean pattern weight against query-pattern Hamming distance, log y axis.

    Parameters
    ----------
    distances : ndarray of int, shape (n_points,)
        Hamming distance (bits) between query and pattern for every (query, pattern) pair.
    weights_by_engine : mapping of str to ndarray of float, shape (n_points,)
        Normalised pattern weight of each pair for each engine (circuit, theory, attention...).
    n_dims : int
        Address length n (bits), for the axis range.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax)
    distances = np.asarray(distances)
    levels = np.unique(distances)
    markers = "os^vD<>p*h"
    for index, (name, weights) in enumerate(weights_by_engine.items()):
        weights = np.asarray(weights, dtype=float)
        means = np.array([weights[distances == t].mean() for t in levels])
        shown = means > 0
        ax.plot(levels[shown], means[shown], marker=markers[index % len(markers)], ms=4, label=name)
    ax.set_yscale("log")
    ax.set_xlim(-0.5, min(n_dims, levels.max() + 1) + 0.5)
    ax.set_xlabel("Hamming distance query–pattern (bits)")
    ax.set_ylabel("mean normalised pattern weight")
    ax.set_title("Pattern weight vs distance")
    ax.legend(fontsize=8)
    return ax


def plot_beta_comparison(
    betas: Mapping[str, float],
    *,
    circuit_interval: tuple[float, float] | None = None,
    learned_betas: Sequence[float] | None = None,
    ax=None,
):
    """Beta from the circuit, the theory fits and optimal radii beside learned Transformer betas.

    Parameters
    ----------
    betas : mapping of str to float
        Labelled betas (dimensionless); the key ``"circuit"`` is drawn with ``circuit_interval``.
    circuit_interval : (float, float), optional
        Confidence interval of the circuit's beta.
    learned_betas : sequence of float, optional
        Learned betas of query-key-normalised Transformers (Henry et al. 2020), drawn as points.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax, figsize=(7.0, 4.0))
    labels = list(betas)
    values = np.array([betas[label] for label in labels], dtype=float)
    positions = np.arange(len(labels))
    ax.scatter(values, positions, color="C0", zorder=3)
    if circuit_interval is not None and "circuit" in betas:
        row = labels.index("circuit")
        low, high = circuit_interval
        ax.errorbar(
            betas["circuit"],
            row,
            xerr=[[betas["circuit"] - low], [high - betas["circuit"]]],
            color="C3",
            capsize=4,
            zorder=4,
        )
    if learned_betas is not None and len(learned_betas):
        learned = np.asarray(learned_betas, dtype=float)
        jitter = np.linspace(-0.25, 0.25, learned.size)
        ax.scatter(learned, len(labels) + jitter, s=10, color="C2", alpha=0.7)
        labels.append(f"learned, QK-norm Transformers (n={learned.size})")
    ax.set_yticks(np.arange(len(labels)), labels, fontsize=8)
    ax.set_xlabel("beta (softmax inverse temperature)")
    ax.set_title("Beta: circuit, theory, optimal radii, learned")
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_agreement_vs_noise(
    noise_levels,
    curves: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    *,
    ylabel: str = "output cosine",
    ax=None,
):
    """An agreement metric (mean and 95% interval) against query noise for several engine pairs.

    Parameters
    ----------
    noise_levels : ndarray of int, shape (n_levels,)
        Bits flipped from the stored pattern.
    curves : mapping of str to (mean, low, high), each ndarray of shape (n_levels,)
    ylabel : str
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax)
    noise_levels = np.asarray(noise_levels)
    styles = ("-", "--", ":", "-.")
    for index, (name, (mean, low, high)) in enumerate(curves.items()):
        (line,) = ax.plot(
            noise_levels,
            mean,
            marker="osD^v<>"[index % 7],
            ms=4,
            linestyle=styles[index % len(styles)],
            label=name,
        )
        ax.fill_between(noise_levels, low, high, color=line.get_color(), alpha=0.2)
    ax.set_xlabel("query noise (bits flipped)")
    ax.set_ylabel(ylabel)
    ax.set_title("Agreement vs query noise")
    ax.legend(fontsize=7)
    return ax


def plot_recall_vs_noise(noise_levels, fractions: Mapping[str, np.ndarray], *, ax=None):
    """Fraction of queries whose iterated read converged to the right pattern, against noise.

    Parameters
    ----------
    noise_levels : ndarray of int, shape (n_levels,)
    fractions : mapping of str to ndarray of float in [0, 1], shape (n_levels,)
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax)
    for name, fraction in fractions.items():
        ax.plot(noise_levels, fraction, marker="o", ms=3, label=name)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("query noise (bits flipped)")
    ax.set_ylabel("fraction recalled exactly")
    ax.set_title("Autoassociative recall vs noise")
    ax.legend(fontsize=7)
    return ax


def plot_raster(
    spike_times_s,
    spike_indices,
    *,
    title: str = "granule cells",
    spans: Mapping[str, tuple[float, float]] | None = None,
    ax=None,
):
    """Spike raster.

    Parameters
    ----------
    spike_times_s : ndarray of float, shape (n_spikes,)
        Spike times in seconds.
    spike_indices : ndarray of int, shape (n_spikes,)
        Neuron index of each spike.
    title : str
    spans : mapping of str to (start_s, stop_s), optional
        Labelled time intervals (s) to shade, e.g. the write and read windows.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax)
    for index, (label, (start_s, stop_s)) in enumerate((spans or {}).items()):
        ax.axvspan(start_s * 1e3, stop_s * 1e3, color=f"C{index}", alpha=0.12, label=label)
    ax.plot(np.asarray(spike_times_s) * 1e3, spike_indices, "|", ms=3, color="k")
    if spans:
        ax.legend(fontsize=8, loc="upper right")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron index")
    ax.set_title(title)
    return ax


def plot_window_rates(samples: Mapping[str, tuple[np.ndarray, np.ndarray]], *, ax=None):
    """Rates read once per presentation window, one point per cell.

    Parameters
    ----------
    samples : mapping of str to (times_s, rates_hz)
        For each population, the time (s) of each sample and the cell's rate (Hz) then.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax)
    for index, (name, (times_s, rates_hz)) in enumerate(samples.items()):
        times_ms = np.asarray(times_s, dtype=float) * 1e3
        ax.plot(times_ms, rates_hz, "o", ms=3, alpha=0.5, color=f"C{index}", label=name)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("rate at window end (Hz)")
    ax.set_title("Purkinje and DCN rates per window")
    ax.legend(fontsize=8)
    return ax


def plot_write_read_window(raster: Mapping, *, axes=None):
    """Granule raster above Purkinje and DCN rates, over one write and one read window.

    Parameters
    ----------
    raster : mapping
        As returned by :meth:`cerebellum.protocol.Protocol.raster` for two windows, the write
        first: ``window_s`` and ``start_s`` (s), and ``granule`` (``times_s``, ``cells``),
        ``purkinje`` and ``dcn`` (``times_s``, ``cells``, ``rate`` in Hz) arrays.
    axes : pair of matplotlib Axes, optional
        (top, bottom); a new two-row figure when ``None``.

    Returns
    -------
    tuple of matplotlib Axes
        (top, bottom).
    """
    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=(7.0, 5.5), sharex=True, layout="constrained")
    top, bottom = axes
    start_s, window_s = raster["start_s"], raster["window_s"]
    plot_raster(
        raster["granule"]["times_s"],
        raster["granule"]["cells"],
        title="granule cells: last write window, then first read window",
        spans={
            "write (plasticity on)": (start_s, start_s + window_s),
            "read": (start_s + window_s, start_s + 2 * window_s),
        },
        ax=top,
    )
    plot_window_rates(
        {
            "Purkinje cells": (raster["purkinje"]["times_s"], raster["purkinje"]["rate"]),
            "DCN cells": (raster["dcn"]["times_s"], raster["dcn"]["rate"]),
        },
        ax=bottom,
    )
    return top, bottom


def plot_activation_curve(
    measured,
    ci_low,
    ci_high,
    n_observations,
    *,
    closed_form=None,
    closed_form_label: str | None = None,
    ax=None,
):
    """Granule activation curve f(h): measured fraction fired with its interval, and theory.

    Parameters
    ----------
    measured, ci_low, ci_high : sequence of float or None, length n_inputs + 1
        Fraction of (query, cell) pairs with ``h`` matching inputs in which the cell fired, and
        its confidence interval (None or NaN where no pair had that ``h``).
    n_observations : sequence of int, length n_inputs + 1
        Pairs observed at each ``h`` (the legend gives the total).
    closed_form : sequence of float, optional
        The curve of the circuit's rule in closed form.
    closed_form_label : str, optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax)

    def array(values):
        return np.array([np.nan if v is None else v for v in values], dtype=float)

    f, low, high = array(measured), array(ci_low), array(ci_high)
    h = np.arange(f.size)
    seen = np.isfinite(f)
    if closed_form is not None:
        ax.plot(
            h,
            closed_form,
            "-",
            color="C1",
            lw=1.2,
            zorder=1,
            label=f"closed form: {closed_form_label}",
        )
    ax.errorbar(
        h[seen],
        f[seen],
        yerr=[f[seen] - low[seen], high[seen] - f[seen]],
        fmt="o",
        ms=4,
        color="C0",
        ecolor="C0",
        capsize=2,
        zorder=2,
        label=f"measured from spikes ({int(np.sum(n_observations))} query-cell pairs; "
        "bars: 95% interval, queries resampled)",
    )
    ax.set_xlabel("matching inputs h of the granule cell")
    ax.set_ylabel("probability the cell fires, f(h)")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title("granule activation curve")
    ax.legend(fontsize=7, loc="center left")
    return ax
