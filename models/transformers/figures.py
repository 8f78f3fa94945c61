"""Figures of the ``transformer-beta`` job: per-layer and per-head betas beside SDM's.

Every ``plot_*`` function takes plain numpy arrays of shape (n_layers, n_heads) (the fields of
:class:`models.transformers.HeadStatistics`), draws on ``ax`` (a new figure when ``None``) and
returns the Axes; nothing here calls ``plt.show()``. Reference lines are the betas of SDM's
optimal radii (``references``: label -> beta) and the range of the learned betas of
query-key-normalised Transformers (``qknorm``: their values). :func:`write_figures` draws the
job's three figures into a directory (:data:`models.transformers.job.FIGURES`).

This is the one module of the job that imports matplotlib; :mod:`models.transformers.job`
imports it only when it writes a run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from models.plotting import save_figure

__all__ = [
    "plot_betas_by_head",
    "plot_betas_by_layer",
    "plot_conditions",
    "save_figure",
    "write_figures",
]

_REFERENCE_STYLES = ("--", "-.", ":")


def _axes(ax, figsize=(7.0, 4.2)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _reference_lines(ax, references: Mapping[str, float | None], qknorm: Sequence[float] | None):
    for index, (label, beta) in enumerate(references.items()):
        if beta is None:
            continue
        ax.axhline(
            beta,
            color="0.25",
            lw=1.0,
            ls=_REFERENCE_STYLES[index % len(_REFERENCE_STYLES)],
            label=f"SDM {label}: {beta:.1f}",
        )
    if qknorm is not None and len(qknorm):
        values = np.asarray(qknorm, dtype=float)
        low, high = np.percentile(values, [10, 90])
        ax.axhspan(low, high, color="C2", alpha=0.12, lw=0, label="QK-norm learned, 10–90%")
        ax.axhline(np.median(values), color="C2", lw=1.0, label="QK-norm learned, median")


def plot_betas_by_layer(
    beta_fit,
    beta_paper,
    *,
    references: Mapping[str, float | None],
    qknorm: Sequence[float] | None = None,
    ax=None,
):
    """Each head's fitted and paper-estimator beta, grouped by layer, with reference lines.

    Parameters
    ----------
    beta_fit, beta_paper : ndarray of float, shape (n_layers, n_heads)
        Fitted beta and the paper's estimator (dimensionless).
    references : mapping of str to float or None
        SDM reference betas by criterion label.
    qknorm : sequence of float, optional
        Learned betas of query-key-normalised Transformers (a shaded band and their median).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax)
    beta_fit, beta_paper = np.asarray(beta_fit, float), np.asarray(beta_paper, float)
    n_layers, n_heads = beta_fit.shape
    _reference_lines(ax, references, qknorm)
    layers = np.arange(n_layers)
    offsets = np.linspace(-0.12, 0.12, n_heads)
    for values, shift, marker, color, label in (
        (beta_fit, -0.17, "o", "C0", "fitted β (min KL)"),
        (beta_paper, 0.17, "x", "C3", "paper: max q·k/√d"),
    ):
        x = layers[:, None] + shift + offsets[None, :]
        ax.scatter(x.ravel(), values.ravel(), s=14, marker=marker, color=color, alpha=0.75)
        ax.plot(
            layers + shift, np.median(values, axis=1), color=color, lw=1.6, label=f"{label}, median"
        )
    ax.set_yscale("log")
    ax.set_xticks(layers, [str(layer) for layer in layers])
    ax.set_xlabel("layer")
    ax.set_ylabel("β (log scale)")
    ax.set_title("Effective β per head, by layer")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def plot_betas_by_head(
    beta_fit,
    beta_paper,
    *,
    references: Mapping[str, float | None],
    qknorm: Sequence[float] | None = None,
    ax=None,
):
    """Fitted and paper-estimator beta of every head, in layer-major order, with references.

    Parameters
    ----------
    beta_fit, beta_paper : ndarray of float, shape (n_layers, n_heads)
    references : mapping of str to float or None
    qknorm : sequence of float, optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax, figsize=(9.0, 4.0))
    beta_fit, beta_paper = np.asarray(beta_fit, float), np.asarray(beta_paper, float)
    n_layers, n_heads = beta_fit.shape
    _reference_lines(ax, references, qknorm)
    index = np.arange(n_layers * n_heads)
    ax.plot(index, beta_fit.ravel(), "o", ms=3.5, color="C0", label="fitted β (min KL)")
    ax.plot(index, beta_paper.ravel(), "x", ms=4, color="C3", label="paper: max q·k/√d")
    for layer in range(1, n_layers):
        ax.axvline(layer * n_heads - 0.5, color="0.85", lw=0.8, zorder=0)
    ax.set_xticks(
        np.arange(n_layers) * n_heads + (n_heads - 1) / 2, [f"L{i}" for i in range(n_layers)]
    )
    ax.set_xlim(-1, n_layers * n_heads)
    ax.set_yscale("log")
    ax.set_xlabel(f"head (layer-major; {n_heads} heads per layer)")
    ax.set_ylabel("β (log scale)")
    ax.set_title("Effective β of every head")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def plot_conditions(
    *,
    query_norm_cv,
    key_norm_cv,
    cosine_bins,
    cosine_histogram,
    attended_cosine,
    tv_fit,
    tv_paper,
    tv_row,
    axes=None,
):
    """The conditions of the SDM mapping: norm spread, cosines, and how well softmax(β cos) fits.

    Parameters
    ----------
    query_norm_cv, key_norm_cv : ndarray of float, shape (n_layers, n_heads)
        Coefficient of variation of the query and key norms.
    cosine_bins : ndarray of float, shape (n_bins + 1,)
    cosine_histogram : ndarray of int, shape (n_layers, n_heads, n_bins)
    attended_cosine : ndarray of float, shape (n_layers, n_heads)
        Attention-weighted mean cosine.
    tv_fit, tv_paper, tv_row : ndarray of float, shape (n_layers, n_heads)
        Mean total variation to the attention for the fitted, the paper's and the row beta.
    axes : sequence of three matplotlib Axes, optional

    Returns
    -------
    ndarray of matplotlib Axes, shape (3,)
    """
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(13.0, 4.0), layout="constrained")
    axes = np.asarray(axes).ravel()
    query_norm_cv = np.asarray(query_norm_cv, float)
    n_layers = query_norm_cv.shape[0]
    colors = plt.cm.viridis(np.linspace(0.0, 0.9, n_layers))
    _plot_norm_spread(axes[0], query_norm_cv, key_norm_cv, colors)
    _plot_cosines(axes[1], cosine_bins, cosine_histogram, attended_cosine, colors)
    _plot_fit_distances(axes[2], tv_fit, tv_paper, tv_row)
    return axes


def _plot_norm_spread(ax, query_norm_cv: np.ndarray, key_norm_cv, colors) -> None:
    for layer in range(query_norm_cv.shape[0]):
        ax.scatter(
            query_norm_cv[layer],
            np.asarray(key_norm_cv, float)[layer],
            s=14,
            color=colors[layer],
            label=f"layer {layer}",
        )
    ax.set_xlabel("query norm CV (std/mean)")
    ax.set_ylabel("key norm CV (std/mean)")
    ax.set_title("Norm spread (0 = one β per head)")
    ax.legend(fontsize=7)


def _plot_cosines(ax, cosine_bins, cosine_histogram, attended_cosine, colors) -> None:
    bins = np.asarray(cosine_bins, float)
    centres = 0.5 * (bins[1:] + bins[:-1])
    histogram = np.asarray(cosine_histogram, float).sum(axis=1)  # pool the heads of a layer
    for layer in range(len(colors)):
        density = histogram[layer] / histogram[layer].sum() / np.diff(bins)
        ax.plot(centres, density, color=colors[layer], lw=1.3, label=f"layer {layer}")
        ax.axvline(
            np.mean(np.asarray(attended_cosine, float)[layer]), color=colors[layer], lw=0.8, ls=":"
        )
    ax.set_xlabel("cos(q, k) over allowed pairs")
    ax.set_ylabel("density")
    ax.set_title("Query–key cosines (dotted: attention-weighted mean)")


def _plot_fit_distances(ax, tv_fit, tv_paper, tv_row) -> None:
    tv_fit = np.asarray(tv_fit, float).ravel()
    top = max(float(np.max(tv_paper)), float(np.max(tv_row)), float(np.max(tv_fit))) * 1.05
    ax.plot([0, top], [0, top], color="0.6", lw=0.8)
    ax.scatter(tv_fit, np.asarray(tv_paper, float).ravel(), s=12, color="C3", label="paper β")
    ax.scatter(
        tv_fit, np.asarray(tv_row, float).ravel(), s=12, color="C1", marker="^", label="row β"
    )
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("TV(attention, softmax(β_fit cos))")
    ax.set_ylabel("TV with the other β")
    ax.set_title("How far attention is from softmax(β cos)")
    ax.legend(fontsize=7)


def write_figures(
    statistics,
    directory: str | os.PathLike,
    *,
    model_name: str,
    cosine_bins,
    references: Mapping[str, float | None],
    qknorm: Sequence[float] | None,
) -> None:
    """Draw the job's three figures into ``directory`` as PNGs.

    ``beta_by_layer.png`` (:func:`plot_betas_by_layer`), ``beta_by_head.png``
    (:func:`plot_betas_by_head`) and ``conditions.png`` (:func:`plot_conditions`).

    Parameters
    ----------
    statistics : models.transformers.HeadStatistics
        The per-head arrays to draw.
    directory : str or path
        An existing directory.
    model_name : str
        Appended to the titles of the beta figures.
    cosine_bins : ndarray of float, shape (n_bins + 1,)
        Edges of ``statistics.cosine_histogram``.
    references : mapping of str to float or None
        SDM reference betas by criterion label.
    qknorm : sequence of float, optional
        Learned betas of query-key-normalised Transformers.
    """
    directory = Path(directory)
    for name, plot in (
        ("beta_by_layer.png", plot_betas_by_layer),
        ("beta_by_head.png", plot_betas_by_head),
    ):
        ax = plot(
            statistics.beta_fit, statistics.beta_paper_max, references=references, qknorm=qknorm
        )
        ax.set_title(f"{ax.get_title()}: {model_name}")
        save_figure(ax, directory / name)
    axes = plot_conditions(
        query_norm_cv=statistics.query_norm_cv,
        key_norm_cv=statistics.key_norm_cv,
        cosine_bins=cosine_bins,
        cosine_histogram=statistics.cosine_histogram,
        attended_cosine=statistics.attended_cosine,
        tv_fit=statistics.tv_fit,
        tv_paper=statistics.tv_paper,
        tv_row=statistics.tv_row,
    )
    save_figure(axes[0], directory / "conditions.png")
