r"""Figures and the report of a sweep, from its long table
(:func:`cerebellum.experiments.sweep.sweep_table`).

Three figures, each ``plot_x(table, *, ax=None) -> Axes`` or a figure of panels by dynamics:

- ``beta_vs_radius.png`` -- the circuit's beta (Poisson log-linear fit of its intersection
  counts, 95% bootstrap interval over queries; one marker per seed) against the (equivalent)
  activation radius d, with the prediction of the same fit for the circuit's own activation
  rule and theory's beta for a Hamming ball of radius d (Bricken & Pehlevan 2021:
  :math:`\ln N(t) \approx b + \beta \cos`, fitted over t = 0..d-1);
- ``agreement_vs_noise.png`` -- the output cosine of the circuit against attention (beta from
  the OLS fit) and against its exact mirror NeuronSDM, over the bits flipped in the query, one
  line per configuration (granule cells r, radius, ...), panels by dynamics;
- ``recall_vs_noise.png`` -- the fraction of iterated reads ending on the stored pattern, for
  the circuit (filled markers, solid) and attention (hollow markers, dashed).

Lines that would coincide are offset sideways by a small, labelled amount, so none hides under
another. Matplotlib is imported here only (docs/design.md, plots), with the Agg backend.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "plot_agreement_vs_noise",
    "plot_beta_vs_radius",
    "plot_recall_vs_noise",
    "write_sweep_figures",
]

#: Columns that describe a configuration, in the order a label names them.
CONFIG_COLUMNS = (
    "preset",
    "mode",
    "activation",
    "n_dims",
    "n_neurons",
    "activation_radius",
    "top_k",
    "n_inputs",
    "n_patterns",
    "n_queries",
    "device",
)
#: Columns that only restate the x axis of the beta figure.
RADIUS_COLUMNS = ("activation_radius", "equivalent_radius", "top_k", "n_inputs")

_WORDS = {
    "preset": lambda v: f"preset {v}",
    "mode": lambda v: f"{v}",
    "activation": lambda v: f"{v} rule",
    "n_dims": lambda v: f"n = {v} bits",
    "n_neurons": lambda v: f"r = {v} cells",
    "activation_radius": lambda v: f"d = {v}",
    "top_k": lambda v: f"k = {v}",
    "n_inputs": lambda v: f"K = {v} inputs",
    "n_patterns": lambda v: f"m = {v} patterns",
    "n_queries": lambda v: f"{v} queries/level",
    "device": lambda v: f"{v}",
}
#: Report column headers of the config columns, by their symbols in the docs.
_HEADERS = {
    "n_dims": "n (bits)",
    "n_neurons": "r (cells)",
    "activation_radius": "d",
    "top_k": "k",
    "n_inputs": "K",
    "n_patterns": "m",
}
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _ok(table):
    return table[table["status"] == "ok"]


def _varying(table, exclude: Sequence[str] = ()) -> list[str]:
    """Config columns with more than one value among the points (seed left out)."""
    points = table.drop_duplicates("point_id")
    return [
        column
        for column in CONFIG_COLUMNS
        if column not in exclude and points[column].nunique(dropna=False) > 1
    ]


def _label(key: tuple, columns: Sequence[str], n_seeds: int | None = None) -> str:
    words = [_WORDS[c](v) for c, v in zip(columns, key, strict=True) if v is not None]
    text = ", ".join(words) or "all points"
    if n_seeds is not None:
        text += f" ({n_seeds} seed{'s' if n_seeds != 1 else ''})"
    return text


def _series(table, columns: Sequence[str]):
    """``(key, rows)`` per configuration; key values None where missing."""
    if not columns:
        yield (), table
        return
    for key, rows in table.groupby(list(columns), dropna=False, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        yield tuple(None if _missing(v) else v for v in key), rows


def _missing(value) -> bool:
    try:
        return value is None or bool(np.isnan(value))
    except TypeError:
        return value is None or str(value) == "<NA>"


def _offsets(n_series: int, step: float) -> np.ndarray:
    """Sideways offsets (in x units) that keep coinciding series apart."""
    if n_series <= 1:
        return np.zeros(max(n_series, 1))
    return (np.arange(n_series) - (n_series - 1) / 2) * step


def _colours(n: int):
    plt = _pyplot()
    cmap = plt.get_cmap("tab10")
    return [cmap(i % 10) for i in range(n)]


def plot_beta_vs_radius(table, *, ax=None):
    """The circuit's measured beta and its predictions against the (equivalent) radius.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`cerebellum.experiments.sweep.sweep_table`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 5), constrained_layout=True)
    rows = _ok(table)
    rows = rows[rows["metric"] == "beta"]
    columns = _varying(rows, exclude=RADIUS_COLUMNS)
    series = list(_series(rows, columns))
    offsets = _offsets(len(series), 0.12)
    colours = _colours(len(series))
    finite = []
    for (key, group), offset, colour, marker in zip(
        series, offsets, colours, itertools.cycle(_MARKERS), strict=False
    ):
        label = _label(key, columns)
        finite.extend(_draw_measured_beta(ax, group, offset, colour, marker, label))
        finite.extend(_draw_predicted_beta(ax, group, offset, colour, marker, label))
    finite.extend(_draw_theory_beta(ax, rows))
    clipped = _limit_beta_axis(ax, rows, finite)
    ax.set_xlabel("activation radius d (bits; equivalent radius for top-k and K inputs)")
    ax.set_ylabel("beta (inverse temperature of softmax over cosine)")
    title = "Circuit beta against activation radius, with theory's prediction"
    if clipped:
        title += "\n(interval bars clipped at the axes)"
    ax.set_title(title)
    if len(series) > 1:
        ax.text(
            0.01,
            0.01,
            "configurations offset sideways by 0.12 bits, seeds by 0.03, to stay visible",
            transform=ax.transAxes,
            fontsize=7,
            color="0.35",
        )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return ax


