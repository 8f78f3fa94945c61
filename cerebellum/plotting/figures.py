"""Figures of the comparison job: the algorithmic comparison (weights against distance, beta,
agreement and recall against noise, the activation curve, rasters of a write and a read).

Every function takes plain numpy arrays (never Brian2 objects), draws on ``ax`` (a new figure
when ``None``) and returns the Axes; nothing here calls ``plt.show()``. ``save_figure`` writes a
PNG at 150 dpi. The figures of the biophysical circuit's populations live in
:mod:`cerebellum.plotting.populations` and are importable from here too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from cerebellum.plotting.common import _axes, save_figure
from cerebellum.plotting.populations import (
    POPULATION_LABELS,
    plot_membrane_traces,
    plot_pf_weights,
    plot_population_rasters,
    plot_rates_vs_literature,
)

__all__ = [
    "plot_weight_vs_distance",
    "plot_beta_comparison",
    "plot_agreement_vs_noise",
    "plot_recall_vs_noise",
    "plot_raster",
    "plot_write_read_window",
    "plot_activation_curve",
    "plot_population_rasters",
    "plot_membrane_traces",
    "plot_pf_weights",
    "plot_rates_vs_literature",
    "save_figure",
    "POPULATION_LABELS",
]


def _coincidences(series: Mapping[str, np.ndarray]) -> dict[str, str | None]:
    """For each series, the name of an earlier series it equals exactly (NaN-aware), or None.

    Coinciding lines hide each other; the plots draw such a series with hollow markers, a small
    horizontal offset and "(identical to ...)" in its legend entry.
    """
    out: dict[str, str | None] = {}
    seen: list[tuple[str, np.ndarray]] = []
    for name, values in series.items():
        values = np.asarray(values, dtype=float)
        twin = next(
            (
                other
                for other, earlier in seen
                if earlier.shape == values.shape
                and np.allclose(earlier, values, rtol=0, atol=1e-12, equal_nan=True)
            ),
            None,
        )
        out[name] = twin
        seen.append((name, values))
    return out


def _dodge(index: int, count: int, spacing: float) -> float:
    """Horizontal offset of series ``index`` of ``count``, centred on 0."""
    return (index - (count - 1) / 2) * spacing


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


_BETA_KINDS = (
    ("circuit", "measured from the circuit", "C3", "D"),
    ("predicted", "predicted from an activation curve", "C1", "o"),
    ("theory", "theory fit at the (equivalent) radius", "C0", "s"),
    ("optimal", "optimal radius for this n, m, r", "C4", "^"),
)


def _beta_kind(label: str) -> int:
    return next(
        (i for i, (prefix, *_rest) in enumerate(_BETA_KINDS) if label.startswith(prefix)), 2
    )


def plot_beta_comparison(
    betas: Mapping[str, float],
    *,
    circuit_interval: tuple[float, float] | None = None,
    learned_betas: Sequence[float] | None = None,
    axes=None,
):
    """Beta from the circuit, its predictions, theory and optimal radii beside learned betas.

    Two panels: the full range with the learned betas of query-key-normalised Transformers
    (Henry et al. 2020), and a zoom on the model values with the circuit's interval shaded, so
    that the differences the report discusses are resolved.

    Parameters
    ----------
    betas : mapping of str to float
        Labelled betas (dimensionless). Keys starting with ``circuit``, ``predicted``,
        ``theory`` and ``optimal`` are coloured by kind (see the legend).
    circuit_interval : (float, float), optional
        Confidence interval of the circuit's beta.
    learned_betas : sequence of float, optional
        Learned betas, drawn as points in the full-range panel.
    axes : pair of matplotlib Axes, optional
        (full range, zoom); a new figure when ``None``.

    Returns
    -------
    tuple of matplotlib Axes
        (full range, zoom).
    """
    if axes is None:
        _, axes = plt.subplots(
            1, 2, figsize=(11.0, 4.5), layout="constrained", gridspec_kw={"width_ratios": [1, 1.2]}
        )
    full, zoom = axes
    labels = list(betas)
    values = np.array([betas[label] for label in labels], dtype=float)
    kinds = [_beta_kind(label) for label in labels]
    for ax in (full, zoom):
        _draw_betas(ax, values, kinds, circuit_interval)
    ticks = list(labels)
    if learned_betas is not None and len(learned_betas):
        learned = np.asarray(learned_betas, dtype=float)
        jitter = np.linspace(-0.25, 0.25, learned.size)
        full.scatter(learned, len(labels) + jitter, s=10, color="C2", alpha=0.7, zorder=3)
        ticks.append(f"learned, QK-norm Transformers (n={learned.size})")
    full.set_yticks(np.arange(len(ticks)), ticks, fontsize=8)
    full.set_xlabel("beta (softmax inverse temperature)")
    full.set_title("full range")
    _zoom_on_betas(zoom, values, circuit_interval)
    handles = _beta_legend_handles(circuit_interval, learned_betas)
    zoom.legend(handles=handles, fontsize=7, loc="best")
    full.figure.suptitle("Beta: circuit, predictions, theory, optimal radii, learned")
    return full, zoom


def _draw_betas(ax, values: np.ndarray, kinds: Sequence[int], circuit_interval) -> None:
    """One marker per beta, coloured by kind, over the circuit's shaded interval."""
    if circuit_interval is not None:
        ax.axvspan(*circuit_interval, color="C3", alpha=0.15, lw=0, zorder=1)
    for position, value, kind in zip(np.arange(len(values)), values, kinds, strict=True):
        _, _, colour, marker = _BETA_KINDS[kind]
        ax.scatter(value, position, color=colour, marker=marker, s=36, zorder=3)
    ax.grid(axis="x", alpha=0.3)


def _zoom_on_betas(zoom, values: np.ndarray, circuit_interval) -> None:
    """Limit the zoom panel to the model values (and the interval), each value annotated."""
    positions = np.arange(len(values))
    low = np.nanmin(values)
    high = np.nanmax(values)
    if circuit_interval is not None:
        low, high = min(low, circuit_interval[0]), max(high, circuit_interval[1])
    pad = 0.08 * max(high - low, 1e-3)
    zoom.set_xlim(low - pad, high + pad)
    zoom.set_yticks(positions, [""] * len(values))
    for position, value in zip(positions, values, strict=True):
        zoom.annotate(
            f"{value:.3f}",
            (value, position),
            xytext=(5, 3),
            textcoords="offset points",
            fontsize=7,
        )
    zoom.set_xlabel("beta (zoom on the model values)")
    zoom.set_title("zoom")


def _beta_legend_handles(circuit_interval, learned_betas) -> list:
    """Legend entries: the kinds of beta, the circuit's interval, the learned betas."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [
        Line2D([], [], color=colour, marker=marker, linestyle="", label=text)
        for _, text, colour, marker in _BETA_KINDS
    ]
    if circuit_interval is not None:
        handles.append(Patch(color="C3", alpha=0.15, label="circuit's 95% interval"))
    if learned_betas is not None and len(learned_betas):
        handles.append(
            Line2D(
                [],
                [],
                color="C2",
                marker="o",
                ms=4,
                linestyle="",
                label="learned (Henry et al. 2020)",
            )
        )
    return handles


def plot_agreement_vs_noise(
    noise_levels,
    curves: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    *,
    ylabel: str = "output cosine",
    n_per_level: int | None = None,
    ax=None,
):
    """An agreement metric (mean and 95% interval) against query noise for several engine pairs.

    Series that coincide exactly (the algorithmic circuit and its mirror against a third
    engine) are drawn with hollow markers, offset slightly along x, and say so in the legend.

    Parameters
    ----------
    noise_levels : ndarray of int, shape (n_levels,)
        Bits flipped from the stored pattern.
    curves : mapping of str to (mean, low, high), each ndarray of shape (n_levels,)
        Keyed by the legend label (words, e.g. "circuit vs attention").
    ylabel : str
    n_per_level : int, optional
        Queries per noise level, for the legend entry that explains the bands.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax, figsize=(7.0, 4.5))
    noise_levels = np.asarray(noise_levels, dtype=float)
    styles = ("-", "--", ":", "-.")
    twins = _coincidences({name: mean for name, (mean, _, _) in curves.items()})
    spacing = 0.05 * (np.min(np.diff(noise_levels)) if noise_levels.size > 1 else 1.0)
    for index, (name, (mean, low, high)) in enumerate(curves.items()):
        x = noise_levels + _dodge(index, len(curves), spacing)
        twin = twins[name]
        (line,) = ax.plot(
            x,
            mean,
            marker="osD^v<>"[index % 7],
            ms=7 if twin else 4,
            markerfacecolor="none" if twin else None,
            linestyle=styles[index % len(styles)],
            label=name + (f" (identical to {twin})" if twin else ""),
            zorder=3 + index,
        )
        ax.fill_between(x, low, high, color=line.get_color(), alpha=0.15, lw=0)
    band = "shaded: 95% Student-t interval of the mean"
    if n_per_level is not None:
        band += f" over {n_per_level} queries per level"
    ax.fill_between([], [], [], color="gray", alpha=0.3, label=band)
    ax.set_xlabel("query noise (bits flipped from the stored pattern)")
    ax.set_ylabel(ylabel)
    ax.set_title("Agreement between engines vs query noise")
    ax.legend(fontsize=7)
    return ax