def _draw_measured_beta(ax, group, offset: float, colour, marker: str, label: str) -> list:
    """The circuit's beta with its 95% interval, one marker per seed; returns the finite betas."""
    measured = group[group["engine"] == "circuit"].sort_values(["equivalent_radius", "seed"])
    if measured.empty:
        return []
    seeds = sorted(measured["seed"].dropna().unique())
    jitter = {s: i * 0.03 for i, s in enumerate(seeds)}
    x = measured["equivalent_radius"].to_numpy(float) + offset
    x = x + measured["seed"].map(jitter).fillna(0).to_numpy(float)
    y = measured["value"].to_numpy(float)
    low = measured["ci_low"].to_numpy(float)
    high = measured["ci_high"].to_numpy(float)
    ax.errorbar(
        x,
        y,
        yerr=np.vstack([np.clip(y - low, 0, None), np.clip(high - y, 0, None)]),
        fmt=marker,
        color=colour,
        capsize=3,
        label=f"circuit, measured (95% CI): {label}",
    )
    return list(y[np.isfinite(y)])


def _draw_predicted_beta(ax, group, offset: float, colour, marker: str, label: str) -> list:
    """The beta predicted for the circuit's own rule (hollow, dashed); returns the finite ones."""
    predicted = (
        group[group["engine"] == "predicted_own_rule"].groupby("equivalent_radius")["value"].mean()
    )
    if predicted.empty:
        return []
    ax.plot(
        predicted.index.to_numpy(float) + offset,
        predicted.to_numpy(float),
        linestyle="--",
        marker=marker,
        markerfacecolor="white",
        color=colour,
        label=f"predicted for the circuit's rule: {label}",
    )
    return list(predicted.to_numpy(float)[np.isfinite(predicted.to_numpy(float))])


def _draw_theory_beta(ax, rows) -> list:
    """Theory's beta for a Hamming ball of radius d (black, dotted); returns the finite ones."""
    theory = rows[rows["engine"] == "theory_ols"].groupby("equivalent_radius")["value"].mean()
    if theory.empty:
        return []
    ax.plot(
        theory.index.to_numpy(float),
        theory.to_numpy(float),
        color="black",
        linestyle=":",
        marker="x",
        label="theory: Hamming ball of radius d (OLS fit over t = 0..d-1)",
    )
    return list(theory.to_numpy(float)[np.isfinite(theory.to_numpy(float))])


def _limit_beta_axis(ax, rows, finite: list) -> bool:
    """Fit the y axis to the betas drawn; True if a measured interval runs past it."""
    if not finite:
        return False
    low, high = float(np.min(finite)), float(np.max(finite))
    pad = max(0.25 * (high - low), 0.5)
    ax.set_ylim(low - pad, high + pad)
    measured_rows = rows[rows["engine"] == "circuit"]
    return bool(
        (measured_rows["ci_low"] < low - pad).any() or (measured_rows["ci_high"] > high + pad).any()
    )


def _by_noise(group, metric: str, engine: str, versus: str | None):
    rows = group[(group["metric"] == metric) & (group["engine"] == engine)]
    if versus is not None:
        rows = rows[rows["versus"] == versus]
    by_level = rows.groupby("noise_level")["value"]
    return by_level.mean(), rows["seed"].nunique()