def plot_recall_vs_noise(
    noise_levels,
    fractions: Mapping[str, np.ndarray],
    *,
    n_per_level: int | None = None,
    ax=None,
):
    """Fraction of queries whose iterated read converged to the right pattern, against noise.

    Engines with exactly the same curve (the algorithmic circuit and NeuronSDM) are drawn with
    hollow markers, offset slightly along x, and say so in the legend.

    Parameters
    ----------
    noise_levels : ndarray of int, shape (n_levels,)
    fractions : mapping of str to ndarray of float in [0, 1], shape (n_levels,)
        Keyed by the legend label.
    n_per_level : int, optional
        Queries per level, given in the axis label.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax, figsize=(7.0, 4.5))
    noise_levels = np.asarray(noise_levels, dtype=float)
    twins = _coincidences(fractions)
    spacing = 0.05 * (np.min(np.diff(noise_levels)) if noise_levels.size > 1 else 1.0)
    for index, (name, fraction) in enumerate(fractions.items()):
        twin = twins[name]
        ax.plot(
            noise_levels + _dodge(index, len(fractions), spacing),
            fraction,
            marker="osD^v<>"[index % 7],
            ms=7 if twin else 4,
            markerfacecolor="none" if twin else None,
            label=name + (f" (identical to {twin})" if twin else ""),
            zorder=3 + index,
        )
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("query noise (bits flipped from the stored pattern)")
    ylabel = "fraction of queries recalled exactly"
    if n_per_level is not None:
        ylabel += f"\n(of {n_per_level} per level)"
    ax.set_ylabel(ylabel)
    ax.set_title("Autoassociative recall vs query noise")
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


def plot_write_read_window(raster: Mapping, *, axes=None):
    """Granule raster above the Purkinje and DCN rate time courses, over a write and a read.

    Parameters
    ----------
    raster : mapping
        As returned by :meth:`cerebellum.engines.algorithmic.Protocol.raster` for two windows,
        the write first: ``window_s`` and ``start_s`` (s), and ``granule`` (``times_s``,
        ``cells``), ``purkinje`` and ``dcn`` (``times_s``, ``cells``, ``rate`` in Hz) arrays;
        optionally ``mossy`` (``times_s``, ``cells``), drawn as a raster too.
    axes : sequence of matplotlib Axes, optional
        One per panel (mossy fibres if present, granule cells, rates); new when ``None``.

    Returns
    -------
    tuple of matplotlib Axes
        Top to bottom.

    Notes
    -----
    In the algorithmic mode a presentation is one synchronous volley: every active fibre fires
    in one time step and every granule cell in the ball fires at one decision step, so a
    raster column is the whole presentation; the figure says so. The Purkinje and DCN rates of
    that circuit are decoded once per window (at its end) and drawn held over the window, as
    the mean over cells with the range across cells shaded.
    """
    spiking = [name for name in ("mossy", "granule") if raster.get(name) is not None]
    if axes is None:
        _, axes = plt.subplots(
            len(spiking) + 1,
            1,
            figsize=(7.5, 2.6 * (len(spiking) + 1)),
            sharex=True,
            layout="constrained",
        )
    axes = tuple(axes)
    start_s, window_s = raster["start_s"], raster["window_s"]
    spans = {
        "write (plasticity on)": (start_s, start_s + window_s),
        "read": (start_s + window_s, start_s + 2 * window_s),
    }
    titles = {"mossy": "mossy fibres", "granule": "granule cells"}
    for ax, name in zip(axes, spiking, strict=False):
        times = np.asarray(raster[name]["times_s"], dtype=float)
        plot_raster(times, raster[name]["cells"], title=titles[name], spans=spans, ax=ax)
        ax.tick_params(labelbottom=True)
        ax.set_xlabel("")
        windows = np.floor((times - start_s) / window_s + 1e-9)
        if times.size and all(
            np.unique(np.round(times[windows == w], 12)).size == 1 for w in np.unique(windows)
        ):
            ax.set_title(
                f"{titles[name]}: one synchronous volley per presentation "
                "(algorithmic mode: a single time step)",
                fontsize=9,
            )
    _draw_held_rates(axes[len(spiking)], raster, start_s, window_s)
    return axes


def _draw_held_rates(rates, raster: Mapping, start_s: float, window_s: float) -> None:
    """Purkinje and DCN rates per window, held over it: the mean over cells and their range."""
    for index, name in enumerate(("purkinje", "dcn")):
        times = np.asarray(raster[name]["times_s"], dtype=float)
        values = np.asarray(raster[name]["rate"], dtype=float)
        label = {"purkinje": "Purkinje cells", "dcn": "DCN cells"}[name]
        for w in range(2):
            lo, hi = start_s + w * window_s, start_s + (w + 1) * window_s
            chosen = values[(times > lo - 1e-12) & (times <= hi + 1e-12)]
            if chosen.size == 0:
                continue
            x = np.array([lo, hi]) * 1e3
            rates.plot(
                x,
                [chosen.mean()] * 2,
                color=f"C{index}",
                lw=2,
                label=f"{label}: mean over {chosen.size} cells" if w == 0 else None,
            )
            range_label = f"{label}: range across cells" if w == 0 else None
            if index == 0:
                rates.fill_between(
                    x, chosen.min(), chosen.max(), color="C0", alpha=0.2, lw=0, label=range_label
                )
            else:  # outlined, so that it does not hide the Purkinje band beneath it
                rates.plot(x, [chosen.min()] * 2, "--", color="C1", lw=1, label=range_label)
                rates.plot(x, [chosen.max()] * 2, "--", color="C1", lw=1)
    rates.set_xlabel("time (ms)")
    rates.set_ylabel("rate (Hz)")
    rates.set_title("Purkinje and DCN rates, decoded per window and held over it", fontsize=9)
    rates.legend(fontsize=7, loc="upper left")


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