def _noise_panels(table, draw, *, ylabel: str, title: str, n_rows: int = 1, row_titles=()):
    plt = _pyplot()
    rows = _ok(table)
    modes = sorted(rows["mode"].dropna().unique()) or ["(none)"]
    fig, axes = plt.subplots(
        n_rows,
        len(modes),
        figsize=(5.2 * len(modes) + 4.0, 3.9 * n_rows),
        squeeze=False,
        constrained_layout=True,
        sharey="row",
    )
    columns = _varying(rows, exclude=("mode",))
    for col, mode in enumerate(modes):
        in_mode = rows[rows["mode"] == mode]
        series = list(_series(in_mode, columns))
        levels = np.sort(in_mode["noise_level"].dropna().unique().astype(float))
        step = float(np.min(np.diff(levels))) if levels.size > 1 else 1.0
        offsets = _offsets(len(series), 0.06 * step)
        for row in range(n_rows):
            ax = axes[row, col]
            for index, ((key, group), offset) in enumerate(zip(series, offsets, strict=False)):
                draw(
                    ax,
                    row,
                    group,
                    offset,
                    _colours(len(series))[index],
                    _MARKERS[index % len(_MARKERS)],
                    _label(key, columns, group["seed"].nunique()),
                )
            subtitle = f"{mode} dynamics"
            if row_titles:
                subtitle = f"{row_titles[row]}, {subtitle}"
            ax.set_title(subtitle, fontsize=10)
            ax.set_xlabel("noise: bits flipped in the query")
            ax.set_ylabel(ylabel if n_rows == 1 else f"{ylabel}\n{row_titles[row]}")
            ax.grid(alpha=0.3)
    handles, labels = max(
        (ax.get_legend_handles_labels() for ax in axes.flat), key=lambda pair: len(pair[1])
    )
    if handles:
        # below the panels (a legend at the side collides with the title); about 4 inches a
        # column at this font size
        n_columns = max(1, min(len(labels), int(fig.get_figwidth() // 4.2)))
        fig.set_figheight(fig.get_figheight() + 0.17 * -(-len(labels) // n_columns))
        fig.legend(handles, labels, loc="outside lower center", ncol=n_columns, fontsize=7)
    note = "\n(configurations offset sideways to stay visible)" if len(columns) else ""
    fig.suptitle(title + note)
    return fig


def plot_agreement_vs_noise(table):
    """Output cosine of the circuit against attention (OLS beta) and NeuronSDM, by noise.

    Parameters
    ----------
    table : pandas.DataFrame

    Returns
    -------
    matplotlib.figure.Figure
    """
    pairs = (("attention_ols", "vs attention (OLS beta)"), ("neuron_sdm", "vs NeuronSDM mirror"))

    def draw(ax, row, group, offset, colour, marker, label):
        mean, _ = _by_noise(group, "output_cosine", "circuit", pairs[row][0])
        if mean.empty:
            return
        ax.plot(
            mean.index.to_numpy(float) + offset,
            mean.to_numpy(float),
            marker=marker,
            color=colour,
            label=label,
        )

    return _noise_panels(
        table,
        draw,
        ylabel="output cosine (mean over queries)",
        title="Agreement of the circuit's read with attention and with its exact mirror",
        n_rows=2,
        row_titles=[title for _, title in pairs],
    )


def plot_recall_vs_noise(table):
    """Exact recall of iterated reads by noise: the circuit (solid) and attention (dashed).

    Parameters
    ----------
    table : pandas.DataFrame

    Returns
    -------
    matplotlib.figure.Figure
    """

    def draw(ax, row, group, offset, colour, marker, label):
        for engine, style, face, name in (
            ("circuit", "-", colour, "circuit"),
            ("attention_ols", "--", "white", "attention (OLS beta)"),
        ):
            mean, _ = _by_noise(group, "exact_fraction", engine, None)
            if mean.empty:
                continue
            ax.plot(
                mean.index.to_numpy(float) + offset + (0.0 if engine == "circuit" else 0.02),
                mean.to_numpy(float),
                linestyle=style,
                marker=marker,
                markerfacecolor=face,
                color=colour,
                label=f"{name}: {label}",
            )
        ax.set_ylim(-0.05, 1.05)

    return _noise_panels(
        table,
        draw,
        ylabel="fraction of queries recalled exactly",
        title="Autoassociative recall (iterated reads, threshold 1/2)",
    )


def write_sweep_figures(table, out) -> list[str]:
    """Write the three figures under ``out``; none when no point succeeded.

    Parameters
    ----------
    table : pandas.DataFrame
    out : str or path

    Returns
    -------
    list of str
        File names written.
    """
    plt = _pyplot()
    out = Path(out)
    if _ok(table).empty:
        return []
    written = []
    ax = plot_beta_vs_radius(table)
    ax.figure.savefig(out / "beta_vs_radius.png", dpi=130)
    plt.close(ax.figure)
    written.append("beta_vs_radius.png")
    for name, plot in (
        ("agreement_vs_noise.png", plot_agreement_vs_noise),
        ("recall_vs_noise.png", plot_recall_vs_noise),
    ):
        figure = plot(table)
        figure.savefig(out / name, dpi=130)
        plt.close(figure)
        written.append(name)
    return written


# --------------------------------------------------------------------------- report
